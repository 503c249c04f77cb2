/**
 * Structured logs (pino, JSON lines on stderr so that stdout stays the command's output).
 * Logs carry ids (txId, packet route/sequence, recordId, consentId), never personal data:
 * record bytes, salts, keys and patient messages are redacted wherever they appear.
 */
import pino, { type Logger } from 'pino';
import type { LogLevel } from './config';

export type { Logger };

/** Field names whose values never reach a log line. */
export const REDACTED_FIELDS = ['content', 'record', 'salt', 'privateKey', 'signedMessage', 'payloadBytes', 'body'];

export function createLogger(opts: { name: string; level?: LogLevel; destination?: number | string }): Logger {
  return pino(
    {
      name: opts.name,
      level: opts.level ?? 'info',
      base: { pid: process.pid },
      redact: { paths: [...REDACTED_FIELDS, ...REDACTED_FIELDS.map((f) => `*.${f}`)], censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    pino.destination({ dest: opts.destination ?? 2, sync: true }),
  );
}

/** A logger that writes nothing (library use, tests). */
export const silentLogger: Logger = pino({ level: 'silent' });
