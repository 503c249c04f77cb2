/**
 * The commit of the checkout a measurement ran on, for results files (bench, soak): HEAD's short
 * hash, with `+changes` when tracked files other than the results files (test/bench/results)
 * differ from it; `unknown` outside a git checkout.
 */
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';

const REPO = resolve(__dirname, '..', '..');

export function sourceCommit(cwd: string = REPO): string {
  try {
    const sha = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd, encoding: 'utf8' }).trim();
    // The results files are what a measurement writes: an earlier part of the same run has
    // changed them, and that is no change to the code measured.
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no', '--', '.', ':(exclude)test/bench/results'], { cwd, encoding: 'utf8' }).trim() !== '';
    return dirty ? `${sha}+changes` : sha;
  } catch {
    return 'unknown';
  }
}
