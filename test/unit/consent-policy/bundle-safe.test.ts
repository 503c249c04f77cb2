/**
 * The FHIR import/export, the consent-language parser and the evaluator must bundle for a
 * browser (a patient app imports a Consent, shows what it signs, renders its audit log): the
 * modules they load, followed through every relative import, use no node API. Read from the
 * sources with the TypeScript scanner, as the protocol-imports structure test does.
 */
import { readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import * as ts from 'typescript';

const SRC = resolve(__dirname, '../../../chaincode/src');
const ENTRY_POINTS = ['protocol/fhir-consent.ts', 'protocol/fhir-audit-event.ts', 'protocol/fhir-datetime.ts', 'protocol/consent-policy/parse.ts', 'rules/consent-policy.ts'];
const NODE_GLOBALS = /\b(Buffer|process|require|__dirname|__filename|global|setImmediate)\b/;

function resolveImport(from: string, name: string): string {
  const base = resolve(dirname(from), name);
  for (const candidate of [`${base}.ts`, join(base, 'index.ts')]) {
    try {
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not this one
    }
  }
  throw new Error(`${relative(SRC, from)} imports ${name}, which does not resolve`);
}

/** Every source file reachable from the entry points, with the non-relative modules each imports. */
function closure(entries: string[]): Map<string, string[]> {
  const seen = new Map<string, string[]>();
  const queue = entries.map((e) => join(SRC, e));
  while (queue.length > 0) {
    const file = queue.pop() as string;
    if (seen.has(file)) continue;
    const imports = ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles.map((f) => f.fileName);
    seen.set(file, imports.filter((n) => !n.startsWith('.')));
    for (const n of imports.filter((x) => x.startsWith('.'))) queue.push(resolveImport(file, n));
  }
  return seen;
}

/** Source text without comments and string literals, so a word in a comment does not count. */
function code(file: string): string {
  const scanner = ts.createScanner(ts.ScriptTarget.ES2022, true, ts.LanguageVariant.Standard, readFileSync(file, 'utf8'));
  const out: string[] = [];
  for (let t = scanner.scan(); t !== ts.SyntaxKind.EndOfFileToken; t = scanner.scan()) {
    if (t === ts.SyntaxKind.StringLiteral || t === ts.SyntaxKind.NoSubstitutionTemplateLiteral) continue;
    out.push(scanner.getTokenText());
  }
  return out.join(' ');
}

describe('consent language and FHIR modules are bundle-safe', () => {
  const files = closure(ENTRY_POINTS);

  it('import no module outside the chaincode sources (no node:crypto, no Buffer polyfill)', () => {
    const external = [...files].flatMap(([f, mods]) => mods.map((m) => `${relative(SRC, f)} -> ${m}`));
    expect(files.size).toBeGreaterThanOrEqual(ENTRY_POINTS.length);
    expect(external).toEqual([]);
  });

  it('use no node global', () => {
    const uses = [...files.keys()].filter((f) => NODE_GLOBALS.test(code(f))).map((f) => relative(SRC, f));
    expect(uses).toEqual([]);
  });

  it('would notice one: canonical.ts hashes with node:crypto through canonical-json.ts', () => {
    const withCanonical = closure(['protocol/consent-policy/canonical.ts']);
    expect([...withCanonical.values()].flat()).toContain('node:crypto');
  });
});
