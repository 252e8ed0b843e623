import { I32, L, Op, WasmModuleBuilder, type Arg, type WasmFunction } from './wasm-assembler.ts';

/**
 * Arithmetic in GF(2^255 − 19) and the Elligator 2 map of RFC 9380 for curve25519, as a WebAssembly
 * module generated at load time (wasm-assembler.ts). Why WebAssembly: an exponentiation costs
 * ≈ 265 field multiplications, and JavaScript has no 64-bit integer product (BigInt allocates; a
 * Float64 radix-2^17 field is ≈ 4× slower here), while WebAssembly's i64 runs ref10's
 * representation directly: one squaring ≈ 21 ns, one exponentiation ≈ 6 µs on this machine.
 *
 * Representation (ref10, SUPERCOP): ten signed limbs, radix 2^25.5 (26, 25, 26, … bits), each
 * stored as an i64 in 80 bytes of linear memory. Every operation leaves its result carried.
 *
 * Exports (all pointers are byte offsets into `memory`, layouts in `LAYOUT`):
 *  - `h2c_nu(n)`: n hash_to_field outputs (48 bytes big-endian each, at IN, stride 128) → the
 *    Montgomery u of map_to_curve_elligator2(u0) (32 bytes little-endian each, at OUT);
 *  - `h2c_ro(n)`: n × 96 bytes (u0 ‖ u1, stride 128) → the u of map(u0) + map(u1); sets FLAGS[i]
 *    when the sum is exceptional (Q0 = ±Q1, probability ≈ 2^-252) so the caller recomputes it;
 *  - `check_points(n, rounds)`: n received u-coordinates (32 bytes each, at IN): 1 if every one is
 *    canonical, not of low order and on the curve (not on the twist), else 0 (see checkPoints);
 *  - the field operations themselves, for the tests.
 * Cofactor clearing is not done here: X25519 clamps every scalar to a multiple of 8 (RFC 7748), so
 * k·P equals (k/8)·(8·P) and the result lies in the prime-order subgroup whatever P's torsion part.
 */

export const FE = 80;
export const MAX_BATCH = 2048;
export const MAX_ROUNDS = 64;
export const IN_STRIDE = 128;

export const P = (1n << 255n) - 19n;
export const J = 486662n;

const CONSTS = 0;
const C = { ONE: CONSTS, J: CONSTS + FE, NEGJ: CONSTS + 2 * FE, C2: CONSTS + 3 * FE, C3: CONSTS + 4 * FE } as const;
const SLOTS = 1024;
const SLOT_COUNT = 48;
const BYTES_SCRATCH = SLOTS + SLOT_COUNT * FE; // 64 bytes for comparisons
const IN = 8192;
const OUT = IN + IN_STRIDE * MAX_BATCH;
const FLAGS = OUT + 32 * MAX_BATCH;
const NUM = FLAGS + MAX_BATCH;
const DEN = NUM + FE * MAX_BATCH;
const PRE = DEN + FE * MAX_BATCH;
const BITS = PRE + FE * MAX_BATCH;
const ACC = BITS + 8 * MAX_BATCH;
const END = ACC + FE * MAX_ROUNDS;
const PAGES = Math.ceil(END / 65536);

export const LAYOUT = { IN, OUT, FLAGS, BITS, PAGES } as const;

let nextSlot = 0;
const slot = (): number => {
  if (nextSlot >= SLOT_COUNT) throw new Error('out of field slots');
  return SLOTS + FE * nextSlot++;
};

/** Limb offsets and widths of the radix-2^25.5 representation. */
const OFF = [0, 26, 51, 77, 102, 128, 153, 179, 204, 230] as const;
const W = (i: number): number => (i % 2 === 0 ? 26 : 25);

/** Field element → limbs (for constants written into memory). */
export function limbsOf(x: bigint): bigint[] {
  const v = ((x % P) + P) % P;
  return OFF.map((o, i) => (v >> BigInt(o)) & ((1n << BigInt(W(i))) - 1n));
}

/** ref10's carry chain with rounding: limbs end in [−2^25, 2^25] (even) / [−2^24, 2^24] (odd). */
function carry(f: WasmFunction, h: readonly number[], c: number): void {
  const step = (i: number): void => {
    const w = W(i);
    const hi = h[i]!;
    f.get(hi).i64(1n << BigInt(w - 1)).op(Op.i64Add).i64(w).op(Op.i64ShrS).set(c);
    if (i === 9) f.get(h[0]!).get(c).i64(19).op(Op.i64Mul, Op.i64Add).set(h[0]!);
    else f.get(h[i + 1]!).get(c).op(Op.i64Add).set(h[i + 1]!);
    f.get(hi).get(c).i64(w).op(Op.i64Shl, Op.i64Sub).set(hi);
  };
  for (const i of [0, 4, 1, 5, 2, 6, 3, 7, 4, 8, 9, 0]) step(i);
}

