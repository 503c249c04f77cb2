/**
 * Value transfer (Incentive contract, chaincode/INCENTIVES.md):
 *   balance [account], accounts, stake deposit|unbond|withdraw|show|list,
 *   value params show|propose, value mint propose|approve, value approve|proposal|supply|mints,
 *   evidence submit --file, packet fee <routeId> <seq>.
 * Stake and value-governance commands sign with --org's admin (the chaincode requires it);
 * a value action executes when every member org's admin approved the same action.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { usageError } from '../../errors';
import { profilesForChannel } from '../../fabric/profile';
import type { IncentiveParams, SlashingEvidence, ValueAction, ValueProposal } from '@medbridge/chaincode';
import { accountIdOf, IncentiveService, ValueGovernance } from '../../services/incentive-service';
import { act, int, required, type Opts } from '../action';
import type { CliContext } from '../context';

/** The service for --org on its channel; `asAdmin` for calls only the org's admin may make (as governance commands). */
function service(ctx: CliContext, asAdmin = false): IncentiveService {
  return new IncentiveService(ctx.chaincode(asAdmin ? 'admin' : undefined));
}

function readInput(path: string, what: string): string {
  try {
    return path === '-' ? readFileSync(0, 'utf8') : readFileSync(path, 'utf8');
  } catch (e) {
    throw usageError(`cannot read ${what} ${path}: ${(e as Error).message}`);
  }
}

function parseJsonArg<T>(text: string, what: string): T {
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw usageError(`${what} is not JSON: ${(e as Error).message}`);
  }
}

/** Approves a value action as --org's admin, or with every member (--all-approve); prints the proposal. */
async function approveAction(ctx: CliContext, action: ValueAction, all: boolean): Promise<void> {
  const mine = service(ctx, true);
  if (all) {
    const gov = new ValueGovernance(mine.channel, ctx.log);
    try {
      ctx.print(await ctx.wait('approving with every member', gov.approveAll(action)));
    } finally {
      gov.close();
    }
    return;
  }
  const res = await ctx.wait('approving', mine.approve(action));
  printProposal(ctx, res.result, mine.channel, res.txId);
}

function printProposal(ctx: CliContext, p: ValueProposal, channel: string, txId?: string): void {
  ctx.print(txId === undefined ? p : { ...p, txId });
  if (p.status !== 'executed') {
    const waiting = profilesForChannel(channel).filter((x) => !p.approvals.includes(x.mspId));
    ctx.note(`waiting for approval by ${waiting.map((x) => x.mspId).join(', ')}: medbridge value approve ${p.proposalId} --org <org> --channel ${channel}`);
  }
}

const ALL_FLAG = ['--all-approve', 'approve at once with the admin of every member org that has a profile here (embedded network)'] as const;

