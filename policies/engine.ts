import { createHash } from 'node:crypto';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { SCHEMA_TEXT, policiesById, type DisclosureParams, type PolicyBundle } from './bundle.ts';
import { canonicalJson as sharedCanonicalJson } from '../sandbox/json/canonical-json.ts';

/**
 * The policy engine: Cedar decisions over one stored policy version. Every decision names the
 * version that made it and the policies that determined it (I5).
 *
 * Principals are users in role groups; resources are built with `resource.*` below from facts the
 * server looks up (owner, highest classification read, …) — the engine never reads a database.
 */
export type Role = 'analyst' | 'officer' | 'researcher' | 'steward' | 'admin';

export interface Principal {
  readonly id: number;
  readonly username: string;
  readonly role: Role;
  /** Stewards: the domain they look after. */
  readonly domain: string | null;
  readonly projects?: readonly string[];
}

export type ServiceName = 'catalog' | 'pipelines' | 'policies' | 'audit' | 'users' | 'approvals' | 'reviews' | 'ops';

export type Resource =
  | { readonly type: 'Service'; readonly id: ServiceName }
  | { readonly type: 'Pipeline'; readonly id: string; readonly ownerId: number; readonly maxLevel: number; readonly domainCount: number }
  | { readonly type: 'Job'; readonly id: string; readonly ownerId: number; readonly ownerRole: Role; readonly maxLevel: number; readonly domainCount: number; readonly released: boolean }
  | { readonly type: 'Budget'; readonly id: string; readonly ownerId: number; readonly project: string }
  | { readonly type: 'FollowUpList'; readonly id: string; readonly domain: string }
  | { readonly type: 'Domain'; readonly id: string };

export type Action =
  | 'catalog.read' | 'pipeline.create' | 'pipeline.list' | 'pipeline.read' | 'pipeline.run' | 'pipeline.rename' | 'pipeline.delete'
  | 'job.read' | 'job.cancel' | 'result.read' | 'result.export' | 'job.approve' | 'output.review'
  | 'approval.list' | 'review.list' | 'policy.read' | 'policy.edit' | 'audit.read' | 'audit.verify'
  | 'user.manage' | 'budget.read' | 'budget.grant' | 'followup.read' | 'ops.metrics' | 'photo.upload';

export interface Decision {
  readonly decision: 'allow' | 'needs-approval' | 'deny';
  /** For `needs-approval`: how many distinct officers must approve (the run is then allowed). */
  readonly approvalsRequired: number;
  readonly policyVersion: number;
  /** The @id of the policies that determined the decision (empty for a default deny). */
  readonly policies: readonly string[];
}

/** Most approvals a policy may ask for: the engine asks with 0, 1, … up to this. */
export const MAX_APPROVALS = 2;

const NS = 'Lab';
const uid = (type: string, id: string) => ({ type: `${NS}::${type}`, id });
const ref = (type: string, id: string): cedar.CedarValueJson => ({ __entity: { type: `${NS}::${type}`, id } });

function principalEntities(p: Principal): cedar.EntityJson[] {
  const projects = p.projects ?? [];
  return [
    {
      uid: uid('User', String(p.id)),
      attrs: { username: p.username, domain: p.domain ?? '', projects: projects.map((x) => ref('Project', x)) },
      parents: [uid('Role', p.role)],
    },
    { uid: uid('Role', p.role), attrs: {}, parents: [] },
    ...projects.map((x) => ({ uid: uid('Project', x), attrs: {}, parents: [] })),
  ];
}

function resourceEntity(r: Resource): cedar.EntityJson {
  switch (r.type) {
    case 'Service': return { uid: uid('Service', r.id), attrs: {}, parents: [] };
    case 'Pipeline': return { uid: uid('Pipeline', r.id), attrs: { owner: ref('User', String(r.ownerId)), maxLevel: r.maxLevel, domainCount: r.domainCount }, parents: [] };
    case 'Job': return {
      uid: uid('Job', r.id),
      attrs: { owner: ref('User', String(r.ownerId)), ownerRole: r.ownerRole, maxLevel: r.maxLevel, domainCount: r.domainCount, released: r.released },
      parents: [],
    };
    case 'Budget': return { uid: uid('Budget', r.id), attrs: { owner: ref('User', String(r.ownerId)), project: ref('Project', r.project) }, parents: [] };
    case 'FollowUpList': return { uid: uid('FollowUpList', r.id), attrs: { domain: r.domain }, parents: [] };
    case 'Domain': return { uid: uid('Domain', r.id), attrs: {}, parents: [] };
  }
}

