import { randomBytes } from 'node:crypto';
import type { CipherText } from 'node-seal/implementation/cipher-text.js';
import type { Decryptor } from 'node-seal/implementation/decryptor.js';
import type { Encryptor } from 'node-seal/implementation/encryptor.js';
import type { GaloisKeys } from 'node-seal/implementation/galois-keys.js';
import type { KeyGenerator } from 'node-seal/implementation/key-generator.js';
import type { PlainText } from 'node-seal/implementation/plain-text.js';
import type { PublicKey } from 'node-seal/implementation/public-key.js';
import type { SecretKey } from 'node-seal/implementation/secret-key.js';
import { LabError, t } from '../../errors/index.ts';
import {
  CKKS_PARAMS, MASK_BITS, POLY_MODULUS_DEGREE, PROBE_SCALE_BITS, REFERENCE_SCALE_BITS, SLOT_COUNT, checkPeerParams, ckksContext, sealCall,
  type CkksContext,
} from './ckks-context.ts';
import { addToC0, checkRoom, planComparison, sampleFlood, sampleMasks, type ComparisonPlan } from './comparison-plan.ts';
import { KeyChannel } from './key-channel.ts';
import {
  DEFAULT_MAX_MESSAGE_BYTES, FM_ACCEPT, FM_PROBES, FM_RESULT, FM_SETUP, decodeFmMessage, encodeFmMessage,
  type FmMessage, type FmProbes, type FmResult, type FmSetup,
} from './messages.ts';
import { checkDimension, checkModelId, checkThreshold, squaredNorm, unitVector } from './templates.ts';

/**
 * Encrypted face comparison (CKKS). The *probe holder* P (the grid domain: field templates) makes
 * per-session CKKS keys, encrypts its probes, and learns one outcome per comparison: pass, fail, or
 * unusable (no reference of the same model). The *reference holder* R (the registry: reference
 * templates) learns the lookup keys P asks about (the ID numbers — by design: it must find the
 * reference) and the public job facts, never a probe nor an outcome; its templates never leave it.
 * The coordinator relays opaque frames. docs/protocols.md, "Face comparison (CKKS)", has the
 * parameters, bounds and what each party learns.
 *
 * Use (both sides): `open…()`, `start()` → messages, `handle(msg)` → messages, `result()`,
 * `close()` in a finally. Keys are wiped at close() and, on each side, as soon as its last message
 * is handled.
 */

export type FaceOutcome = 'pass' | 'fail' | 'unusable';

export interface ProbeJob {
  readonly jobId: string;
  /** Templates of other models are never compared with these. */
  readonly modelId: string;
  readonly dimension: number;
  /** Pass when cosine ≥ threshold. */
  readonly threshold: number;
  readonly maxMessageBytes?: number;
}

export interface Probe {
  /** The lookup key the reference holder finds the reference by (the ID number); it learns it. */
  readonly key: string;
  /** int8, `dimension` values, not all zero. */
  readonly template: Int8Array;
}

export interface ReferenceTemplate {
  readonly modelId: string;
  readonly template: Int8Array;
}

/** How the reference holder reads its references: one answer per key, in order (undefined: none). */
export type ReferenceLookup = (keys: readonly string[], modelId: string) => Promise<readonly (ReferenceTemplate | undefined)[]> | readonly (ReferenceTemplate | undefined)[];

/** At most this many groups (of 64 probes) per session (a job runs several sessions in turn). */
export const MAX_GROUPS_PER_SESSION = 128;
const MAX_KEY_BYTES = 128;

const closed = (): LabError => new LabError('LAB-E194', { detail: t('该会话已关闭，密钥已销毁', 'the session is closed and its keys wiped') });
const sequence = (en: string, zh: string): LabError => new LabError('LAB-E193', { detail: t(zh, en) });
const aad = (kind: string, jobId: string, session: string, batch: number): string => `${kind}|${jobId}|${session}|${batch}`;

/** The most comparisons one session of this dimension takes. */
export function maxComparisonsPerSession(dimension: number): number {
  return planComparison(dimension).probesPerGroup * MAX_GROUPS_PER_SESSION;
}

