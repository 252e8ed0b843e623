import { randomBytes } from 'node:crypto';
import type { CipherText } from 'node-seal/implementation/cipher-text.js';
import type { Decryptor } from 'node-seal/implementation/decryptor.js';
import type { Encryptor } from 'node-seal/implementation/encryptor.js';
import type { KeyGenerator } from 'node-seal/implementation/key-generator.js';
import type { ParmsIdType } from 'node-seal/implementation/parms-id-type.js';
import type { PlainText } from 'node-seal/implementation/plain-text.js';
import type { PublicKey } from 'node-seal/implementation/public-key.js';
import type { SecretKey } from 'node-seal/implementation/secret-key.js';
import { LabError, t } from '../../errors/index.ts';
import { bfvContext, bfvContextFor, DEFAULT_PLAIN_MODULUS_BITS, type BfvContext } from './bfv-context.ts';
import { planGroupSumLayout, type GroupSumLayout, type GroupSumShape } from './group-sum-layout.ts';
import { HE_RESULT, HE_ROWS, HE_SETUP, type HeResultMessage, type HeRowsMessage, type HeSetupMessage } from './he-messages.ts';
import { addToC0, planFlood, sampleFlood, type FloodPlan } from './noise-flood.ts';
import { sealCall } from './seal-module.ts';
import { registerHandles } from './session-handles.ts';

/**
 * Grouped intersection-sum with BFV: the homomorphic half of the cross-domain join (the
 * private-join-and-compute pattern of Ion et al. 2020, with BFV in place of Paillier).
 *
 * The key holder (the domain with the rows: identifier, group, measure) makes per-job keys,
 * encrypts every row's one-hot group × (1, value) into SIMD slots under its own key, in the order
 * of its shuffled blinded identifiers of the PSI step, and later decrypts the one result. The
 * summing party (the domain with the identifier set) knows from the PSI step which of those rows
 * match, keeps only their slots (multiplies each ciphertext by its 0/1 mask), adds everything up,
 * hides the per-row structure (random additive shares per lane), floods the noise and
 * re-randomises. docs/protocols.md, "Grouped intersection-sum (BFV)", has the full flow.
 */

export interface GroupSumJob extends Omit<GroupSumShape, 'maxRows'> {
  readonly jobId: string;
  /** Upper bound of the rows (public; default `positions`, i.e. one row per position). */
  readonly maxRows?: number;
  readonly plainModulusBits?: number;
}

/** The key holder's rows, column-wise. */
export interface GroupSumRows {
  /** 0 … groups − 1 */
  readonly group: ArrayLike<number>;
  /** Non-negative integers ≤ the declared maxValue. */
  readonly value: ArrayLike<number>;
  /**
   * Each row's position in the key holder's list as sent in the PSI step (the PSI sender's
   * `positionOfRow`); rows with the same identifier share one. Without it, row i is position i.
   */
  readonly position?: ArrayLike<number>;
}

export interface GroupTotal {
  readonly group: number;
  /** Rows of this group whose identifier is in the other party's set. */
  readonly count: number;
  /** Sum of their values. */
  readonly sum: bigint;
}

/** Everything the key holder can see of a result: the decrypted slots and the remaining noise budget. */
export interface KeyHolderView {
  readonly slots: BigUint64Array;
  readonly noiseBudgetBits: number;
}

const closed = (): LabError => new LabError('LAB-E116', { detail: t('该会话的密钥已销毁', 'the session\'s keys have been wiped') });
const outOfSequence = (en: string, zh: string): LabError => new LabError('LAB-E115', { detail: t(zh, en) });

function checkEnvelope(m: { jobId: string; sessionId: string }, s: { jobId: string; sessionId: string }): void {
  if (m.jobId !== s.jobId || m.sessionId !== s.sessionId) throw outOfSequence('the message belongs to another job or session', '消息属于另一个任务或会话');
}