let counter = 0;

export class PolicyEngine {
  readonly version: number;
  readonly params: DisclosureParams;
  readonly hash: string;
  private readonly setId: string;
  private readonly schemaId: string;

  /** `bundle` must have passed `checkBundle` (the policy service only stores checked bundles). */
  constructor(bundle: PolicyBundle, version: number) {
    this.version = version;
    this.params = bundle.params;
    this.hash = bundleHash(bundle);
    counter += 1;
    this.setId = `v${version}-${counter}`;
    this.schemaId = `schema-${this.setId}`;
    const ps = cedar.preparsePolicySet(this.setId, { staticPolicies: policiesById(bundle.cedar) });
    if (ps.type === 'failure') throw new Error(`policy version ${version} does not parse: ${ps.errors[0]?.message ?? ''}`);
    const sc = cedar.preparseSchema(this.schemaId, SCHEMA_TEXT);
    if (sc.type === 'failure') throw new Error(`the Cedar schema does not parse: ${sc.errors[0]?.message ?? ''}`);
  }

  private ask(principal: Principal, action: Action, resource: Resource, context: cedar.Context): { allow: boolean; policies: string[] } {
    const answer = cedar.statefulIsAuthorized({
      principal: uid('User', String(principal.id)),
      action: { type: `${NS}::Action`, id: action },
      resource: uid(resource.type, resource.id),
      context,
      preparsedPolicySetId: this.setId,
      preparsedSchemaName: this.schemaId,
      validateRequest: true,
      entities: [...principalEntities(principal), resourceEntity(resource)],
    });
    if (answer.type === 'failure') throw new Error(`authorisation request rejected: ${answer.errors.map((e) => e.message).join('; ')}`);
    const { decision, diagnostics } = answer.response;
    return { allow: decision === 'allow', policies: diagnostics.reason };
  }

  /**
   * Decides one request. `pipeline.run` is decided three ways: allowed as it is, allowed once
   * n officers approved (needs-approval, n ≤ MAX_APPROVALS), or denied.
   */
  decide(principal: Principal, action: Action, resource: Resource): Decision {
    if (action !== 'pipeline.run') {
      const a = this.ask(principal, action, resource, {});
      return { decision: a.allow ? 'allow' : 'deny', approvalsRequired: 0, policyVersion: this.version, policies: a.policies };
    }
    for (let approvals = 0; approvals <= MAX_APPROVALS; approvals++) {
      const a = this.ask(principal, action, resource, { approvals });
      if (a.allow) {
        return { decision: approvals === 0 ? 'allow' : 'needs-approval', approvalsRequired: approvals, policyVersion: this.version, policies: a.policies };
      }
    }
    return { decision: 'deny', approvalsRequired: 0, policyVersion: this.version, policies: [] };
  }

  /** Whether a run with `approvals` distinct officer approvals is allowed now. */
  allowsRunWith(principal: Principal, resource: Resource, approvals: number): boolean {
    return this.ask(principal, 'pipeline.run', resource, { approvals }).allow;
  }
}

/** SHA-256 of the bundle (Cedar text and canonical parameters). */
export function bundleHash(b: PolicyBundle): string {
  return createHash('sha256').update(b.cedar).update('\0').update(canonicalJson(b.params)).digest('hex');
}

/**
 * JSON with object keys sorted (stable hashes of parameters and pipeline documents): RFC 8785
 * (sandbox/json/canonical-json.ts), keys holding `undefined` left out as JSON.stringify would.
 */
export function canonicalJson(v: unknown): string {
  return sharedCanonicalJson(v, { undefinedKeys: 'drop' });
}
