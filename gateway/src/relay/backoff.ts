/**
 * Retry policy of the relay: exponential backoff with jitter, capped; never gives up on
 * its own (the relay waits out unavailable peers and subgroups below threshold), but every
 * wait can be cut short by stopping the relay.
 */
import { ClientError, toClientError } from '../errors';

export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
  factor: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 250, maxMs: 15_000, factor: 2 };

/** Delay before attempt `attempt` (1-based): initial * factor^(attempt-1), capped, with ±20% jitter. */
export function backoffDelay(attempt: number, policy: BackoffPolicy = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  const raw = Math.min(policy.maxMs, policy.initialMs * policy.factor ** Math.max(0, attempt - 1));
  const jitter = 1 + (random() * 0.4 - 0.2);
  return Math.max(0, Math.round(Math.min(policy.maxMs, raw * jitter)));
}

/** What the relay makes of a failure. */
export interface Classified {
  /** Metric label and log reason. */
  reason: string;
  /** `done`: the outcome the relay wanted is already on the ledger (a duplicate). */
  action: 'done' | 'retry';
  error: ClientError;
}

/** Codes that mean "someone (perhaps this relay before a crash) already did this". */
const ALREADY_DONE = new Set(['PACKET_REPLAYED']);

export function classifyFailure(err: unknown): Classified {
  const e = toClientError(err);
  if (ALREADY_DONE.has(e.code)) return { reason: 'already-done', action: 'done', error: e };
  const reasons: Record<string, string> = {
    UNAVAILABLE: 'unavailable',
    TIMEOUT: 'unavailable',
    THRESHOLD_NOT_MET: 'below-threshold',
    ROUTE_PAUSED: 'route-paused',
    ROUTE_FROZEN: 'route-frozen',
    RATE_LIMITED: 'rate-limited',
    OUT_OF_ORDER: 'out-of-order',
    COMMIT_FAILED: 'commit-conflict',
  };
  return { reason: reasons[e.code] ?? `rejected:${e.code}`, action: 'retry', error: e };
}

/** Sleeps `ms`, or less if `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolveSleep) => {
    if (signal?.aborted) return resolveSleep();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolveSleep();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
