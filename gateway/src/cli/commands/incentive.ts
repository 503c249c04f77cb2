/** Value transfer (Incentive contract): balances of orgs and nodes, and verification nodes' stakes. */
import type { Command } from 'commander';
import { act } from '../action';

export function registerIncentive(program: Command): void {
  program
    .command('balance [accountId]')
    .description('the balance of an account (org or node), or every account on this channel')
    .action(
      act(async (ctx, _o, accountId) => {
        const client = ctx.client();
        const channel = ctx.channel(client);
        if (accountId) return ctx.print(await client.evaluate(channel, 'Incentive', 'GetBalance', [accountId]));
        ctx.print(await client.evaluate(channel, 'Incentive', 'ListAccounts', ['100', '']), { listKey: 'items' });
      }),
    );

  const stake = program.command('stake').description("verification nodes' stakes (locked deposits that let a node count as a signer)");

  stake
    .command('list')
    .description('every stake on this channel')
    .action(
      act(async (ctx) => {
        const client = ctx.client();
        ctx.print(await client.evaluate(ctx.channel(client), 'Incentive', 'ListStakes', ['100', '']), { listKey: 'items' });
      }),
    );

  stake
    .command('show <nodeId>')
    .description("one node's stake")
    .action(
      act(async (ctx, _o, nodeId) => {
        const client = ctx.client();
        ctx.print(await client.evaluate(ctx.channel(client), 'Incentive', 'GetStake', [nodeId as string]));
      }),
    );

  for (const [verb, fn, help] of [
    ['deposit', 'Deposit', "lock <amount> from --org's account as <nodeId>'s stake"],
    ['unbond', 'Unbond', 'start unbonding <amount> of a stake (withdrawable after the unbonding period)'],
  ] as const) {
    stake
      .command(`${verb} <nodeId> <amount>`)
      .description(help)
      .action(
        act(async (ctx, _o, nodeId, amount) => {
          const client = ctx.client();
          const res = await ctx.wait(verb, client.submit(ctx.channel(client), 'Incentive', fn, [nodeId as string, amount as string]));
          ctx.print({ ...(res.result as object), txId: res.txId });
        }),
      );
  }

  stake
    .command('withdraw <nodeId>')
    .description('withdraw what finished unbonding')
    .action(
      act(async (ctx, _o, nodeId) => {
        const client = ctx.client();
        const res = await ctx.wait('withdraw', client.submit(ctx.channel(client), 'Incentive', 'Withdraw', [nodeId as string]));
        ctx.print({ ...(res.result as object), txId: res.txId });
      }),
    );
}
