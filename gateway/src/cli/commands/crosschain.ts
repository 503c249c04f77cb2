/** Governance, verification node lists, remote chains, routes and packets (filled in with the cross-chain contracts). */
import type { Command } from 'commander';

export function registerCrossChain(_program: Command): void {}
