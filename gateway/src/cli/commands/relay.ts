/** `relay start`: carry packets from one chain to another (and, with --both, back). */
import type { Command } from 'commander';
import { join } from 'node:path';
import { startRelayHttp } from '../../relay/http';
import { RelayMetrics } from '../../relay/metrics';
import { pickRelayOrgs, Relay } from '../../relay/relay';
import { loadSignerConfig } from '../../relay/relay-scheme';
import { createLogger } from '../../logger';
import { act, int, list } from '../action';

export function registerRelay(program: Command): void {
  const relay = program.command('relay').description('the relay service between two chains');

  relay
    .command('start')
    .description('follow --from\'s packets and deliver them to --to with proofs, acknowledgements back; runs until SIGINT/SIGTERM')
    .requiredOption('--from <channel>', 'source channel')
    .requiredOption('--to <channel>', 'destination channel')
    .option('--both', 'also relay the other direction in this process')
    .option('--source-org <org>', 'org whose user identity reads and submits on --from (default: one in both channels)')
    .option('--dest-org <org>', 'org whose user identity submits on --to')
    .option('--routes <ids>', 'only these routes (comma-separated; default: all that lead to --to)')
    .option('--port <n>', 'metrics and health on 127.0.0.1:<port> (0 = any free port)', '9464')
    .option('--state-dir <dir>', 'checkpoint folder (default: <data dir>/relay)')
    .option('--bls-signers <file>', 'JSON {"<channel>": [{nodeId, url, tls: {ca, cert, key, serverName?}}]}: BLS signer services per chain, for routes registered with bls12381-aggregate only (PEMs inline or paths relative to the file)')
    .action(
      act(async (ctx, o) => {
        const from = o.from as string;
        const to = o.to as string;
        // Checkpoints live with the gateway state of the network the source org's profile names.
        const stateDir =
          (o.stateDir as string | undefined) ??
          join(ctx.dataDir(pickRelayOrgs(from, to, o.sourceOrg as string | undefined, o.destOrg as string | undefined).source), 'relay');
        const signers = o.blsSigners ? loadSignerConfig(o.blsSigners as string) : undefined;
        const metrics = new RelayMetrics();
        const logger = createLogger({ name: 'medbridge-relay', level: ctx.opts.verbose ? 'debug' : ctx.cfg.logLevel ?? 'info' });
        const directions: Array<[string, string]> = o.both ? [[from, to], [to, from]] : [[from, to]];
        const relays = directions.map(([f, t]) => {
          const orgs = pickRelayOrgs(f, t, f === from ? (o.sourceOrg as string | undefined) : (o.destOrg as string | undefined), f === from ? (o.destOrg as string | undefined) : (o.sourceOrg as string | undefined));
          return new Relay({ from: f, to: t, sourceOrg: orgs.source, destOrg: orgs.dest, checkpointFile: join(stateDir, `${f}--${t}.checkpoint.json`), metrics, logger, routes: o.routes ? list(o.routes as string) : undefined, signers });
        });
        const http = await startRelayHttp(relays, int(o.port, '--port'));
        ctx.print({ relays: relays.map((r) => r.status()), metrics: `${http.url}/metrics`, health: `${http.url}/healthz`, pid: process.pid });
        const stop = () => relays.forEach((r) => r.stop());
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        try {
          await Promise.all(relays.map((r) => r.run()));
        } finally {
          await http.close();
          relays.forEach((r) => r.close());
        }
      }),
    );
}
