import { backoffDelay, classifyFailure, sleep } from '../../../gateway/src/relay/backoff';
import { percentile, summarize } from '../../../gateway/src/bench/stats';

describe('relay retry policy', () => {
  const policy = { initialMs: 100, maxMs: 1000, factor: 2 };

  it('doubles the wait per attempt and never exceeds the cap', () => {
    const mid = () => 0.5; // no jitter
    expect([1, 2, 3, 4, 5, 6].map((a) => backoffDelay(a, policy, mid))).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it('keeps jitter within 20% and under the cap', () => {
    expect(backoffDelay(1, policy, () => 0)).toBe(80);
    expect(backoffDelay(1, policy, () => 0.999)).toBe(120);
    expect(backoffDelay(10, policy, () => 0.999)).toBe(1000);
  });

  it('treats "already received" as done, not as a failure', () => {
    expect(classifyFailure(new Error('PACKET_REPLAYED: packet r/3 was already received'))).toMatchObject({ action: 'done', reason: 'already-done' });
  });

  it('waits (retries) while a subgroup is below threshold or a peer is unreachable', () => {
    expect(classifyFailure(new Error('THRESHOLD_NOT_MET: subgroup sg-HospitalCMSP has 0 of 1'))).toMatchObject({ action: 'retry', reason: 'below-threshold' });
    const unavailable = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:7051'), { code: 'ECONNREFUSED' });
    expect(classifyFailure(unavailable)).toMatchObject({ action: 'retry', reason: 'unavailable' });
  });

  it('labels any other rejection by its code and still retries (ordered delivery never skips)', () => {
    expect(classifyFailure(new Error('SIGNATURE_INVALID: bad'))).toMatchObject({ action: 'retry', reason: 'rejected:SIGNATURE_INVALID' });
  });

  it('stops sleeping as soon as the relay is stopped', async () => {
    const ac = new AbortController();
    // An hour-long wait that must end at once (otherwise the test runs into jest's timeout).
    const p = sleep(3_600_000, ac.signal);
    ac.abort();
    await expect(p).resolves.toBeUndefined();
  });
});

describe('benchmark percentiles', () => {
  it('uses nearest rank', () => {
    const v = Array.from({ length: 200 }, (_, i) => i + 1);
    expect(percentile(v, 50)).toBe(100);
    expect(percentile(v, 95)).toBe(190);
    expect(percentile(v, 99)).toBe(198);
  });

  it('summarizes unsorted samples', () => {
    expect(summarize([3, 1, 2])).toMatchObject({ n: 3, p50: 2, min: 1, max: 3, mean: 2 });
  });
});
