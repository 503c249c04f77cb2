/**
 * FHIR date and dateTime values <-> milliseconds since the epoch. A FHIR value stands for the
 * whole interval of its precision ("2015" is the year 2015), and a FHIR Period's end includes
 * every instant its value matches; medbridge periods are half-open [start, end) in ms. So a
 * start takes the first millisecond of its value, an end the first millisecond after it.
 * A date without a time has no time zone in FHIR; medbridge reads it in UTC.
 *
 * Pure and bundle-safe (no node APIs).
 */
import { fail } from '../errors';
import { PolicyLimits } from './consent-policy/vocabulary';

/** The interval [start, end) a FHIR date or dateTime value covers, in ms since the epoch. */
export interface FhirInstantRange {
  start: number;
  end: number;
}

// YYYY, YYYY-MM, YYYY-MM-DD, or YYYY-MM-DDThh:mm:ss[.fff](Z|+hh:mm|-hh:mm)
const DATE_TIME = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2}))?)?)?$/;

/**
 * Parses a FHIR date or dateTime. FHIR_CONSENT_INVALID for a malformed value,
 * FHIR_ELEMENT_UNSUPPORTED for a valid one medbridge cannot represent (before 1900, a leap
 * second, finer than a millisecond).
 *
 * @example parseFhirDateTime('2015-02', 'Consent.period.end') // { start: 1422748800000, end: 1425168000000 }
 */
export function parseFhirDateTime(v: unknown, what: string): FhirInstantRange {
  if (typeof v !== 'string') fail('FHIR_CONSENT_INVALID', `${what} must be a FHIR dateTime string`);
  const m = DATE_TIME.exec(v);
  if (m === null) fail('FHIR_CONSENT_INVALID', `${what} is not a FHIR date or dateTime: ${JSON.stringify(v.slice(0, 40))}`);
  const [, ys, mos, ds, hs, mis, ss, frac, tz] = m;
  const year = Number(ys);
  if (year < 1900) fail('FHIR_ELEMENT_UNSUPPORTED', `${what}: medbridge represents dates from the year 1900 on`);
  if (mos === undefined) return { start: Date.UTC(year, 0, 1), end: Date.UTC(year + 1, 0, 1) };
  const month = Number(mos);
  if (month < 1 || month > 12) fail('FHIR_CONSENT_INVALID', `${what} has no month ${mos}`);
  if (ds === undefined) return { start: Date.UTC(year, month - 1, 1), end: Date.UTC(year, month, 1) };
  const day = Number(ds);
  if (day < 1 || day > daysIn(year, month)) fail('FHIR_CONSENT_INVALID', `${what} has no day ${ds} in ${ys}-${mos}`);
  if (hs === undefined) return { start: Date.UTC(year, month - 1, day), end: Date.UTC(year, month - 1, day + 1) };
  const [hour, minute, second] = [Number(hs), Number(mis), Number(ss)];
  if (hour > 23 || minute > 59) fail('FHIR_CONSENT_INVALID', `${what} has no time ${hs}:${mis}`);
  if (second === 60) fail('FHIR_ELEMENT_UNSUPPORTED', `${what}: a leap second cannot be represented in milliseconds since the epoch`);
  if (second > 59) fail('FHIR_CONSENT_INVALID', `${what} has no second ${ss}`);
  if (frac !== undefined && frac.length > 3 && !/^0+$/.test(frac.slice(3))) {
    fail('FHIR_ELEMENT_UNSUPPORTED', `${what} is more precise than a millisecond`);
  }
  const digits = frac === undefined ? 0 : Math.min(frac.length, 3);
  const ms = frac === undefined ? 0 : Number(frac.slice(0, 3).padEnd(3, '0'));
  const offset = tzOffsetMs(tz as string, what);
  const start = Date.UTC(year, month - 1, day, hour, minute, second, ms) - offset;
  const end = start + 10 ** (3 - digits);
  if (start < PolicyLimits.minTime || end > PolicyLimits.maxTime) fail('FHIR_ELEMENT_UNSUPPORTED', `${what}: medbridge represents dates from the year 1900 to 9999`);
  return { start, end };
}

function tzOffsetMs(tz: string, what: string): number {
  if (tz === 'Z') return 0;
  const h = Number(tz.slice(1, 3));
  const mi = Number(tz.slice(4, 6));
  if (h > 14 || mi > 59 || (h === 14 && mi !== 0)) fail('FHIR_CONSENT_INVALID', `${what} has no time zone ${tz}`);
  return (tz.startsWith('-') ? -1 : 1) * (h * 60 + mi) * 60_000;
}

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** A FHIR instant (and dateTime) for a time in ms since the epoch, in UTC with milliseconds. */
export function formatFhirInstant(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * A FHIR Period {start?, end?} -> half-open ms period. The end's whole precision is
 * included (FHIR Period.end is inclusive), so `end: "2019-01-01"` ends at 2019-01-02T00:00Z.
 */
export function parseFhirPeriod(v: unknown, what: string): { start?: number; end?: number } {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail('FHIR_CONSENT_INVALID', `${what} must be a FHIR Period`);
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (k !== 'start' && k !== 'end' && k !== 'id') fail('FHIR_ELEMENT_UNSUPPORTED', `${what}.${k} is not supported in a Period`);
  }
  const out: { start?: number; end?: number } = {};
  if (o.start !== undefined) out.start = parseFhirDateTime(o.start, `${what}.start`).start;
  if (o.end !== undefined) out.end = parseFhirDateTime(o.end, `${what}.end`).end;
  if (out.start === undefined && out.end === undefined) fail('FHIR_CONSENT_INVALID', `${what} has neither start nor end`);
  if (out.start !== undefined && out.end !== undefined && out.start >= out.end) fail('FHIR_CONSENT_INVALID', `${what} ends before it starts`);
  return out;
}

/** A half-open ms period -> FHIR Period: the end written as the last millisecond included. */
export function formatFhirPeriod(p: { start?: number; end?: number }): { start?: string; end?: string } {
  const out: { start?: string; end?: string } = {};
  if (p.start !== undefined) out.start = formatFhirInstant(p.start);
  if (p.end !== undefined) out.end = formatFhirInstant(p.end - 1);
  return out;
}
