/**
 * Human output: aligned tables for lists and key/value tables for single objects. The
 * same value is printed as JSON with --json, so scripts and people see one object.
 */

export interface Column {
  /** Property name in the row object (dotted paths reach into nested objects). */
  key: string;
  /** Header text; defaults to the key. */
  header?: string;
  /** `time`: milliseconds since the epoch shown as ISO-8601 UTC. */
  as?: 'time' | 'text';
  /** Cut longer cells to this many characters (with an ellipsis). */
  max?: number;
}

/** One cell's text: strings as is, arrays joined, objects as compact JSON, times as ISO. */
export function cellText(value: unknown, as: Column['as'] = 'text'): string {
  if (value === undefined || value === null) return '';
  if (as === 'time' && typeof value === 'number' && Number.isFinite(value)) return new Date(value).toISOString();
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (Array.isArray(value)) return value.map((v) => cellText(v)).join(',');
  return JSON.stringify(value, jsonReplacer);
}

function pick(row: unknown, path: string): unknown {
  let v: unknown = row;
  for (const part of path.split('.')) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

function clip(text: string, max?: number): string {
  const oneLine = text.replace(/\s*\n\s*/g, ' ');
  if (max === undefined || oneLine.length <= max) return oneLine;
  return `${oneLine.slice(0, Math.max(1, max - 1))}…`;
}

/** Columns from the union of the rows' keys, in first-seen order. */
export function inferColumns(rows: readonly unknown[]): Column[] {
  const seen = new Set<string>();
  for (const r of rows) {
    if (r !== null && typeof r === 'object' && !Array.isArray(r)) for (const k of Object.keys(r)) seen.add(k);
  }
  return [...seen].map((key) => ({ key, max: 60 }));
}

/** Rows as an aligned table with a header line; an empty list says so. */
export function formatTable(rows: readonly unknown[], columns: Column[] = inferColumns(rows)): string {
  if (rows.length === 0) return '(none)';
  if (columns.length === 0) return rows.map((r) => cellText(r)).join('\n');
  const headers = columns.map((c) => (c.header ?? c.key).toUpperCase());
  const body = rows.map((r) => columns.map((c) => clip(cellText(pick(r, c.key), c.as), c.max)));
  const widths = headers.map((h, i) => Math.max(h.length, ...body.map((cells) => (cells[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...body.map(line)].join('\n');
}

/** A single object as `key  value` lines, nested objects flattened with dotted keys. */
export function formatObject(obj: Record<string, unknown>, timeKeys: readonly string[] = []): string {
  const rows: { field: string; value: string }[] = [];
  const walk = (prefix: string, v: unknown) => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length > 0) {
      for (const [k, child] of Object.entries(v)) walk(prefix ? `${prefix}.${k}` : k, child);
      return;
    }
    const last = prefix.split('.').pop() ?? prefix;
    rows.push({ field: prefix, value: cellText(v, timeKeys.includes(last) ? 'time' : 'text') });
  };
  walk('', obj);
  if (rows.length === 0) return '(empty)';
  const width = Math.max(...rows.map((r) => r.field.length));
  return rows.map((r) => `${r.field.padEnd(width)}  ${r.value}`.trimEnd()).join('\n');
}

/** JSON.stringify replacer: bigint as string, Uint8Array as base64. */
export function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  return value;
}

export function toJson(value: unknown): string {
  return JSON.stringify(value ?? null, jsonReplacer, 2);
}

/** Time-like keys shown as ISO dates in human output. */
export const TIME_KEYS = ['createdAt', 'updatedAt', 'txTimeMs', 'at', 'start', 'end', 'issuedAt', 'notAfter', 'expiresAt', 'revokedAt', 'openedAt', 'reviewedAt', 'timeoutAt', 'receivedAt', 'sentAt', 'time'];
