/**
 * `ping`, `invoke`, `query`: liveness, and a generic call of any contract function by the
 * names a person types (everything else reaches the chaincode through fabric/contracts).
 */
import type { Command } from 'commander';
import { act } from '../action';

export function registerBasic(program: Command): void {
  program
    .command('ping')
    .description('check that the org can reach its peer and the chaincode answers (System:Ping)')
    .action(
      act(async (ctx) => {
        const cc = ctx.chaincode();
        const started = Date.now();
        const ping = await ctx.wait('ping', cc.system.ping());
        const version = await cc.system.version();
        ctx.print({ ...ping, peer: cc.profile.peers[0]?.endpoint, ...version, latencyMs: Date.now() - started });
      }),
    );

  program
    .command('query <contract> <fn> [args...]')
    .description('evaluate a read-only contract function (no transaction) and print its result')
    .action(
      act(async (ctx, opts, contract, fn) => {
        const client = ctx.client();
        const args = (opts._variadic as string[] | undefined) ?? [];
        const result = await ctx.wait(`${contract}:${fn}`, client.evaluate(ctx.channel(client), contract as string, fn as string, args));
        ctx.print(result);
      }),
    );

  program
    .command('invoke <contract> <fn> [args...]')
    .description('submit a transaction (endorse, order, wait for commit) and print its result')
    .action(
      act(async (ctx, opts, contract, fn) => {
        const client = ctx.client();
        const args = (opts._variadic as string[] | undefined) ?? [];
        const res = await ctx.wait(`${contract}:${fn}`, client.submit(ctx.channel(client), contract as string, fn as string, args));
        ctx.print(ctx.json ? { txId: res.txId, blockNumber: res.blockNumber, result: res.result } : res.result, {
          title: ctx.json ? undefined : `committed tx ${res.txId} in block ${res.blockNumber}`,
        });
      }),
    );
}
