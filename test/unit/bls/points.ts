/**
 * Points that strict decoding must refuse, built at run time: on the curve (or its twist) but
 * outside the prime-order subgroup.
 */
import { bls12_381 } from '@noble/curves/bls12-381';

const { Fp, Fp2 } = bls12_381.fields;

export function be(n: bigint, len = 48): Uint8Array {
  return Uint8Array.from(Buffer.from(n.toString(16).padStart(len * 2, '0'), 'hex'));
}

/** A G1 point on the curve but, with overwhelming probability, outside the subgroup (cofactor not cleared). */
export function g1OffSubgroup(): Uint8Array {
  for (let x = 1n; ; x += 1n) {
    const y = (() => {
      try {
        return Fp.sqrt(Fp.add(Fp.pow(x, 3n), 4n));
      } catch {
        return undefined;
      }
    })();
    if (y === undefined) continue;
    const point = bls12_381.G1.Point.fromAffine({ x, y });
    if (point.isTorsionFree()) continue;
    const bytes = be(x);
    bytes[0] = (bytes[0] ?? 0) | 0x80;
    return bytes;
  }
}

export function g2OffSubgroup(): Uint8Array {
  for (let c0 = 1n; ; c0 += 1n) {
    const x = Fp2.fromBigTuple([c0, 1n]);
    const rhs = Fp2.add(Fp2.pow(x, 3n), Fp2.fromBigTuple([4n, 4n]));
    let y;
    try {
      y = Fp2.sqrt(rhs);
    } catch {
      continue;
    }
    if (!y || !Fp2.eql(Fp2.sqr(y), rhs)) continue;
    const point = bls12_381.G2.Point.fromAffine({ x, y });
    if (point.isTorsionFree()) continue;
    const bytes = new Uint8Array(96);
    bytes.set(be(1n), 0);
    bytes.set(be(c0), 48);
    bytes[0] = (bytes[0] ?? 0) | 0x80;
    return bytes;
  }
}

