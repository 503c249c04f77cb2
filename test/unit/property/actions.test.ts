/**
 * Properties of the parsers of governance and value actions (JSON an org admin submits):
 * no crash on any input, refusal with the parser's own codes, and a valid action accepted.
 */
import fc from 'fast-check';
import { parseAction } from '../../../chaincode/src/rules/governance-actions';
import { DEFAULT_PARAMS } from '../../../chaincode/src/rules/parameter-safety';
import { parseValueAction } from '../../../chaincode/src/rules/value-actions';
import { anyJson, mutations, outcomeOf, RUNS } from './arbitraries';

const routeAction = { kind: 'open-route', routeId: 'route-1', counterparty: 'chain-b', packetTypes: ['ping'], rateLimit: { maxPackets: 10, windowMs: 60_000 } };
const valueActions: Record<string, unknown>[] = [
  { kind: 'mint', to: 'org:HospitalAMSP', amount: 100, memo: 'seed' },
  { kind: 'treasury-transfer', to: 'node:peer0.a', amount: 5, memo: 't' },
  { kind: 'set-params', params: DEFAULT_PARAMS, memo: 'p' },
];

describe('governance and value actions', () => {
  it('accepts the well-formed actions', () => {
    expect(outcomeOf(() => parseAction(routeAction)).ok).toBe(true);
    for (const a of valueActions) expect(outcomeOf(() => parseValueAction(a)).ok).toBe(true);
  });

  it('never crashes on arbitrary input and refuses it with the parsers\' own codes', () => {
    fc.assert(
      fc.property(anyJson, (v) => {
        const g = outcomeOf(() => parseAction(v));
        if (!g.ok) expect(['INVALID_ARGUMENT', 'INVALID_NODE_LIST', 'PACKET_TYPE_NOT_ALLOWED', 'UNKNOWN_ROOT']).toContain(g.code);
        const va = outcomeOf(() => parseValueAction(v));
        if (!va.ok) expect(['INVALID_ARGUMENT', 'PARAMETERS_UNSAFE']).toContain(va.code);
      }),
      RUNS,
    );
  });

  it('refuses an action with a field removed or an unknown field added (INVALID_ARGUMENT)', () => {
    const cases: Array<{ base: Record<string, unknown>; parse: (v: unknown) => unknown }> = [
      { base: routeAction, parse: parseAction },
      ...valueActions.map((base) => ({ base, parse: parseValueAction })),
    ];
    fc.assert(
      fc.property(
        fc.constantFrom(...cases).chain(({ base, parse }) => mutations(base).filter((m) => m.kind !== 'replace').map((m) => ({ m, parse }))),
        ({ m, parse }) => {
          expect(outcomeOf(() => parse(m.value))).toEqual({ ok: false, code: 'INVALID_ARGUMENT' });
        },
      ),
      RUNS,
    );
  });
});
