/** The signer bitmap has one encoding per signer set and never names a position beyond the list. */
import { decodeBitmap, encodeBitmap } from '../../../chaincode/src/protocol/bls';
import { expectCode } from './support';

describe('signer bitmap', () => {
  it('encodes position i as bit i mod 8 of byte i div 8, least significant bit first', () => {
    expect(Array.from(encodeBitmap([0, 2, 9], 10))).toEqual([0b0000_0101, 0b0000_0010]);
    expect(decodeBitmap(Uint8Array.from([0b0000_0101, 0b0000_0010]), 10)).toEqual([0, 2, 9]);
  });

  it('rejects an empty bitmap (no byte, or no bit set)', () => {
    expectCode(() => decodeBitmap(new Uint8Array(0), 4), 'BITMAP_INVALID');
    expectCode(() => decodeBitmap(new Uint8Array(1), 4), 'BITMAP_INVALID');
  });

  it('rejects a bitmap longer than the list', () => {
    expectCode(() => decodeBitmap(Uint8Array.from([1, 0]), 8), 'BITMAP_INVALID');
  });

  it('rejects a bitmap shorter than the list', () => {
    expectCode(() => decodeBitmap(Uint8Array.from([1]), 9), 'BITMAP_INVALID');
  });

  it('rejects a set bit beyond the last node in the final byte', () => {
    expectCode(() => decodeBitmap(Uint8Array.from([0b0001_0001]), 4), 'BITMAP_INVALID');
  });

  it('refuses to encode a position outside the list', () => {
    expectCode(() => encodeBitmap([4], 4), 'BITMAP_INVALID');
  });
});
