/**
 * The soak's checker must be able to fail: a clean history passes, and each broken promise
 * (a duplicate delivery, a sequence gap, a lost packet, a lost revocation, a fee left in
 * escrow, a record served without a log entry, a checkpoint past an undelivered packet, and
 * through the hospital API: a grant acknowledged but not on the ledger or applied twice, a record
 * served without a log entry, a 5xx, a hang) is reported with its own code.
 */
import { checkSoak } from '../../../gateway/src/soak/checker';
import type { ApiHistory, DirectionHistory, LedgerPacket, RouteEvent, SoakHistory } from '../../../gateway/src/soak/history';

function direction(n: number): DirectionHistory {
  const sent: LedgerPacket[] = [];
  const events: RouteEvent[] = [];
  for (let s = 1; s <= n; s++) {
    const type = s % 2 === 0 ? 'consent.revoke' : 'consent.grant';
    sent.push({ sequence: s, type, consentId: `c${Math.ceil(s / 2)}`, packetHash: `h${s}`, status: 'acknowledged', txId: `tx${s}`, sentAtMs: 1000 * s });
    events.push({ name: 'PacketSent', sequence: s, blockNumber: 10 + s }, { name: 'PacketReceived', sequence: s, blockNumber: 20 + s }, { name: 'PacketAcknowledged', sequence: s, blockNumber: 30 + s });
  }
  return {
    routeId: 'soak-r',
    source: 'chain-a',
    dest: 'chain-b',
    sends: sent.map((p) => ({ type: p.type as 'consent.grant' | 'consent.revoke', consentId: p.consentId ?? '', outcome: 'committed', txId: p.txId })),
    sent,
    received: sent.map((p) => ({ sequence: p.sequence, packetHash: p.packetHash, outcome: 'success', receivedAtMs: p.sentAtMs + 700 + p.sequence })),
    events,
    checkpoint: { nextBlock: 40, sourceHeight: 45 },
  };
}

function clean(): SoakHistory {
  return {
    seed: 42,
    directions: [direction(6)],
    revocations: [1, 2, 3].map((i) => ({ consentId: `c${i}`, source: 'chain-a', dest: 'chain-b', destStatus: 'revoked' })),
    fees: {
      chain: 'chain-a',
      escrows: [1, 2, 3, 4, 5, 6].map((s) => ({ routeId: 'soak-r', sequence: s, packetStatus: 'acknowledged' as const, escrow: { status: 'paid' as const, amount: 10, paidOut: 10 } })),
      before: { supply: 1000, escrowed: 0 },
      after: { supply: 1000, escrowed: 0 },
    },
    served: [{ patientId: 'p1', recordId: 'r1', txId: 'log1' }],
    accessLog: [{ patientId: 'p1', recordId: 'r1', txId: 'log1', allowed: true }],
    faults: [{ kind: 'relay-kill', atMs: 100, ok: true, detail: 'pid 1' }],
  };
}

const codes = (h: SoakHistory) => checkSoak(h).violations.map((v) => v.code);

