/**
 * The org client moves to the org's next peer when its gateway peer cannot be reached, and only
 * for steps before anything is ordered (gateway/src/fabric/client.ts). Two fake peer
 * connections stand in for fabric-gateway's: each records what it was asked and answers or
 * fails as the test says.
 */
import { Metadata, type ServiceError } from '@grpc/grpc-js';
import { EndorseError, GatewayError } from '@hyperledger/fabric-gateway';
import { common, gateway, msp, peer } from '@hyperledger/fabric-protos';
import { ClientError } from '../../../gateway/src/errors';
import { endorsingMspIds, FabricClient, gatewayPeerUnreachable, type PeerConnector } from '../../../gateway/src/fabric/client';
import type { OrgConnection } from '../../../gateway/src/fabric/connection';
import type { Profile } from '../../../gateway/src/fabric/profile';

const PROFILE: Profile = {
  network: 'net1',
  org: 'HospitalA',
  mspId: 'HospitalAMSP',
  channels: ['chain-a'],
  chaincode: 'medbridge',
  peers: [
    { name: 'peer0.hospitala', endpoint: '127.0.0.1:7051', tlsRootCert: '/dev/null' },
    { name: 'peer1.hospitala', endpoint: '127.0.0.1:7151', tlsRootCert: '/dev/null' },
  ],
  identities: { user: { certificate: '/dev/null', privateKey: '/dev/null' } },
};

/** The raw gRPC error fabric-gateway keeps as the cause. */
const grpcError = (code: number): ServiceError => Object.assign(new Error(`${code} grpc`), { code, details: '', metadata: new Metadata() });

/** The gateway peer itself is gone: gRPC UNAVAILABLE and no endorser details. */
const unreachable = (): GatewayError => new GatewayError({ code: 14, message: '14 UNAVAILABLE: No connection established', details: [], cause: grpcError(14) });
/** The gateway peer answered, but the endorsers it asked did not: details name them. */
const endorsersDown = (): EndorseError =>
  new EndorseError({
    code: 14,
    message: '14 UNAVAILABLE: failed to collect enough transaction endorsements',
    details: [{ address: '127.0.0.1:8051', mspId: 'HospitalBMSP', message: 'connection refused' }],
    cause: grpcError(14),
    transactionId: 'tx',
  });

interface Behaviour {
  evaluate?: () => unknown;
  endorse?: () => unknown;
  submit?: () => unknown;
  /** The commit status code (0 = VALID). */
  status?: () => number;
  /** The MSP ids whose endorsements the endorsed transaction carries. */
  endorsers?: () => string[];
}

/** fabric-gateway's endorsed transaction bytes (PreparedTransaction) whose endorsements come from `mspIds`. */
function envelopeEndorsedBy(mspIds: string[]): Uint8Array {
  const action = new peer.ChaincodeEndorsedAction();
  action.setEndorsementsList(
    mspIds.map((m) => {
      const id = new msp.SerializedIdentity();
      id.setMspid(m);
      id.setIdBytes(Buffer.from(`cert of ${m}`));
      const e = new peer.Endorsement();
      e.setEndorser(id.serializeBinary());
      e.setSignature(Buffer.from('sig'));
      return e;
    }),
  );
  const cap = new peer.ChaincodeActionPayload();
  cap.setAction(action);
  const ta = new peer.TransactionAction();
  ta.setPayload(cap.serializeBinary());
  const tx = new peer.Transaction();
  tx.setActionsList([ta]);
  const payload = new common.Payload();
  payload.setData(tx.serializeBinary());
  const env = new common.Envelope();
  env.setPayload(payload.serializeBinary());
  const prepared = new gateway.PreparedTransaction();
  prepared.setTransactionId('tx');
  prepared.setEnvelope(env);
  return prepared.serializeBinary();
}

class FakePeer {
  readonly seen: string[] = [];
  /** The endorsingOrganizations of each proposal, in order ('-' when none were named). */
  readonly named: string[] = [];
  closed = false;
  constructor(
    readonly index: number,
    public behaviour: Behaviour = {},
  ) {}

