import { describe, expect, it } from 'vitest';
import {
  generatePaillierKeyPair, isProbablePrime, modPow, paillierAdd, paillierDecrypt, paillierEncrypt, paillierEncryptAsKeyHolder,
  paillierPackRow, paillierRerandomise, paillierUnpack,
} from './paillier.ts';

describe('Paillier baseline', () => {
  const kp = generatePaillierKeyPair(1024);
  const pk = kp.publicKey;

  it('modular exponentiation and primality agree with known values', () => {
    expect(modPow(3n, 200n, 1_000_000_007n)).toBe(3n ** 200n % 1_000_000_007n);
    expect(isProbablePrime(2n ** 127n - 1n)).toBe(true);
    expect(isProbablePrime(2n ** 128n + 1n)).toBe(false);
    expect(pk.n.toString(2).length).toBe(1024);
  });

  it('both encryptions decrypt, add homomorphically, and are randomised', () => {
    const a = paillierEncrypt(pk, 41n);
    const b = paillierEncryptAsKeyHolder(kp, 1n);
    expect(paillierDecrypt(kp, a)).toBe(41n);
    expect(paillierDecrypt(kp, b)).toBe(1n);
    expect(paillierDecrypt(kp, paillierAdd(pk, a, b))).toBe(42n);
    expect(paillierEncryptAsKeyHolder(kp, 1n)).not.toBe(b);
    const r = paillierRerandomise(pk, a);
    expect(r).not.toBe(a);
    expect(paillierDecrypt(kp, r)).toBe(41n);
  });

  it('the packed grouped intersection-sum gives the plain per-group totals', () => {
    const packing = { groups: 8, countBits: 8, sumBits: 24 };
    const rows = Array.from({ length: 60 }, (_, i) => ({ g: (i * 5) % 8, v: BigInt(i * 1000 + 7), match: i % 3 !== 0 }));
    let acc = paillierEncrypt(pk, 0n);
    for (const r of rows) {
      const c = paillierEncryptAsKeyHolder(kp, paillierPackRow(packing, r.g, r.v));
      if (r.match) acc = paillierAdd(pk, acc, c);
    }
    const totals = paillierUnpack(packing, paillierDecrypt(kp, paillierRerandomise(pk, acc)));
    const expected = Array.from({ length: 8 }, (_, g) => ({
      count: BigInt(rows.filter((r) => r.match && r.g === g).length),
      sum: rows.filter((r) => r.match && r.g === g).reduce((s, r) => s + r.v, 0n),
    }));
    expect(totals).toEqual(expected);
  });
});
