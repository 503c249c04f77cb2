/**
 * Command line of a verification node's BLS signer.
 *
 *   node gateway/dist/signer/main.js enrol --profile HospitalA --peer 0 --channel chain-a [--key-dir DIR]
 *       creates (or reuses) the key file and prints {"keyFile", "node"} (the list entry) as JSON
 *   node gateway/dist/signer/main.js serve --profile HospitalA --peer 0 --channel chain-a --key FILE --port 7441 [--host H]
 *       serves the signer API over mutual TLS; prints {"nodeId","url"} once listening; stops on SIGINT/SIGTERM
 */
import { parseArgs } from 'node:util';
import { loadProfile } from '../fabric/profile';
import { enrolBlsNode } from './enrol';
import { startSignerService } from './service';

function int(value: string | undefined, name: string): number {
  const n = Number(value);
  if (value === undefined || !Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer`);
  return n;
}

function required(value: string | undefined, name: string): string {
  if (value === undefined || value === '') throw new Error(`--${name} is required`);
  return value;
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const { values } = parseArgs({
    args: rest,
    options: {
      profile: { type: 'string' },
      peer: { type: 'string', default: '0' },
      channel: { type: 'string' },
      key: { type: 'string' },
      'key-dir': { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
    },
    strict: true,
  });
  const profile = loadProfile(required(values.profile, 'profile'));
  const peerIndex = int(values.peer, 'peer');
  const channel = required(values.channel, 'channel');
  if (command === 'enrol') {
    const out = enrolBlsNode(profile, peerIndex, channel, values['key-dir']);
    process.stdout.write(`${JSON.stringify(out)}\n`);
    return 0;
  }
  if (command === 'serve') {
    const running = await startSignerService({
      profile,
      peerIndex,
      channel,
      keyFile: required(values.key, 'key'),
      port: int(values.port, 'port'),
      host: values.host,
    });
    process.stdout.write(`${JSON.stringify({ nodeId: running.nodeId, url: running.url })}\n`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await running.close();
    return 0;
  }
  process.stderr.write('usage: main.js enrol|serve --profile ORG --peer N --channel CHAIN [--key FILE --port P]\n');
  return 2;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(1);
    },
  );
}
