/**
 * Fabric's own `peer` CLI against the running network, as an org's admin or user: a client
 * this project did not write, driving the deployed chaincode.
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { loadProfile } from '../../../gateway/src/fabric/profile';
import { readNetwork, type NetworkDescription } from './network';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface PeerCli {
  /** `peer chaincode query` on the org's peer `peerIndex`. */
  query(channel: string, fn: string, args: string[]): Promise<CliResult>;
  /** `peer chaincode invoke --waitForEvent`, endorsed by the first peer of each org in `endorsers`. */
  invoke(channel: string, fn: string, args: string[], endorsers: string[]): Promise<CliResult>;
}

function run(bin: string, args: string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(bin, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code: code ?? 1, stdout, stderr }));
  });
}

/** The MSP directory of a cryptogen identity, from its certificate path (<msp>/signcerts/x.pem). */
function mspDirOf(certificate: string): string {
  return dirname(dirname(certificate));
}

export function peerCli(org: string, identity: 'admin' | 'user' = 'user', peerIndex = 0, net?: NetworkDescription): PeerCli {
  const description = net ?? readNetwork();
  const tools = description.tools;
  if (!tools) throw new Error(`network.json of ${description.network} names no Fabric binaries (tools)`);
  const profile = loadProfile(org);
  const peer = profile.peers[peerIndex];
  const id = identity === 'admin' ? profile.identities.admin : profile.identities.user;
  if (!peer || !id) throw new Error(`profile of ${org} lacks peer #${peerIndex} or the ${identity} identity`);
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    FABRIC_CFG_PATH: tools.peerCliConfig,
    FABRIC_LOGGING_SPEC: 'info', // invoke reports success and the commit status at info
    CORE_PEER_LOCALMSPID: profile.mspId,
    CORE_PEER_MSPCONFIGPATH: mspDirOf(id.certificate),
    CORE_PEER_ADDRESS: peer.endpoint,
    CORE_PEER_TLS_ENABLED: 'true',
    CORE_PEER_TLS_ROOTCERT_FILE: peer.tlsRootCert,
  };
  const peerBin = join(tools.fabricBin, 'peer');
  const ctor = (fn: string, args: string[]) => JSON.stringify({ function: fn, Args: args });

  return {
    query: (channel, fn, args) => run(peerBin, ['chaincode', 'query', '-C', channel, '-n', description.chaincode, '-c', ctor(fn, args)], env),
    invoke: (channel, fn, args, endorsers) => {
      const ch = description.channels.find((c) => c.name === channel);
      if (!ch) throw new Error(`no channel ${channel} in ${description.network}`);
      const orderer = description.ordererOrg.orderers.find((o) => ch.orderers.includes(o.endpoint));
      if (!orderer) throw new Error(`channel ${channel} has no orderer`);
      const peerFlags = endorsers.flatMap((o) => {
        const p = loadProfile(o).peers[0];
        if (!p) throw new Error(`profile of ${o} has no peer`);
        return ['--peerAddresses', p.endpoint, '--tlsRootCertFiles', p.tlsRootCert];
      });
      return run(
        peerBin,
        ['chaincode', 'invoke', '-o', orderer.endpoint, '--tls', '--cafile', description.ordererOrg.tlsCaCert,
          '-C', channel, '-n', description.chaincode, ...peerFlags, '-c', ctor(fn, args), '--waitForEvent'],
        env,
      );
    },
  };
}
