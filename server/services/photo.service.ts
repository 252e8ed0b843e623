import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { DOMAIN_IDS, type DomainId } from '../../sandbox/domains/domain-ids.ts';
import { isValidIdNumber } from '../../sandbox/domains/generator/id-number.ts';
import { ERROR_CODES, LabError, t, type ErrorCode } from '../../sandbox/errors/index.ts';
import type { DeliveryResult, QueueDriver } from '../../sandbox/runtime/queue/queue-driver.ts';
import { MAX_PHOTO_BYTES, type PhotoOutcome, type PhotoPayload } from '../../sandbox/runtime/worker/photo-intake.ts';
import type { Database } from '../../sandbox/store/database.ts';
import type { ControlSchema } from '../db/control.schema.ts';
import type { SessionUser } from './auth.service.ts';
import { auditTrailOf, userActor } from './audit.service.ts';
import { authorize } from './policy.service.ts';

type Db = Database<ControlSchema>;

/**
 * Field photos (S5): the coordinator checks what it can without the photo's content (who, which
 * domain, the ID number's check character, the visit date), hands the photo to the domain's worker
 * through the domain's queue and waits for its answer. It keeps nothing of the photo: one audit
 * entry (who, when, which domain, the outcome and its code) — never the image, never the ID
 * number (I1, I2, I3).
 */

/** How long the coordinator waits for the grid worker's answer. */
export const PHOTO_ANSWER_TIMEOUT_MS = 60_000;

/** Domains whose workers take field photos. */
export const PHOTO_DOMAINS: readonly DomainId[] = ['grid'];

export interface PhotoUpload {
  /** The image file, base64. */
  readonly photo: string;
  readonly idNumber: string;
  readonly visit: PhotoPayload['visit'];
}

export interface PhotoAccepted {
  readonly outcome: 'accepted';
  readonly photoId: string;
  readonly visitId: string;
}

/** Per queue: the photo deliveries waiting for their domain's answer. */
const waiting = new WeakMap<QueueDriver, Promise<Map<string, (r: DeliveryResult) => void>>>();

