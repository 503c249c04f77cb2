/**
 * Shared generators and checks for the property suites: canonical-JSON values (the values
 * the protocol can encode), arbitrary untrusted input (any JSON, including what canonical
 * JSON refuses), and `outcomeOf`, which turns a parser call into accepted / refused-with-code
 * and fails on anything else (a crash: an error that is not one of the project's typed errors).
 */
import fc from 'fast-check';
import { MedbridgeError } from '../../../chaincode/src/errors';
import type { Json } from '../../../chaincode/src/protocol/canonical-json';

export type Outcome<T> = { ok: true; value: T } | { ok: false; code: string };

/** Runs `fn`; a thrown error must be a MedbridgeError (or a `typed` one, e.g. the gateway's ClientError). */
export function outcomeOf<T>(fn: () => T, typed: (e: unknown) => e is { code: string } = isMedbridgeError): Outcome<T> {
  try {
    return { ok: true, value: fn() };
  } catch (e) {
    if (!typed(e)) throw new Error(`crashed with an untyped error: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
    return { ok: false, code: e.code };
  }
}

export function isMedbridgeError(e: unknown): e is MedbridgeError {
  return e instanceof MedbridgeError;
}

/** Values canonical JSON encodes: null, booleans, safe integers, strings, arrays, objects. */
export const canonicalValue: fc.Arbitrary<Json> = fc.letrec<{ value: Json }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.maxSafeInteger(),
    fc.string({ unit: 'binary' }),
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(fc.string({ unit: 'binary', maxLength: 8 }), tie('value'), { maxKeys: 5 }),
  ),
})).value;

/** Any JSON value, floats and unsafe integers included (what an attacker can send). */
export const anyJson: fc.Arbitrary<unknown> = fc.jsonValue({ maxDepth: 4 });

/** A value with one field of an object replaced, removed, or an unknown field added. */
export function mutations(base: Record<string, unknown>): fc.Arbitrary<{ kind: 'remove' | 'replace' | 'add'; field: string; value: Record<string, unknown> }> {
  const fields = Object.keys(base);
  return fc.oneof(
    fc.constantFrom(...fields).map((field) => {
      const value = { ...base };
      delete value[field];
      return { kind: 'remove' as const, field, value };
    }),
    fc.tuple(fc.constantFrom(...fields), anyJson).filter(([f, v]) => JSON.stringify(v) !== JSON.stringify(base[f])).map(([field, v]) => ({ kind: 'replace' as const, field, value: { ...base, [field]: v } })),
    fc.tuple(fc.string({ minLength: 1, maxLength: 12 }).filter((k) => !fields.includes(k) && k !== '__proto__'), anyJson).map(([field, v]) => ({ kind: 'add' as const, field, value: { ...base, [field]: v } })),
  );
}

/** Property runs per assertion: enough to find shallow parser bugs, quick on two cores. */
export const RUNS = { numRuns: 300 } as const;
