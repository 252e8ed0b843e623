import { randomBytes } from 'node:crypto';

/**
 * Paillier (1999) with BigInt: the baseline the BFV grouped intersection-sum is measured against
 * (`npm run bench -- he-sum`). It is the construction of Google's private-join-and-compute
 * (Ion et al. 2020): the key holder encrypts every row's value, the other party multiplies the
 * ciphertexts of the matching rows (adds the plaintexts), re-randomises with a fresh encryption of
 * zero and returns one ciphertext that the key holder decrypts. For groups we give Paillier its
 * best case: all groups' count and sum fields packed into one plaintext per row (the plaintext
 * space has 2047 bits), so its cost does not grow with the number of groups.
 *
 * Choices that make the baseline fast rather than slow: g = n + 1 (so g^m = 1 + m·n mod n²);
 * the key holder, who knows p and q, computes r^n mod n² through the CRT (mod p² and q²);
 * fixed-window exponentiation. Not for production use: no constant-time arithmetic.
 */
export interface PaillierPublicKey {
  readonly n: bigint;
  readonly n2: bigint;
  readonly bits: number;
}

export interface PaillierKeyPair {
  readonly publicKey: PaillierPublicKey;
  readonly p: bigint;
  readonly q: bigint;
  /** λ = lcm(p − 1, q − 1), μ = λ^−1 mod n (with g = n + 1) */
  readonly lambda: bigint;
  readonly mu: bigint;
  readonly p2: bigint;
  readonly q2: bigint;
  /** n mod φ(p²) and n mod φ(q²): the exponents of r^n in the CRT halves */
  readonly np: bigint;
  readonly nq: bigint;
  /** (p²)^−1 mod q² */
  readonly p2InvQ2: bigint;
}

export function randomBits(bits: number): bigint {
  const bytes = Math.ceil(bits / 8);
  const x = BigInt('0x' + randomBytes(bytes).toString('hex'));
  return x >> BigInt(bytes * 8 - bits);
}

/** Uniform in [1, n) */
export function randomBelow(n: bigint): bigint {
  const bits = n.toString(2).length;
  for (;;) {
    const x = randomBits(bits);
    if (x > 0n && x < n) return x;
  }
}

/** b^e mod m, fixed 5-bit windows. */
export function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  if (modulus === 1n) return 0n;
  const w = 5;
  const b = ((base % modulus) + modulus) % modulus;
  const table: bigint[] = [1n];
  for (let i = 1; i < 1 << w; i++) table.push((table[i - 1]! * b) % modulus);
  const bits = exponent.toString(2);
  const padded = bits.padStart(Math.ceil(bits.length / w) * w, '0');
  let r = 1n;
  for (let i = 0; i < padded.length; i += w) {
    for (let k = 0; k < w; k++) r = (r * r) % modulus;
    const d = parseInt(padded.slice(i, i + w), 2);
    if (d) r = (r * table[d]!) % modulus;
  }
  return r;
}

export function modInverse(a: bigint, m: bigint): bigint {
  let [oldR, r] = [((a % m) + m) % m, m];
  let [oldS, s] = [1n, 0n];
  while (r !== 0n) {
    const quotient = oldR / r;
    [oldR, r] = [r, oldR - quotient * r];
    [oldS, s] = [s, oldS - quotient * s];
  }
  if (oldR !== 1n) throw new Error('not invertible');
  return ((oldS % m) + m) % m;
}

const gcd = (a: bigint, b: bigint): bigint => (b === 0n ? a : gcd(b, a % b));

const SMALL_PRIMES = (() => {
  const out: bigint[] = [];
  for (let i = 3; i < 2000; i += 2) {
    let prime = true;
    for (let j = 3; j * j <= i; j += 2) if (i % j === 0) { prime = false; break; }
    if (prime) out.push(BigInt(i));
  }
  return out;
})();

