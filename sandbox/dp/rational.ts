import { LabError, t, type ErrorCode } from '../errors/index.ts';

/**
 * Exact rationals on bigint, for privacy parameters (ε, ρ), noise scales, lattice steps and the
 * probabilities the samplers draw from. Always in lowest terms with a positive denominator.
 */
export interface Rational { readonly num: bigint; readonly den: bigint }

/**
 * How callers write a rational: a decimal string (`"0.5"`, `"2"`), a fraction string (`"1/3"`), or
 * `{ num, den }` with integers (numbers must be safe integers). Parsed exactly: `"0.1"` is 1/10,
 * never the binary double nearest to it.
 */
export type RationalInput = string | { readonly num: number | bigint; readonly den: number | bigint };

const abs = (a: bigint): bigint => (a < 0n ? -a : a);

export function gcd(a: bigint, b: bigint): bigint {
  a = abs(a);
  b = abs(b);
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

/** num/den in lowest terms; den must not be 0. */
export function rational(num: bigint, den: bigint = 1n): Rational {
  if (den === 0n) throw new LabError('LAB-E001', { detail: t('有理数分母为 0', 'rational with denominator 0') });
  if (den < 0n) { num = -num; den = -den; }
  const g = gcd(num, den);
  return g > 1n ? { num: num / g, den: den / g } : { num, den };
}

export const ZERO: Rational = { num: 0n, den: 1n };
export const ONE: Rational = { num: 1n, den: 1n };

export const add = (a: Rational, b: Rational): Rational => rational(a.num * b.den + b.num * a.den, a.den * b.den);
export const mul = (a: Rational, b: Rational): Rational => rational(a.num * b.num, a.den * b.den);
export const div = (a: Rational, b: Rational): Rational => rational(a.num * b.den, a.den * b.num);
/** −1, 0 or 1 as a is below, equal to or above b. */
export const compare = (a: Rational, b: Rational): -1 | 0 | 1 => {
  const d = a.num * b.den - b.num * a.den;
  return d < 0n ? -1 : d > 0n ? 1 : 0;
};
export const maxOf = (a: Rational, b: Rational): Rational => (compare(a, b) >= 0 ? a : b);
export const isZero = (a: Rational): boolean => a.num === 0n;
export const isInteger = (a: Rational): boolean => a.den === 1n;

/** The nearest double (for reports and accounting only, never for sampling). */
export function toNumber(a: Rational): number {
  const n = Number(a.num);
  const d = Number(a.den);
  if (Number.isFinite(n) && Number.isFinite(d)) return n / d;
  // Very large terms: scale both down by the same power of two first.
  const shift = BigInt(Math.max(0, Math.max(bitLength(abs(a.num)), bitLength(a.den)) - 1000));
  return Number(a.num >> shift) / Number(a.den >> shift);
}

export function bitLength(n: bigint): number {
  return n === 0n ? 0 : n.toString(2).length;
}

/** Canonical text: `"3"`, `"-2"` or `"1/3"`; `parseRational` reads it back. */
export const formatRational = (a: Rational): string => (a.den === 1n ? `${a.num}` : `${a.num}/${a.den}`);

/** Largest accepted numerator or denominator of a parsed input: keeps the arithmetic small. */
const MAX_TERM = 10n ** 18n;
const DECIMAL = /^(\d{1,18})(?:\.(\d{1,18}))?$/;
const FRACTION = /^(\d{1,18})\/(\d{1,18})$/;

/**
 * Parses a non-negative rational exactly. A malformed input throws `code` (naming `field`); the
 * caller checks the range.
 */
export function parseRational(input: RationalInput, field: string, code: ErrorCode): Rational {
  const bad = (why: { zh: string; en: string }): LabError => new LabError(code, { field, detail: t(`${field}：${why.zh}`, `${field}: ${why.en}`) });
  const malformed = t('应为十进制数（如 "0.5"）、分数（如 "1/3"）或 {num, den} 整数对', 'expected a decimal ("0.5"), a fraction ("1/3") or integers {num, den}');
  if (typeof input === 'string') {
    const s = input.trim();
    const dm = DECIMAL.exec(s);
    if (dm) {
      const frac = dm[2] ?? '';
      return rational(BigInt(`${dm[1] ?? '0'}${frac}`), 10n ** BigInt(frac.length));
    }
    const fm = FRACTION.exec(s);
    if (fm) {
      const den = BigInt(fm[2] ?? '0');
      if (den === 0n) throw bad(t('分母不能为 0', 'the denominator cannot be 0'));
      return rational(BigInt(fm[1] ?? '0'), den);
    }
    throw bad(malformed);
  }
  if (typeof input !== 'object' || input === null) throw bad(malformed);
  const term = (v: unknown): bigint => {
    if (typeof v === 'bigint') return v;
    if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v);
    throw bad(malformed);
  };
  const num = term(input.num);
  const den = term(input.den);
  if (den <= 0n) throw bad(t('分母必须为正', 'the denominator must be positive'));
  if (abs(num) > MAX_TERM || den > MAX_TERM) throw bad(t('分子或分母过大', 'numerator or denominator too large'));
  return rational(num, den);
}