/** A well-formed BFV ciphertext of this context's first level (size 2, not in NTT form). */
function loadCiphertext(ctx: BfvContext, into: CipherText, bytes: Uint8Array): void {
  sealCall('LAB-E114', t('密文无法按参数载入', 'the ciphertext does not load under the parameters'), () => into.loadArray(ctx.context, bytes));
  if (into.size !== 2 || into.isNttForm || into.coeffModulusSize !== ctx.dataPrimes.length) {
    throw new LabError('LAB-E114', { detail: t('密文的大小或层级不符', 'the ciphertext has the wrong size or level') });
  }
}

interface HolderKeys {
  readonly keyGenerator: KeyGenerator;
  readonly secretKey: SecretKey;
  readonly publicKey: PublicKey;
  readonly encryptor: Encryptor;
  readonly decryptor: Decryptor;
}

/** The domain that holds the rows and the per-job keys. Call dispose() when the job ends, in a finally. */
export class GroupSumKeyHolder {
  readonly jobId: string;
  readonly sessionId: string;
  readonly layout: GroupSumLayout;
  readonly flood: FloodPlan;
  readonly #ctx: BfvContext;
  readonly #publicKeyBytes: Uint8Array;
  #keys: HolderKeys | undefined;

  private constructor(job: GroupSumJob, ctx: BfvContext, layout: GroupSumLayout, flood: FloodPlan) {
    this.jobId = job.jobId;
    this.sessionId = randomBytes(16).toString('hex');
    this.layout = layout;
    this.flood = flood;
    this.#ctx = ctx;
    const { seal, context } = ctx;
    const keyGenerator = sealCall('LAB-E110', t('生成密钥失败', 'key generation failed'), () => seal.KeyGenerator(context));
    const secretKey = keyGenerator.secretKey();
    const serializable = keyGenerator.createPublicKeySerializable();
    this.#publicKeyBytes = serializable.saveArray(seal.ComprModeType.none);
    serializable.delete();
    const publicKey = seal.PublicKey();
    publicKey.loadArray(context, this.#publicKeyBytes);
    this.#keys = {
      keyGenerator, secretKey, publicKey,
      encryptor: seal.Encryptor(context, publicKey, secretKey),
      decryptor: seal.Decryptor(context, secretKey),
    };
    registerHandles(this, Object.values(this.#keys));
  }

  /** Per-job keys, made here and never serialised except the public key. */
  static async open(job: GroupSumJob): Promise<GroupSumKeyHolder> {
    const ctx = await bfvContext(job.plainModulusBits ?? DEFAULT_PLAIN_MODULUS_BITS);
    const layout = planGroupSumLayout({ groups: job.groups, positions: job.positions, maxRows: job.maxRows ?? job.positions, maxValue: job.maxValue }, ctx);
    // The summing party refuses a job it cannot flood: find out before sending anything.
    const flood = planFlood({ polyModulusDegree: ctx.params.polyModulusDegree, plainModulus: ctx.plainModulus, dataModulus: ctx.dataModulus, ciphertextCount: layout.ciphertextCount });
    return new GroupSumKeyHolder(job, ctx, layout, flood);
  }

  get disposed(): boolean { return this.#keys === undefined; }

  #live(): HolderKeys {
    if (!this.#keys) throw closed();
    return this.#keys;
  }

  setupMessage(): HeSetupMessage {
    this.#live();
    const { groups, positions, maxRows, maxValue } = this.layout;
    return { kind: HE_SETUP, jobId: this.jobId, sessionId: this.sessionId, params: this.#ctx.params, shape: { groups, positions, maxRows, maxValue }, publicKey: this.#publicKeyBytes.slice() };
  }

  /**
   * Encrypts the rows, position by position, `ciphertextsPerMessage` ciphertexts per message.
   * Every row is checked (LAB-E113) before the first message is made. Symmetric (secret-key) encryption: it needs no
   * public key and SEAL serialises such a ciphertext with a seed in place of its second
   * polynomial, half the size of a public-key one.
   */
  *encryptRows(rows: GroupSumRows, options: { readonly ciphertextsPerMessage?: number } = {}): Generator<HeRowsMessage, void, void> {
    this.#live();
    const { start, rowAt } = rowsByPosition(rows, this.layout);
    const per = Math.max(1, Math.floor(options.ciphertextsPerMessage ?? 32));
    const { seal, encoder, slotCount } = this.#ctx;
    const { lanesPerRow: L, rowsPerCiphertext: R, ciphertextCount: K, positions, groups } = this.layout;
    const countLane = Int32Array.from(this.layout.count, (f) => f.lane);
    const sumLane = Int32Array.from(this.layout.sum, (f) => f.lane);
    const countUnit = this.layout.count.map((f) => 1n << BigInt(f.shift));
    const sumScale = this.layout.sum.map((f) => 1n << BigInt(f.shift));
    if (countUnit.length !== groups) throw new Error('layout without a field per group');
    const slots = new BigUint64Array(slotCount);
    const plain = seal.PlainText();
    try {
      let batch: Uint8Array[] = [];
      let first = 0;
      for (let c = 0; c < K; c++) {
        slots.fill(0n);
        const end = Math.min(positions, (c + 1) * R);
        for (let pos = c * R, base = 0; pos < end; pos++, base += L) {
          for (let k = start[pos]!; k < start[pos + 1]!; k++) {
            const row = rowAt[k]!;
            const g = rows.group[row]!;
            slots[base + countLane[g]!]! += countUnit[g]!;
            slots[base + sumLane[g]!]! += BigInt(rows.value[row]!) * sumScale[g]!;
          }
        }
        const encryptor = this.#live().encryptor;
        encoder.encode(slots, plain);
        const serializable = sealCall('LAB-E110', t('加密失败', 'encryption failed'), () => encryptor.encryptSymmetricSerializable(plain));
        try {
          batch.push(serializable.saveArray(seal.ComprModeType.none));
        } finally {
          serializable.delete();
        }
        if (batch.length === per || c === K - 1) {
          yield { kind: HE_ROWS, jobId: this.jobId, sessionId: this.sessionId, firstCiphertext: first, ciphertexts: batch };
          first = c + 1;
          batch = [];
        }
      }
    } finally {
      slots.fill(0n);
      plain.delete();
      rowAt.fill(0);
    }
  }

  /** What decryption shows the key holder: every slot, and the noise budget left (SEAL's measure). */
  inspectResult(m: HeResultMessage): KeyHolderView {
    const { decryptor } = this.#live();
    checkEnvelope(m, this);
    const { seal, encoder } = this.#ctx;
    const ct = seal.CipherText();
    let plain: PlainText | undefined;
    try {
      loadCiphertext(this.#ctx, ct, m.ciphertext);
      const noiseBudgetBits = decryptor.invariantNoiseBudget(ct);
      plain = sealCall('LAB-E118', t('解密失败', 'decryption failed'), () => decryptor.decrypt(ct)) ?? undefined;
      if (!plain) throw new LabError('LAB-E118');
      return { slots: encoder.decodeBigInt(plain, false) as BigUint64Array, noiseBudgetBits };
    } finally {
      ct.delete();
      plain?.delete();
    }
  }

  /**
   * The per-group totals: each lane's slots summed over the row positions modulo t (the summing
   * party's random shares cancel there), then the fields read out of the lane.
   */
  decryptResult(m: HeResultMessage): GroupTotal[] {
    const { slots, noiseBudgetBits } = this.inspectResult(m);
    if (noiseBudgetBits <= 0) throw new LabError('LAB-E118', { detail: t('噪声超出预算', 'the noise exceeds the budget') });
    const { lanesPerRow: L, rowsPerCiphertext: R, capacity, groups, maxRows } = this.layout;
    const tMod = this.#ctx.plainModulus;
    const lanes = new Array<bigint>(L).fill(0n);
    for (let r = 0; r < R; r++) {
      for (let l = 0; l < L; l++) lanes[l] = (lanes[l]! + slots[r * L + l]!) % tMod;
    }
    const used = new Array<number>(L).fill(0);
    const field = (f: { lane: number; shift: number; width: number }): bigint => {
      used[f.lane] = Math.max(used[f.lane]!, f.shift + f.width);
      return (lanes[f.lane]! >> BigInt(f.shift)) & ((1n << BigInt(f.width)) - 1n);
    };
    const totals: GroupTotal[] = [];
    for (let g = 0; g < groups; g++) {
      const count = field(this.layout.count[g]!);
      const sum = field(this.layout.sum[g]!);
      if (count > BigInt(maxRows) || sum > BigInt(this.layout.maxValue) * count) {
        throw new LabError('LAB-E118', { detail: t('解密结果超出可能范围', 'the decrypted totals are out of range') });
      }
      totals.push({ group: g, count: Number(count), sum });
    }
    // A correct result has nothing above the fields (the lane totals are < 2^capacity by construction).
    if (lanes.some((v, l) => v >> BigInt(used[l]!) !== 0n || used[l]! > capacity)) {
      throw new LabError('LAB-E118', { detail: t('解密结果的填充位不为零', 'the decrypted lanes have bits outside their fields') });
    }
    return totals;
  }

  /**
   * Deletes every SEAL object holding key material. SEAL keeps secret keys in memory pools that
   * are zeroed when freed (SecretKey, and the copies in KeyGenerator, Encryptor and Decryptor).
   */
  dispose(): void {
    const keys = this.#keys;
    if (!keys) return;
    this.#keys = undefined;
    keys.encryptor.delete();
    keys.decryptor.delete();
    keys.publicKey.delete();
    keys.secretKey.delete();
    keys.keyGenerator.delete();
  }
}

/**
 * Checks every row (LAB-E113) and indexes them by position: the rows of position p are
 * rowAt[start[p] … start[p + 1]). A counting sort, O(rows + positions).
 */
function rowsByPosition(rows: GroupSumRows, layout: GroupSumLayout): { start: Uint32Array; rowAt: Uint32Array } {
  const { positions, maxRows, groups, maxValue } = layout;
  const n = rows.group.length;
  const refuse = (en: string, zh: string, field: string): never => { throw new LabError('LAB-E113', { detail: t(zh, en), field }); };
  if (rows.value.length !== n || (rows.position && rows.position.length !== n)) refuse('the columns have different lengths', '各列长度不一致', 'rows');
  if (n > maxRows) refuse(`more than the declared ${maxRows} rows`, `行数超过声明的上限 ${maxRows}`, 'rows');
  if (!rows.position && n !== positions) refuse(`expected one row per position (${positions})`, `须每个位置一行（${positions} 行）`, 'rows');
  const start = new Uint32Array(positions + 1);
  for (let i = 0; i < n; i++) {
    const g = rows.group[i]!;
    if (!Number.isInteger(g) || g < 0 || g >= groups) refuse(`row ${i}: the group is not in 0–${groups - 1}`, `第 ${i} 行的分组不在 0–${groups - 1} 之内`, 'group');
    const v = rows.value[i]!;
    // The value itself is not repeated in the message.
    if (!Number.isSafeInteger(v) || v < 0 || v > maxValue) refuse(`row ${i}: the value is not an integer between 0 and the declared maximum`, `第 ${i} 行的数值不是 0 到声明最大值之间的整数`, 'value');
    const p = rows.position ? rows.position[i]! : i;
    if (!Number.isInteger(p) || p < 0 || p >= positions) refuse(`row ${i}: the position is not in 0–${positions - 1}`, `第 ${i} 行的位置不在 0–${positions - 1} 之内`, 'position');
    start[p + 1]!++;
  }
  for (let p = 0; p < positions; p++) start[p + 1]! += start[p]!;
  const next = start.slice(0, positions);
  const rowAt = new Uint32Array(n);
  for (let i = 0; i < n; i++) rowAt[next[rows.position ? rows.position[i]! : i]!++] = i;
  return { start, rowAt };
}

/** count values uniform modulo t, by rejection from the operating system's CSPRNG. */
function uniformModT(count: number, tMod: bigint): bigint[] {
  const bits = BigInt(tMod.toString(2).length);
  const mask = (1n << bits) - 1n;
  const out: bigint[] = [];
  while (out.length < count) {
    const need = count - out.length;
    const buf = randomBytes(8 * need);
    for (let i = 0; i < need; i++) {
      const x = buf.readBigUInt64LE(8 * i) & mask;
      if (x < tMod) out.push(x);
    }
    buf.fill(0);
  }
  return out;
}

interface SummerState {
  readonly publicKey: PublicKey;
  readonly encryptor: Encryptor;
  readonly acc: CipherText;
  readonly ct: CipherText;
  readonly maskPlain: PlainText;
  readonly maskNtt: PlainText;
  readonly parmsId: ParmsIdType;
  readonly mask: Uint32Array;
}

/** The domain that holds the identifier set and, from the PSI step, which of the key holder's rows match. */
export class GroupSumSummer {
  readonly jobId: string;
  readonly sessionId: string;
  readonly layout: GroupSumLayout;
  readonly flood: FloodPlan;
  readonly #ctx: BfvContext;
  readonly #membership: Uint8Array;
  readonly #received: Uint8Array;
  #receivedCount = 0;
  #state: SummerState | undefined;

  private constructor(setup: HeSetupMessage, ctx: BfvContext, layout: GroupSumLayout, flood: FloodPlan, membership: Uint8Array) {
    this.jobId = setup.jobId;
    this.sessionId = setup.sessionId;
    this.layout = layout;
    this.flood = flood;
    this.#ctx = ctx;
    this.#membership = membership;
    this.#received = new Uint8Array(layout.ciphertextCount);
    const { seal, context, evaluator } = ctx;
    const publicKey = seal.PublicKey();
    try {
      sealCall('LAB-E114', t('公钥无法按参数载入', 'the public key does not load under the parameters'), () => publicKey.loadArray(context, setup.publicKey));
    } catch (e) {
      publicKey.delete();
      throw e;
    }
    const encryptor = seal.Encryptor(context, publicKey);
    // The accumulator starts as a fresh public-key encryption of zero: its randomness (u, e1, e2)
    // re-randomises the result's second polynomial, which otherwise would be a combination of
    // the key holder's own ciphertexts.
    const acc = sealCall('LAB-E110', t('加密失败', 'encryption failed'), () => encryptor.encryptZero());
    if (!acc) throw new LabError('LAB-E110');
    evaluator.cipherTransformToNtt(acc, acc);
    this.#state = {
      publicKey, encryptor, acc,
      ct: seal.CipherText(), maskPlain: seal.PlainText(), maskNtt: seal.PlainText(),
      parmsId: context.firstParmsId,
      mask: new Uint32Array(ctx.slotCount),
    };
  }

  /**
   * `membership[p]` is 1 when position p of the key holder's list as sent in the PSI step (its
   * blinded identifiers, in its shuffled order; the PSI receiver's `peerMembership`) matched an
   * item of this party's set, else 0.
   * The array is copied and the copy zeroed at dispose().
   */
  static async open(setup: HeSetupMessage, membership: Uint8Array): Promise<GroupSumSummer> {
    const ctx = await bfvContextFor(setup.params);
    const layout = planGroupSumLayout(setup.shape, ctx);
    const flood = planFlood({ polyModulusDegree: ctx.params.polyModulusDegree, plainModulus: ctx.plainModulus, dataModulus: ctx.dataModulus, ciphertextCount: layout.ciphertextCount });
    if (membership.length !== layout.positions) throw outOfSequence('the membership vector does not cover the key holder\'s positions', '成员向量的长度与对方的位置数不符');
    for (const b of membership) if (b > 1) throw outOfSequence('the membership vector must hold 0 or 1', '成员向量只能为 0 或 1');
    return new GroupSumSummer(setup, ctx, layout, flood, Uint8Array.from(membership));
  }

  #live(): SummerState {
    if (!this.#state) throw closed();
    return this.#state;
  }

  get complete(): boolean { return this.#receivedCount === this.layout.ciphertextCount; }

  /** Keeps the matching rows' slots of each ciphertext and adds them up (in NTT form: no inverse transform per ciphertext). */
  addRows(m: HeRowsMessage): void {
    const s = this.#live();
    checkEnvelope(m, this);
    const { encoder, evaluator } = this.#ctx;
    const { lanesPerRow: L, rowsPerCiphertext: R, ciphertextCount: K, positions } = this.layout;
    m.ciphertexts.forEach((bytes, i) => {
      const c = m.firstCiphertext + i;
      if (c >= K) throw outOfSequence('ciphertext index beyond the announced rows', '密文序号超出声明的行数');
      if (this.#received[c]) throw outOfSequence('a ciphertext arrived twice', '同一密文收到两次');
      loadCiphertext(this.#ctx, s.ct, bytes);
      s.mask.fill(0);
      let any = false;
      const end = Math.min(positions, (c + 1) * R);
      for (let pos = c * R, base = 0; pos < end; pos++, base += L) {
        if (this.#membership[pos] === 1) { s.mask.fill(1, base, base + L); any = true; }
      }
      // A ciphertext without any match is multiplied all the same (by an all-ones mask, result
      // dropped), so that the time taken does not depend on the membership.
      if (!any) s.mask.fill(1, 0, (end - c * R) * L);
      encoder.encode(s.mask, s.maskPlain);
      evaluator.plainTransformToNtt(s.maskPlain, s.parmsId, s.maskNtt);
      evaluator.cipherTransformToNtt(s.ct, s.ct);
      evaluator.multiplyPlain(s.ct, s.maskNtt, s.ct);
      if (any) evaluator.add(s.acc, s.ct, s.acc);
      this.#received[c] = 1;
      this.#receivedCount++;
    });
  }

  /**
   * The result: back from NTT form, plus random shares that sum to zero per lane over the row
   * positions (and uniform values in the slots no row uses), so the decrypted slots show only the
   * lane totals; then the flooding noise on c0 (noise-flood.ts). Ends the session.
   */
  finish(): HeResultMessage {
    const s = this.#live();
    if (!this.complete) throw outOfSequence(`${this.layout.ciphertextCount - this.#receivedCount} ciphertexts are missing`, `缺少 ${this.layout.ciphertextCount - this.#receivedCount} 个密文`);
    const { seal, encoder, evaluator, plainModulus: tMod, slotCount, dataPrimes, params } = this.#ctx;
    const { lanesPerRow: L, rowsPerCiphertext: R } = this.layout;
    evaluator.cipherTransformFromNtt(s.acc, s.acc);
    const shares = new BigUint64Array(slotCount);
    const random = uniformModT(slotCount, tMod);
    random.forEach((x, i) => { shares[i] = x; });
    for (let l = 0; l < L; l++) {
      let total = 0n;
      for (let r = 0; r < R - 1; r++) total += shares[r * L + l]!;
      shares[(R - 1) * L + l] = (tMod - (total % tMod)) % tMod;
    }
    const sharesPlain = seal.PlainText();
    let bytes: Uint8Array;
    try {
      encoder.encode(shares, sharesPlain);
      evaluator.addPlain(s.acc, sharesPlain, s.acc);
      bytes = s.acc.saveArray(seal.ComprModeType.none);
    } finally {
      sharesPlain.delete();
      shares.fill(0n);
      random.fill(0n);
    }
    const u = sampleFlood(params.polyModulusDegree, this.flood.floodBits);
    addToC0(bytes, u, dataPrimes);
    u.fill(0n);
    this.dispose();
    return { kind: HE_RESULT, jobId: this.jobId, sessionId: this.sessionId, statisticalSecurityBits: this.flood.statisticalSecurityBits, floodBits: this.flood.floodBits, ciphertext: bytes };
  }

  dispose(): void {
    const s = this.#state;
    if (!s) return;
    this.#state = undefined;
    this.#membership.fill(0);
    s.mask.fill(0);
    for (const o of [s.acc, s.ct, s.maskPlain, s.maskNtt, s.encryptor, s.publicKey, s.parmsId]) o.delete();
  }
}

export const openKeyHolder = (job: GroupSumJob): Promise<GroupSumKeyHolder> => GroupSumKeyHolder.open(job);
export const openSummer = (setup: HeSetupMessage, membership: Uint8Array): Promise<GroupSumSummer> => GroupSumSummer.open(setup, membership);