/**
 * h = f·g (or f² when square) before carrying: h_k = Σ f_i·g_j over i + j = k, and 19·f_i·g_j over
 * i + j = k + 10 (2^255 ≡ 19), doubled when i and j are both odd (two half bits). Scaled copies of
 * g (×2, ×19, ×38, and ×2 more for the symmetric terms of a square) are made once in locals.
 * Bounds as in ref10: inputs carried, every h_k below 2^62.
 */
function product(f: WasmFunction, fl: readonly number[], gl: readonly number[], h: readonly number[], square: boolean): void {
  const memo = new Map<string, number>();
  const scaled = (l: number, c: number): number => {
    if (c === 1) return l;
    const key = `${l}*${c}`;
    let s = memo.get(key);
    if (s === undefined) {
      s = f.local();
      f.get(l).i64(c).op(Op.i64Mul).set(s);
      memo.set(key, s);
    }
    return s;
  };
  for (let k = 0; k < 10; k++) {
    const terms: [number, number][] = [];
    for (let i = 0; i < 10; i++) {
      for (let j = square ? i : 0; j < 10; j++) {
        let wrap: boolean;
        if (i + j === k) wrap = false;
        else if (i + j === k + 10) wrap = true;
        else continue;
        let coef = i % 2 === 1 && j % 2 === 1 ? 2 : 1;
        if (wrap) coef *= 19;
        if (square && i !== j) coef *= 2;
        terms.push([fl[i]!, scaled(gl[j]!, coef)]);
      }
    }
    terms.forEach(([a, b], n) => {
      f.get(a).get(b).op(Op.i64Mul);
      if (n > 0) f.op(Op.i64Add);
    });
    f.set(h[k]!);
  }
}

function loadLimbs(f: WasmFunction, ptrParam: number): number[] {
  const l: number[] = [];
  for (let i = 0; i < 10; i++) {
    const x = f.local();
    f.get(ptrParam).load(8 * i).set(x);
    l.push(x);
  }
  return l;
}
function storeLimbs(f: WasmFunction, ptrParam: number, limbs: readonly number[]): void {
  limbs.forEach((x, i) => f.get(ptrParam).get(x).store(8 * i));
}
const newLocals = (f: WasmFunction, n: number): number[] => Array.from({ length: n }, () => f.local());