  connection(): OrgConnection {
    const fail = (f?: () => unknown) => {
      const e = f?.();
      if (e) throw e;
    };
    let tx = 0;
    const contract = () => ({
      evaluateTransaction: async (fn: string) => {
        this.seen.push(`evaluate ${fn}`);
        fail(this.behaviour.evaluate);
        return Buffer.from(JSON.stringify({ peer: this.index }));
      },
      newProposal: (fn: string, options?: { endorsingOrganizations?: string[] }) => {
        const txId = `tx-${this.index}-${++tx}`;
        this.named.push(options?.endorsingOrganizations?.join(',') ?? '-');
        return {
          getTransactionId: () => txId,
          endorse: async () => {
            this.seen.push(`endorse ${fn} ${txId}`);
            fail(this.behaviour.endorse);
            return {
              getResult: () => Buffer.from(JSON.stringify({ peer: this.index })),
              getBytes: () => envelopeEndorsedBy(this.behaviour.endorsers?.() ?? ['HospitalAMSP', 'HospitalCMSP']),
              submit: async () => {
                this.seen.push(`submit ${txId}`);
                fail(this.behaviour.submit);
                const code = this.behaviour.status?.() ?? 0;
                return { getStatus: async () => ({ successful: code === 0, code, blockNumber: 7n, transactionId: txId }) };
              },
            };
          },
        };
      },
    });
    return {
      profile: PROFILE,
      contract,
      network: () => ({ getContract: contract }),
      close: () => {
        this.closed = true;
      },
    } as unknown as OrgConnection;
  }
}

function clientOver(peers: FakePeer[]): { client: FabricClient; opened: number[] } {
  const opened: number[] = [0];
  const connector: PeerConnector = (i) => {
    opened.push(i);
    const p = peers[i];
    if (!p) throw new Error(`no peer ${i}`);
    return p.connection();
  };
  return { client: FabricClient.over((peers[0] as FakePeer).connection(), { connectPeer: connector }), opened };
}

describe('gatewayPeerUnreachable', () => {
  it('is true for UNAVAILABLE or DEADLINE_EXCEEDED of the gateway peer itself, false when endorsers are named or for other codes', () => {
    expect(gatewayPeerUnreachable(unreachable())).toBe(true);
    expect(gatewayPeerUnreachable({ code: 4, details: [] })).toBe(true);
    expect(gatewayPeerUnreachable({ code: 14 })).toBe(true);
    expect(gatewayPeerUnreachable(endorsersDown())).toBe(false);
    expect(gatewayPeerUnreachable({ code: 10, details: [] })).toBe(false);
    expect(gatewayPeerUnreachable(new Error('plain'))).toBe(false);
  });
});