function answersOf(queue: QueueDriver): Promise<Map<string, (r: DeliveryResult) => void>> {
  let p = waiting.get(queue);
  if (!p) {
    const pending = new Map<string, (r: DeliveryResult) => void>();
    p = queue.onResult(PHOTO_DOMAINS, (r) => { pending.get(r.key)?.(r); }).then(() => pending);
    p.catch(() => { waiting.delete(queue); });
    waiting.set(queue, p);
  }
  return p;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const isErrorCode = (code: string): code is ErrorCode => Object.hasOwn(ERROR_CODES, code);
/** Codes that mean "this photo cannot be used" rather than "the request is wrong". */
const UNUSABLE: readonly string[] = ['LAB-E140', 'LAB-E141', 'LAB-E151', 'LAB-E152'];

/** Today anywhere on Earth (UTC+14): a visit dated today in Guangzhou (UTC+8) is never "in the future" here. */
const latestVisitDate = (now: Date): string => new Date(now.getTime() + 14 * 3_600_000).toISOString().slice(0, 10);

function isRealDate(ymd: string): boolean {
  const d = new Date(`${ymd}T00:00:00Z`);
  return /^\d{4}-\d{2}-\d{2}$/.test(ymd) && !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === ymd;
}

/** Checks that need nothing but the request; each names its field. */
function checkUpload(input: PhotoUpload, now: Date): void {
  if (!isValidIdNumber(input.idNumber)) {
    throw new LabError('LAB-E150', { field: 'idNumber', detail: t('请核对证件上的 18 位号码（末位为校验位，可为 X）', 'check the 18 characters on the card (the last is the check character, may be X)') });
  }
  if (!isRealDate(input.visit.visitedOn) || input.visit.visitedOn > latestVisitDate(now)) {
    throw new LabError('LAB-E153', { field: 'visit.visitedOn', detail: t('走访日期须为不晚于今天的有效日期', 'the visit date must be a real date, not in the future') });
  }
  if (!BASE64.test(input.photo) || input.photo.length % 4 !== 0) {
    throw new LabError('LAB-E003', { field: 'photo', detail: t('照片须为 base64 编码的图片文件', 'the photo must be an image file in base64') });
  }
  const bytes = (input.photo.length / 4) * 3 - (input.photo.endsWith('==') ? 2 : input.photo.endsWith('=') ? 1 : 0);
  if (bytes === 0) throw new LabError('LAB-E152', { field: 'photo', detail: t('照片为空', 'the photo is empty') });
  if (bytes > MAX_PHOTO_BYTES) throw new LabError('LAB-E151', { field: 'photo', detail: t('上限 5 MB', 'the limit is 5 MB') });
}

/**
 * Uploads one field photo to a domain: policy `photo.upload` on the domain, checks, then the
 * domain's worker stores it (or refuses it, nothing stored). Every outcome after the policy check
 * is one audit entry `photo.upload`.
 */
export async function uploadFieldPhoto(
  deps: { control: Db; queue?: QueueDriver | undefined; logger: Logger },
  user: SessionUser,
  domainId: string,
  input: PhotoUpload,
  opts: { timeoutMs?: number; now?: Date } = {},
): Promise<PhotoAccepted> {
  const domain = DOMAIN_IDS.find((d) => d === domainId);
  if (!domain) throw new LabError('LAB-E004');
  const decision = await authorize(deps.control, user, 'photo.upload', { type: 'Domain', id: domain });
  const audit = (outcome: 'accepted' | 'unusable' | 'refused' | 'failed', extra: { code?: string; photoId?: string }) =>
    auditTrailOf(deps.control).append({
      actor: userActor(user), action: 'photo.upload', resource: { type: 'domain', id: domain },
      decision: 'allow', policyVersion: decision.policyVersion, detail: { outcome, ...extra },
    });
  const refuse = async (e: LabError): Promise<never> => {
    await audit(UNUSABLE.includes(e.code) ? 'unusable' : 'refused', { code: e.code });
    throw e;
  };

  try {
    if (!PHOTO_DOMAINS.includes(domain)) throw new LabError('LAB-E154', { field: 'id' });
    checkUpload(input, opts.now ?? new Date());
  } catch (e) {
    if (e instanceof LabError) return refuse(e);
    throw e;
  }
  const queue = deps.queue;
  if (!queue) throw new LabError('LAB-E021');

  const key = `photo-${randomUUID()}`;
  const payload: PhotoPayload = { kind: 'field-photo', photo: input.photo, idNumber: input.idNumber, visit: input.visit, capturedBy: user.username };
  const pending = await answersOf(queue);
  const timeoutMs = opts.timeoutMs ?? PHOTO_ANSWER_TIMEOUT_MS;
  let timer: NodeJS.Timeout | undefined;
  const answer = new Promise<DeliveryResult | undefined>((resolve) => {
    pending.set(key, resolve);
    timer = setTimeout(() => resolve(undefined), timeoutMs);
    timer.unref();
  });
  let result: DeliveryResult | undefined;
  try {
    await queue.enqueue({ key, domain, payload }, { attempts: 1 });
    result = await answer;
  } finally {
    clearTimeout(timer);
    pending.delete(key);
    // The delivery carried the photo: drop it from the queue (waiting, running or finished) now.
    await queue.cancel(domain, key).catch((e: unknown) => { deps.logger.warn({ err: e instanceof Error ? e.message : String(e), key }, 'photo delivery not removed from the queue'); });
  }

  if (!result) {
    await audit('failed', { code: 'LAB-E155' });
    throw new LabError('LAB-E155', { detail: t(`${Math.round(timeoutMs / 1000)} 秒内无答复，请稍后重试`, `no answer within ${Math.round(timeoutMs / 1000)} s; try again later`) });
  }
  if (!result.ok) {
    deps.logger.warn({ key, domain, error: result.error }, 'field photo failed in the domain');
    await audit('failed', { code: 'LAB-E156' });
    throw new LabError('LAB-E156', { detail: t('数据域处理照片失败，照片未保存', 'the domain failed to process the photo; nothing was stored') });
  }
  const outcome = result.value as PhotoOutcome | undefined;
  if (outcome?.ok === true && typeof outcome.photoId === 'string' && typeof outcome.visitId === 'string') {
    await audit('accepted', { photoId: outcome.photoId });
    return { outcome: 'accepted', photoId: outcome.photoId, visitId: outcome.visitId };
  }
  if (outcome?.ok === false && isErrorCode(outcome.error.code)) {
    const { code, detail, hint, field } = outcome.error;
    return refuse(new LabError(code, { ...(detail ? { detail } : {}), ...(hint ? { hint } : {}), ...(field ? { field } : {}) }));
  }
  await audit('failed', { code: 'LAB-E156' });
  throw new LabError('LAB-E156');
}