/** The generated module's bytes. */
export function buildCurve25519Wasm(): Uint8Array {
  nextSlot = 0;
  const m = new WasmModuleBuilder(PAGES);

  // ---- field operations ----------------------------------------------------------------------
  {
    const f = m.fn('fe_mul', [I32, I32, I32]);
    const a = loadLimbs(f, 1), b = loadLimbs(f, 2), h = newLocals(f, 10);
    product(f, a, b, h, false);
    carry(f, h, f.local());
    storeLimbs(f, 0, h);
  }
  {
    // o = a^(2^n), n ≥ 1, limbs kept in locals across the squarings
    const f = m.fn('fe_sqn', [I32, I32, I32]);
    const a = loadLimbs(f, 1), h = newLocals(f, 10), c = f.local();
    f.op(Op.loop, 0x40);
    product(f, a, a, h, true);
    carry(f, h, c);
    h.forEach((x, i) => f.get(x).set(a[i]!));
    f.get(2).i32(1).op(Op.i32Sub).tee(2).op(Op.brIf, 0, Op.end);
    storeLimbs(f, 0, a);
  }
  for (const [nm, op] of [['fe_add', Op.i64Add], ['fe_sub', Op.i64Sub]] as const) {
    const f = m.fn(nm, [I32, I32, I32]);
    const a = loadLimbs(f, 1), b = loadLimbs(f, 2), h = newLocals(f, 10);
    h.forEach((x, i) => f.get(a[i]!).get(b[i]!).op(op).set(x));
    carry(f, h, f.local());
    storeLimbs(f, 0, h);
  }
  {
    const f = m.fn('fe_copy', [I32, I32]);
    for (let i = 0; i < 10; i++) f.get(0).get(1).load(8 * i).store(8 * i);
  }
  {
    // o = c ? a : o, without a branch on c
    const f = m.fn('fe_cmov', [I32, I32, I32]);
    const mask = f.local();
    f.i64(0).get(2).op(Op.i64ExtendI32U, Op.i64Sub).set(mask);
    for (let i = 0; i < 10; i++) {
      f.get(0);
      f.get(0).load(8 * i);
      f.get(0).load(8 * i).get(1).load(8 * i).op(Op.i64Xor).get(mask).op(Op.i64And);
      f.op(Op.i64Xor).store(8 * i);
    }
  }
  {
    // 32 bytes little-endian → element (bit 255 ignored, as RFC 7748 decodes u)
    const f = m.fn('fe_frombytes', [I32, I32]);
    const w = newLocals(f, 4);
    w.forEach((x, k) => f.get(1).load(8 * k).set(x));
    for (let i = 0; i < 10; i++) {
      const off = OFF[i]!, word = off >> 6, shift = off & 63;
      f.get(0);
      f.get(w[word]!).i64(shift).op(Op.i64ShrU);
      if (shift + W(i) > 64) f.get(w[word + 1]!).i64(64 - shift).op(Op.i64Shl, Op.i64Or);
      f.i64((1n << BigInt(W(i))) - 1n).op(Op.i64And).store(8 * i);
    }
  }
  {
    // 48 bytes big-endian (hash_to_field's OS2IP) → element mod p: lo + 2^256·hi ≡ lo + 38·hi
    const f = m.fn('fe_from_be48', [I32, I32]);
    const w = newLocals(f, 6);
    for (let j = 0; j < 6; j++) {
      for (let b = 0; b < 8; b++) {
        f.get(1).load8(47 - (8 * j + b));
        if (b > 0) f.i64(8 * b).op(Op.i64Shl, Op.i64Or);
      }
      f.set(w[j]!);
    }
    const h = newLocals(f, 10);
    const field = (words: readonly number[], off: number, width: number): void => {
      const word = off >> 6, shift = off & 63;
      f.get(words[word]!).i64(shift).op(Op.i64ShrU);
      if (shift + width > 64 && word + 1 < words.length) f.get(words[word + 1]!).i64(64 - shift).op(Op.i64Shl, Op.i64Or);
      f.i64((1n << BigInt(width)) - 1n).op(Op.i64And);
    };
    for (let i = 0; i < 10; i++) {
      field(w.slice(0, 4), OFF[i]!, W(i));
      if (i < 5) { field(w.slice(4, 6), OFF[i]!, W(i)); f.i64(38).op(Op.i64Mul, Op.i64Add); } // 128 bits of hi = limbs 0..4
      if (i === 0) f.get(w[3]!).i64(63).op(Op.i64ShrU).i64(19).op(Op.i64Mul, Op.i64Add); // bit 255 of lo
      f.set(h[i]!);
    }
    carry(f, h, f.local());
    storeLimbs(f, 0, h);
  }
  {
    // element → 32 bytes little-endian, fully reduced (ref10 fe_tobytes)
    const f = m.fn('fe_tobytes', [I32, I32]);
    const h = loadLimbs(f, 1), q = f.local();
    f.get(h[9]!).i64(19).op(Op.i64Mul).i64(1 << 24).op(Op.i64Add).i64(25).op(Op.i64ShrS).set(q);
    for (let i = 0; i < 10; i++) f.get(h[i]!).get(q).op(Op.i64Add).i64(W(i)).op(Op.i64ShrS).set(q);
    f.get(h[0]!).get(q).i64(19).op(Op.i64Mul, Op.i64Add).set(h[0]!);
    for (let i = 0; i < 10; i++) {
      const w = W(i);
      f.get(h[i]!).i64(w).op(Op.i64ShrS).set(q);
      if (i < 9) f.get(h[i + 1]!).get(q).op(Op.i64Add).set(h[i + 1]!);
      f.get(h[i]!).get(q).i64(w).op(Op.i64Shl, Op.i64Sub).set(h[i]!);
    }
    for (let k = 0; k < 4; k++) {
      f.get(0);
      let first = true;
      for (let i = 0; i < 10; i++) {
        const lo = OFF[i]!, hi = lo + W(i);
        if (hi <= 64 * k || lo >= 64 * (k + 1)) continue;
        f.get(h[i]!);
        if (lo >= 64 * k) f.i64(lo - 64 * k).op(Op.i64Shl);
        else f.i64(64 * k - lo).op(Op.i64ShrU);
        if (!first) f.op(Op.i64Or);
        first = false;
      }
      f.store(8 * k);
    }
  }
  const BS = BYTES_SCRATCH;
  {
    const f = m.fn('fe_eq', [I32, I32], [I32]);
    f.call('fe_tobytes', BS, L(0)).call('fe_tobytes', BS + 32, L(1));
    for (let k = 0; k < 4; k++) {
      f.i32(BS).load(8 * k).i32(BS + 32).load(8 * k).op(Op.i64Xor);
      if (k > 0) f.op(Op.i64Or);
    }
    f.op(Op.i64Eqz);
  }
  {
    const f = m.fn('fe_iszero', [I32], [I32]);
    f.call('fe_tobytes', BS, L(0));
    for (let k = 0; k < 4; k++) { f.i32(BS).load(8 * k); if (k > 0) f.op(Op.i64Or); }
    f.op(Op.i64Eqz);
  }
  {
    // sgn0 (RFC 9380 §4.1, m = 1): parity of the canonical value
    const f = m.fn('fe_sgn0', [I32], [I32]);
    f.call('fe_tobytes', BS, L(0)).i32(BS).load(0).i64(1).op(Op.i64And, Op.i32WrapI64);
  }
  {
    const f = m.fn('fe_neg', [I32, I32]);
    const zero = slot();
    for (let i = 0; i < 10; i++) f.i32(zero).i64(0).store(8 * i);
    f.call('fe_sub', L(0), zero, L(1));
  }
  // Addition chains of ref10: z^(2^252 − 3) and z^(p − 2).
  const t0 = slot(), t1 = slot(), t2 = slot();
  const chainHead = (f: WasmFunction, z: Arg): void => {
    f.call('fe_sqn', t0, z, 1).call('fe_sqn', t1, t0, 2).call('fe_mul', t1, z, t1).call('fe_mul', t0, t0, t1);
  };
  const chainBody = (f: WasmFunction): void => {
    // t0 = z^(2^250 − 1) afterwards; uses t1, t2
    f.call('fe_sqn', t1, t0, 5).call('fe_mul', t0, t1, t0)
      .call('fe_sqn', t1, t0, 10).call('fe_mul', t1, t1, t0)
      .call('fe_sqn', t2, t1, 20).call('fe_mul', t1, t2, t1)
      .call('fe_sqn', t1, t1, 10).call('fe_mul', t0, t1, t0)
      .call('fe_sqn', t1, t0, 50).call('fe_mul', t1, t1, t0)
      .call('fe_sqn', t2, t1, 100).call('fe_mul', t1, t2, t1)
      .call('fe_sqn', t1, t1, 50).call('fe_mul', t0, t1, t0);
  };
  {
    const f = m.fn('fe_pow22523', [I32, I32]);
    chainHead(f, L(1));
    f.call('fe_sqn', t0, t0, 1).call('fe_mul', t0, t1, t0); // z^(2^5 − 1)
    chainBody(f);
    f.call('fe_sqn', t0, t0, 2).call('fe_mul', L(0), t0, L(1));
  }
  const z11 = slot();
  {
    const f = m.fn('fe_inv', [I32, I32]);
    chainHead(f, L(1)); // t0 = z^11, t1 = z^9
    f.call('fe_copy', z11, t0).call('fe_sqn', t0, t0, 1).call('fe_mul', t0, t1, t0); // t0 = z^31
    chainBody(f); // t0 = z^(2^250 − 1)
    f.call('fe_sqn', t0, t0, 5).call('fe_mul', L(0), t0, z11); // z^(2^255 − 21) = z^(p − 2)
  }
  {
    // Legendre symbol as an element: a^((p − 1)/2) = (a^(2^252 − 3))^4 · a^2 ∈ {0, 1, −1}
    const f = m.fn('fe_chi', [I32, I32]);
    const s = slot();
    f.call('fe_pow22523', s, L(1)).call('fe_sqn', s, s, 2).call('fe_sqn', t0, L(1), 1).call('fe_mul', L(0), s, t0);
  }

  // ---- map_to_curve_elligator2_curve25519 (RFC 9380 Appendix G.2.1), Z = 2 ---------------------
  const u = slot(), tv1 = slot(), tv2 = slot(), tv3 = slot(), gxd = slot(), gx1 = slot(), gx2 = slot();
  const y11 = slot(), y12 = slot(), y21 = slot(), y22 = slot(), y1 = slot(), y2 = slot(), x1n = slot(), x2n = slot(), ny = slot();
  const mapHead = (f: WasmFunction, xd: Arg): void => {
    f.call('fe_sqn', tv1, u, 1)            // 1. tv1 = u^2
      .call('fe_add', tv1, tv1, tv1)       // 2. tv1 = 2 * tv1
      .call('fe_add', xd, tv1, C.ONE)      // 3. xd = tv1 + 1 (never 0: −1/2 is not a square)
      .call('fe_copy', x1n, C.NEGJ)        // 4. x1n = −J
      .call('fe_sqn', tv2, xd, 1)          // 5. tv2 = xd^2
      .call('fe_mul', gxd, tv2, xd)        // 6. gxd = xd^3
      .call('fe_mul', gx1, C.J, tv1)       // 7. gx1 = J * tv1
      .call('fe_mul', gx1, gx1, x1n)       // 8.
      .call('fe_add', gx1, gx1, tv2)       // 9.
      .call('fe_mul', gx1, gx1, x1n)       // 10. gx1 = x1n^3 + J x1n^2 xd + x1n xd^2
      .call('fe_sqn', tv3, gxd, 1)         // 11. tv3 = gxd^2
      .call('fe_sqn', tv2, tv3, 1)         // 12. tv2 = gxd^4
      .call('fe_mul', tv3, tv3, gxd)       // 13. tv3 = gxd^3
      .call('fe_mul', tv3, tv3, gx1)       // 14. tv3 = gx1 gxd^3
      .call('fe_mul', tv2, tv2, tv3)       // 15. tv2 = gx1 gxd^7
      .call('fe_pow22523', y11, tv2)       // 16. y11 = tv2^((p − 5)/8)
      .call('fe_mul', y11, y11, tv3)       // 17. y11 = y11 * tv3
      .call('fe_mul', x2n, x1n, tv1);      // 23. x2n = x1n * tv1
  };
  {
    // x only (enough for X25519): xn/xd with xn = x1n if g(x1) is square, else x2n
    const f = m.fn('map_x', [I32, I32, I32]); // (xn, xd, u)
    const e = f.local(I32);
    f.call('fe_copy', u, L(2));
    mapHead(f, L(1));
    f.call('fe_sqn', tv2, y11, 1).call('fe_mul', tv2, tv2, gxd); // y11^2 gxd = ±gx1 when g(x1) is square
    f.call('fe_eq', tv2, gx1);
    f.call('fe_neg', tv3, gx1).call('fe_eq', tv2, tv3).op(Op.i32Or).set(e);
    f.call('fe_copy', L(0), x2n).call('fe_cmov', L(0), x1n, L(e));
  }
  {
    // the whole point (xn/xd, y), as G.2.1
    const f = m.fn('map_xy', [I32, I32, I32, I32]); // (xn, xd, y, u)
    const e1 = f.local(I32), e2 = f.local(I32), e3 = f.local(I32), e4 = f.local(I32);
    f.call('fe_copy', u, L(3));
    mapHead(f, L(1));
    f.call('fe_mul', y12, y11, C.C3)                                   // 18.
      .call('fe_sqn', tv2, y11, 1).call('fe_mul', tv2, tv2, gxd)      // 19-20.
      .call('fe_eq', tv2, gx1).set(e1)                                 // 21.
      .call('fe_copy', y1, y12).call('fe_cmov', y1, y11, L(e1))       // 22.
      .call('fe_mul', y21, y11, u).call('fe_mul', y21, y21, C.C2)     // 24-25.
      .call('fe_mul', y22, y21, C.C3)                                  // 26.
      .call('fe_mul', gx2, gx1, tv1)                                   // 27.
      .call('fe_sqn', tv2, y21, 1).call('fe_mul', tv2, tv2, gxd)      // 28-29.
      .call('fe_eq', tv2, gx2).set(e2)                                 // 30.
      .call('fe_copy', y2, y22).call('fe_cmov', y2, y21, L(e2))       // 31.
      .call('fe_sqn', tv2, y1, 1).call('fe_mul', tv2, tv2, gxd)       // 32-33.
      .call('fe_eq', tv2, gx1).set(e3)                                 // 34.
      .call('fe_copy', L(0), x2n).call('fe_cmov', L(0), x1n, L(e3))   // 35.
      .call('fe_copy', L(2), y2).call('fe_cmov', L(2), y1, L(e3))     // 36.
      .call('fe_sgn0', L(2)).set(e4)                                   // 37.
      .call('fe_neg', ny, L(2));
    f.get(e3).get(e4).op(Op.i32Xor).set(e4);
    f.call('fe_cmov', L(2), ny, L(e4));                                // 38.
  }

  // ---- batches ---------------------------------------------------------------------------------
  {
    // DEN[0..n) → PRE[0..n) = their inverses (Montgomery's trick: one inversion per batch)
    const f = m.fn('batch_invert', [I32]);
    const i = f.local(I32), p = f.local(I32), q = f.local(I32), d = f.local(I32);
    const inv = slot();
    f.get(0).op(Op.i32Eqz).ifThen(() => f.op(Op.return));
    f.call('fe_copy', PRE, DEN);
    f.forRange(i, 1, L(0), () => {
      f.get(i).i32(FE).op(Op.i32Mul).set(d);
      f.get(d).i32(PRE).op(Op.i32Add).set(p);
      f.get(p).i32(FE).op(Op.i32Sub).set(q);
      f.get(d).i32(DEN).op(Op.i32Add).set(d);
      f.call('fe_mul', L(p), L(q), L(d));
    });
    f.get(0).i32(1).op(Op.i32Sub).i32(FE).op(Op.i32Mul).i32(PRE).op(Op.i32Add).set(p);
    f.call('fe_inv', inv, L(p));
    // for k = n − 1 … 1: PRE[k] = inv · PRE[k − 1]; inv = inv · DEN[k]
    f.forRange(i, 1, L(0), () => {
      f.get(0).get(i).op(Op.i32Sub).i32(FE).op(Op.i32Mul).set(d); // k·FE with k = n − i
      f.get(d).i32(PRE).op(Op.i32Add).set(p);
      f.get(p).i32(FE).op(Op.i32Sub).set(q);
      f.get(d).i32(DEN).op(Op.i32Add).set(d);
      f.call('fe_mul', L(p), inv, L(q)).call('fe_mul', inv, inv, L(d));
    });
    f.call('fe_copy', PRE, inv);
  }
  {
    // OUT[k] = bytes(NUM[k] · PRE[k])
    const f = m.fn('batch_finish', [I32]);
    const i = f.local(I32), a = f.local(I32), b = f.local(I32), o = f.local(I32);
    const x = slot();
    f.forRange(i, 0, L(0), () => {
      f.get(i).i32(FE).op(Op.i32Mul).i32(NUM).op(Op.i32Add).set(a);
      f.get(a).i32(PRE - NUM).op(Op.i32Add).set(b);
      f.get(i).i32(32).op(Op.i32Mul).i32(OUT).op(Op.i32Add).set(o);
      f.call('fe_mul', x, L(a), L(b)).call('fe_tobytes', L(o), x);
    });
  }
  {
    // encode_to_curve without clear_cofactor: OUT[k] = u(map(u0_k))
    const f = m.fn('h2c_nu', [I32]);
    const i = f.local(I32), src = f.local(I32), num = f.local(I32), den = f.local(I32);
    const u0 = slot();
    f.forRange(i, 0, L(0), () => {
      f.get(i).i32(IN_STRIDE).op(Op.i32Mul).i32(IN).op(Op.i32Add).set(src);
      f.get(i).i32(FE).op(Op.i32Mul).i32(NUM).op(Op.i32Add).tee(num).i32(DEN - NUM).op(Op.i32Add).set(den);
      f.call('fe_from_be48', u0, L(src)).call('map_x', L(num), L(den), u0);
    });
    f.call('batch_invert', L(0)).call('batch_finish', L(0));
  }
  {
    // hash_to_curve without clear_cofactor: OUT[k] = u(map(u0_k) + map(u1_k)), affine Montgomery
    // addition with every division deferred to the batch inversion:
    //   x0 = n0/d0, x1 = n1/d1, e = d0·d1, D = n1·d0 − n0·d1, s = n1·d0 + n0·d1, N = y1 − y0,
    //   λ = N·e/D, x3 = λ² − J − x0 − x1 = (N²·e³ − (J·e + s)·D²) / (e·D²).
    // D = 0 (x0 = x1: Q0 = ±Q1) sets FLAGS[k] and a denominator of 1; the caller recomputes k.
    const f = m.fn('h2c_ro', [I32]);
    const i = f.local(I32), src = f.local(I32), num = f.local(I32), den = f.local(I32), bad = f.local(I32);
    const u0 = slot(), u1 = slot(), n0 = slot(), d0 = slot(), yy0 = slot(), n1 = slot(), d1 = slot(), yy1 = slot();
    const e = slot(), a1 = slot(), a2 = slot(), dd = slot(), s = slot(), nn = slot(), w = slot();
    f.forRange(i, 0, L(0), () => {
      f.get(i).i32(IN_STRIDE).op(Op.i32Mul).i32(IN).op(Op.i32Add).set(src);
      f.get(i).i32(FE).op(Op.i32Mul).i32(NUM).op(Op.i32Add).tee(num).i32(DEN - NUM).op(Op.i32Add).set(den);
      f.call('fe_from_be48', u0, L(src));
      f.get(src).i32(48).op(Op.i32Add).set(src);
      f.call('fe_from_be48', u1, L(src));
      f.call('map_xy', n0, d0, yy0, u0).call('map_xy', n1, d1, yy1, u1);
      f.call('fe_mul', e, d0, d1)
        .call('fe_mul', a1, n1, d0).call('fe_mul', a2, n0, d1)
        .call('fe_sub', dd, a1, a2).call('fe_add', s, a1, a2)
        .call('fe_sub', nn, yy1, yy0)
        .call('fe_sqn', nn, nn, 1)                // N²
        .call('fe_sqn', w, e, 1).call('fe_mul', w, w, e).call('fe_mul', L(num), nn, w) // N²·e³
        .call('fe_mul', w, C.J, e).call('fe_add', w, w, s)  // J·e + s
        .call('fe_sqn', dd, dd, 1)                // D²
        .call('fe_mul', w, w, dd).call('fe_sub', L(num), L(num), w)
        .call('fe_mul', L(den), e, dd);
      f.call('fe_iszero', L(den)).set(bad);
      f.call('fe_cmov', L(den), C.ONE, L(bad));
      f.get(i).i32(FLAGS).op(Op.i32Add).get(bad).store8i32(0);
    });
    f.call('batch_invert', L(0)).call('batch_finish', L(0));
  }
  {
    // Received points: canonical (< p, bit 255 clear), not one of the low-order u of libsodium's
    // list, and on the curve: χ(u³ + J·u² + u) = 1. The χ test is batched: in each of `rounds`
    // rounds a random subset (bits at BITS, 8 bytes per point) is multiplied together; a product's
    // χ is the product of the χ, so a set holding any twist point fails a round with probability
    // 1/2, and all rounds pass with probability 2^−rounds. u = 0 is excluded before (χ(0) = 0).
    const f = m.fn('check_points', [I32, I32], [I32]);
    const i = f.local(I32), r = f.local(I32), p = f.local(I32), ok = f.local(I32), acc = f.local(I32);
    const w = newLocals(f, 4), bits = f.local();
    const pu = slot(), g = slot(), c = slot();
    f.i32(1).set(ok);
    f.forRange(r, 0, L(1), () => {
      f.get(r).i32(FE).op(Op.i32Mul).i32(ACC).op(Op.i32Add).set(acc);
      f.call('fe_copy', L(acc), C.ONE);
    });
    f.forRange(i, 0, L(0), () => {
      f.get(i).i32(32).op(Op.i32Mul).i32(IN).op(Op.i32Add).set(p);
      w.forEach((x, k) => f.get(p).load(8 * k).set(x));
      // bad = bit 255 set | u ≥ p | u ∈ low-order list
      f.get(w[3]!).i64(63).op(Op.i64ShrU, Op.i32WrapI64);
      f.get(w[3]!).i64(0x7fffffffffffffffn).op(Op.i64Eq)
        .get(w[2]!).i64(-1).op(Op.i64Eq, Op.i32And)
        .get(w[1]!).i64(-1).op(Op.i64Eq, Op.i32And)
        .get(w[0]!).i64(0xffffffffffffffedn).op(Op.i64GeU, Op.i32And, Op.i32Or);
      for (const bad of LOW_ORDER_U) {
        const words = wordsOf(bad);
        words.forEach((wd, k) => {
          f.get(w[k]!).i64(wd).op(Op.i64Eq);
          if (k > 0) f.op(Op.i32And);
        });
        f.op(Op.i32Or);
      }
      f.op(Op.i32Eqz).get(ok).op(Op.i32And).set(ok);
      f.call('fe_frombytes', pu, L(p))
        .call('fe_add', g, pu, C.J).call('fe_mul', g, g, pu).call('fe_add', g, g, C.ONE).call('fe_mul', g, g, pu);
      f.get(i).i32(8).op(Op.i32Mul).i32(BITS).op(Op.i32Add).load(0).set(bits);
      f.forRange(r, 0, L(1), () => {
        f.get(bits).get(r).op(Op.i64ExtendI32U, Op.i64ShrU).i64(1).op(Op.i64And, Op.i32WrapI64).ifThen(() => {
          f.get(r).i32(FE).op(Op.i32Mul).i32(ACC).op(Op.i32Add).set(acc);
          f.call('fe_mul', L(acc), L(acc), g);
        });
      });
    });
    f.forRange(r, 0, L(1), () => {
      f.get(r).i32(FE).op(Op.i32Mul).i32(ACC).op(Op.i32Add).set(acc);
      f.call('fe_chi', c, L(acc)).call('fe_eq', c, C.ONE).get(ok).op(Op.i32And).set(ok);
    });
    f.get(ok);
  }
  return m.build();
}

