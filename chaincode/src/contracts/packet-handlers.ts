/**
 * The only code a received packet can reach: one handler per allowlisted packet type
 * (PROTOCOL.md "Dispatch"). A handler runs on a context whose writes are buffered and
 * applied only if it returns; if it throws, its writes are dropped and the packet is
 * answered with an error acknowledgement, so an ordered route never jams.
 */
import type { Context } from 'fabric-contract-api';
import type { ChaincodeStub } from 'fabric-shim';
import { MedbridgeError } from '../errors';
import type { Json } from '../protocol/canonical-json';
import type { Packet, PacketType } from '../protocol/packet';
import { applyConsentPacket } from './consent-bridge';

type Handler = (ctx: Context, sourceChain: string, packet: Packet) => Promise<Json>;

const handlers: Record<PacketType, Handler> = {
  ping: async (_ctx, _source, packet) => ({ pong: packet.payload }),
  'consent.grant': (ctx, source, packet) => applyConsentPacket(ctx, source, packet.type, packet.payload),
  'consent.revoke': (ctx, source, packet) => applyConsentPacket(ctx, source, packet.type, packet.payload),
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
    const result = await handler(buffered.ctx, sourceChain, packet);
    return { ok: true, result: result ?? null, flush: buffered.flush };
  } catch (e) {
    const text = e instanceof MedbridgeError ? e.message : `HANDLER_FAILED: ${e instanceof Error ? e.message : String(e)}`;
    return { ok: false, error: text.slice(0, 1000) };
  }
}