describe('org client peer failover', () => {
  it('evaluates on the next peer when the first is unreachable, and stays there', async () => {
    const peers = [new FakePeer(0, { evaluate: unreachable }), new FakePeer(1)];
    const { client, opened } = clientOver(peers);
    await expect(client.evaluate('chain-a', 'System', 'Ping')).resolves.toEqual({ peer: 1 });
    expect(client.peerIndex).toBe(1);
    await expect(client.evaluate('chain-a', 'System', 'Ping')).resolves.toEqual({ peer: 1 });
    expect(peers[0]!.seen).toEqual(['evaluate Ping']);
    expect(peers[1]!.seen).toEqual(['evaluate Ping', 'evaluate Ping']);
    expect(opened).toEqual([0, 1]);
  });

  it('endorses a new proposal on the next peer and submits it there when the first is unreachable', async () => {
    const peers = [new FakePeer(0, { endorse: unreachable }), new FakePeer(1)];
    const { client } = clientOver(peers);
    const r = await client.submit('chain-a', 'Consent', 'GrantConsent', ['x']);
    expect(r).toEqual({ result: { peer: 1 }, txId: 'tx-1-1', blockNumber: 7n });
    expect(peers[0]!.seen).toEqual(['endorse GrantConsent tx-0-1']);
    expect(peers[1]!.seen).toEqual(['endorse GrantConsent tx-1-1', 'submit tx-1-1']);
  });

  it('does not move when the gateway peer answered with endorser failures', async () => {
    const peers = [new FakePeer(0, { endorse: endorsersDown }), new FakePeer(1)];
    const { client } = clientOver(peers);
    await expect(client.submit('chain-a', 'Consent', 'GrantConsent', ['x'])).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(client.peerIndex).toBe(0);
    expect(peers[1]!.seen).toEqual([]);
  });

  it('never hands an endorsed transaction to another peer when submitting it fails (its outcome is unknown)', async () => {
    // fabric-gateway's SubmitError is a GatewayError with the transaction id (exported as a type only).
    const submitLost = () => Object.assign(new GatewayError({ code: 14, message: '14 UNAVAILABLE: connection reset', details: [], cause: grpcError(14) }), { transactionId: 'tx-0-1' });
    const peers = [new FakePeer(0, { submit: submitLost }), new FakePeer(1)];
    const { client } = clientOver(peers);
    const err = await client.submit('chain-a', 'Consent', 'GrantConsent', ['x']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClientError);
    expect((err as ClientError).code).toBe('UNAVAILABLE');
    expect(peers[0]!.seen).toEqual(['endorse GrantConsent tx-0-1', 'submit tx-0-1']);
    expect(peers[1]!.seen).toEqual([]);
  });

  it('fails with the last error once every peer of the org was tried, naming the peer it tried last', async () => {
    const peers = [new FakePeer(0, { evaluate: unreachable }), new FakePeer(1, { evaluate: unreachable })];
    const { client } = clientOver(peers);
    const err = (await client.evaluate('chain-a', 'System', 'Ping').catch((e: unknown) => e)) as ClientError;
    expect(err.code).toBe('UNAVAILABLE');
    expect(err.message).toContain('127.0.0.1:7151');
    expect(peers[0]!.seen).toEqual(['evaluate Ping']);
    expect(peers[1]!.seen).toEqual(['evaluate Ping']);
  });

  it('moves back to the first peer when the second goes away later', async () => {
    const peers = [new FakePeer(0, { evaluate: unreachable }), new FakePeer(1)];
    const { client } = clientOver(peers);
    await client.evaluate('chain-a', 'System', 'Ping');
    peers[0]!.behaviour = {};
    peers[1]!.behaviour = { evaluate: unreachable };
    await expect(client.evaluate('chain-a', 'System', 'Ping')).resolves.toEqual({ peer: 0 });
    expect(client.peerIndex).toBe(0);
  });

  it('closes every connection it opened', async () => {
    const peers = [new FakePeer(0, { evaluate: unreachable }), new FakePeer(1)];
    const { client } = clientOver(peers);
    await client.evaluate('chain-a', 'System', 'Ping');
    client.close();
    expect(peers.map((p) => p.closed)).toEqual([true, true]);
  });

  it('stays on its one peer without a way to open others', async () => {
    const peer = new FakePeer(0, { evaluate: unreachable });
    const client = FabricClient.over(peer.connection());
    await expect(client.evaluate('chain-a', 'System', 'Ping')).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(peer.seen).toEqual(['evaluate Ping']);
  });
});

