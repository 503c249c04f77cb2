/**
 * The only code a received packet can reach: one handler per allowlisted packet type
 * (PROTOCOL.md "Dispatch"). A handler runs on a context whose writes are buffered and
 * applied only if it returns; if it throws, its writes are dropped and the packet is
 * answered with an error acknowledgement, so an ordered route never jams.
 */
import type { Context } from 'fabric-contract-api';
import type { ChaincodeStub } from 'fabric-shim';
import { MedbridgeError } from '../errors';
import { canonicalBytes, type Json } from '../protocol/canonical-json';
import { Limits } from '../protocol/limits';
import type { Acknowledgement, Packet, PacketType } from '../protocol/packet';
import { markSharesReads } from '../state/store';
import { applyConsentPacket, recordSealedArrival } from './consent-bridge';

/**
 * The largest handler result whose success acknowledgement still fits the acknowledgement
 * limit (Limits.maxPacketBytes, which the source's AcknowledgePacket enforces), whatever the
 * route, chain and node ids and however many packet signers the acknowledgement names: the
 * limit minus the canonical size of the largest acknowledgement around a `null` result.
 *
 * Why: every sent packet must reach a terminal state. A handler whose result is larger (a
 * ping echoing a payload near the packet limit) is answered with an error acknowledgement
 * instead (`PROOF_TOO_LARGE`, its writes dropped), which always fits; an acknowledgement the
 * source could not accept would leave the packet, and its fee, pending forever, since the
 * destination's receipt closes the timeout path (PROTOCOL.md "Threat model: submitters,
 * members and value").
 */
export const MAX_HANDLER_RESULT_BYTES: number = (() => {
  const id = 'x'.repeat(Limits.maxIdChars);
  const largest: Acknowledgement = {
    sourceChain: id,
    destChain: id,
    routeId: id,
    sequence: Number.MAX_SAFE_INTEGER,
    packetHash: 'f'.repeat(64),
    outcome: 'success',
    result: null,
    packetSigners: Array.from({ length: Limits.maxSigners }, (_, i) => `${i.toString().padStart(3, '0')}${'x'.repeat(Limits.maxIdChars - 3)}`),
  };
  return Limits.maxPacketBytes - (canonicalBytes(largest).length - 'null'.length);
})();

/** Bound on the error text of an error acknowledgement (characters). */
const MAX_ERROR_CHARS = 1000;

type Handler = (ctx: Context, sourceChain: string, packet: Packet) => Promise<Json>;

const handlers: Record<PacketType, Handler> = {
  ping: async (_ctx, _source, packet) => ({ pong: packet.payload }),
  'consent.grant': (ctx, source, packet) => applyConsentPacket(ctx, source, packet.type, packet.payload),
  'consent.revoke': (ctx, source, packet) => applyConsentPacket(ctx, source, packet.type, packet.payload),
  'consent.sealed': (ctx, source, packet) => recordSealedArrival(ctx, source, packet),
};

export type HandlerOutcome = { ok: true; result: Json; flush: () => Promise<void> } | { ok: false; error: string };

const WRITES = new Set(['putState', 'deleteState', 'putPrivateData', 'deletePrivateData', 'setStateValidationParameter']);

/** A view of the context whose state writes are recorded instead of applied. */
function bufferedContext(ctx: Context): { ctx: Context; flush: () => Promise<void> } {
  const ops: Array<() => Promise<unknown>> = [];
  const stub = ctx.stub;
  const proxy = new Proxy(stub, {
    get(target, prop) {
      if (typeof prop === 'string' && WRITES.has(prop)) {
        return async (...args: unknown[]) => {
          ops.push(() => (target as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[prop]!(...args));
        };
      }
      // Only one event per transaction survives; the cross-chain contract sets it.
      if (prop === 'setEvent') return () => undefined;
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  }) as ChaincodeStub;
  // Its reads are the stub's (only writes are held back), so it shares the reads the transaction remembers.
  markSharesReads(proxy, stub);
  const view = Object.create(ctx) as Context;
  Object.defineProperty(view, 'stub', { value: proxy, enumerable: true });
  return {
    ctx: view,
    flush: async () => {
      for (const op of ops) await op();
    },
  };
}

export async function dispatchPacket(ctx: Context, sourceChain: string, packet: Packet): Promise<HandlerOutcome> {
  const handler = handlers[packet.type];
  const buffered = bufferedContext(ctx);
  try {
    const result = (await handler(buffered.ctx, sourceChain, packet)) ?? null;
    const size = canonicalBytes(result).length;
    if (size > MAX_HANDLER_RESULT_BYTES) {
      return {
        ok: false,
        error: `PROOF_TOO_LARGE: the ${packet.type} handler's result is ${size} bytes; an acknowledgement carries at most ${MAX_HANDLER_RESULT_BYTES}, so the packet is answered with this error and changes nothing`,
      };
    }
    return { ok: true, result, flush: buffered.flush };
  } catch (e) {
    const text = e instanceof MedbridgeError ? e.message : `HANDLER_FAILED: ${e instanceof Error ? e.message : String(e)}`;
    return { ok: false, error: text.slice(0, MAX_ERROR_CHARS) };
  }
}