export function isProbablePrime(n: bigint, rounds = 40): boolean {
  if (n < 2n) return false;
  for (const p of SMALL_PRIMES) {
    if (n === p) return true;
    if (n % p === 0n) return false;
  }
  let d = n - 1n;
  let s = 0;
  while ((d & 1n) === 0n) { d >>= 1n; s++; }
  outer: for (let i = 0; i < rounds; i++) {
    const a = 2n + randomBelow(n - 3n);
    let x = modPow(a, d, n);
    if (x === 1n || x === n - 1n) continue;
    for (let j = 1; j < s; j++) {
      x = (x * x) % n;
      if (x === n - 1n) continue outer;
    }
    return false;
  }
  return true;
}

export function randomPrime(bits: number): bigint {
  for (;;) {
    const candidate = randomBits(bits) | (1n << BigInt(bits - 1)) | (1n << BigInt(bits - 2)) | 1n;
    if (isProbablePrime(candidate, 1) && isProbablePrime(candidate)) return candidate;
  }
}

export function generatePaillierKeyPair(bits = 2048): PaillierKeyPair {
  for (;;) {
    const p = randomPrime(bits / 2);
    const q = randomPrime(bits / 2);
    if (p === q) continue;
    const n = p * q;
    if (n.toString(2).length !== bits || gcd(n, (p - 1n) * (q - 1n)) !== 1n) continue;
    const lambda = ((p - 1n) * (q - 1n)) / gcd(p - 1n, q - 1n);
    const p2 = p * p;
    const q2 = q * q;
    return {
      publicKey: { n, n2: n * n, bits },
      p, q, lambda,
      mu: modInverse(lambda, n),
      p2, q2,
      np: n % (p * (p - 1n)),
      nq: n % (q * (q - 1n)),
      p2InvQ2: modInverse(p2, q2),
    };
  }
}

/** Encryption with the public key only: (1 + m·n)·r^n mod n². */
export function paillierEncrypt(pk: PaillierPublicKey, m: bigint): bigint {
  const r = randomBelow(pk.n);
  return ((1n + m * pk.n) % pk.n2) * modPow(r, pk.n, pk.n2) % pk.n2;
}

/** Encryption by the key holder: r^n mod n² through the CRT (two exponentiations modulo p² and q²). */
export function paillierEncryptAsKeyHolder(kp: PaillierKeyPair, m: bigint): bigint {
  const { n, n2 } = kp.publicKey;
  const r = randomBelow(n);
  const a = modPow(r, kp.np, kp.p2);
  const b = modPow(r, kp.nq, kp.q2);
  const rn = a + kp.p2 * ((((b - a) % kp.q2 + kp.q2) * kp.p2InvQ2) % kp.q2);
  return ((1n + m * n) % n2) * rn % n2;
}

/** The plaintexts add. */
export const paillierAdd = (pk: PaillierPublicKey, a: bigint, b: bigint): bigint => (a * b) % pk.n2;

/** Multiplies by a fresh encryption of zero. */
export const paillierRerandomise = (pk: PaillierPublicKey, c: bigint): bigint => paillierAdd(pk, c, paillierEncrypt(pk, 0n));

export function paillierDecrypt(kp: PaillierKeyPair, c: bigint): bigint {
  const { n, n2 } = kp.publicKey;
  const u = modPow(c, kp.lambda, n2);
  return (((u - 1n) / n) * kp.mu) % n;
}

/** All groups' count and sum fields in one plaintext: group g at bit g·(countBits + sumBits). */
export interface PaillierPacking {
  readonly groups: number;
  readonly countBits: number;
  readonly sumBits: number;
}

export function paillierPackRow(p: PaillierPacking, group: number, value: bigint): bigint {
  const at = BigInt(group * (p.countBits + p.sumBits));
  return (1n << at) + (value << (at + BigInt(p.countBits)));
}

export function paillierUnpack(p: PaillierPacking, m: bigint): { count: bigint; sum: bigint }[] {
  return Array.from({ length: p.groups }, (_, g) => {
    const at = BigInt(g * (p.countBits + p.sumBits));
    return {
      count: (m >> at) & ((1n << BigInt(p.countBits)) - 1n),
      sum: (m >> (at + BigInt(p.countBits))) & ((1n << BigInt(p.sumBits)) - 1n),
    };
  });
}