function loadCiphertext(ctx: CkksContext, into: CipherText, bytes: Uint8Array, expect: { ntt: boolean; scaleBits: number }): void {
  sealCall('LAB-E192', t('密文无法按参数载入', 'the ciphertext does not load under the parameters'), () => into.loadArray(ctx.context, bytes));
  if (into.size !== 2 || into.isNttForm !== expect.ntt || into.coeffModulusSize !== ctx.dataPrimes.length || into.scale !== 2 ** expect.scaleBits) {
    throw new LabError('LAB-E192', { detail: t('密文的大小、层级、形式或缩放因子不符', 'the ciphertext has the wrong size, level, form or scale') });
  }
}

interface ProbeKeys {
  readonly keyGenerator: KeyGenerator;
  readonly secretKey: SecretKey;
  readonly publicKey: PublicKey;
  readonly encryptor: Encryptor;
  readonly decryptor: Decryptor;
}

const PENDING = -1, PASS = 0, FAIL = 1, UNUSABLE = 2;

/** The grid domain's side: field templates, the keys, the outcomes. */
export class FaceProbeHolder {
  readonly jobId: string;
  readonly session: string;
  readonly plan: ComparisonPlan;
  readonly #job: ProbeJob;
  readonly #ctx: CkksContext;
  readonly #max: number;
  readonly #channel: KeyChannel;
  #keys: ProbeKeys | undefined;
  #probes: Probe[] | undefined;
  #outcomes = new Int8Array(0);
  #batches = 0;
  #received = new Uint8Array(0);
  #receivedCount = 0;
  #accepted = false;