describe('submit phases (observeSubmits)', () => {
  const disagree = (): EndorseError =>
    new EndorseError({
      code: 10,
      message: '10 ABORTED: failed to collect enough transaction endorsements',
      details: [{ address: '127.0.0.1:9051', mspId: 'HospitalCMSP', message: 'ProposalResponsePayloads do not match' }],
      cause: grpcError(10),
      transactionId: 'tx',
    });

  it('reports each committed submit once with its phases and ids, and nothing after the observer stops', async () => {
    const peer = new FakePeer(0);
    const client = FabricClient.over(peer.connection());
    const seen: Array<{ fn: string; txId: string; endorseMs: number; submitMs: number; commitMs: number; totalMs: number; laggingPeerRetries: number; conflictRetries: number }> = [];
    const stop = client.observeSubmits((t) => seen.push(t));
    const r = await client.submit('chain-a', 'CrossChain', 'GrantAndSend', ['x']);
    expect(seen).toHaveLength(1);
    const t = seen[0]!;
    expect(t).toMatchObject({ fn: 'GrantAndSend', txId: r.txId, laggingPeerRetries: 0, conflictRetries: 0 });
    for (const ms of [t.endorseMs, t.submitMs, t.commitMs]) expect(ms).toBeGreaterThanOrEqual(0);
    expect(t.totalMs).toBeGreaterThanOrEqual(t.endorseMs + t.submitMs + t.commitMs - 0.001);
    stop();
    await client.submit('chain-a', 'System', 'Heartbeat', ['y']);
    expect(seen).toHaveLength(1);
  });

  it('counts a proposal made again after the endorsers disagreed, with the wait before it', async () => {
    let first = true;
    const peer = new FakePeer(0, {
      endorse: () => {
        if (!first) return undefined;
        first = false;
        return disagree();
      },
    });
    const client = FabricClient.over(peer.connection());
    const seen: Array<{ laggingPeerRetries: number; retryWaitMs: number; txId: string }> = [];
    client.observeSubmits((t) => seen.push(t));
    const r = await client.submit('chain-a', 'CrossChain', 'GrantAndSend', ['x']);
    expect(peer.seen.filter((s) => s.startsWith('endorse'))).toHaveLength(2);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ laggingPeerRetries: 1, txId: r.txId });
    expect(seen[0]!.retryWaitMs).toBeGreaterThan(0);
  });

  it('waits longer before each proposal made again, and after the last says UNAVAILABLE with nothing ordered', async () => {
    const peer = new FakePeer(0, { endorse: () => disagree() });
    const client = FabricClient.over(peer.connection());
    const waits: number[] = [];
    const realSetTimeout = global.setTimeout;
    const spy = jest.spyOn(global, 'setTimeout').mockImplementation(((fn: () => void, ms?: number) => {
      waits.push(ms ?? 0);
      return realSetTimeout(fn, 0);
    }) as typeof setTimeout);
    try {
      await expect(client.submit('chain-b', 'CrossChain', 'GrantAndSend', ['x'])).rejects.toMatchObject({ code: 'UNAVAILABLE', kind: 'unavailable' });
    } finally {
      spy.mockRestore();
    }
    expect(peer.seen.filter((s) => s.startsWith('endorse'))).toHaveLength(5);
    expect(peer.seen.filter((s) => s.startsWith('submit'))).toHaveLength(0);
    expect(waits).toEqual([250, 500, 1000, 2000]);
  });

  it('reports nothing for a submit that fails', async () => {
    const peer = new FakePeer(0, { endorse: () => endorsersDown() });
    const client = FabricClient.over(peer.connection());
    const seen: unknown[] = [];
    client.observeSubmits((t) => seen.push(t));
    await expect(client.submit('chain-a', 'Consent', 'GrantConsent', ['x'])).rejects.toBeInstanceOf(ClientError);
    expect(seen).toHaveLength(0);
  });
});

