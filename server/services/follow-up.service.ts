import { randomUUID } from 'node:crypto';
import { DOMAIN_IDS, isDomainId, type DomainId } from '../../sandbox/domains/domain-ids.ts';
import { LabError, t } from '../../sandbox/errors/index.ts';
import type { DeliveryResult, QueueDriver } from '../../sandbox/runtime/queue/queue-driver.ts';
import { SealKeyPair } from '../../sandbox/crypto/sealed-box.ts';
import type { FollowUpListInfo, FollowUpReadOutcome, SealedFollowUpRead } from '../../sandbox/runtime/worker/follow-up.ts';
import type { Database } from '../../sandbox/store/database.ts';
import type { ControlSchema } from '../db/control.schema.ts';
import { auditTrailOf, userActor } from './audit.service.ts';
import type { SessionUser } from './auth.service.ts';
import { authorize } from './policy.service.ts';

type Db = Database<ControlSchema>;

/** How long a steward's read waits for the domain's worker. */
export const FOLLOW_UP_READ_TIMEOUT_MS = 30_000;

/** Pending reads per queue: the domain's answer comes back through the queue's result channel. */
const pending = new WeakMap<QueueDriver, Map<string, (r: DeliveryResult) => void>>();

async function waiters(queue: QueueDriver): Promise<Map<string, (r: DeliveryResult) => void>> {
  let m = pending.get(queue);
  if (m) return m;
  const map = new Map<string, (r: DeliveryResult) => void>();
  pending.set(queue, map);
  await queue.onResult(DOMAIN_IDS, (r) => { map.get(r.key)?.(r); });
  m = map;
  return m;
}

/**
 * Asks a domain's worker for its follow-up outbox. The answer is sealed to a key pair made for this
 * request (sandbox/crypto/sealed-box.ts): the queue's broker and logs hold ciphertext only, the
 * control database nothing; the rows exist in clear only in this request's memory, on their way
 * to the steward.
 */
async function askDomain(queue: QueueDriver, domain: DomainId, listId: string | undefined): Promise<FollowUpReadOutcome> {
  const keys = new SealKeyPair();
  try {
    const answer = await askSealed(queue, domain, listId, keys.publicKey.toString('base64'));
    if (!answer.ok) return answer;
    const opened = keys.open(Buffer.from(answer.sealed, 'base64'));
    if (!opened) throw new LabError('LAB-E020', { detail: t('数据域的答复无法解封', 'the domain\u2019s answer could not be opened') });
    return JSON.parse(opened.toString('utf8')) as FollowUpReadOutcome;
  } finally {
    keys.close();
  }
}

async function askSealed(queue: QueueDriver, domain: DomainId, listId: string | undefined, sealTo: string): Promise<SealedFollowUpRead> {
  const map = await waiters(queue);
  const key = `followup.${randomUUID()}`;
  const answer = new Promise<DeliveryResult>((resolve, reject) => {
    const timer = setTimeout(() => { map.delete(key); reject(new LabError('LAB-E020', { detail: t('数据域未在时限内答复', 'the domain did not answer in time') })); }, FOLLOW_UP_READ_TIMEOUT_MS);
    timer.unref();
    map.set(key, (r) => { clearTimeout(timer); map.delete(key); resolve(r); });
  });
  await queue.enqueue({ key, domain, payload: { type: 'follow-up-read', sealTo, ...(listId !== undefined ? { listId } : {}) } }, { attempts: 2, backoffMs: 500 });
  const r = await answer;
  if (!r.ok) throw new LabError('LAB-E020', { detail: t('数据域读取随访名单失败', 'the domain could not read its follow-up lists') });
  return r.value as SealedFollowUpRead;
}

/**
 * Checks the domain and the policy (`followup.read`: stewards of that domain only, 403 LAB-E137
 * for anyone else), then relays the read to the domain. Every read is audited with counts only.
 */
async function checked(db: Db, user: SessionUser, domainId: string, listId: string | undefined) {
  if (!isDomainId(domainId)) throw new LabError('LAB-E004', { detail: t('没有该数据域', 'no such domain') });
  const decision = await authorize(db, user, 'followup.read', { type: 'FollowUpList', id: listId ?? domainId, domain: domainId });
  return { domain: domainId, decision };
}

export async function listFollowUps(db: Db, queue: QueueDriver | undefined, user: SessionUser, domainId: string): Promise<FollowUpListInfo[]> {
  const { domain, decision } = await checked(db, user, domainId, undefined);
  if (!queue) throw new LabError('LAB-E020', { detail: t('任务队列不可用', 'the job queue is not available') });
  const out = await askDomain(queue, domain, undefined);
  if (!out.ok || !('lists' in out)) throw new LabError('LAB-E020');
  await auditTrailOf(db).append({ actor: userActor(user), action: 'followup.list', resource: { type: 'domain', id: domain }, decision: decision.decision, policyVersion: decision.policyVersion, detail: { lists: out.lists.length } });
  return [...out.lists];
}

export async function readFollowUp(db: Db, queue: QueueDriver | undefined, user: SessionUser, domainId: string, listId: string): Promise<{ list: FollowUpListInfo; rows: readonly string[] }> {
  const { domain, decision } = await checked(db, user, domainId, listId);
  if (!queue) throw new LabError('LAB-E020', { detail: t('任务队列不可用', 'the job queue is not available') });
  const out = await askDomain(queue, domain, listId);
  if (!out.ok) throw new LabError('LAB-E166', { detail: t('没有该随访名单', 'no such follow-up list') });
  if (!('list' in out)) throw new LabError('LAB-E020');
  await auditTrailOf(db).append({ actor: userActor(user), action: 'followup.read', resource: { type: 'followup', id: listId }, decision: decision.decision, policyVersion: decision.policyVersion, detail: { domain, rows: out.rows.length, jobId: out.list.jobId } });
  return { list: out.list, rows: out.rows };
}