const MASK64 = (1n << 64n) - 1n;
const wordsOf = (x: bigint): bigint[] => [0, 1, 2, 3].map((k) => (x >> BigInt(64 * k)) & MASK64);

export const modPow = (b: bigint, e: bigint): bigint => {
  let r = 1n, x = ((b % P) + P) % P, k = e;
  while (k > 0n) {
    if (k & 1n) r = (r * x) % P;
    x = (x * x) % P;
    k >>= 1n;
  }
  return r;
};

/**
 * The canonical u-coordinates of low order on curve25519 or its twist that X25519 maps to zero
 * (libsodium's list in crypto_scalarmult/curve25519/ref10/x25519_ref10.c, without its
 * non-canonical p and p + 1, which the canonical check refuses).
 */
export const LOW_ORDER_U: readonly bigint[] = [
  0n,
  1n,
  325606250916557431795983626356110631294008115727848805560023387167927233504n,
  39382357235489614581723060781553021112529911719440698176882885853963445705823n,
  P - 1n,
];

/** The WebAssembly JS API as used here (the project's `lib` setting carries no WebAssembly types). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

interface Exports {
  memory: { buffer: ArrayBuffer };
  fe_mul(o: number, a: number, b: number): void;
  fe_sqn(o: number, a: number, n: number): void;
  fe_inv(o: number, a: number): void;
  fe_chi(o: number, a: number): void;
  fe_pow22523(o: number, a: number): void;
  fe_tobytes(p: number, a: number): void;
  fe_frombytes(o: number, p: number): void;
  fe_from_be48(o: number, p: number): void;
  map_xy(xn: number, xd: number, y: number, u: number): void;
  h2c_nu(n: number): void;
  h2c_ro(n: number): void;
  check_points(n: number, rounds: number): number;
}

let compiled: object | undefined;

/** One instance of the module (one per thread): its memory holds one batch at a time. */
export class Curve25519Wasm {
  private readonly ex: Exports;
  /** The whole linear memory as bytes (the module never grows it, so the view stays valid). */
  readonly mem: Uint8Array;