describe('endorsement in parallel (the orgs of the last commit, named on the next proposal)', () => {
  const refused = (): EndorseError =>
    new EndorseError({
      code: 2,
      message: '2 UNKNOWN: evaluate call to endorser returned error: chaincode response 500, NONCE_REPLAYED: nonce already used',
      details: [{ address: '127.0.0.1:7051', mspId: 'HospitalAMSP', message: 'chaincode response 500, NONCE_REPLAYED: nonce already used' }],
      cause: grpcError(2),
      transactionId: 'tx',
    });

  it('reads the endorsing MSP ids from an endorsed transaction, sorted and once each', () => {
    expect(endorsingMspIds(envelopeEndorsedBy(['HospitalCMSP', 'HospitalAMSP', 'HospitalCMSP']))).toEqual(['HospitalAMSP', 'HospitalCMSP']);
    expect(endorsingMspIds(Buffer.from('not an envelope'))).toEqual([]);
  });

  it('leaves the first proposal of a function to the gateway, names the orgs that endorsed it on the next, per function and channel', async () => {
    const p = new FakePeer(0);
    const client = FabricClient.over(p.connection());
    await client.submit('chain-a', 'CrossChain', 'GrantAndSend', ['x']);
    await client.submit('chain-a', 'CrossChain', 'GrantAndSend', ['y']);
    await client.submit('chain-b', 'CrossChain', 'GrantAndSend', ['z']);
    await client.submit('chain-a', 'System', 'Heartbeat', ['h']);
    expect(p.named).toEqual(['-', 'HospitalAMSP,HospitalCMSP', '-', '-']);
  });

  it('never replaces orgs the caller named, nor learns from them', async () => {
    const p = new FakePeer(0);
    const client = FabricClient.over(p.connection());
    await client.submit('chain-a', 'Consent', 'GrantConsent', ['x'], { endorsingOrgs: ['HospitalAMSP'] });
    await client.submit('chain-a', 'Consent', 'GrantConsent', ['y']);
    expect(p.named).toEqual(['HospitalAMSP', '-']);
  });

  it('proposes again with the gateway plan when the named orgs cannot endorse, then learns the new set', async () => {
    const p = new FakePeer(0);
    const client = FabricClient.over(p.connection());
    await client.submit('chain-a', 'CrossChain', 'GrantAndSend', ['x']);
    // From now on HospitalC has no peer up: a proposal naming orgs fails; the gateway's own plan finds HospitalB.
    p.behaviour.endorse = () => (p.named[p.named.length - 1] !== '-' ? endorsersDown() : undefined);
    p.behaviour.endorsers = () => ['HospitalAMSP', 'HospitalBMSP'];
    const r = await client.submit('chain-a', 'CrossChain', 'GrantAndSend', ['y']);
    expect(r.txId).toBe('tx-0-3');
    p.behaviour.endorse = undefined;
    await client.submit('chain-a', 'CrossChain', 'GrantAndSend', ['z']);
    expect(p.named).toEqual(['-', 'HospitalAMSP,HospitalCMSP', '-', 'HospitalAMSP,HospitalBMSP']);
  });

  it('resubmits with the gateway plan when the transaction named orgs that fail the endorsement policy at commit', async () => {
    const p = new FakePeer(0);
    const client = FabricClient.over(p.connection());
    await client.submit('chain-a', 'CrossChain', 'GrantAndSend', ['x']);
    p.behaviour.status = () => (p.named[p.named.length - 1] !== '-' ? 10 : 0); // 10 = ENDORSEMENT_POLICY_FAILURE
    const r = await client.submit('chain-a', 'CrossChain', 'GrantAndSend', ['y']);
    expect(p.named).toEqual(['-', 'HospitalAMSP,HospitalCMSP', '-']);
    expect(r.txId).toBe('tx-0-3');
  });

  it('does not propose again when the chaincode refused (the same refusal would come back), and keeps the orgs', async () => {
    const p = new FakePeer(0);
    const client = FabricClient.over(p.connection());
    await client.submit('chain-a', 'CrossChain', 'GrantAndSend', ['x']);
    p.behaviour.endorse = () => refused();
    await expect(client.submit('chain-a', 'CrossChain', 'GrantAndSend', ['y'])).rejects.toMatchObject({ code: 'NONCE_REPLAYED' });
    p.behaviour.endorse = undefined;
    await client.submit('chain-a', 'CrossChain', 'GrantAndSend', ['z']);
    expect(p.named).toEqual(['-', 'HospitalAMSP,HospitalCMSP', 'HospitalAMSP,HospitalCMSP']);
  });
});
