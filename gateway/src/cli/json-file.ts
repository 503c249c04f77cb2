/**
 * Reading a JSON file named on the command line ('-' = stdin): a signed envelope, a FHIR
 * resource, an erasure request. One reader, one pair of error messages.
 */
import { readFileSync } from 'node:fs';
import { ClientError, usageError } from '../errors';

/** Parses `file` as JSON; an unreadable file is a usage error, text that is not JSON INVALID_ARGUMENT naming `what`. */
export function readJsonFile(file: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (e) {
    throw usageError(`cannot read ${file}: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ClientError('INVALID_ARGUMENT', 'rejected', `${file} is not JSON (expected ${what})`);
  }
}
