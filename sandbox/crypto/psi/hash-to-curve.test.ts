import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Curve25519Wasm, J, LOW_ORDER_U, P, modPow } from './curve25519.wasm.ts';
import { HashToCurve, PSI_DST } from './hash-to-curve.ts';
import { add, encodeToCurve, hashToCurve, hashToField, mapToCurve, uBytes, uFromBytes, type Point } from './hash-to-curve.reference.ts';
import { sodium } from './sodium.ts';

// RFC 9380 Appendix J.1 messages and J.4.1 / J.4.2 vectors (curve25519, big-endian hex as printed).
const MSGS = ['', 'abc', 'abcdef0123456789', `q128_${'q'.repeat(128)}`, `a512_${'a'.repeat(512)}`];
const RO_DST = 'QUUX-V01-CS02-with-curve25519_XMD:SHA-512_ELL2_RO_';
const NU_DST = 'QUUX-V01-CS02-with-curve25519_XMD:SHA-512_ELL2_NU_';
const RO = [
  { px: '2de3780abb67e861289f5749d16d3e217ffa722192d16bbd9d1bfb9d112b98c0', py: '3b5dc2a498941a1033d176567d457845637554a2fe7a3507d21abd1c1bd6e878',
    u0: '005fe8a7b8fef0a16c105e6cadf5a6740b3365e18692a9c05bfbb4d97f645a6a', u1: '1347edbec6a2b5d8c02e058819819bee177077c9d10a4ce165aab0fd0252261a',
    q0x: '36b4df0c864c64707cbf6cf36e9ee2c09a6cb93b28313c169be29561bb904f98', q0y: '6cd59d664fb58c66c892883cd0eb792e52055284dac3907dd756b45d15c3983d',
    q1x: '3fa114783a505c0b2b2fbeef0102853c0b494e7757f2a089d0daae7ed9a0db2b', q1y: '76c0fe7fec932aaafb8eefb42d9cbb32eb931158f469ff3050af15cfdbbeff94' },
  { px: '2b4419f1f2d48f5872de692b0aca72cc7b0a60915dd70bde432e826b6abc526d', py: '1b8235f255a268f0a6fa8763e97eb3d22d149343d495da1160eff9703f2d07dd',
    u0: '49bed021c7a3748f09fa8cdfcac044089f7829d3531066ac9e74e0994e05bc7d', u1: '5c36525b663e63389d886105cee7ed712325d5a97e60e140aba7e2ce5ae851b6',
    q0x: '16b3d86e056b7970fa00165f6f48d90b619ad618791661b7b5e1ec78be10eac1', q0y: '4ab256422d84c5120b278cbdfc4e1facc5baadffeccecf8ee9bf3946106d50ca',
    q1x: '7ec29ddbf34539c40adfa98fcb39ec36368f47f30e8f888cc7e86f4d46e0c264', q1y: '10d1abc1cae2d34c06e247f2141ba897657fb39f1080d54f09ce0af128067c74' },
  { px: '68ca1ea5a6acf4e9956daa101709b1eee6c1bb0df1de3b90d4602382a104c036', py: '2a375b656207123d10766e68b938b1812a4a6625ff83cb8d5e86f58a4be08353',
    u0: '6412b7485ba26d3d1b6c290a8e1435b2959f03721874939b21782df17323d160', u1: '24c7b46c1c6d9a21d32f5707be1380ab82db1054fde82865d5c9e3d968f287b2',
    q0x: '71de3dadfe268872326c35ac512164850860567aea0e7325e6b91a98f86533ad', q0y: '26a08b6e9a18084c56f2147bf515414b9b63f1522e1b6c5649f7d4b0324296ec',
    q1x: '5704069021f61e41779e2ba6b932268316d6d2a6f064f997a22fef16d1eaeaca', q1y: '50483c7540f64fb4497619c050f2c7fe55454ec0f0e79870bb44302e34232210' },
  { px: '096e9c8bae6c06b554c1ee69383bb0e82267e064236b3a30608d4ed20b73ac5a', py: '1eb5a62612cafb32b16c3329794645b5b948d9f8ffe501d4e26b073fef6de355',
    u0: '5e123990f11bbb5586613ffabdb58d47f64bb5f2fa115f8ea8df0188e0c9e1b5', u1: '5e8553eb00438a0bb1e7faa59dec6d8087f9c8011e5fb8ed9df31cb6c0d4ac19',
    q0x: '7a94d45a198fb5daa381f45f2619ab279744efdd8bd8ed587fc5b65d6cea1df0', q0y: '67d44f85d376e64bb7d713585230cdbfafc8e2676f7568e0b6ee59361116a6e1',
    q1x: '30506fb7a32136694abd61b6113770270debe593027a968a01f271e146e60c18', q1y: '7eeee0e706b40c6b5174e551426a67f975ad5a977ee2f01e8e20a6d612458c3b' },
  { px: '1bc61845a138e912f047b5e70ba9606ba2a447a4dade024c8ef3dd42b7bbc5fe', py: '623d05e47b70e25f7f1d51dda6d7c23c9a18ce015fe3548df596ea9e38c69bf1',
    u0: '20f481e85da7a3bf60ac0fb11ed1d0558fc6f941b3ac5469aa8b56ec883d6d7d', u1: '017d57fd257e9a78913999a23b52ca988157a81b09c5442501d07fed20869465',
    q0x: '02d606e2699b918ee36f2818f2bc5013e437e673c9f9b9cdc15fd0c5ee913970', q0y: '29e9dc92297231ef211245db9e31767996c5625dfbf92e1c8107ef887365de1e',
    q1x: '38920e9b988d1ab7449c0fa9a6058192c0c797bb3d42ac345724341a1aa98745', q1y: '24dcc1be7c4d591d307e89049fd2ed30aae8911245a9d8554bf6032e5aa40d3d' },
];
const NU = [
  { px: '1bb913f0c9daefa0b3375378ffa534bda5526c97391952a7789eb976edfe4d08', py: '4548368f4f983243e747b62a600840ae7c1dab5c723991f85d3a9768479f3ec4',
    u0: '608d892b641f0328523802a6603427c26e55e6f27e71a91a478148d45b5093cd',
    qx: '51125222da5e763d97f3c10fcc92ea6860b9ccbbd2eb1285728f566721c1e65b', qy: '343d2204f812d3dfc5304a5808c6c0d81a903a5d228b342442aa3c9ba5520a3d' },
  { px: '7c22950b7d900fa866334262fcaea47a441a578df43b894b4625c9b450f9a026', py: '5547bc00e4c09685dcbc6cb6765288b386d8bdcb595fa5a6e3969e08097f0541',
    u0: '46f5b22494bfeaa7f232cc8d054be68561af50230234d7d1d63d1d9abeca8da5',
    qx: '7d56d1e08cb0ccb92baf069c18c49bb5a0dcd927eff8dcf75ca921ef7f3e6eeb', qy: '404d9a7dc25c9c05c44ab9a94590e7c3fe2dcec74533a0b24b188a5d5dacf429' },
  { px: '31ad08a8b0deeb2a4d8b0206ca25f567ab4e042746f792f4b7973f3ae2096c52', py: '405070c28e78b4fa269427c82827261991b9718bd6c6e95d627d701a53c30db1',
    u0: '235fe40c443766ce7e18111c33862d66c3b33267efa50d50f9e8e5d252a40aaa',
    qx: '3fbe66b9c9883d79e8407150e7c2a1c8680bee496c62fabe4619a72b3cabe90f', qy: '08ec476147c9a0a3ff312d303dbbd076abb7551e5fce82b48ab14b433f8d0a7b' },
  { px: '027877759d155b1997d0d84683a313eb78bdb493271d935b622900459d52ceaa', py: '54d691731a53baa30707f4a87121d5169fb5d587d70fb0292b5830dedbec4c18',
    u0: '001e92a544463bda9bd04ddbe3d6eed248f82de32f522669efc5ddce95f46f5b',
    qx: '227e0bb89de700385d19ec40e857db6e6a3e634b1c32962f370d26f84ff19683', qy: '5f86ff3851d262727326a32c1bf7655a03665830fa7f1b8b1e5a09d85bc66e4a' },
  { px: '5fd892c0958d1a75f54c3182a18d286efab784e774d1e017ba2fb252998b5dc1', py: '750af3c66101737423a4519ac792fb93337bd74ee751f19da4cf1e94f4d6d0b8',
    u0: '1a68a1af9f663592291af987203393f707305c7bac9c8d63d6a729bdc553dc19',
    qx: '3bcd651ee54d5f7b6013898aab251ee8ecc0688166fce6e9548d38472f6bd196', qy: '1bb36ad9197299f111b4ef21271c41f4b7ecf5543db8bb5931307ebdb2eaa465' },
];

