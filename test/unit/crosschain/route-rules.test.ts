/**
 * rules/route-rules.ts: the route state machine (open, update, pause, resume, freeze,
 * unfreeze), usability, and the per-window rate limit (PROTOCOL.md "Route").
 */
import {
  changeRoute,
  consumeRate,
  freezeRoute,
  openRoute,
  rateCheck,
  requireRouteUsable,
  type RouteRecord,
} from '../../../chaincode/src/rules/route-rules';
import { expectCodeSync } from '../support/codes';

const NOW = 1_800_000_000_000;
const opening = { routeId: 'route-ab', counterparty: 'chain-a', packetTypes: ['ping'], rateLimit: { maxPackets: 10, windowMs: 60_000 } };
const remote = { schemes: ['fabric-endorsement', 'bls-threshold'] };
const open = (over: Partial<RouteRecord> = {}): RouteRecord => ({ ...openRoute(opening, undefined, remote, NOW - 1000), ...over });

describe('openRoute', () => {
  it('opens a route with both sequences at 1 and empty rate windows', () => {
    expect(openRoute(opening, undefined, remote, NOW)).toEqual({
      ...opening,
      status: 'open',
      nextSendSequence: 1,
      nextRecvSequence: 1,
      sendWindow: { start: 0, count: 0 },
      recvWindow: { start: 0, count: 0 },
      updatedAtMs: NOW,
    });
  });

  it('keeps the proof schemes a route names, and names none when it names none', () => {
    expect(openRoute({ ...opening, schemes: ['bls-threshold'] }, undefined, remote, NOW).schemes).toEqual(['bls-threshold']);
    expect('schemes' in openRoute(opening, undefined, remote, NOW)).toBe(false);
  });

  it('refuses an existing route id (ALREADY_EXISTS), an unregistered counterparty (UNKNOWN_CHAIN), an unregistered scheme (UNSUPPORTED_SCHEME)', () => {
    expectCodeSync(() => openRoute(opening, open(), remote, NOW), 'ALREADY_EXISTS');
    expectCodeSync(() => openRoute(opening, undefined, undefined, NOW), 'UNKNOWN_CHAIN');
    expectCodeSync(() => openRoute({ ...opening, schemes: ['other'] }, undefined, remote, NOW), 'UNSUPPORTED_SCHEME');
  });
});

describe('changeRoute', () => {
  it('pauses an open route and resumes a paused one', () => {
    const paused = changeRoute(open(), { kind: 'pause-route' }, NOW);
    expect(paused).toEqual({ ...open(), status: 'paused', updatedAtMs: NOW });
    expect(changeRoute(paused, { kind: 'resume-route' }, NOW + 1)).toEqual({ ...open(), status: 'open', updatedAtMs: NOW + 1 });
  });

  it('unfreezes a frozen route and drops its reason', () => {
    const frozen = freezeRoute(open(), 'conflicting packet evidence', NOW);
    const reopened = changeRoute(frozen, { kind: 'unfreeze-route' }, NOW + 1);
    expect(reopened).toEqual({ ...open(), status: 'open', updatedAtMs: NOW + 1 });
    expect('frozenReason' in reopened).toBe(false);
  });

  it('updates packet types and rate limit whatever the status, keeping it', () => {
    const change = { kind: 'update-route' as const, packetTypes: ['consent.grant', 'ping'], rateLimit: { maxPackets: 1, windowMs: 1000 } };
    const paused = open({ status: 'paused' });
    expect(changeRoute(paused, change, NOW)).toEqual({ ...paused, packetTypes: change.packetTypes, rateLimit: change.rateLimit, updatedAtMs: NOW });
  });

  it('refuses a transition from the wrong status with ROUTE_NOT_OPEN', () => {
    expectCodeSync(() => changeRoute(open({ status: 'paused' }), { kind: 'pause-route' }, NOW), 'ROUTE_NOT_OPEN');
    expectCodeSync(() => changeRoute(open(), { kind: 'resume-route' }, NOW), 'ROUTE_NOT_OPEN');
    expectCodeSync(() => changeRoute(open(), { kind: 'unfreeze-route' }, NOW), 'ROUTE_NOT_OPEN');
    expectCodeSync(() => changeRoute(open({ status: 'frozen' }), { kind: 'pause-route' }, NOW), 'ROUTE_NOT_OPEN');
  });
});

describe('requireRouteUsable', () => {
  it('lets an open route carry traffic; frozen beats paused', () => {
    expect(() => requireRouteUsable(open())).not.toThrow();
    expectCodeSync(() => requireRouteUsable(freezeRoute(open({ status: 'paused' }), 'r', NOW)), 'ROUTE_FROZEN');
    expectCodeSync(() => requireRouteUsable(open({ status: 'paused' })), 'ROUTE_PAUSED');
  });
});

describe('rate limit', () => {
  const limit = { maxPackets: 2, windowMs: 60_000 };
  const start = NOW - (NOW % 60_000);

  it('counts packets in the window containing the transaction time and refuses past the limit', () => {
    const one = consumeRate(limit, { start: 0, count: 0 }, NOW, 'route-ab (send)');
    const two = consumeRate(limit, one, NOW + 1, 'route-ab (send)');
    expect([one, two]).toEqual([
      { start, count: 1 },
      { start, count: 2 },
    ]);
    expectCodeSync(() => consumeRate(limit, two, NOW + 2, 'route-ab (send)'), 'RATE_LIMITED');
    expect(rateCheck(limit, two, NOW + 2, 'route-ab (send)')).toEqual({
      refusal: { code: 'RATE_LIMITED', message: `route-ab (send): 2 packets per 60000 ms already used; next window starts at ${start + 60_000}` },
    });
  });

  it('starts counting again in the next window', () => {
    expect(rateCheck(limit, { start, count: 2 }, start + 60_000, 'x')).toEqual({ window: { start: start + 60_000, count: 1 } });
  });
});