/**
 * The exact value of a finite double as a rational (every double is a dyadic rational), or of a
 * decimal string (an optional leading minus sign). Used to bring measure values onto the lattice.
 */
export function exactValue(v: number | bigint | string, field: string, code: ErrorCode): Rational {
  if (typeof v === 'bigint') return rational(v);
  if (typeof v === 'string') {
    const s = v.trim();
    const neg = s.startsWith('-');
    const r = parseRational(neg ? s.slice(1) : s, field, code);
    return neg ? rational(-r.num, r.den) : r;
  }
  if (!Number.isFinite(v)) throw new LabError(code, { field, detail: t(`${field}：不是有限数值`, `${field}: not a finite number`) });
  if (Number.isInteger(v)) return rational(BigInt(v));
  // Multiply by 2 until the value is an integer: at most 1074 steps, each exact in binary.
  let x = v;
  let den = 1n;
  while (!Number.isInteger(x)) { x *= 2; den *= 2n; }
  return rational(BigInt(x), den);
}

/**
 * A non-negative rational as a decimal string with at most `digits` fraction digits, rounded up
 * (exact when it fits): for ledgers that keep ε as an exact decimal, a charge is never rounded down.
 */
export function decimalCeil(a: Rational, digits: number): string {
  if (a.num < 0n || !Number.isInteger(digits) || digits < 0 || digits > 30) throw new LabError('LAB-E001', { detail: t('十进制格式化参数无效', 'invalid decimal formatting') });
  const scale = 10n ** BigInt(digits);
  const scaled = (a.num * scale + a.den - 1n) / a.den; // ⌈a·10^digits⌉
  if (digits === 0) return `${scaled}`;
  const whole = scaled / scale;
  const frac = `${scaled % scale}`.padStart(digits, '0').replace(/0+$/, '');
  return frac ? `${whole}.${frac}` : `${whole}`;
}

/** Reads back `formatRational` text of any size ("-3", "12/7"); null when malformed. */
export function readRational(text: string): Rational | null {
  const m = /^(-?\d{1,400})(?:\/(\d{1,400}))?$/.exec(text);
  if (!m) return null;
  const den = BigInt(m[2] ?? '1');
  return den === 0n ? null : rational(BigInt(m[1] ?? '0'), den);
}

/** ⌊a⌋ for a rational. */
export function floor(a: Rational): bigint {
  const q = a.num / a.den;
  return a.num < 0n && q * a.den !== a.num ? q - 1n : q;
}

/** Rounds to the nearest integer, ties away from zero. */
export function roundHalfAway(a: Rational): bigint {
  const twice = rational(2n * abs(a.num) + a.den, 2n * a.den); // |a| + 1/2
  const r = floor(twice);
  return a.num < 0n ? -r : r;
}

/** ⌊√n⌋ for n ≥ 0 (Newton's method on bigint). */
export function isqrt(n: bigint): bigint {
  if (n < 0n) throw new LabError('LAB-E001', { detail: t('负数开方', 'square root of a negative number') });
  if (n < 2n) return n;
  let x = 1n << BigInt(Math.ceil(bitLength(n) / 2));
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}
