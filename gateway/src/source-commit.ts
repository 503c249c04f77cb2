/**
 * The commit of the checkout a measurement ran on, for results files (bench, soak): HEAD's short
 * hash, with `+changes` when tracked files differ from it; `unknown` outside a git checkout.
 */
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';

const REPO = resolve(__dirname, '..', '..');

export function sourceCommit(cwd: string = REPO): string {
  try {
    const sha = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd, encoding: 'utf8' }).trim() !== '';
    return dirty ? `${sha}+changes` : sha;
  } catch {
    return 'unknown';
  }
}