  private constructor(job: ProbeJob, ctx: CkksContext, plan: ComparisonPlan) {
    this.jobId = job.jobId;
    this.session = randomBytes(16).toString('hex');
    this.plan = plan;
    this.#job = job;
    this.#ctx = ctx;
    this.#max = job.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.#channel = new KeyChannel(this.session);
    const { seal, context } = ctx;
    const keyGenerator = sealCall('LAB-E190', t('生成密钥失败', 'key generation failed'), () => seal.KeyGenerator(context));
    const secretKey = keyGenerator.secretKey();
    const publicKey = keyGenerator.createPublicKey();
    this.#keys = {
      keyGenerator, secretKey, publicKey,
      encryptor: seal.Encryptor(context, publicKey, secretKey),
      decryptor: seal.Decryptor(context, secretKey),
    };
  }

  static async open(job: ProbeJob): Promise<FaceProbeHolder> {
    if (typeof job.jobId !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9:._-]{0,199}$/.test(job.jobId)) {
      throw new LabError('LAB-E191', { detail: t('任务标识无效', 'invalid job id'), field: 'jobId' });
    }
    checkModelId(job.modelId);
    checkThreshold(job.threshold);
    const plan = planComparison(checkDimension(job.dimension));
    const ctx = await ckksContext();
    checkRoom(plan, ctx.dataModulus);
    return new FaceProbeHolder(job, ctx, plan);
  }

  #live(): ProbeKeys {
    if (!this.#keys) throw closed();
    return this.#keys;
  }

  get done(): boolean { return this.#batches > 0 && this.#receivedCount === this.#batches; }

  /** Checks the probes (LAB-E191) and returns the setup message. */
  start(probes: readonly Probe[]): Uint8Array[] {
    const keys = this.#live();
    if (this.#probes) throw sequence('the session was already started', '会话已开始');
    const { dimension } = this.#job;
    const max = this.plan.probesPerGroup * MAX_GROUPS_PER_SESSION;
    if (probes.length === 0 || probes.length > max) {
      throw new LabError('LAB-E191', { detail: t(`每个会话 1–${max} 次比对`, `a session takes 1–${max} comparisons`), field: 'probes', hint: t('分成多个会话', 'split the comparisons into several sessions') });
    }
    probes.forEach((p, i) => {
      if (typeof p.key !== 'string' || p.key.length === 0 || Buffer.byteLength(p.key, 'utf8') > MAX_KEY_BYTES) {
        throw new LabError('LAB-E191', { detail: t(`第 ${i} 个比对的查找键无效`, `comparison ${i}: invalid lookup key`), field: 'key' });
      }
      if (!(p.template instanceof Int8Array) || p.template.length !== dimension || squaredNorm(p.template) === 0) {
        throw new LabError('LAB-E191', { detail: t(`第 ${i} 个比对的模板不是 ${dimension} 维非零 int8 向量`, `comparison ${i}: the template is not a non-zero int8 vector of ${dimension} values`), field: 'template' });
      }
    });
    this.#probes = probes.map((p) => ({ key: p.key, template: Int8Array.from(p.template) }));
    this.#outcomes = new Int8Array(probes.length).fill(PENDING);
    this.#batches = Math.ceil(probes.length / this.plan.probesPerGroup);
    this.#received = new Uint8Array(this.#batches);
    const { seal } = this.#ctx;
    const galois = sealCall('LAB-E190', t('生成旋转密钥失败', 'Galois key generation failed'), () => keys.keyGenerator.createGaloisKeysSerializable(Int32Array.from(this.plan.rotationSteps)));
    let galoisKeys: Uint8Array;
    try {
      galoisKeys = galois.saveArray(seal.ComprModeType.none);
    } finally {
      galois.delete();
    }
    const setup: FmSetup = {
      kind: FM_SETUP, jobId: this.jobId, session: this.session, params: CKKS_PARAMS, modelId: this.#job.modelId, dimension,
      threshold: this.#job.threshold, comparisons: probes.length, batches: this.#batches,
      galoisKeys, publicKey: keys.publicKey.saveArray(seal.ComprModeType.none), channelKey: this.#channel.publicKey,
    };
    return [encodeFmMessage(setup, this.#max)];
  }

  /** accept → the probe messages; result → nothing (the outcomes fill in). */
  async handle(bytes: Uint8Array): Promise<Uint8Array[]> {
    this.#live();
    const m = decodeFmMessage(bytes, this.#max);
    this.#check(m);
    if (m.kind === FM_ACCEPT) {
      if (!this.#probes) throw sequence('accept before the session started', '会话开始前收到了应答');
      if (this.#accepted) throw sequence('a second accept', '重复的应答');
      this.#accepted = true;
      this.#channel.connect(m.channelKey);
      return this.#encryptProbes();
    }
    if (m.kind === FM_RESULT) {
      if (!this.#accepted) throw sequence('a result before the probes were sent', '探针发送前收到了结果');
      this.#decryptResult(m);
      if (this.done) this.close();
      return [];
    }
    throw sequence('the probe holder takes only accept and result messages', '探针方只接收应答与结果消息');
  }

  #check(m: FmMessage): void {
    if (m.jobId !== this.jobId || m.session !== this.session) throw sequence('the message belongs to another job or session', '消息属于另一个任务或会话');
  }

  #encryptProbes(): Uint8Array[] {
    const probes = this.#probes!;
    const { seal, encoder } = this.#ctx;
    const { probesPerGroup: B, chunkSize: C, ciphertextsPerGroup: k } = this.plan;
    const slots = new Float64Array(SLOT_COUNT);
    const plain = seal.PlainText();
    const out: Uint8Array[] = [];
    try {
      for (let b = 0; b < this.#batches; b++) {
        const first = b * B;
        const count = Math.min(B, probes.length - first);
        const units = probes.slice(first, first + count).map((p) => unitVector(p.template));
        const ciphertexts: Uint8Array[] = [];
        for (let c = 0; c < k; c++) {
          slots.fill(0);
          units.forEach((u, j) => {
            for (let i = 0; i < C && c * C + i < u.length; i++) slots[i * B + j] = u[c * C + i]!;
          });
          sealCall('LAB-E190', t('编码失败', 'encoding failed'), () => encoder.encode(slots, 2 ** PROBE_SCALE_BITS, plain));
          const encryptor = this.#live().encryptor;
          const ser = sealCall('LAB-E190', t('加密失败', 'encryption failed'), () => encryptor.encryptSymmetricSerializable(plain));
          try {
            ciphertexts.push(ser.saveArray(seal.ComprModeType.none));
          } finally {
            ser.delete();
          }
        }
        for (const u of units) u.fill(0);
        const keys = Buffer.from(JSON.stringify(probes.slice(first, first + count).map((p) => p.key)), 'utf8');
        const sealedKeys = this.#channel.seal('probe-to-reference', b, aad(FM_PROBES, this.jobId, this.session, b), keys);
        keys.fill(0);
        const msg: FmProbes = { kind: FM_PROBES, jobId: this.jobId, session: this.session, batch: b, count, sealedKeys, ciphertexts };
        out.push(encodeFmMessage(msg, this.#max));
      }
    } finally {
      slots.fill(0);
      plain.delete();
    }
    return out;
  }

  #decryptResult(m: FmResult): void {
    const { decryptor } = this.#live();
    const { probesPerGroup: B, chunkSize: C, slotNoiseBound } = this.plan;
    if (m.batch >= this.#batches) throw sequence('result for a batch that was never sent', '结果对应的批次不存在');
    if (this.#received[m.batch]) throw sequence('a result arrived twice (replayed)', '同一批次的结果收到两次（重放）');
    const first = m.batch * B;
    const count = Math.min(B, this.#outcomes.length - first);
    if (m.count !== count) throw new LabError('LAB-E192', { detail: t('结果的比对数与批次不符', 'the result\'s comparison count does not match the batch') });
    const status = this.#channel.open('reference-to-probe', m.batch, aad(FM_RESULT, this.jobId, this.session, m.batch), m.sealedStatus);
    if (status.length !== count || status.some((s) => s > 1)) throw new LabError('LAB-E192', { detail: t('状态字节无效', 'invalid status bytes') });
    if (m.floodBits !== this.plan.floodBits) throw new LabError('LAB-E195', { detail: t('对方的噪声淹没位数与参数不符', 'the peer\'s flood size does not match the plan') });
    const { seal, encoder } = this.#ctx;
    const ct = seal.CipherText();
    let plain: PlainText | undefined;
    let values: Float64Array;
    try {
      loadCiphertext(this.#ctx, ct, m.ciphertext, { ntt: false, scaleBits: PROBE_SCALE_BITS + REFERENCE_SCALE_BITS });
      this.#ctx.evaluator.cipherTransformToNtt(ct, ct);
      plain = sealCall('LAB-E197', t('解密失败', 'decryption failed'), () => decryptor.decrypt(ct)) ?? undefined;
      if (!plain) throw new LabError('LAB-E197');
      const p = plain;
      values = Float64Array.from(sealCall('LAB-E197', t('解码失败', 'decoding failed'), () => encoder.decode(p)));
    } finally {
      ct.delete();
      plain?.delete();
    }
    const limit = 2 ** MASK_BITS * (1 + Math.abs(this.#job.threshold)) + slotNoiseBound;
    for (let j = 0; j < count; j++) {
      if (status[j] === 1) { this.#outcomes[first + j] = UNUSABLE; continue; }
      let sum = 0, lo = Infinity, hi = -Infinity;
      for (let i = 0; i < C; i++) {
        const v = values[i * B + j]!;
        sum += v; lo = Math.min(lo, v); hi = Math.max(hi, v);
      }
      const mean = sum / C;
      if (!(Math.abs(mean) <= limit) || hi - lo > 2 * slotNoiseBound) {
        throw new LabError('LAB-E197', { detail: t('解密值超出可能范围', 'the decrypted values are out of range') });
      }
      this.#outcomes[first + j] = mean >= 0 ? PASS : FAIL;
    }
    values.fill(0);
    this.#received[m.batch] = 1;
    this.#receivedCount++;
  }

  /** One outcome per probe, in the order given to start(). */
  result(): FaceOutcome[] {
    if (!this.done) throw sequence('the protocol has not finished', '协议尚未完成');
    return Array.from(this.#outcomes, (o) => (o === PASS ? 'pass' : o === FAIL ? 'fail' : 'unusable'));
  }

  /** SEAL objects holding key material that are still allocated, plus the channel keys (0 after close). */
  keyMaterialLive(): number {
    const k = this.#keys;
    const seal = k ? Object.values(k).filter((o: { instance: unknown }) => o.instance !== undefined && o.instance !== null).length : 0;
    return seal + (this.#channel.wiped ? 0 : 1);
  }

  /** Deletes the secret key and every object holding it (SEAL zeroes freed key memory), the channel keys and the probes. */
  close(): void {
    const keys = this.#keys;
    this.#keys = undefined;
    if (keys) {
      keys.encryptor.delete();
      keys.decryptor.delete();
      keys.publicKey.delete();
      keys.secretKey.delete();
      keys.keyGenerator.delete();
    }
    this.#channel.wipe();
    for (const p of this.#probes ?? []) p.template.fill(0);
  }
}

interface ReferenceState {
  readonly setup: FmSetup;
  readonly plan: ComparisonPlan;
  readonly galoisKeys: GaloisKeys;
  readonly publicKey: PublicKey;
  readonly encryptor: Encryptor;
  readonly received: Uint8Array;
}

export interface ReferenceHolderOptions {
  readonly lookup: ReferenceLookup;
  readonly maxMessageBytes?: number;
}

/** What the reference holder learned: the public job facts and the lookup keys (the keys stay with the caller). */
export interface ReferenceSummary {
  readonly jobId: string;
  readonly modelId: string;
  readonly dimension: number;
  readonly threshold: number;
  readonly comparisons: number;
  /** Comparisons for which this side had no reference of the model (its own data). */
  readonly missing: number;
}

/** The registry's side: reference templates, looked up by key; it never decrypts anything. */
export class FaceReferenceHolder {
  readonly #ctx: CkksContext;
  readonly #lookup: ReferenceLookup;
  readonly #max: number;
  #channel: KeyChannel | undefined;
  #state: ReferenceState | undefined;
  #receivedCount = 0;
  #missing = 0;
  #closed = false;
  #summary: ReferenceSummary | undefined;

  private constructor(ctx: CkksContext, options: ReferenceHolderOptions) {
    this.#ctx = ctx;
    this.#lookup = options.lookup;
    this.#max = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  }

  static async open(options: ReferenceHolderOptions): Promise<FaceReferenceHolder> {
    return new FaceReferenceHolder(await ckksContext(), options);
  }

  /** The reference holder speaks second: nothing to send before the setup. */
  start(): Uint8Array[] {
    if (this.#closed) throw closed();
    return [];
  }

  get done(): boolean { return this.#summary !== undefined; }

  async handle(bytes: Uint8Array): Promise<Uint8Array[]> {
    if (this.#closed) throw closed();
    const m = decodeFmMessage(bytes, this.#max);
    if (m.kind === FM_SETUP) return [this.#accept(m)];
    if (m.kind === FM_PROBES) {
      const s = this.#state;
      if (!s) throw sequence('probes before the setup', '初始化之前收到了探针');
      if (m.jobId !== s.setup.jobId || m.session !== s.setup.session) throw sequence('the message belongs to another job or session', '消息属于另一个任务或会话');
      return [await this.#compare(s, m)];
    }
    throw sequence('the reference holder takes only setup and probe messages', '底库方只接收初始化与探针消息');
  }

  #accept(setup: FmSetup): Uint8Array {
    if (this.#state) throw sequence('a second setup in one session (replayed)', '同一会话收到第二个初始化消息（重放）');
    checkPeerParams(setup.params);
    checkModelId(setup.modelId);
    const plan = planComparison(checkDimension(setup.dimension));
    checkRoom(plan, this.#ctx.dataModulus);
    if (setup.batches !== Math.ceil(setup.comparisons / plan.probesPerGroup) || setup.batches > MAX_GROUPS_PER_SESSION) {
      throw new LabError('LAB-E195', { detail: t('批次数与比对数不符或超出上限', 'the batch count does not match the comparisons or exceeds the limit') });
    }
    const channel = new KeyChannel(setup.session);
    channel.connect(setup.channelKey);
    const { seal, context } = this.#ctx;
    const galoisKeys = seal.GaloisKeys();
    const publicKey = seal.PublicKey();
    try {
      sealCall('LAB-E192', t('旋转密钥无法按参数载入', 'the Galois keys do not load under the parameters'), () => galoisKeys.loadArray(context, setup.galoisKeys));
      sealCall('LAB-E192', t('公钥无法按参数载入', 'the public key does not load under the parameters'), () => publicKey.loadArray(context, setup.publicKey));
      for (const step of plan.rotationSteps) {
        if (!galoisKeys.hasKey(galoisElement(step))) throw new LabError('LAB-E192', { detail: t(`缺少步长 ${step} 的旋转密钥`, `the Galois keys lack step ${step}`) });
      }
    } catch (e) {
      galoisKeys.delete();
      publicKey.delete();
      channel.wipe();
      throw e;
    }
    this.#channel = channel;
    // The setup's blobs are views into the caller's buffer: keep only what is needed.
    const kept: FmSetup = { ...setup, galoisKeys: new Uint8Array(0), publicKey: new Uint8Array(0), channelKey: new Uint8Array(0) };
    this.#state = { setup: kept, plan, galoisKeys, publicKey, encryptor: seal.Encryptor(context, publicKey), received: new Uint8Array(setup.batches) };
    return encodeFmMessage({ kind: FM_ACCEPT, jobId: setup.jobId, session: setup.session, channelKey: channel.publicKey }, this.#max);
  }

  async #compare(s: ReferenceState, m: FmProbes): Promise<Uint8Array> {
    const { setup, plan } = s;
    const channel = this.#channel!;
    if (m.batch >= setup.batches) throw sequence('probe batch beyond the announced batches', '探针批次超出声明的批次数');
    if (s.received[m.batch]) throw sequence('a probe batch arrived twice (replayed)', '同一探针批次收到两次（重放）');
    const { probesPerGroup: B, chunkSize: C, ciphertextsPerGroup: k } = plan;
    const count = Math.min(B, setup.comparisons - m.batch * B);
    if (m.count !== count) throw new LabError('LAB-E192', { detail: t('探针数与批次不符', 'the probe count does not match the batch') });
    const keyBytes = channel.open('probe-to-reference', m.batch, aad(FM_PROBES, setup.jobId, setup.session, m.batch), m.sealedKeys);
    let keys: unknown;
    try {
      keys = JSON.parse(Buffer.from(keyBytes).toString('utf8'));
    } catch (cause) {
      throw new LabError('LAB-E192', { detail: t('查找键列表格式错误', 'the lookup key list is malformed'), cause });
    } finally {
      keyBytes.fill(0);
    }
    if (!Array.isArray(keys) || keys.length !== count || !keys.every((k) => typeof k === 'string' && k.length > 0 && Buffer.byteLength(k, 'utf8') <= MAX_KEY_BYTES)) {
      throw new LabError('LAB-E192', { detail: t('查找键列表格式错误', 'the lookup key list is malformed') });
    }
    if (m.ciphertexts.length !== k) throw new LabError('LAB-E192', { detail: t(`一组探针须有 ${k} 个密文`, `a probe group carries ${k} ciphertexts`) });
    const { seal, encoder, evaluator, dataPrimes } = this.#ctx;
    const cts = m.ciphertexts.map(() => seal.CipherText());
    const ct = cts[0]!;
    const tmp = seal.CipherText();
    const zero = seal.CipherText();
    const refPlain = seal.PlainText();
    const tauPlain = seal.PlainText();
    const y = new Float64Array(SLOT_COUNT);
    const tau = new Float64Array(SLOT_COUNT);
    const masks = sampleMasks(count);
    const status = new Uint8Array(count);
    const units: Float64Array[] = [];
    try {
      m.ciphertexts.forEach((bytes, c) => loadCiphertext(this.#ctx, cts[c]!, bytes, { ntt: true, scaleBits: PROBE_SCALE_BITS }));
      const refs = await this.#lookup(keys as string[], setup.modelId);
      if (this.#closed) throw closed();
      if (refs.length !== count) throw new LabError('LAB-E191', { detail: t('查找结果的个数与查找键不符', 'the lookup returned a different number of references'), field: 'lookup' });
      for (let j = 0; j < B; j++) {
        const ref = j < count ? refs[j] : undefined;
        // Like with like only: another model, another dimension or an empty template is "no reference".
        const usable = ref !== undefined && ref.modelId === setup.modelId && ref.template instanceof Int8Array
          && ref.template.length === setup.dimension && squaredNorm(ref.template) > 0;
        if (j < count && !usable) { status[j] = 1; this.#missing++; }
        // A column without a reference (or without a probe) gets a random unit vector and no threshold:
        // the same work as any other, and a value that says nothing of this side's data.
        const u = usable ? unitVector(ref.template) : randomUnitVector(setup.dimension);
        const r = j < count ? masks[j]! : 1;
        for (let i = 0; i < u.length; i++) u[i]! *= r;
        units.push(u);
        if (usable) for (let i = 0; i < C; i++) tau[i * B + j] = r * setup.threshold;
      }
      const compute = t('密文计算失败', 'the encrypted computation failed');
      sealCall('LAB-E190', compute, () => {
        // Σ over chunks c of (probe chunk c) ⊙ (masked reference chunk c): slot-aligned, same columns.
        for (let c = 0; c < k; c++) {
          y.fill(0);
          units.forEach((u, j) => {
            for (let i = 0; i < C && c * C + i < u.length; i++) y[i * B + j] = u[c * C + i]!;
          });
          encoder.encode(y, 2 ** REFERENCE_SCALE_BITS, refPlain);
          evaluator.multiplyPlain(cts[c]!, refPlain, cts[c]!);
          if (c > 0) evaluator.add(ct, cts[c]!, ct);
        }
        for (const step of plan.rotationSteps) {
          evaluator.rotateVector(ct, step, s.galoisKeys, tmp);
          evaluator.add(ct, tmp, ct);
        }
        encoder.encode(tau, ct.scale, tauPlain);
        evaluator.subPlain(ct, tauPlain, ct);
        // Re-randomise: c1 would otherwise be Σ a_c·p_c, from which P (who knows every a_c) could learn the p_c.
        s.encryptor.encryptZero(zero);
        zero.setScale(ct.scale);
        evaluator.add(ct, zero, ct);
        evaluator.cipherTransformFromNtt(ct, ct);
      });
      const bytes = ct.saveArray(seal.ComprModeType.none);
      const u = sampleFlood(plan.floodBits);
      addToC0(bytes, u, dataPrimes, PROBE_SCALE_BITS + REFERENCE_SCALE_BITS);
      u.fill(0n);
      s.received[m.batch] = 1;
      this.#receivedCount++;
      const sealedStatus = channel.seal('reference-to-probe', m.batch, aad(FM_RESULT, setup.jobId, setup.session, m.batch), status);
      const out = encodeFmMessage({ kind: FM_RESULT, jobId: setup.jobId, session: setup.session, batch: m.batch, count, floodBits: plan.floodBits, sealedStatus, ciphertext: bytes }, this.#max);
      if (this.#receivedCount === setup.batches) {
        this.#summary = { jobId: setup.jobId, modelId: setup.modelId, dimension: setup.dimension, threshold: setup.threshold, comparisons: setup.comparisons, missing: this.#missing };
        this.close();
      }
      return out;
    } finally {
      y.fill(0); tau.fill(0); masks.fill(0); status.fill(0);
      for (const u of units) u.fill(0);
      for (const o of [...cts, tmp, zero, refPlain, tauPlain]) o.delete();
    }
  }

  result(): ReferenceSummary {
    if (!this.#summary) throw sequence('the protocol has not finished', '协议尚未完成');
    return this.#summary;
  }

  keyMaterialLive(): number {
    const s = this.#state;
    const seal = s ? [s.galoisKeys, s.publicKey, s.encryptor].filter((o) => o.instance !== undefined && o.instance !== null).length : 0;
    return seal + (this.#channel && !this.#channel.wiped ? 1 : 0);
  }

  /** Deletes the peer's public and Galois keys and the channel keys. */
  close(): void {
    this.#closed = true;
    const s = this.#state;
    this.#state = undefined;
    if (s) {
      s.encryptor.delete();
      s.galoisKeys.delete();
      s.publicKey.delete();
    }
    this.#channel?.wipe();
  }
}

/** A unit vector from the OS CSPRNG (uniform components, normalised). */
function randomUnitVector(d: number): Float64Array {
  const buf = randomBytes(4 * d);
  const out = new Float64Array(d);
  let n = 0;
  for (let i = 0; i < d; i++) { out[i] = buf.readUInt32LE(4 * i) / 2 ** 31 - 1; n += out[i]! * out[i]!; }
  buf.fill(0);
  n = Math.sqrt(n) || 1;
  for (let i = 0; i < d; i++) out[i]! /= n;
  return out;
}

/** SEAL 4's Galois element of a left rotation by `step` slots: 3^step mod 2N. */
function galoisElement(step: number): number {
  const m = 2 * POLY_MODULUS_DEGREE;
  let e = 1;
  for (let i = 0; i < step; i++) e = (e * 3) % m;
  return e;
}

export const openProbeHolder = (job: ProbeJob): Promise<FaceProbeHolder> => FaceProbeHolder.open(job);
export const openReferenceHolder = (options: ReferenceHolderOptions): Promise<FaceReferenceHolder> => FaceReferenceHolder.open(options);
