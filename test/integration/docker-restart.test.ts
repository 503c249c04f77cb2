/**
 * The docker runtime (FABRIC_RUNTIME=docker): a peer container is stopped (`docker stop`) and
 * started again (`docker start`) while transactions are submitted on chain-a. No transaction is
 * lost: every logical submit ends committed (VALID) and readable, and every attempt that failed
 * failed with a clear gRPC error and was retried (the retry waits on the connection becoming ready
 * again, not on a timer). The org's other peer keeps the channel working during the outage, the
 * restarted peer catches up to the channel height, and the client's gateway connection to it
 * works again without being recreated.
 */
import { CommitStatusError, EndorseError, GatewayError, type Status } from '@hyperledger/fabric-gateway';
import { peer as peerProtos } from '@hyperledger/fabric-protos';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { get } from 'node:http';
import { connectOrg, type OrgConnection } from '../../gateway/src/fabric/connection';
import { loadProfile } from '../../gateway/src/fabric/profile';
import { readNetwork } from './support/network';
import { waitFor } from './support/polling';

const RUNTIME = process.env.FABRIC_RUNTIME ?? 'native';
const CHANNEL = 'chain-a';
const MAX_ATTEMPTS = 25;
const GRPC_UNAVAILABLE = 14;

type Org = 'HospitalA' | 'HospitalC';

interface Attempt {
  stage: 'endorse' | 'submit' | 'commit-status' | 'invalid' | 'other';
  txId?: string;
  code?: number;
  error: string;
}

interface Op {
  label: string;
  org: Org;
  failed: Attempt[];
  committed?: { txId: string; block: bigint };
}

function docker(...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('docker', args, { timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`docker ${args.join(' ')} failed: ${stderr || err.message}`));
      else resolve(stdout.trim());
    });
  });
}

/** ledger_blockchain_height of a channel from a peer's operations endpoint (undefined if down). */
function peerHeight(operationsEndpoint: string, channel: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = get(`http://${operationsEndpoint}/metrics`, { timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => {
        const m = body.match(new RegExp(`^ledger_blockchain_height\\{channel="${channel}"\\} (\\d+)`, 'm'));
        resolve(m?.[1] ? Number(m[1]) : undefined);
      });
    });
    req.on('error', () => resolve(undefined));
    req.on('timeout', () => req.destroy());
  });
}

/** How long the suite waits for the restarted peer to answer as before. */
const RECOVERY_MS = 60_000;

/**
 * The org's gateway can plan an endorsement on the channel again: a read-only System:Ping proposal
 * is endorsed (never submitted). A restarted peer accepts connections before gossip has told its
 * discovery about the other org's peers; until then it answers FAILED_PRECONDITION "no
 * combination of peers".
 */
async function endorsable(conn: OrgConnection): Promise<void> {
  // Raw on purpose: a proposal endorsed and never submitted, on the connection that lived through the restart.
  const contract = conn.contract(CHANNEL, 'System');
  await waitFor(
    'the gateway plans endorsements',
    () =>
      contract.newProposal('Ping').endorse().then(
        () => true,
        () => false,
      ),
    RECOVERY_MS,
    200,
  );
}

/** The gRPC channel of a connection is READY (reconnects after the peer comes back). */
function connectionReady(conn: OrgConnection, deadlineMs = 90_000): Promise<void> {
  return new Promise((resolve, reject) => {
    conn.client.waitForReady(Date.now() + deadlineMs, (err) => (err ? reject(err) : resolve()));
  });
}

function attemptOf(e: unknown): Attempt {
  const id = (e as { transactionId?: unknown }).transactionId;
  const txId = typeof id === 'string' ? id : undefined;
  // EndorseError, SubmitError (exported as a type only) and CommitStatusError are GatewayErrors.
  const stage: Attempt['stage'] =
    e instanceof EndorseError ? 'endorse' : e instanceof CommitStatusError ? 'commit-status' : e instanceof GatewayError ? 'submit' : 'other';
  const code = e instanceof GatewayError ? e.code : undefined;
  return { stage, txId, code, error: e instanceof Error ? e.message : String(e) };
}