const big = (hex: string): bigint => BigInt(`0x${hex}`);
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const pt = (x: string, y: string): Point => ({ x: big(x), y: big(y) });

/** u of 8·P from u(P) alone (three x-only doublings), to tie a fast-path output to the vector's P.x. */
function times8(u: bigint): bigint {
  let X = u, Z = 1n;
  const m = (a: bigint): bigint => ((a % P) + P) % P;
  for (let i = 0; i < 3; i++) {
    const X2 = m((X * X - Z * Z) ** 2n);
    const Z2 = m(4n * X * Z * (X * X + J * X * Z + Z * Z));
    X = X2; Z = Z2;
  }
  return m(X * modPow(Z, P - 2n));
}

describe('hash-to-curve reference against RFC 9380 J.4', () => {
  it('curve25519_XMD:SHA-512_ELL2_RO_: u, Q0, Q1 and P', () => {
    MSGS.forEach((msg, i) => {
      const v = RO[i]!;
      expect(hashToField(bytes(msg), bytes(RO_DST), 2)).toEqual([big(v.u0), big(v.u1)]);
      expect(mapToCurve(big(v.u0))).toEqual(pt(v.q0x, v.q0y));
      expect(mapToCurve(big(v.u1))).toEqual(pt(v.q1x, v.q1y));
      expect(hashToCurve(bytes(msg), bytes(RO_DST))).toEqual(pt(v.px, v.py));
    });
  });
  it('curve25519_XMD:SHA-512_ELL2_NU_: u, Q and P', () => {
    MSGS.forEach((msg, i) => {
      const v = NU[i]!;
      expect(hashToField(bytes(msg), bytes(NU_DST), 1)).toEqual([big(v.u0)]);
      expect(mapToCurve(big(v.u0))).toEqual(pt(v.qx, v.qy));
      expect(encodeToCurve(bytes(msg), bytes(NU_DST))).toEqual(pt(v.px, v.py));
    });
  });
  it('a wrong tag gives other points (the vectors are not matched by accident)', () => {
    expect(hashToCurve(bytes('abc'), bytes(NU_DST))).not.toEqual(pt(RO[1]!.px, RO[1]!.py));
  });
});

