/** Glue between commander and CliContext: one context per command run, errors to exit codes. */
import type { Command } from 'commander';
import { ExitCodes, usageError } from '../errors';
import { CliContext, type GlobalOptions } from './context';

// commander hands option values as `any`; each command narrows what it reads.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Opts = Record<string, any>;

export function act(fn: (ctx: CliContext, opts: Opts, ...args: string[]) => Promise<void>) {
  return async (...all: unknown[]): Promise<void> => {
    const command = all[all.length - 1] as Command;
    const positional = all.slice(0, -2).map((a) => (Array.isArray(a) ? a.join(' ') : (a as string)));
    const variadic = all.slice(0, -2).find((a) => Array.isArray(a)) as string[] | undefined;
    let ctx: CliContext;
    try {
      ctx = new CliContext(command.optsWithGlobals<GlobalOptions>());
    } catch (e) {
      // Configuration problems are the user's to fix: a usage error.
      process.stderr.write(`error CONFIG_ERROR: ${(e as Error).message}\n`);
      process.exitCode = ExitCodes.usage;
      return;
    }
    try {
      await fn(ctx, { ...command.opts(), _variadic: variadic }, ...positional);
    } catch (e) {
      process.exitCode = ctx.fail(e);
    } finally {
      ctx.close();
    }
  };
}

/** Comma-separated list option ("a,b" or repeated). */
export function list(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  const parts = Array.isArray(value) ? value : [value];
  return parts.flatMap((p) => p.split(',')).map((s) => s.trim()).filter(Boolean);
}

export function int(value: unknown, name: string, min = 0): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isFinite(n) || !Number.isInteger(n) || n < min) throw usageError(`${name} must be an integer >= ${min}, got ${String(value)}`);
  return n;
}

export function num(value: unknown, name: string): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isFinite(n) || n <= 0) throw usageError(`${name} must be a positive number, got ${String(value)}`);
  return n;
}

export function required<T>(value: T | undefined, flag: string): T {
  if (value === undefined || value === null || value === '') throw usageError(`missing ${flag}`);
  return value;
}
