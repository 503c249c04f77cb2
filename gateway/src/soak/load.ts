/**
 * The soak's load: patients granting and revoking across the route, both ways, through the
 * production services (ConsentService: GrantAndSend, RevokeConsent, SendPacket), at a bounded
 * rate. Each worker owns one patient and repeats: grant (its packet crosses at once), for
 * chain-a's patients a record fetch by the grantee from the custodian's record server, revoke,
 * and send the revocation; every send is recorded as the client saw it (history.ts), and a
 * revocation is re-sent until one send is committed (the patient's promise: it must arrive).
 */
import { toClientError } from '../errors';
import { sleep } from '../relay/backoff';
import type { ConsentService } from '../services/consent-service';
import type { PatientKey } from '../services/patient-keys';
import type { ClientSend, RevocationObservation, ServedRecord } from './history';

export interface Worker {
  consents: ConsentService;
  patient: PatientKey;
  grantee: string;
  dest: string;
  /** Direction key `<source>-><dest>`: where its sends are recorded. */
  direction: string;
  /** The route its packets take (default: the run's chain-a <-> chain-b route). */
  route?: string;
  /** A record of the patient the grant names and the grantee fetches (chain-a's patients); others grant a category. */
  recordId?: string;
  fetch?: (recordId: string, consentId: string) => Promise<{ txId: string; via: 'exchange' | 'api' }>;
}

/** Hands out one packet slot every 1/rate s to whoever asks first. */
export class RateGate {
  private next = Date.now();
  constructor(private readonly perSecond: number) {}
  async take(): Promise<void> {
    const now = Date.now();
    const at = Math.max(now, this.next);
    this.next = at + 1000 / this.perSecond;
    if (at > now) await sleep(at - now);
  }
}

export interface LoadState {
  sends: Map<string, ClientSend[]>;
  revocations: RevocationObservation[];
  served: ServedRecord[];
  fetchFailures: number;
  /** Sends the client saw committed so far: the packets the load has surely put on the route. */
  packets: number;
  errors: Map<string, number>;
  /** The first message of each kind of client error, for the report. */
  firstMessages: Map<string, string>;
}

export function newLoadState(): LoadState {
  return { sends: new Map(), revocations: [], served: [], fetchFailures: 0, packets: 0, errors: new Map(), firstMessages: new Map() };
}

/** How a failed submit ends: `failed` when the chaincode or the commit said no, else `unknown` (it may have committed). */
function outcomeOf(e: unknown): { outcome: 'failed' | 'unknown' } {
  return { outcome: toClientError(e).kind === 'rejected' ? 'failed' : 'unknown' };
}

function record(state: LoadState, w: Worker, s: ClientSend): void {
  const list = state.sends.get(w.direction) ?? [];
  list.push(s);
  state.sends.set(w.direction, list);
  if (s.outcome === 'committed') state.packets += 1;
}

function noteError(state: LoadState, what: string, e: unknown): string {
  const err = toClientError(e);
  const k = `${what} ${err.code}`;
  state.errors.set(k, (state.errors.get(k) ?? 0) + 1);
  if (!state.firstMessages.has(k)) state.firstMessages.set(k, err.message.slice(0, 300));
  return err.code;
}

/** One worker's cycles until `done()` says stop. */
export async function runWorker(w: Worker, state: LoadState, gate: RateGate, done: () => boolean, defaultRoute: string): Promise<void> {
  const route = w.route ?? defaultRoute;
  while (!done()) {
    await gate.take();
    let consentId: string | undefined;
    let grantOutcome: ClientSend['outcome'];
    try {
      const res = await w.consents.grantAndShare(w.patient, w.patient.patientId, { grantee: w.grantee, ...(w.recordId ? { recordIds: [w.recordId] } : { categories: ['Observation'] }), purposes: ['TREAT'], days: 30 }, w.dest, route);
      consentId = res.consentId;
      grantOutcome = 'committed';
      record(state, w, { type: 'consent.grant', consentId, outcome: 'committed', txId: res.txId, sequence: res.result.sent.sequence });
    } catch (e) {
      const o = outcomeOf(e);
      noteError(state, 'grant', e);
      grantOutcome = o.outcome;
      record(state, w, { type: 'consent.grant', consentId: '?', outcome: o.outcome });
    }
    if (grantOutcome !== 'committed' || !consentId) continue;

    if (w.recordId && w.fetch) {
      try {
        const got = await w.fetch(w.recordId, consentId);
        state.served.push({ patientId: w.patient.patientId, recordId: w.recordId, txId: got.txId, via: got.via });
      } catch (e) {
        state.fetchFailures += 1;
        noteError(state, 'fetch', e);
      }
    }

    // Revoke (retried: the patient keeps asking until the chain says it is revoked).
    let revoked = false;
    for (let attempt = 0; attempt < 20 && !revoked; attempt++) {
      try {
        await w.consents.revoke(w.patient, w.patient.patientId, consentId);
        revoked = true;
      } catch (e) {
        const err = toClientError(e);
        noteError(state, 'revoke', e);
        if (err.kind === 'rejected') {
          // Already revoked by an attempt whose answer was lost?
          const status = await w.consents.getConsent(consentId).then((c) => c.status, () => undefined);
          if (status === 'revoked') revoked = true;
          else if (!/CONFLICT|MVCC/.test(err.code + err.message)) break;
        }
        if (!revoked) await sleep(500 * (attempt + 1));
      }
    }
    if (!revoked) continue;

    // Send the revocation until one send is committed.
    await gate.take();
    let sent = false;
    for (let attempt = 0; attempt < 30 && !sent; attempt++) {
      try {
        const res = await w.consents.share(consentId, w.dest, 'consent.revoke', route);
        record(state, w, { type: 'consent.revoke', consentId, outcome: 'committed', txId: res.txId, sequence: res.result.packet.sequence });
        sent = true;
      } catch (e) {
        const o = outcomeOf(e);
        noteError(state, 'send revoke', e);
        record(state, w, { type: 'consent.revoke', consentId, outcome: o.outcome });
        await sleep(500 * (attempt + 1));
      }
    }
    state.revocations.push({ consentId, source: w.consents.channel, dest: w.dest });
  }
}