describe('fast path (WebAssembly) against RFC 9380 J.4', () => {
  const wasm = new Curve25519Wasm();
  it('the G.2.1 map gives the vectors\u2019 Q (x and y)', () => {
    for (const v of RO) {
      expect(wasm.mapXY(big(v.u0))).toEqual({ x: big(v.q0x), y: big(v.q0y) });
      expect(wasm.mapXY(big(v.u1))).toEqual({ x: big(v.q1x), y: big(v.q1y) });
    }
    for (const v of NU) expect(wasm.mapXY(big(v.u0))).toEqual({ x: big(v.qx), y: big(v.qy) });
  });
  it('RO: u before cofactor clearing is u(Q0 + Q1), and ×8 of it is the vectors\u2019 P.x', () => {
    const h = new HashToCurve('RO', RO_DST);
    const out = h.hash(MSGS);
    MSGS.forEach((_, i) => {
      const v = RO[i]!;
      const u = uFromBytes(out.subarray(32 * i, 32 * i + 32));
      const q = add(pt(v.q0x, v.q0y), pt(v.q1x, v.q1y));
      expect(q).not.toBe('identity');
      if (q !== 'identity') expect(u).toBe(q.x);
      expect(times8(u)).toBe(big(v.px));
    });
  });
  it('NU: u before cofactor clearing is u(Q), and ×8 of it is the vectors\u2019 P.x', () => {
    const h = new HashToCurve('NU', NU_DST);
    const out = h.hash(MSGS);
    MSGS.forEach((_, i) => {
      const u = uFromBytes(out.subarray(32 * i, 32 * i + 32));
      expect(u).toBe(big(NU[i]!.qx));
      expect(times8(u)).toBe(big(NU[i]!.px));
    });
  });
});

