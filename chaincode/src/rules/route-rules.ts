/**
 * Route rules (PROTOCOL.md "Routes"): a route must be open to carry traffic; frozen beats
 * paused; each direction has a rate limit counted per window of transaction time.
 */
import { fail } from '../errors';
import { asObject, reqInt } from '../protocol/fields';

export interface RateLimit {
  /** Packets per window and direction; at least 1. */
  maxPackets: number;
  windowMs: number;
}

export interface RateWindow {
  /** Start of the current window (ms, a multiple of windowMs). */
  start: number;
  count: number;
}

export const MAX_WINDOW_MS = 30 * 86_400_000;

export function parseRateLimit(value: unknown): RateLimit {
  const C = 'INVALID_ARGUMENT' as const;
  const o = asObject(value, C, 'rateLimit', ['maxPackets', 'windowMs']);
  return { maxPackets: reqInt(o, 'maxPackets', C, 'rateLimit', 1, 1_000_000), windowMs: reqInt(o, 'windowMs', C, 'rateLimit', 1000, MAX_WINDOW_MS) };
}

export function requireRouteUsable(route: { routeId: string; status: string; frozenReason?: string }): void {
  if (route.status === 'frozen') fail('ROUTE_FROZEN', `route ${route.routeId} is frozen (${route.frozenReason ?? 'conflicting evidence'}); governance must unfreeze it`);
  if (route.status === 'paused') fail('ROUTE_PAUSED', `route ${route.routeId} is paused by governance`);
  if (route.status !== 'open') fail('ROUTE_NOT_OPEN', `route ${route.routeId} is not open`);
}

/** Counts one packet in the window containing `atMs`; RATE_LIMITED when the window is full. */
export function consumeRate(limit: RateLimit, window: RateWindow, atMs: number, what: string): RateWindow {
  const start = atMs - (atMs % limit.windowMs);
  const count = window.start === start ? window.count : 0;
  if (count >= limit.maxPackets) {
    fail('RATE_LIMITED', `${what}: ${limit.maxPackets} packets per ${limit.windowMs} ms already used; next window starts at ${start + limit.windowMs}`);
  }
  return { start, count: count + 1 };
}
