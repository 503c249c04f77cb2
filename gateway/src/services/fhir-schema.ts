/**
 * The official FHIR R5 JSON schema, as a check of the FHIR medbridge writes (R5 Consent,
 * AuditEvent Bundle) and of the R5 Consents it imports (chaincode/CONSENT.md, "FHIR JSON
 * schema"). The schema is `openapi/fhir.schema.json` of HL7's FHIR core package
 * `hl7.fhir.r5.core` 5.0.0 (a development dependency of the repository), JSON Schema draft-06,
 * compiled once per process with ajv on first use (a few seconds: it holds every R5 resource).
 *
 * What the schema checks: element names (no unknown element), single value or array, the
 * lexical form of primitives (id, uri, code, dateTime, instant...), choice types, and the
 * complex elements a resource requires. What it does not: code values and value sets
 * (`decision: "perm"` passes), invariants, profiles; the importer's own checks cover what
 * medbridge enforces.
 *
 * Not bundle-safe (reads the package from disk): gateway and tests only, never chaincode.
 *
 * @example
 *   const { valid, errors } = validateFhirResource(exportFhirConsent(policy));
 *   if (!valid) console.error(formatFhirSchemaErrors(errors)); // 'Consent.provision[0].class: not an element of ...'
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import draft06 from 'ajv/dist/refs/json-schema-draft-06.json';

/** The package, version and file the schema is read from. */
export const FHIR_R5_SCHEMA = {
  package: 'hl7.fhir.r5.core',
  version: '5.0.0',
  /** The package's own canonical and url (its package.json), checked when it is loaded. */
  canonical: 'http://hl7.org/fhir',
  url: 'http://hl7.org/fhir/R5/',
  file: 'openapi/fhir.schema.json',
  /** The schema's own id (its `id`, a draft-04 spelling of draft-06's `$id`). */
  id: 'http://hl7.org/fhir/json-schema/5.0',
} as const;

/** One schema violation. */
export interface FhirSchemaError {
  /** Where, as a FHIR element path from the resource type: `Consent.provision[0].actor[1].reference`. */
  path: string;
  /** The same place as a JSON pointer into the resource: `/provision/0/actor/1/reference`. */
  pointer: string;
  /** What is wrong there. */
  message: string;
}

export interface FhirSchemaResult {
  valid: boolean;
  errors: FhirSchemaError[];
}

interface Compiled {
  ajv: Ajv;
  resourceTypes: ReadonlySet<string>;
  /** Definition schema -> its name (`dateTime`), to name the type of a pattern error. */
  definitions: ReadonlyMap<unknown, string>;
}

let compiled: Compiled | undefined;

/** Where the package is installed, or undefined when it is not (an install without dev dependencies). */
function packageDir(): string | undefined {
  try {
    return dirname(require.resolve(`${FHIR_R5_SCHEMA.package}/package.json`));
  } catch {
    return undefined;
  }
}

/** Whether the schema package is installed here. */
export function fhirSchemaAvailable(): boolean {
  return packageDir() !== undefined;
}

function load(): Compiled {
  if (compiled !== undefined) return compiled;
  const dir = packageDir();
  if (dir === undefined) throw new Error(`${FHIR_R5_SCHEMA.package} ${FHIR_R5_SCHEMA.version} is not installed: run npm ci (it is a development dependency)`);
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Record<string, unknown>;
  for (const k of ['version', 'canonical', 'url'] as const) {
    if (pkg[k] !== FHIR_R5_SCHEMA[k]) throw new Error(`${FHIR_R5_SCHEMA.package}: package.json ${k} is ${JSON.stringify(pkg[k])}, expected ${JSON.stringify(FHIR_R5_SCHEMA[k])}`);
  }
  const { id, ...schema } = JSON.parse(readFileSync(join(dir, FHIR_R5_SCHEMA.file), 'utf8')) as Record<string, unknown> & {
    discriminator: { mapping: Record<string, string> };
    definitions: Record<string, unknown>;
  };
  if (id !== FHIR_R5_SCHEMA.id || schema.$schema !== 'http://json-schema.org/draft-06/schema#') {
    throw new Error(`${FHIR_R5_SCHEMA.file} is not the FHIR R5 draft-06 schema (id ${JSON.stringify(id)}, $schema ${JSON.stringify(schema.$schema)})`);
  }
  // Read as HL7 wrote it, with three adaptations to ajv, none of which changes what is valid:
  // - the root `id` is draft-04's name of draft-06's `$id` (ajv 8 knows only `$id`);
  // - strict mode off: `discriminator` is an OpenAPI keyword, not JSON Schema (ajv ignores it;
  //   the root oneOf over every resource decides, as the schema says), and the boolean and
  //   number types carry a `pattern`, which JSON Schema applies to strings only;
  // - patterns are ECMAScript regular expressions without the `u` flag: the decimal pattern
  //   carries a stray `}` that only non-unicode mode reads (as a literal).
  // verbose: errors carry their schema, so a pattern error can name its FHIR type. Inlined refs
  // and code optimisation off: the schema compiles in about a third of the time.
  const ajv = new Ajv({ allErrors: true, strict: false, verbose: true, unicodeRegExp: false, inlineRefs: false, code: { optimize: false } });
  ajv.addMetaSchema(draft06);
  ajv.addSchema({ ...schema, $id: id });
  const definitions = new Map<unknown, string>(Object.entries(schema.definitions).map(([name, d]) => [d, name]));
  compiled = { ajv, resourceTypes: new Set(Object.keys(schema.discriminator.mapping)), definitions };
  return compiled;
}