describe('fast path against the reference on other inputs', () => {
  it('random items of every length, across batch boundaries, both suites and the lab\u2019s tags', () => {
    for (const suite of ['RO', 'NU'] as const) {
      const h = new HashToCurve(suite);
      const items: Uint8Array[] = Array.from({ length: 2100 }, (_, k) => randomBytes(k % 7 === 0 ? 1500 + k : k % 40));
      const all = h.hash(items);
      for (const k of [0, 1, 2, 39, 2046, 2047, 2048, 2049, 2099]) {
        const ref = suite === 'RO' ? hashToCurve(items[k]!, bytes(PSI_DST.RO), false) : encodeToCurve(items[k]!, bytes(PSI_DST.NU), false);
        expect(ref).not.toBe('identity');
        if (ref !== 'identity') expect(Buffer.from(all.subarray(32 * k, 32 * k + 32)).toString('hex')).toBe(Buffer.from(uBytes(ref.x)).toString('hex'));
      }
      // position in a batch does not matter
      const one = h.hash([items[2048]!]);
      expect(Buffer.from(one).equals(Buffer.from(all.subarray(32 * 2048, 32 * 2049)))).toBe(true);
    }
  });
  it('RO sums that need the exceptional path: Q0 = Q1 (doubling) is right, Q0 = −Q1 throws', () => {
    const h = new HashToCurve('RO');
    const be48 = (x: bigint): Uint8Array => Buffer.from(x.toString(16).padStart(96, '0'), 'hex');
    const u0 = 123456789n;
    // map(u) = map(−u): u1 = p − u0 gives Q0 = Q1
    const doubled = h.mapFieldBytes(new Uint8Array([...be48(u0), ...be48(P - u0)]), 1);
    const q = mapToCurve(u0);
    const d = add(q, q);
    expect(d).not.toBe('identity');
    if (d !== 'identity') expect(uFromBytes(doubled)).toBe(d.x);
    // u1 = 1/(2·u0) maps to the same x with the other sign of y when u0 takes the x2 branch
    let v = 5n;
    for (;;) {
      const x1 = (((P - J) * modPow(1n + 2n * v * v, P - 2n)) % P + P) % P;
      const gx1 = (x1 * x1 * x1 + J * x1 * x1 + x1) % P;
      if (modPow(gx1, (P - 1n) / 2n) !== 1n) break;
      v++;
    }
    const w = modPow(2n * v, P - 2n);
    expect(add(mapToCurve(v), mapToCurve(w))).toBe('identity');
    expect(() => h.mapFieldBytes(new Uint8Array([...be48(v), ...be48(w)]), 1)).toThrow(/cancel/);
  });
});

describe('received point checks', () => {
  const h = new HashToCurve('RO');
  const good = h.hash(Array.from({ length: 3000 }, (_, k) => `item-${k}`));
  it('hash outputs pass; one twist point, one non-canonical or one low-order u anywhere fails', () => {
    expect(h.validPoints(good, 0, 3000)).toBe(true);
    // a twist point: u with u³ + Ju² + u not a square
    let t = 7n;
    while (modPow((t * t * t + J * t * t + t) % P, (P - 1n) / 2n) !== P - 1n) t++;
    const bad: [string, Uint8Array][] = [
      ['twist', uBytes(t)],
      ['p', uBytes(P)], // non-canonical encoding of 0
      ['bit 255', (() => { const b = new Uint8Array(good.subarray(0, 32)); b[31]! |= 0x80; return b; })()],
      ...LOW_ORDER_U.map((u): [string, Uint8Array] => [`low order ${u}`, uBytes(u)]),
    ];
    // uBytes reduces mod p; write p itself by hand
    bad[1] = ['p', Buffer.from(P.toString(16).padStart(64, '0'), 'hex').reverse()];
    for (const [name, b] of bad) {
      for (const at of [0, 2047, 2999]) {
        const pts = new Uint8Array(good);
        pts.set(b, 32 * at);
        expect(h.validPoints(pts, 0, 3000), `${name} at ${at}`).toBe(false);
      }
    }
  });
  it('libsodium agrees that the low-order list is of low order (X25519 refuses each)', () => {
    const key = new Uint8Array(32).fill(7);
    for (const u of LOW_ORDER_U) expect(() => sodium.crypto_scalarmult(new Uint8Array(32), key, uBytes(u))).toThrow();
    expect(() => sodium.crypto_scalarmult(new Uint8Array(32), key, good.subarray(0, 32))).not.toThrow();
  });
});
