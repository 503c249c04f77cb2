/**
 * Polling with a deadline, the one way the integration suites wait for something that happens
 * elsewhere (another peer committing a block, a relay moving a packet, a node coming back):
 * never a fixed sleep.
 */

/** What `waitFor` is given: a value other than `undefined`/`false` ends the wait. */
export type Probe<T> = () => Promise<T | undefined | false> | T | undefined | false;

/**
 * Calls `probe` until it returns a value other than `undefined` or `false` and returns that
 * value. A probe that throws (an `expect` that does not hold yet, a peer that is not up yet)
 * counts as "not yet". After `deadlineMs` the wait fails with `what` and the last error.
 * The pause between calls starts at `everyMs` and doubles up to one second.
 *
 * @example
 * await waitFor('chain-b knows chain-a', async () => (await remoteChainOf(b, 'chain-a')) ?? undefined, 15_000);
 * await waitFor('route open on chain-a', async () => { expect((await a.cc.crossChain.getRoute(id)).status).toBe('open'); return true; }, 15_000);
 */
export async function waitFor<T>(what: string, probe: Probe<T>, deadlineMs: number, everyMs = 100): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  let last = 'the condition did not hold';
  for (let pause = everyMs; ; pause = Math.min(1000, pause * 2)) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
      last = 'the condition did not hold';
    } catch (e) {
      last = (e as Error).message;
    }
    if (Date.now() >= deadline) throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}: ${last}`);
    await new Promise((r) => setTimeout(r, pause));
  }
}