export function registerIncentive(program: Command): void {
  program
    .command('balance [account]')
    .description('balance of an account: org:<MSP>, node:<nodeId>, treasury, an MSP id, an org or a node name (default: --org\'s own account)')
    .action(
      act(async (ctx, _o, account) => {
        const s = service(ctx);
        ctx.print(await s.balance(account ? accountIdOf(account) : `org:${s.chaincode.mspId}`));
      }),
    );

  program
    .command('accounts')
    .description('every account on the channel, with the supply and what stakes and fee escrows hold')
    .action(
      act(async (ctx) => {
        const snap = await service(ctx).snapshot();
        ctx.print(
          { supply: snap.supply, mints: snap.mints, balances: snap.balances, stakes: snap.stakes, escrowed: snap.escrowed, accounts: snap.accounts },
          { listKey: 'accounts', columns: [{ key: 'id', header: 'account' }, { key: 'balance' }] },
        );
      }),
    );

  const stake = program.command('stake').description("verification nodes' stakes (locked deposits that let a node count as a signer)");

  stake
    .command('list')
    .description('every stake on this channel')
    .action(
      act(async (ctx) => {
        ctx.print(await service(ctx).stakes(), {
          columns: [{ key: 'nodeId', header: 'node' }, { key: 'ownerMspId', header: 'owner' }, { key: 'bonded' }, { key: 'unbonding' }, { key: 'status' }, { key: 'removeAtNextEpoch', header: 'remove' }],
        });
      }),
    );

  stake
    .command('show <nodeId>')
    .description("one node's stake, whether it counts as a signer, and its slash record")
    .action(
      act(async (ctx, _o, nodeId) => {
        // A node without a stake is the chaincode's NOT_FOUND (exit 3), as every other read.
        ctx.print(await service(ctx).stakeStatus(nodeId as string));
      }),
    );

  stake
    .command('deposit <nodeId> <amount>')
    .description("lock <amount> from --org's account as <nodeId>'s stake (--org's admin)")
    .action(
      act(async (ctx, _o, nodeId, amount) => {
        const res = await ctx.wait('depositing', service(ctx, true).deposit(nodeId as string, int(amount, 'amount', 1)));
        ctx.print({ ...res.result, txId: res.txId });
      }),
    );

  stake
    .command('unbond <nodeId> <amount>')
    .description('start unbonding <amount> of a stake; withdrawable after the unbonding period (--org\'s admin)')
    .action(
      act(async (ctx, _o, nodeId, amount) => {
        const res = await ctx.wait('unbonding', service(ctx, true).unbond(nodeId as string, int(amount, 'amount', 1)));
        ctx.print({ ...res.result, txId: res.txId });
      }),
    );

  stake
    .command('withdraw <nodeId>')
    .description('pay what finished unbonding back to the owner org (--org\'s admin)')
    .action(
      act(async (ctx, _o, nodeId) => {
        const res = await ctx.wait('withdrawing', service(ctx, true).withdraw(nodeId as string));
        ctx.print({ ...res.result, txId: res.txId });
      }),
    );

  const value = program.command('value').description('governance of the value ledger: parameters, minting, treasury (every member org approves)');

  const params = value.command('params').description('incentive parameters (checked against the game: PARAMETERS_UNSAFE)');
  params
    .command('show')
    .description('the parameters in force and whether value transfer is on')
    .action(
      act(async (ctx) => {
        ctx.print(await service(ctx).params());
      }),
    );
  params
    .command('propose')
    .description('approve a parameter set as --org\'s admin: --file <json|-> or --set k=v,... over the current ones')
    .option('--file <path>', 'the whole parameter set as JSON (- for stdin)')
    .option('--set <pairs>', 'change these parameters of the current set, e.g. minFee=200,minStake=3000000')
    .option('--memo <text>', 'names the decision (same memo on every approval)', 'set incentive parameters')
    .option(...ALL_FLAG)
    .action(
      act(async (ctx, o: Opts) => {
        let p: IncentiveParams;
        if (o.file) p = parseJsonArg<IncentiveParams>(readInput(o.file as string, 'parameter file'), 'parameter file');
        else {
          if (!o.set) throw usageError('give --file <json> or --set k=v,...');
          p = { ...(await service(ctx).params()).params };
        }
        for (const pair of o.set ? String(o.set).split(',') : []) {
          const [k, v] = pair.split('=').map((x) => x.trim());
          if (!k || v === undefined || !(k in p)) throw usageError(`--set ${pair}: not a parameter (${Object.keys(p).join(', ')})`);
          (p as unknown as Record<string, number>)[k] = int(v, k);
        }
        await approveAction(ctx, { kind: 'set-params', params: p, memo: o.memo as string }, o.allApprove === true);
      }),
    );

  const mint = value.command('mint').description('new credits, logged (every member org approves)');
  mint
    .command('propose <account> <amount>')
    .description('approve minting <amount> to <account> as --org\'s admin')
    .requiredOption('--memo <text>', 'names the decision (two mints of one amount are two decisions)')
    .option(...ALL_FLAG)
    .action(
      act(async (ctx, o: Opts, account, amount) => {
        await approveAction(ctx, { kind: 'mint', to: accountIdOf(account as string), amount: int(amount, 'amount', 1), memo: o.memo as string }, o.allApprove === true);
      }),
    );
  mint
    .command('approve <proposalId>')
    .description('approve a pending mint as --org\'s admin')
    .action(
      act(async (ctx, _o, proposalId) => {
        const s = service(ctx, true);
        const p = await s.proposal(proposalId as string);
        if (p.action.kind !== 'mint') throw usageError(`proposal ${proposalId} is a ${p.action.kind}, not a mint`, `medbridge value approve ${proposalId}`);
        const res = await ctx.wait('approving', s.approve(p.action));
        printProposal(ctx, res.result, s.channel, res.txId);
      }),
    );
  value
    .command('approve <proposalId>')
    .description('approve any pending value action (mint, parameters, treasury transfer) as --org\'s admin')
    .action(
      act(async (ctx, _o, proposalId) => {
        const s = service(ctx, true);
        const res = await ctx.wait('approving', s.approveProposal(proposalId as string));
        printProposal(ctx, res.result, s.channel, res.txId);
      }),
    );
  value
    .command('treasury <account> <amount>')
    .description('approve paying <amount> from the treasury to <account> as --org\'s admin')
    .requiredOption('--memo <text>', 'names the decision')
    .option(...ALL_FLAG)
    .action(
      act(async (ctx, o: Opts, account, amount) => {
        await approveAction(ctx, { kind: 'treasury-transfer', to: accountIdOf(account as string), amount: int(amount, 'amount', 1), memo: o.memo as string }, o.allApprove === true);
      }),
    );
  value
    .command('proposal <proposalId>')
    .description('a value action and its approvals')
    .action(
      act(async (ctx, _o, proposalId) => {
        ctx.print(await service(ctx).proposal(proposalId as string));
      }),
    );
  value
    .command('supply')
    .description('total supply and every mint')
    .action(
      act(async (ctx) => {
        const s = service(ctx);
        ctx.print({ ...(await s.supply()), records: await s.mints() }, { listKey: 'records' });
      }),
    );

  const evidence = program.command('evidence').description('slashing evidence against verification nodes of this channel');
  evidence
    .command('submit')
    .description('submit equivocation evidence (JSON, chaincode/INCENTIVES.md); valid evidence slashes the node and pays --org the reporter share')
    .requiredOption('--file <path>', 'the evidence JSON (- for stdin)')
    .action(
      act(async (ctx, o: Opts) => {
        const text = readInput(required(o.file as string | undefined, '--file'), 'evidence file');
        // The chaincode checks the evidence (EVIDENCE_INVALID); here it only has to be JSON.
        const evidence = parseJsonArg<SlashingEvidence>(text, 'evidence');
        const res = await ctx.wait('submitting evidence', service(ctx).submitEvidence(evidence));
        ctx.print({ ...res.result, txId: res.txId });
      }),
    );

  // `packet fee` joins the cross-chain `packet` command group.
  const packet = program.commands.find((c) => c.name() === 'packet') ?? program.command('packet').description('cross-chain packets');
  packet
    .command('fee <routeId> <sequence>')
    .description('the fee escrow of a packet sent from this channel: held, paid (with its payouts) or refunded')
    .action(
      act(async (ctx, _o, routeId, sequence) => {
        // No escrow (value transfer was off when it was sent) is the chaincode's NOT_FOUND (exit 3).
        const e = await service(ctx).feeEscrow(routeId as string, int(sequence, 'sequence', 1));
        const { payouts, ...rest } = e;
        ctx.print(ctx.json ? e : { ...rest, payouts: payouts ?? [] }, { listKey: 'payouts' });
      }),
    );
}
