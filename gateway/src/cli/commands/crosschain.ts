/**
 * Cross-chain administration and packets:
 *   governance propose|approve|show, nodes list|propose, remote register|remove|list,
 *   route open|pause|resume|show, packet list|status|send, setup (the whole route at once).
 * Governance calls use --org's admin identity; a change executes when every member org's
 * admin has approved it.
 */
import type { Command } from 'commander';
import { PacketTypes, type GovernanceAction, type GovernanceProposal, type PacketType } from '@medbridge/chaincode';
import { usageError } from '../../errors';
import { loadProfile, profilesForChannel } from '../../fabric/profile';
import { CrossChainAdmin, nodeListFor, trustOf } from '../../services/crosschain-admin';
import { CrossChainService } from '../../services/crosschain-service';
import { act, int, list, required, type Opts } from '../action';
import type { CliContext } from '../context';

async function propose(ctx: CliContext, action: GovernanceAction, all: boolean): Promise<void> {
  const admin = new CrossChainAdmin(ctx.log);
  try {
    const client = ctx.client('admin');
    const channel = ctx.channel(client);
    const p: GovernanceProposal = all
      ? await ctx.wait('governing', admin.govern(channel, action))
      : await ctx.wait('proposing', admin.propose(loadProfile(ctx.org()), channel, action));
    ctx.print(p);
    if (!all && p.status !== 'executed') {
      const waiting = profilesForChannel(channel).filter((x) => !p.approvals.includes(x.mspId));
      ctx.note(`waiting for approval by ${waiting.map((x) => x.mspId).join(', ')}: medbridge governance approve ${p.proposalId} --org <org> --channel ${channel}`);
    }
  } finally {
    admin.close();
  }
}

const ALL_FLAG = ['--all-approve', 'approve at once with the admin of every member org that has a profile here (embedded network)'] as const;