const describeDocker = RUNTIME === 'docker' ? describe : describe.skip;
const title =
  RUNTIME === 'docker'
    ? 'docker runtime: peer0 of HospitalA stopped and started while transactions are submitted on chain-a'
    : `docker runtime peer restart (skipped: this run uses FABRIC_RUNTIME=${RUNTIME}; it needs FABRIC_RUNTIME=docker)`;

describeDocker(title, () => {
  const conns = new Map<string, OrgConnection>();
  const conn = (org: Org, peer = 0): OrgConnection => {
    const c = conns.get(`${org}/${peer}`);
    if (!c) throw new Error(`no connection ${org}/${peer}`);
    return c;
  };
  let container = '';
  let operations = '';

  beforeAll(() => {
    const net = readNetwork();
    const orgA = net.orgs.find((o) => o.name === 'HospitalA') as
      | { peers: { name: string; operationsEndpoint?: string }[] }
      | undefined;
    const peer0 = orgA?.peers[0];
    if (!peer0?.operationsEndpoint) throw new Error('network.json names no peer0 of HospitalA with an operations endpoint');
    container = `medbridge-${net.network}-${peer0.name}`;
    operations = peer0.operationsEndpoint;
    for (const org of ['HospitalA', 'HospitalC'] as const) {
      for (const peer of [0, 1]) conns.set(`${org}/${peer}`, connectOrg(loadProfile(org), { identity: 'user', peer }));
    }
  });

  afterAll(async () => {
    for (const c of conns.values()) c.close();
    // Never leave the peer stopped for the suites that follow.
    if (container && (await docker('inspect', '-f', '{{.State.Running}}', container).catch(() => '')) === 'false') {
      await docker('start', container);
    }
  });

  /**
   * One logical submit (Heartbeat) through the org's peer0 gateway, retried until it commits.
   * A submit whose commit status is unknown (the gateway went away after ordering) is resolved
   * through the org's other peer (the same signed commit-status request) before any retry, so a
   * retry never duplicates a transaction that did commit.
   */
  async function runOp(org: Org, label: string, onFailure?: (a: Attempt) => void): Promise<Op> {
    const op: Op = { label, org, failed: [] };
    const primary = conn(org, 0);
    // Raw on purpose: submitAsync, so that an unknown commit status is resolved through the org's other peer.
    const contract = primary.contract(CHANNEL, 'System');
    for (let i = 0; i < MAX_ATTEMPTS; i++) {
      let status: Status;
      try {
        const submitted = await contract.submitAsync('Heartbeat', { arguments: [label] });
        try {
          status = await submitted.getStatus();
        } catch (e) {
          const a = attemptOf(e);
          op.failed.push(a);
          onFailure?.(a);
          status = await conn(org, 1).gateway.newCommit(submitted.getBytes()).getStatus();
        }
      } catch (e) {
        const a = attemptOf(e);
        op.failed.push(a);
        onFailure?.(a);
        await connectionReady(primary);
        await endorsable(primary);
        continue;
      }
      if (status.successful) {
        op.committed = { txId: status.transactionId, block: status.blockNumber };
        return op;
      }
      op.failed.push({ stage: 'invalid', txId: status.transactionId, error: `validation code ${status.code}` });
    }
    throw new Error(`${label} did not commit in ${MAX_ATTEMPTS} attempts: ${JSON.stringify(op.failed)}`);
  }

  async function running(): Promise<boolean> {
    return (await docker('inspect', '-f', '{{.State.Running}}', container)) === 'true';
  }

  it('loses no transaction: the other peer serves during the outage, the restarted peer catches up and its gateway connection works again', async () => {
    const tag = randomBytes(4).toString('hex');
    const ops: Op[] = [];

    // Healthy network: both orgs submit.
    ops.push(...(await Promise.all([runOp('HospitalA', `${tag}-before-a`), runOp('HospitalC', `${tag}-before-c`)])));
    expect(ops.every((o) => o.failed.length === 0)).toBe(true);

    await docker('stop', container);
    expect(await running()).toBe(false);
    expect(await peerHeight(operations, CHANNEL)).toBeUndefined();

    // HospitalA's client is connected to the stopped peer: its submit fails with a clear error and
    // waits for the connection to come back before retrying.
    let firstFailure!: (a: Attempt) => void;
    const failureSeen = new Promise<Attempt>((r) => (firstFailure = r));
    const duringA = runOp('HospitalA', `${tag}-during-a`, (a) => firstFailure(a));
    const seen = await failureSeen;
    expect(seen.code).toBe(GRPC_UNAVAILABLE);
    expect(seen.error).toMatch(/UNAVAILABLE|connect|No connection/i);

    // HospitalC keeps transacting on chain-a meanwhile (HospitalA's peer1 endorses).
    for (let i = 0; i < 3; i++) ops.push(await runOp('HospitalC', `${tag}-during-c-${i}`));
    expect(await running()).toBe(false); // all of the above committed while peer0 was down

    await docker('start', container);
    ops.push(await duringA);

    // After the restart, through the same (never recreated) connection to the restarted peer.
    ops.push(...(await Promise.all([runOp('HospitalA', `${tag}-after-a`), runOp('HospitalC', `${tag}-after-c`)])));

    // Nothing lost: every logical submit committed exactly once.
    expect(ops).toHaveLength(8);
    for (const op of ops) expect(op.committed).toBeDefined();
    const committed = ops.map((o) => o.committed?.txId);
    expect(new Set(committed).size).toBe(ops.length);

    // Every failure was a clear gRPC error of the outage (or a commit-status read that the other
    // peer then resolved), never a silent loss.
    const failures = ops.flatMap((o) => o.failed);
    expect(failures.length).toBeGreaterThan(0);
    for (const f of failures) {
      expect(f.stage).not.toBe('other');
      expect(f.error.length).toBeGreaterThan(0);
    }

    process.stderr.write(
      `docker-restart: ${ops.length} submits committed; failed attempts retried: ${failures
        .map((f) => `${f.stage}${f.code === undefined ? '' : `(code ${f.code})`}`)
        .join(', ')}\n`,
    );

    // The restarted peer catches up to the block of the last commit.
    const lastBlock = ops.reduce((m, o) => (o.committed && o.committed.block > m ? o.committed.block : m), 0n);
    await waitFor(`peer0 of HospitalA reaches height ${lastBlock + 1n}`, async () => ((await peerHeight(operations, CHANNEL)) ?? 0) > Number(lastBlock), RECOVERY_MS, 200);

    // Every committed transaction is readable (qscc through the restarted peer's gateway) and VALID.
    const qscc = conn('HospitalA', 0).network(CHANNEL).getContract('qscc');
    for (const op of ops) {
      const bytes = await qscc.evaluateTransaction('GetTransactionByID', CHANNEL, op.committed?.txId ?? '');
      const tx = peerProtos.ProcessedTransaction.deserializeBinary(bytes);
      expect(tx.getValidationcode()).toBe(peerProtos.TxValidationCode.VALID);
    }
    // A failed attempt that got a transaction id never reached the ledger (no duplicate commit).
    for (const f of failures.filter((x) => x.txId && !committed.includes(x.txId))) {
      await expect(qscc.evaluateTransaction('GetTransactionByID', CHANNEL, f.txId ?? '')).rejects.toThrow();
    }
    // The last heartbeat of HospitalA, read by HospitalC, is the one submitted after the restart.
    // Raw on purpose: read through the same per-peer connection the suite tracks, not a new client.
    const last = JSON.parse(Buffer.from(await conn('HospitalC', 0).contract(CHANNEL, 'System').evaluateTransaction('LastHeartbeat', 'HospitalAMSP')).toString()) as { note: string };
    expect(last.note).toBe(`${tag}-after-a`);
  });
});