  constructor() {
    compiled ??= new WA.Module(buildCurve25519Wasm());
    this.ex = new WA.Instance(compiled, {}).exports as Exports;
    this.mem = new Uint8Array(this.ex.memory.buffer);
    const c2 = modPow(2n, (P + 3n) / 8n);
    const c3 = modPow(2n, (P - 1n) / 4n); // a square root of −1
    if ((c3 * c3) % P !== P - 1n) throw new Error('sqrt(-1)');
    this.writeFe(C.ONE, 1n);
    this.writeFe(C.J, J);
    this.writeFe(C.NEGJ, P - J);
    this.writeFe(C.C2, c2);
    this.writeFe(C.C3, c3);
  }

  /** Where the caller writes inputs (hash_to_field bytes, stride IN_STRIDE; or points, stride 32). */
  get inputOffset(): number { return IN; }
  get outputOffset(): number { return OUT; }
  get bitsOffset(): number { return BITS; }

  /** u-coordinates of map(u0) for n inputs at IN (48 bytes each, stride 128) → OUT. */
  h2cNU(n: number): void {
    if (n < 0 || n > MAX_BATCH) throw new RangeError('batch size');
    this.ex.h2c_nu(n);
  }

  /** u-coordinates of map(u0) + map(u1) for n inputs at IN (96 bytes each, stride 128) → OUT; FLAGS[k] = 1 marks an exceptional sum. */
  h2cRO(n: number): void {
    if (n < 0 || n > MAX_BATCH) throw new RangeError('batch size');
    this.ex.h2c_ro(n);
  }

