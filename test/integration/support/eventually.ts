/**
 * Waits until `probe` passes, with a deadline. A submit's commit status comes from the peer
 * the client is connected to; another peer (or org) may commit the same block a moment
 * later, so a read through another connection right after a submit polls instead of assuming.
 */
export async function eventually<T>(probe: () => Promise<T>, what: string, deadlineMs = 15_000, everyMs = 100): Promise<T> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    try {
      return await probe();
    } catch (e) {
      if (Date.now() >= until) throw new Error(`${what}: still failing after ${deadlineMs} ms: ${(e as Error).message}`);
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