function validatorFor(c: Compiled, resourceType: string): ValidateFunction {
  const v = c.ajv.getSchema(`${FHIR_R5_SCHEMA.id}#/definitions/${resourceType}`);
  if (v === undefined) throw new Error(`the FHIR R5 schema has no definition ${resourceType}`);
  return v;
}

/**
 * Validates a FHIR resource (any R5 resource type; medbridge writes Consent and Bundles of
 * AuditEvent) against the R5 schema, by the definition its resourceType names. The errors
 * carry their element path; where a resource sits inside another (Bundle.entry.resource,
 * contained), its errors are those of its own definition, not one per resource type the
 * schema's `oneOf` tried.
 *
 * @example validateFhirResource({ resourceType: 'Consent', status: 'active', decision: 'permit', provision: {} })
 *   // { valid: false, errors: [{ path: 'Consent.provision', pointer: '/provision', message: 'must be an array' }] }
 */
export function validateFhirResource(resource: unknown): FhirSchemaResult {
  const errors = validateAt(load(), resource, '');
  const root = typeOf(resource) ?? 'Resource';
  return { valid: errors.length === 0, errors: errors.map((e) => ({ path: fhirPath(root, e.pointer), pointer: e.pointer, message: e.message })) };
}

/** The errors as one line: `path: message; path: message`. */
export function formatFhirSchemaErrors(errors: readonly FhirSchemaError[]): string {
  return errors.map((e) => `${e.path}: ${e.message}`).join('; ');
}

type Located = Omit<FhirSchemaError, 'path'>;

function typeOf(v: unknown): string | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  const t = (v as Record<string, unknown>).resourceType;
  return typeof t === 'string' ? t : undefined;
}

function validateAt(c: Compiled, resource: unknown, at: string): Located[] {
  const type = typeOf(resource);
  if (type === undefined) return [{ pointer: at, message: 'is not a FHIR resource (a JSON object with a resourceType)' }];
  if (!c.resourceTypes.has(type)) return [{ pointer: at, message: `resourceType ${JSON.stringify(type)} is not an R5 resource type` }];
  const validate = validatorFor(c, type);
  if (validate(resource)) return [];
  let raw = validate.errors ?? [];
  const out: Located[] = [];
  // A resource inside a resource is checked against every resource type by the schema's oneOf:
  // report what its own definition says instead (outermost first; its inner ones go with it).
  const nested = raw.filter((e) => e.keyword === 'oneOf').sort((a, b) => a.instancePath.length - b.instancePath.length);
  for (const n of nested) {
    if (!raw.includes(n)) continue;
    const value = valueAt(resource, n.instancePath);
    if (typeOf(value) === undefined) continue;
    const p = n.instancePath;
    raw = raw.filter((e) => e.instancePath !== p && !e.instancePath.startsWith(`${p}/`));
    out.push(...validateAt(c, value, at + p));
  }
  out.push(...raw.filter((e) => e.keyword !== 'oneOf' || typeOf(valueAt(resource, e.instancePath)) === undefined).map((e) => located(c, e, at)));
  return dedupe(out).sort((a, b) => comparePointers(a.pointer, b.pointer));
}

/** Pointer order with array indexes compared as numbers: /a/2 before /a/10. */
function comparePointers(a: string, b: string): number {
  const x = a.split('/');
  const y = b.split('/');
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const [p, q] = [x[i] as string, y[i] as string];
    if (p === q) continue;
    if (/^\d+$/.test(p) && /^\d+$/.test(q)) return Number(p) - Number(q);
    return p < q ? -1 : 1;
  }
  return x.length - y.length;
}

function located(c: Compiled, e: ErrorObject, at: string): Located {
  const pointer = at + e.instancePath;
  const params = e.params as Record<string, unknown>;
  if (e.keyword === 'additionalProperties') return { pointer: `${pointer}/${String(params.additionalProperty)}`, message: 'is not an element here in FHIR R5' };
  if (e.keyword === 'required') return { pointer: `${pointer}/${String(params.missingProperty)}`, message: 'is required' };
  const type = e.keyword === 'pattern' ? c.definitions.get(e.parentSchema) : undefined;
  if (type !== undefined) return { pointer, message: `is not a valid FHIR ${type}` };
  return { pointer, message: e.message ?? e.keyword };
}

function dedupe(errors: Located[]): Located[] {
  const seen = new Set<string>();
  return errors.filter((e) => {
    const k = `${e.pointer}\n${e.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

function valueAt(v: unknown, pointer: string): unknown {
  let cur = v;
  for (const raw of pointer.split('/').slice(1)) {
    const k = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = Array.isArray(cur) ? (cur as unknown[])[Number(k)] : (cur as Record<string, unknown>)[k];
  }
  return cur;
}

/** `/provision/0/actor` under Consent -> `Consent.provision[0].actor`. */
function fhirPath(root: string, pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((raw) => raw.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((path, k) => (/^\d+$/.test(k) ? `${path}[${k}]` : `${path}.${k}`), root);
}
