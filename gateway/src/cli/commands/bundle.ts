/**
 * Trust bundles and remote CA roll-over (network/NETWORKS.md "Joining at run time"):
 *   bundle export|show|verify|register, remote-ca add|retire.
 * A registration is a governance proposal on --channel by --org's admin; it executes when
 * every member org's admin approved (`medbridge governance approve <id>`), or at once with
 * --all-approve on the embedded network.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { profilesForChannel } from '../../fabric/profile';
import type { GovernanceAction, GovernanceProposal } from '@medbridge/chaincode';
import { CrossChainAdmin } from '../../services/crosschain-admin';
import { describeBundle, exportBundle, readBundleFile, registerAction, verifiedBundle, writeBundleFile } from '../../services/trust-bundle';
import { usageError } from '../../errors';
import { act, list, required, type Opts } from '../action';
import type { CliContext } from '../context';

async function proposeAction(ctx: CliContext, action: GovernanceAction, all: boolean): Promise<GovernanceProposal> {
  const admin = new CrossChainAdmin(ctx.log);
  try {
    const client = ctx.client('admin');
    const channel = ctx.channel(client);
    const p = all ? await ctx.wait('governing', admin.govern(channel, action)) : await ctx.wait('proposing', admin.propose(client.profile, channel, action));
    if (p.status !== 'executed') {
      const waiting = profilesForChannel(channel).filter((x) => !p.approvals.includes(x.mspId));
      ctx.note(`waiting for approval by ${waiting.map((x) => x.mspId).join(', ') || 'the other member orgs'}: medbridge governance approve ${p.proposalId} --org <org> --channel ${channel} --identity admin`);
    }
    return p;
  } finally {
    admin.close();
  }
}

const ALL_FLAG = ['--all-approve', 'approve at once with the admin of every member org that has a profile here (embedded network)'] as const;

function readPem(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw usageError(`cannot read certificate ${file}: ${(e as Error).message}`);
  }
}

export function registerBundle(program: Command): void {
  const bundle = program.command('bundle').description("a chain's trust bundle: exported by its admin, registered by the other chain's governance");

  bundle
    .command('export')
    .description("write --channel's trust bundle (chain id, org CA certificates from the channel configuration, node list, schemes) and print its hash")
    .requiredOption('--out <file>', 'bundle file to write')
    .action(
      act(async (ctx, o: Opts) => {
        const b = await ctx.wait('reading the chain', exportBundle(ctx.chaincode()));
        writeBundleFile(o.out as string, b);
        ctx.print({ file: o.out as string, chainId: b.bundle.chainId, epoch: b.bundle.epoch, schemes: b.bundle.schemes.join(','), hash: b.hash });
        ctx.note(`read the hash to the other chain's admins over a channel you trust; they register with --hash ${b.hash}`);
      }),
    );

  bundle
    .command('show')
    .description('what a bundle file holds (org root fingerprints, subgroups) and its content hash')
    .requiredOption('--file <file>', 'bundle file')
    .action(
      act(async (ctx, o: Opts) => {
        ctx.print(describeBundle(readBundleFile(o.file as string)));
      }),
    );

  bundle
    .command('verify')
    .description('check a bundle file against the hash compared out of band (exit 3 on mismatch)')
    .requiredOption('--file <file>', 'bundle file')
    .requiredOption('--hash <sha256>', 'the hash the exporting admin read to you')
    .action(
      act(async (ctx, o: Opts) => {
        const b = verifiedBundle(o.file as string, o.hash as string);
        ctx.print({ chainId: b.chainId, epoch: b.epoch, hash: readBundleFile(o.file as string).hash, verified: true });
      }),
    );

  bundle
    .command('register')
    .description("propose to register (or update) the bundle's chain as a remote chain of --channel; refused unless --hash matches")
    .requiredOption('--file <file>', 'bundle file')
    .requiredOption('--hash <sha256>', 'the hash the exporting admin read to you')
    .option('--schemes <list>', 'proof schemes to accept from it (default: those the bundle offers)')
    .option(...ALL_FLAG)
    .action(
      act(async (ctx, o: Opts) => {
        const b = verifiedBundle(o.file as string, o.hash as string);
        const schemes = o.schemes === undefined ? b.schemes : list(o.schemes as string);
        for (const s of schemes) if (!b.schemes.includes(s)) throw usageError(`the bundle of ${b.chainId} does not offer scheme ${s} (it offers ${b.schemes.join(', ')})`);
        ctx.print(await proposeAction(ctx, registerAction(b, schemes), o.allApprove === true));
      }),
    );

  const ca = program.command('remote-ca').description("roll a remote org's CA over: add its new root, retire the old one once no listed node uses it");
  for (const verb of ['add', 'retire'] as const) {
    ca.command(verb)
      .description(verb === 'add' ? 'propose to register an extra root for a remote org' : 'propose to retire a root of a remote org (ROOT_IN_USE while a node of the known list chains to it)')
      .requiredOption('--chain <chainId>', 'the remote chain')
      .requiredOption('--msp <mspId>', 'the remote org')
      .requiredOption('--cert <file>', 'root CA certificate (PEM)')
      .option(...ALL_FLAG)
      .action(
        act(async (ctx, o: Opts) => {
          const action: GovernanceAction = { kind: `${verb}-remote-root` as const, chainId: required(o.chain as string, '--chain'), mspId: required(o.msp as string, '--msp'), rootCert: readPem(o.cert as string) };
          ctx.print(await proposeAction(ctx, action, o.allApprove === true));
        }),
      );
  }
}
