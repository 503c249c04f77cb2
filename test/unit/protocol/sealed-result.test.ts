/**
 * Sealed results (protocol/sealed-result.ts): what a private transaction returns is in its block,
 * so only the caller, who holds the salt it sent in the transient map, can read it.
 */
import { randomBytes } from 'node:crypto';
import { openSealedResult, sealResult } from '../../../chaincode/src/protocol/sealed-result';
import { expectCodeSync } from '../support/codes';

const TX = 'a'.repeat(64);
const OTHER_TX = 'b'.repeat(64);

describe('sealed results', () => {
  const salt = randomBytes(32);
  const result = '{"allowed":true,"recordId":"rec-1"}';

  it('opens with the salt and transaction it was sealed for', () => {
    expect(openSealedResult(salt, TX, sealResult(salt, TX, result))).toBe(result);
  });

  it('is deterministic: every endorser seals one result to the same bytes', () => {
    expect(sealResult(salt, TX, result)).toEqual(sealResult(Buffer.from(salt), TX, result));
  });

  it('shows nothing of the result in the clear, and differs per transaction under one salt', () => {
    const a = sealResult(salt, TX, result);
    expect(Buffer.from(a.sealed, 'base64').toString('latin1')).not.toContain('rec-1');
    expect(sealResult(salt, OTHER_TX, result).sealed).not.toBe(a.sealed);
  });

  it('refuses another salt, another transaction, a changed byte and a short salt', () => {
    const sealed = sealResult(salt, TX, result);
    expectCodeSync(() => openSealedResult(randomBytes(32), TX, sealed), 'INVALID_ARGUMENT');
    expectCodeSync(() => openSealedResult(salt, OTHER_TX, sealed), 'INVALID_ARGUMENT');
    const body = Buffer.from(sealed.sealed, 'base64');
    body[0] = (body[0] ?? 0) ^ 1;
    expectCodeSync(() => openSealedResult(salt, TX, { ...sealed, sealed: body.toString('base64') }), 'INVALID_ARGUMENT');
    expectCodeSync(() => openSealedResult(salt, TX, { ...sealed, v: 2 }), 'INVALID_ARGUMENT');
    expectCodeSync(() => sealResult(randomBytes(16), TX, result), 'INVALID_ARGUMENT');
  });
});
