/**
 * Route rules (PROTOCOL.md "Routes"): a route must be open to carry traffic; frozen beats
 * paused; each direction has a rate limit counted per window of transaction time. The
 * route's state machine is here as pure transitions: governance opens a route and changes
 * it (update, pause, resume, unfreeze); conflicting evidence freezes it.
 *
 *   (none) --open--> open <--pause/resume--> paused
 *   open | paused --conflicting evidence--> frozen --unfreeze--> open
 */
import { type ErrorCode, fail } from '../errors';
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

export type RouteStatus = 'open' | 'paused' | 'frozen';

/** A route joins this chain and one remote chain; packets flow both ways, sequenced per direction. */
export interface RouteRecord {
  routeId: string;
  counterparty: string;
  status: RouteStatus;
  packetTypes: string[];
  rateLimit: RateLimit;
  /** Proof schemes accepted on this route (sorted); absent = every scheme registered for the counterparty. */
  schemes?: string[];
  /** Next sequence this chain assigns to a packet it sends. */
  nextSendSequence: number;
  /** Next sequence this chain accepts from the counterparty. */
  nextRecvSequence: number;
  sendWindow: RateWindow;
  recvWindow: RateWindow;
  frozenReason?: string;
  updatedAtMs: number;
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

/** A refusal as data: the code and message a contract fails with. */
export interface Refusal {
  code: ErrorCode;
  message: string;
}

/** The window after counting one packet at `atMs`, or the RATE_LIMITED refusal when the window is full. */
export function rateCheck(limit: RateLimit, window: RateWindow, atMs: number, what: string): { window: RateWindow } | { refusal: Refusal } {
  const start = atMs - (atMs % limit.windowMs);
  const count = window.start === start ? window.count : 0;
  if (count >= limit.maxPackets) {
    return {
      refusal: {
        code: 'RATE_LIMITED',
        message: `${what}: ${limit.maxPackets} packets per ${limit.windowMs} ms already used; next window starts at ${start + limit.windowMs}`,
      },
    };
  }
  return { window: { start, count: count + 1 } };
}

/** Counts one packet in the window containing `atMs`; RATE_LIMITED when the window is full. */
export function consumeRate(limit: RateLimit, window: RateWindow, atMs: number, what: string): RateWindow {
  const r = rateCheck(limit, window, atMs, what);
  if ('refusal' in r) fail(r.refusal.code, r.refusal.message);
  return r.window;
}

/** What governance's open-route action asks for. */
export interface RouteOpening {
  routeId: string;
  counterparty: string;
  packetTypes: string[];
  rateLimit: RateLimit;
  schemes?: string[];
}

/**
 * A new open route to a registered remote chain: ALREADY_EXISTS if `existing` is there,
 * UNKNOWN_CHAIN without the counterparty's registration (`remote`), UNSUPPORTED_SCHEME for a
 * proof scheme not registered for it. Sequences start at 1, rate windows empty.
 */
export function openRoute(
  opening: RouteOpening,
  existing: RouteRecord | undefined,
  remote: { schemes: readonly string[] } | undefined,
  nowMs: number,
): RouteRecord {
  if (existing) fail('ALREADY_EXISTS', `route ${opening.routeId} exists`);
  if (!remote) fail('UNKNOWN_CHAIN', `${opening.counterparty} is not a registered remote chain`);
  for (const s of opening.schemes ?? []) {
    if (!remote.schemes.includes(s)) fail('UNSUPPORTED_SCHEME', `proof scheme ${s} is not registered for ${opening.counterparty}`);
  }
  return {
    routeId: opening.routeId,
    counterparty: opening.counterparty,
    status: 'open',
    packetTypes: opening.packetTypes,
    rateLimit: opening.rateLimit,
    ...(opening.schemes === undefined ? {} : { schemes: opening.schemes }),
    nextSendSequence: 1,
    nextRecvSequence: 1,
    sendWindow: { start: 0, count: 0 },
    recvWindow: { start: 0, count: 0 },
    updatedAtMs: nowMs,
  };
}

/** What governance may change on an existing route. */
export type RouteChange =
  | { kind: 'update-route'; packetTypes: string[]; rateLimit: RateLimit }
  | { kind: 'pause-route' }
  | { kind: 'resume-route' }
  | { kind: 'unfreeze-route' };

/**
 * The route after a governance change: update keeps the status; pause needs open, resume
 * needs paused, unfreeze needs frozen (and clears the reason); otherwise ROUTE_NOT_OPEN.
 */
export function changeRoute(route: RouteRecord, change: RouteChange, nowMs: number): RouteRecord {
  let next: RouteRecord;
  if (change.kind === 'update-route') {
    next = { ...route, packetTypes: change.packetTypes, rateLimit: change.rateLimit };
  } else if (change.kind === 'pause-route') {
    if (route.status !== 'open') fail('ROUTE_NOT_OPEN', `route ${route.routeId} is ${route.status}, not open`);
    next = { ...route, status: 'paused' };
  } else if (change.kind === 'resume-route') {
    if (route.status !== 'paused') fail('ROUTE_NOT_OPEN', `route ${route.routeId} is ${route.status}, not paused`);
    next = { ...route, status: 'open' };
  } else {
    if (route.status !== 'frozen') fail('ROUTE_NOT_OPEN', `route ${route.routeId} is ${route.status}, not frozen`);
    const { frozenReason: _dropped, ...rest } = route;
    next = { ...rest, status: 'open' };
  }
  return { ...next, updatedAtMs: nowMs };
}

/** The route frozen for `reason` (conflicting evidence); only governance's unfreeze reopens it. */
export function freezeRoute(route: RouteRecord, reason: string, nowMs: number): RouteRecord {
  return { ...route, status: 'frozen', frozenReason: reason, updatedAtMs: nowMs };
}