describe('soak checker', () => {
  it('passes a history where every packet arrived once and was acknowledged once', () => {
    const r = checkSoak(clean());
    expect(r.violations).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.counts).toMatchObject({ sent: 6, delivered: 6, acknowledged: 6, timedOut: 0, duplicates: 0, lost: 0, revocations: 3, revocationsInForce: 3, served: 1, faults: { 'relay-kill': 1 } });
    expect(r.counts.maxRevocationMs).toBe(706);
  });

  it('fails a history with a packet received twice on the destination', () => {
    const h = clean();
    h.directions[0]!.events.push({ name: 'PacketReceived', sequence: 3, blockNumber: 99 });
    const r = checkSoak(h);
    expect(r.ok).toBe(false);
    expect(codes(h)).toEqual(['DUPLICATE_DELIVERY']);
    expect(r.counts.duplicates).toBe(1);
  });

  it('fails a history with a packet acknowledged twice on the source', () => {
    const h = clean();
    h.directions[0]!.events.push({ name: 'PacketAcknowledged', sequence: 2, blockNumber: 99 });
    expect(codes(h)).toEqual(['DUPLICATE_SETTLEMENT']);
  });

  it('fails a history with a sequence gap on the destination, and counts the packet lost', () => {
    const h = clean();
    const d = h.directions[0]!;
    d.received = d.received.filter((r) => r.sequence !== 4);
    d.events = d.events.filter((e) => !(e.name === 'PacketReceived' && e.sequence === 4));
    const r = checkSoak(h);
    expect(r.violations.map((v) => v.code)).toEqual(['SEQUENCE_GAP', 'LOST_PACKET', 'CHECKPOINT_PASSED_UNDELIVERED']);
    expect(r.counts.lost).toBe(1);
  });

  it('fails a history with a revocation that is not in force on the chain it was sent to', () => {
    const h = clean();
    h.revocations[1]!.destStatus = 'active';
    const r = checkSoak(h);
    expect(r.violations).toEqual([{ code: 'REVOCATION_NOT_IN_FORCE', message: 'consent c2 revoked on chain-a reads active on chain-b' }]);
    expect(r.counts.revocationsInForce).toBe(2);
  });

  it('fails a history where a send the client saw committed is not on the source ledger', () => {
    const h = clean();
    h.directions[0]!.sends.push({ type: 'consent.grant', consentId: 'c9', outcome: 'committed', txId: 'tx-missing' });
    expect(codes(h)).toEqual(['SEND_NOT_ON_LEDGER']);
  });

  it('fails a history with more packets on the ledger than the clients could have sent', () => {
    const h = clean();
    h.directions[0]!.sends.pop();
    expect(codes(h)).toEqual(['UNEXPLAINED_PACKET']);
    // ... unless the missing send's outcome is unknown to the client.
    h.directions[0]!.sends.push({ type: 'consent.revoke', consentId: 'c3', outcome: 'unknown' });
    expect(codes(h)).toEqual([]);
  });

  it('fails a history whose source and destination disagree on the outcome', () => {
    const h = clean();
    h.directions[0]!.sent[0]!.status = 'timed-out';
    h.fees!.escrows[0]!.packetStatus = 'timed-out';
    expect(codes(h)).toEqual(['OUTCOME_MISMATCH', 'FEE_MISMATCH']);
  });

  it('fails a history with a packet still unsettled on the source after the drain', () => {
    const h = clean();
    h.directions[0]!.sent[5]!.status = 'sent';
    expect(codes(h)).toContain('UNSETTLED');
  });

  it('fails a history with a fee left in escrow or a supply that moved', () => {
    const h = clean();
    h.fees!.escrows[2]!.escrow = { status: 'held', amount: 10, paidOut: 0 };
    h.fees!.after = { supply: 1000, escrowed: 10 };
    expect(codes(h)).toEqual(['FEE_STUCK']);
    h.fees!.after = { supply: 1010, escrowed: 0 };
    expect(codes(h)).toEqual(['FEE_STUCK', 'VALUE_NOT_CONSERVED', 'VALUE_NOT_CONSERVED']);
  });

  it('fails a history with a record served without an allowed access-log entry', () => {
    const h = clean();
    h.accessLog[0]!.allowed = false;
    expect(codes(h)).toEqual(['SERVED_WITHOUT_LOG']);
  });

  it('fails a history whose relay checkpoint is past the source ledger', () => {
    const h = clean();
    h.directions[0]!.checkpoint = { nextBlock: 50, sourceHeight: 45 };
    expect(codes(h)).toEqual(['CHECKPOINT_AHEAD']);
  });

  it('fails a run whose drain ended with packets unsettled, and says so before the packets it left', () => {
    const h = clean();
    h.drain = { complete: false, openAtEnd: 1, ms: 180_000 };
    const d = h.directions[0]!;
    d.sent[5]!.status = 'sent';
    d.received.pop();
    d.events = d.events.filter((e) => !(e.sequence === 6 && e.name !== 'PacketSent'));
    d.checkpoint = { nextBlock: 16, sourceHeight: 45 };
    expect(codes(h)).toEqual(['NOT_DRAINED', 'LOST_PACKET']);
    h.drain = { complete: true, openAtEnd: 0, ms: 1000 };
    expect(codes(h)).toEqual(['LOST_PACKET']);
  });

  it('fails a run where a scheduled fault could not be injected', () => {
    const h = clean();
    h.faults.push({ kind: 'orderer-down', atMs: 5000, ok: false, detail: 'no pid file' });
    const r = checkSoak(h);
    expect(r.violations.map((v) => v.code)).toEqual(['FAULT_NOT_INJECTED']);
    expect(r.counts.faultsFailed).toBe(1);
  });

  describe('the second route, chain-a <-> chain-c (net2)', () => {
    function withNet2(): SoakHistory {
      const h = clean();
      const c = direction(4);
      c.routeId = 'soakc-r';
      c.dest = 'chain-c';
      h.directions.push(c);
      return h;
    }

    it('counts each route and direction on its own', () => {
      const r = checkSoak(withNet2());
      expect(r.violations).toEqual([]);
      expect(r.counts.byDirection).toEqual({
        'chain-a->chain-b': { route: 'soak-r', sent: 6, delivered: 6, acknowledged: 6, duplicates: 0, lost: 0 },
        'chain-a->chain-c': { route: 'soakc-r', sent: 4, delivered: 4, acknowledged: 4, duplicates: 0, lost: 0 },
      });
    });

    it('fails a packet delivered twice on chain-c', () => {
      const h = withNet2();
      h.directions[1]!.events.push({ name: 'PacketReceived', sequence: 2, blockNumber: 98 });
      const r = checkSoak(h);
      expect(r.violations).toEqual([{ code: 'DUPLICATE_DELIVERY', message: 'chain-a -> chain-c soakc-r #2 arrived 2 times on chain-c' }]);
      expect(r.counts.byDirection['chain-a->chain-c']!.duplicates).toBe(1);
      expect(r.counts.byDirection['chain-a->chain-b']!.duplicates).toBe(0);
    });

    it('fails a sequence gap on chain-c and counts the packet lost on that route', () => {
      const h = withNet2();
      const d = h.directions[1]!;
      d.received = d.received.filter((x) => x.sequence !== 3);
      d.events = d.events.filter((e) => !(e.name === 'PacketReceived' && e.sequence === 3));
      const r = checkSoak(h);
      expect(r.violations.map((x) => x.code)).toEqual(['SEQUENCE_GAP', 'LOST_PACKET', 'CHECKPOINT_PASSED_UNDELIVERED']);
      expect(r.violations[0]!.message).toBe('chain-a -> chain-c soakc-r: sequence 3 missing or repeated on chain-c');
      expect(r.counts.byDirection['chain-a->chain-c']!.lost).toBe(1);
    });

    it('fails a revocation not in force on chain-c', () => {
      const h = withNet2();
      h.revocations.push({ consentId: 'c7', source: 'chain-a', dest: 'chain-c', destStatus: 'active' });
      expect(codes(h)).toEqual(['REVOCATION_NOT_IN_FORCE']);
    });
  });

  describe('the hospital API under the load', () => {
    function withApi(): SoakHistory {
      const h = clean();
      const api: ApiHistory = {
        boundMs: 90_000,
        calls: [
          { op: 'grant', status: 201, ms: 800, apiDown: false },
          { op: 'grant', transport: 'ECONNRESET', ms: 300, apiDown: true },
          { op: 'grant', status: 201, ms: 900, apiDown: false },
          { op: 'fetch', status: 503, code: 'UNAVAILABLE', ms: 200, apiDown: false },
          { op: 'revoke', status: 201, ms: 700, apiDown: false },
        ],
        grants: [
          { consentId: 'g1', outcome: 'acknowledged', txId: 'tg1', revoked: true, ledgerStatus: 'revoked' },
          { consentId: 'g2', outcome: 'acknowledged', txId: 'tg2' },
          { consentId: 'g3', outcome: 'unknown' },
          { consentId: 'g4', outcome: 'refused' },
        ],
        granted: [
          { consentId: 'g1', txId: 'tg1' },
          { consentId: 'g2', txId: 'tg2' },
          { consentId: 'g3', txId: 'tg3' },
        ],
      };
      h.api = api;
      h.served.push({ patientId: 'p1', recordId: 'r1', txId: 'log2', via: 'api' });
      h.accessLog.push({ patientId: 'p1', recordId: 'r1', txId: 'log2', allowed: true });
      return h;
    }

    it('passes when every acknowledged grant is on the ledger once and every answer is 2xx or a clear refusal', () => {
      const r = checkSoak(withApi());
      expect(r.violations).toEqual([]);
      expect(r.counts.api).toEqual({ calls: 5, ok: 3, refused: 1, unanswered: 1, grantsAcknowledged: 2, grantsOnLedger: 3, revocationsInForce: 1 });
      expect(r.counts.servedViaApi).toBe(1);
    });

    it('fails a grant the API acknowledged that is not on the ledger', () => {
      const h = withApi();
      h.api!.granted = h.api!.granted.filter((g) => g.consentId !== 'g2');
      const r = checkSoak(h);
      expect(r.violations).toEqual([{ code: 'API_GRANT_NOT_ON_LEDGER', message: 'consent g2 acknowledged by the API (tx tg2) has no ConsentGranted on the ledger' }]);
    });

    it('fails a grant applied twice, a refused grant on the ledger, and one never submitted', () => {
      const h = withApi();
      h.api!.granted.push({ consentId: 'g1', txId: 'tg1b' }, { consentId: 'g4', txId: 'tg4' }, { consentId: 'g9', txId: 'tg9' });
      expect(codes(h)).toEqual(['API_GRANT_DUPLICATED', 'API_GRANT_UNEXPLAINED', 'API_GRANT_UNEXPLAINED']);
    });

    it('fails a record served through the API without its access-log entry', () => {
      const h = withApi();
      h.accessLog = h.accessLog.filter((e) => e.txId !== 'log2');
      const r = checkSoak(h);
      expect(r.violations).toEqual([{ code: 'SERVED_WITHOUT_LOG', message: 'record r1 of p1 served through the hospital API (tx log2) with no allowed access-log entry' }]);
    });

    it('fails a 5xx that is not a clear refusal, an answer past the bound, and no answer while the API was up', () => {
      const h = withApi();
      h.api!.calls.push(
        { op: 'fetch', status: 500, code: 'INTERNAL', ms: 100, apiDown: false },
        { op: 'read-consent', status: 502, ms: 100, apiDown: false },
        { op: 'grant', transport: 'timeout', ms: 90_001, apiDown: false },
        { op: 'grant', status: 201, ms: 95_000, apiDown: false },
        { op: 'revoke', transport: 'ECONNREFUSED', ms: 5, apiDown: false },
      );
      expect(codes(h)).toEqual(['API_SERVER_ERROR', 'API_SERVER_ERROR', 'API_HANG', 'API_HANG', 'API_UNREACHABLE']);
    });

    it('fails a revocation the API acknowledged that does not read revoked on the ledger', () => {
      const h = withApi();
      h.api!.grants[0]!.ledgerStatus = 'active';
      expect(codes(h)).toEqual(['API_REVOCATION_NOT_IN_FORCE']);
    });
  });
});