export function registerCrossChain(program: Command): void {
  const gov = program.command('governance').description("a channel's own consortium decisions (admin identities)");

  gov
    .command('propose <actionJson>')
    .description('propose an action, e.g. \'{"kind":"pause-route","routeId":"r1"}\'')
    .option(...ALL_FLAG)
    .action(
      act(async (ctx, o: Opts, actionJson) => {
        let action: GovernanceAction;
        try {
          action = JSON.parse(actionJson as string) as GovernanceAction;
        } catch (e) {
          throw usageError(`actionJson is not JSON: ${(e as Error).message}`);
        }
        await propose(ctx, action, o.allApprove === true);
      }),
    );

  gov
    .command('approve <proposalId>')
    .description("approve a proposal as --org's admin; it executes with the last approval")
    .action(
      act(async (ctx, _o, proposalId) => {
        const admin = new CrossChainAdmin(ctx.log);
        try {
          const client = ctx.client('admin');
          ctx.print(await ctx.wait('approving', admin.approve(client.profile, ctx.channel(client), proposalId as string)));
        } finally {
          admin.close();
        }
      }),
    );

  gov
    .command('show <proposalId>')
    .description('a proposal and its approvals')
    .action(
      act(async (ctx, _o, proposalId) => {
        ctx.print(await service(ctx).proposal(proposalId as string));
      }),
    );

  const nodes = program.command('nodes').description("this channel's verification node list");

  nodes
    .command('list')
    .description('the current list (or --epoch) with its subgroups and thresholds')
    .option('--epoch <n>', 'a past epoch')
    .action(
      act(async (ctx, o) => {
        const out = await service(ctx).nodeList(o.epoch === undefined ? undefined : int(o.epoch, '--epoch', 1));
        if (ctx.json) return ctx.print(out);
        const rows = out.list.subgroups.flatMap((s) => s.nodes.map((n) => ({ subgroup: s.id, mspId: s.mspId, threshold: s.threshold, node: n.nodeId })));
        ctx.print(rows, { title: `epoch ${out.epoch}  listHash ${out.listHash}` });
      }),
    );

  nodes
    .command('propose')
    .description("propose the next list from the channel's org profiles (their peers' certificates)")
    .option('--peers <indexes>', 'peer indexes per org, e.g. 0,1', '0,1')
    .option('--threshold <n>', 'signers needed per subgroup', '1')
    .option(...ALL_FLAG)
    .action(
      act(async (ctx, o) => {
        const admin = new CrossChainAdmin(ctx.log);
        try {
          const channel = ctx.channel(ctx.client('admin'));
          const epoch = (await admin.headEpoch(channel)) + 1;
          const list = nodeListFor(channel, await admin.chainId(channel), epoch, {
            peers: list_(o.peers as string).map((p) => int(p, '--peers')),
            threshold: int(o.threshold, '--threshold', 1),
          });
          await propose(ctx, { kind: 'set-node-list', list }, o.allApprove === true);
        } finally {
          admin.close();
        }
      }),
    );

  const remote = program.command('remote').description('remote chains this channel trusts');

  remote
    .command('register <channel>')
    .description('trust another channel of this network at its current list (roots from its orgs\' profiles)')
    .option(...ALL_FLAG)
    .action(
      act(async (ctx, o, remoteChannel) => {
        const admin = new CrossChainAdmin(ctx.log);
        try {
          const head = await admin.nodeList(remoteChannel as string);
          if (!head) throw usageError(`${remoteChannel} has no node list yet; set one there first (medbridge nodes propose --channel ${remoteChannel})`);
          const chainId = await admin.chainId(remoteChannel as string);
          await propose(ctx, { kind: 'register-remote', chainId, orgs: trustOf(remoteChannel as string), nodeList: head.list, schemes: ['fabric-endorsement'] }, o.allApprove === true);
        } finally {
          admin.close();
        }
      }),
    );

  remote
    .command('remove <chainId>')
    .description('stop trusting a remote chain')
    .option(...ALL_FLAG)
    .action(act(async (ctx, o, chainId) => propose(ctx, { kind: 'remove-remote', chainId: chainId as string }, o.allApprove === true)));

  remote
    .command('list')
    .description('remote chains registered here by governance, and the epoch trusted for each')
    .action(
      act(async (ctx) => {
        const rows = await service(ctx).remoteChains();
        ctx.print(rows, { columns: [{ key: 'chainId' }, { key: 'epoch' }, { key: 'listHash', max: 20 }, { key: 'schemes' }, { key: 'updatedAtMs', header: 'updated', as: 'time' }] });
      }),
    );

  const route = program.command('route').description('cross-chain routes (opened, paused, resumed by governance)');

  route
    .command('open <routeId>')
    .description('open a route to another chain for packet types')
    .requiredOption('--to <chainId>', 'counterparty chain')
    .option('--types <types>', `packet types (${PacketTypes.join(', ')})`, 'consent.grant,consent.revoke')
    .option('--max-packets <n>', 'rate limit: packets per window', '10000')
    .option('--window-ms <n>', 'rate limit window', '60000')
    .option(...ALL_FLAG)
    .action(
      act(async (ctx, o, routeId) =>
        propose(
          ctx,
          {
            kind: 'open-route',
            routeId: routeId as string,
            counterparty: o.to as string,
            packetTypes: packetTypes(o.types as string),
            rateLimit: { maxPackets: int(o.maxPackets, '--max-packets', 1), windowMs: int(o.windowMs, '--window-ms', 1) },
          },
          o.allApprove === true,
        ),
      ),
    );

  for (const verb of ['pause', 'resume'] as const) {
    route
      .command(`${verb} <routeId>`)
      .description(`${verb} a route`)
      .option(...ALL_FLAG)
      .action(act(async (ctx, o, routeId) => propose(ctx, { kind: `${verb}-route`, routeId: routeId as string }, o.allApprove === true)));
  }

  route
    .command('show [routeId]')
    .description('one route, or every route of this channel')
    .action(
      act(async (ctx, _o, routeId) => {
        const xc = service(ctx);
        if (routeId) return ctx.print(await xc.route(routeId as string));
        const routes = await xc.routes();
        ctx.print(routes, {
          listKey: Array.isArray(routes) ? undefined : 'items',
          columns: [{ key: 'routeId' }, { key: 'counterparty' }, { key: 'status' }, { key: 'packetTypes' }, { key: 'nextSendSequence', header: 'next send' }, { key: 'nextReceiveSequence', header: 'next receive' }],
        });
      }),
    );

  program
    .command('setup-route <routeId>')
    .description('embedded network: set node lists, mutual trust and the route between two channels, all approvals at once')
    .requiredOption('--between <a,b>', 'the two channels, e.g. chain-a,chain-b')
    .option('--types <types>', 'packet types', 'consent.grant,consent.revoke,ping')
    .action(
      act(async (ctx, o, routeId) => {
        const [a, b] = list(o.between as string);
        if (!a || !b) throw usageError('--between needs two channels: a,b');
        const admin = new CrossChainAdmin(ctx.log);
        try {
          ctx.print(await ctx.wait('setting up', admin.ensureRoute(a, b, routeId as string, packetTypes(o.types as string))));
        } finally {
          admin.close();
        }
      }),
    );

  const packet = program.command('packet').description('cross-chain packets');

  packet
    .command('list <routeId>')
    .description('packets sent on a route from this channel, with their status')
    .option('--received', 'list packets received here instead')
    .action(
      act(async (ctx, o, routeId) => {
        const xc = service(ctx);
        const page = o.received ? await xc.receipts(routeId as string) : await xc.sentPackets(routeId as string);
        ctx.print(page, {
          listKey: 'items',
          columns: o.received
            ? [{ key: 'sequence' }, { key: 'sourceChain' }, { key: 'ack.outcome', header: 'outcome' }, { key: 'receivedAtMs', header: 'received', as: 'time' }]
            : [{ key: 'packet.sequence', header: 'seq' }, { key: 'packet.type', header: 'type' }, { key: 'packet.destChain', header: 'to' }, { key: 'status' }, { key: 'packet.sentAtMs', header: 'sent', as: 'time' }, { key: 'ack.outcome', header: 'ack' }],
        });
      }),
    );

  packet
    .command('status <routeId> <sequence>')
    .description('a sent packet (or with --received, its receipt on this channel)')
    .option('--received', 'the receipt on this (destination) channel')
    .action(
      act(async (ctx, o, routeId, sequence) => {
        const xc = service(ctx);
        const seq = int(sequence, 'sequence', 1);
        ctx.print(o.received ? await xc.received(routeId as string, seq) : await xc.sent(routeId as string, seq));
      }),
    );

  packet
    .command('send')
    .description('send a packet: a consent to its grantee\'s chain (its current state: grant or revocation), or a ping')
    .requiredOption('--to <chainId>', 'destination chain')
    .option('--consent <consentId>', 'carry this consent (type consent.grant or consent.revoke from its state)')
    .option('--type <type>', 'packet type (default: from the consent\'s state, or ping)')
    .option('--payload <json>', 'ping payload (JSON)')
    .option('--route <routeId>', 'route (needed when several lead to --to)')
    .option('--timeout-ms <n>', 'timeout after this long (default 1 h)')
    .action(
      act(async (ctx, o) => {
        const xc = service(ctx);
        // The type as given: the chaincode judges it (PACKET_TYPE_NOT_ALLOWED).
        const type = o.type as PacketType | undefined;
        const routing = {
          ...(o.route ? { routeId: o.route as string } : {}),
          ...(o.timeoutMs ? { timeoutAfterMs: int(o.timeoutMs, '--timeout-ms', 1000) } : {}),
        };
        let sending;
        if (o.consent) {
          sending = xc.sendConsent(o.to as string, o.consent as string, { ...routing, ...(type ? { type } : {}) });
        } else {
          let payload: unknown;
          try {
            payload = JSON.parse(required(o.payload as string | undefined, '--payload (or --consent)')) as unknown;
          } catch (e) {
            throw usageError(`--payload is not JSON: ${(e as Error).message}`);
          }
          sending = xc.sendPing(o.to as string, payload, { ...routing, ...(type ? { type } : {}) });
        }
        const res = await ctx.wait('sending', sending);
        const { packet, ...rest } = res.result;
        ctx.print(ctx.json ? { ...res.result, txId: res.txId } : { ...rest, type: packet.type, txId: res.txId });
      }),
    );
}

function list_(v: string): string[] {
  return list(v);
}

/** Packet types as given: the chaincode judges them (PACKET_TYPE_NOT_ALLOWED, INVALID_ARGUMENT). */
function packetTypes(v: string): PacketType[] {
  return list(v) as PacketType[];
}

function service(ctx: CliContext): CrossChainService {
  return new CrossChainService(ctx.chaincode());
}
