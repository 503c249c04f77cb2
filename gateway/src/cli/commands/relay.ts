/** `relay start` (filled in with the relay service). */
import type { Command } from 'commander';

export function registerRelay(_program: Command): void {}