  flag(k: number): boolean { return this.mem[FLAGS + k] !== 0; }

  /** 1 when all n points at IN (32 bytes each) are valid; random bits must be at BITS. */
  checkPoints(n: number, rounds: number): boolean {
    if (n < 0 || n > MAX_BATCH || rounds < 1 || rounds > MAX_ROUNDS) throw new RangeError('check size');
    return this.ex.check_points(n, rounds) === 1;
  }

  // ---- element-level access, for the tests -------------------------------------------------------
  writeFe(addr: number, x: bigint): void {
    const v = new BigInt64Array(this.ex.memory.buffer, addr, 10);
    limbsOf(x).forEach((l, i) => { v[i] = l; });
  }
  readFe(addr: number): bigint {
    const v = new BigInt64Array(this.ex.memory.buffer, addr, 10);
    let x = 0n;
    OFF.forEach((o, i) => { x += v[i]! << BigInt(o); });
    return ((x % P) + P) % P;
  }
  /** Runs one named field operation on bigints through scratch memory at IN (tests only). */
  op(name: 'mul' | 'sq' | 'inv' | 'chi' | 'pow22523' | 'tobytes' | 'frombytes' | 'from_be48', a: bigint | Uint8Array, b = 0n): bigint | Uint8Array {
    const A = IN, B = IN + FE, O = IN + 2 * FE, BYTES = IN + 3 * FE;
    if (a instanceof Uint8Array) this.mem.set(a, BYTES);
    else this.writeFe(A, a);
    this.writeFe(B, b);
    switch (name) {
      case 'mul': this.ex.fe_mul(O, A, B); break;
      case 'sq': this.ex.fe_sqn(O, A, 1); break;
      case 'inv': this.ex.fe_inv(O, A); break;
      case 'chi': this.ex.fe_chi(O, A); break;
      case 'pow22523': this.ex.fe_pow22523(O, A); break;
      case 'tobytes': this.ex.fe_tobytes(BYTES, A); return this.mem.slice(BYTES, BYTES + 32);
      case 'frombytes': this.ex.fe_frombytes(O, BYTES); break;
      case 'from_be48': this.ex.fe_from_be48(O, BYTES); break;
    }
    return this.readFe(O);
  }
  /** map_to_curve_elligator2 (RFC 9380 G.2.1) of one element: affine (x, y) (tests only). */
  mapXY(u: bigint): { x: bigint; y: bigint } {
    const U = IN, XN = IN + FE, XD = IN + 2 * FE, Y = IN + 3 * FE;
    this.writeFe(U, u);
    this.ex.map_xy(XN, XD, Y, U);
    const x = (this.readFe(XN) * modPow(this.readFe(XD), P - 2n)) % P;
    return { x, y: this.readFe(Y) };
  }
}
