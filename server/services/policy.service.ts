import { checkBundle, defaultBundle, DisclosureParamsSchema, SCHEMA_TEXT, type PolicyProblem } from '../../policies/bundle.ts';
import { bundleHash, PolicyEngine, type Action, type Decision, type Principal, type Resource } from '../../policies/engine.ts';
import { LabError, t } from '../../sandbox/errors/index.ts';
import type { Database } from '../../sandbox/store/database.ts';
import type { ControlSchema } from '../db/control.schema.ts';
import { policyRepository, type PolicyVersionRow } from '../repositories/policy.repository.ts';
import type { SessionUser } from './auth.service.ts';
import { SYSTEM_ACTOR, auditTrailOf, userActor } from './audit.service.ts';

type Db = Database<ControlSchema>;

/**
 * The policy in force and the decisions it makes. The highest stored version is in force; a new
 * lab stores the default bundle of policies/ as version 1. Engines are cached per version, and
 * the version is looked up on every decision, so an officer's edit applies to the next request in
 * every process.
 */
const engines = new WeakMap<Db, Map<number, PolicyEngine>>();

async function loadEngine(db: Db, version: number): Promise<PolicyEngine> {
  let byVersion = engines.get(db);
  if (!byVersion) { byVersion = new Map(); engines.set(db, byVersion); }
  const cached = byVersion.get(version);
  if (cached) return cached;
  const row = await policyRepository.find(db.kysely, version);
  if (!row) throw new Error(`policy version ${version} vanished`);
  const engine = new PolicyEngine({ cedar: row.cedar, params: DisclosureParamsSchema.parse(row.params) }, version);
  byVersion.set(version, engine);
  return engine;
}

/** The engine of the policy in force (stores the default bundle as version 1 on a new lab). */
export async function activePolicy(db: Db): Promise<PolicyEngine> {
  let version = await policyRepository.latestVersion(db.kysely);
  if (version === null) {
    const b = defaultBundle();
    const check = checkBundle(b.cedar, b.params);
    if (!check.ok) throw new Error(`the default policy is invalid: ${check.problems[0]?.message ?? ''}`);
    const hash = bundleHash(check.bundle);
    if (await policyRepository.insert(db.kysely, { version: 1, cedar: check.bundle.cedar, params: check.bundle.params, hash, createdBy: null, comment: 'default policy (policies/default.cedar, policies/disclosure.json)' })) {
      await auditTrailOf(db).append({ actor: SYSTEM_ACTOR, action: 'policy.install-default', resource: { type: 'policy', id: 1 }, policyVersion: 1, detail: { hash } });
    }
    version = (await policyRepository.latestVersion(db.kysely)) ?? 1;
  }
  return loadEngine(db, version);
}

export async function policyVersion(db: Db, version: number): Promise<PolicyEngine> {
  return loadEngine(db, version);
}

export function principalOf(user: SessionUser, projects: readonly string[] = []): Principal {
  return { id: user.id, username: user.username, role: user.role, domain: user.domain, projects };
}

/** Decides with the policy in force. */
export async function decide(db: Db, user: SessionUser, action: Action, resource: Resource): Promise<Decision> {
  return (await activePolicy(db)).decide(principalOf(user), action, resource);
}

/**
 * Throws unless the policy in force allows `action`: 403 LAB-E137, or 404 LAB-E004 when
 * `secretExistence` (the caller may not even learn the resource exists).
 */
export async function authorize(db: Db, user: SessionUser, action: Action, resource: Resource, opts: { secretExistence?: boolean } = {}): Promise<Decision> {
  const d = await decide(db, user, action, resource);
  if (d.decision === 'allow') return d;
  if (opts.secretExistence) throw new LabError('LAB-E004');
  throw new LabError('LAB-E137', { detail: t(`操作 ${action} 未获策略 v${d.policyVersion} 允许`, `${action} is not allowed by policy v${d.policyVersion}`) });
}

export interface PolicyView {
  version: number;
  hash: string;
  cedar: string;
  params: unknown;
  comment: string;
  createdBy: number | null;
  createdAt: string;
  schema: string;
}

export async function readPolicy(db: Db, version?: number): Promise<PolicyView> {
  const engine = version === undefined ? await activePolicy(db) : undefined;
  const row: PolicyVersionRow | undefined = await policyRepository.find(db.kysely, version ?? engine?.version ?? 1);
  if (!row) throw new LabError('LAB-E004', { detail: t('没有该策略版本', 'no such policy version') });
  return { version: row.version, hash: row.hash, cedar: row.cedar, params: row.params, comment: row.comment, createdBy: row.createdBy, createdAt: row.createdAt.toISOString(), schema: SCHEMA_TEXT };
}

export async function listPolicyVersions(db: Db) {
  await activePolicy(db);
  return (await policyRepository.list(db.kysely)).map((r) => ({ ...r, createdAt: r.createdAt.toISOString() }));
}

export type SaveOutcome =
  | { ok: true; version: number; hash: string; cedar: string }
  | { ok: false; problems: readonly PolicyProblem[] };

/**
 * Stores a new policy version, edited from `baseVersion` (409 LAB-E131 when another edit landed
 * first). The text is validated against the schema and formatted before it is stored; problems
 * come back with line and column and nothing is stored.
 */
export async function savePolicy(db: Db, user: SessionUser, input: { cedar: string; params: unknown; baseVersion: number; comment: string }): Promise<SaveOutcome> {
  const current = await activePolicy(db);
  if (input.baseVersion !== current.version) {
    throw new LabError('LAB-E131', { detail: t(`当前版本为 v${current.version}`, `the policy in force is v${current.version}`), field: 'baseVersion' });
  }
  const check = checkBundle(input.cedar, input.params);
  if (!check.ok) return { ok: false, problems: check.problems };
  const version = current.version + 1;
  const hash = bundleHash(check.bundle);
  const inserted = await policyRepository.insert(db.kysely, { version, cedar: check.bundle.cedar, params: check.bundle.params, hash, createdBy: user.id, comment: input.comment });
  if (!inserted) throw new LabError('LAB-E131', { detail: t('策略刚被他人修改', 'another edit landed first'), field: 'baseVersion' });
  await auditTrailOf(db).append({ actor: userActor(user), action: 'policy.edit', resource: { type: 'policy', id: version }, decision: 'allow', policyVersion: current.version, detail: { hash, from: current.version, comment: input.comment.slice(0, 500) } });
  return { ok: true, version, hash, cedar: check.bundle.cedar };
}
