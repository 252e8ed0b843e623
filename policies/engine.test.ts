import { describe, expect, it } from 'vitest';
import { checkBundle, defaultBundle } from './bundle.ts';
import { PolicyEngine, type Principal, type Resource, type Role } from './engine.ts';

const bundle = defaultBundle();
const checked = checkBundle(bundle.cedar, bundle.params);
if (!checked.ok) throw new Error(`default policy invalid: ${checked.problems[0]?.message ?? ''}`);
const engine = new PolicyEngine(checked.bundle, 7);

const user = (id: number, role: Role, domain: string | null = null): Principal => ({ id, username: `u${id}`, role, domain });
const pipeline = (ownerId: number, maxLevel: number): Resource => ({ type: 'Pipeline', id: 'p', ownerId, maxLevel, domainCount: 1 });
const job = (ownerId: number, ownerRole: Role, released: boolean): Resource => ({ type: 'Job', id: 'j', ownerId, ownerRole, maxLevel: 2, domainCount: 1, released });

describe('the default policy', () => {
  it('is valid against the schema, and every policy is named', () => {
    expect(checked.policyIds).toContain('staff-run');
    expect(checked.policyIds).toContain('no-self-approval');
  });

  it.each([
    ['analyst', 1, 'allow', 0], ['analyst', 3, 'allow', 0], ['analyst', 4, 'needs-approval', 2],
    ['officer', 2, 'allow', 0], ['officer', 4, 'needs-approval', 2],
    ['researcher', 1, 'needs-approval', 1], ['researcher', 3, 'needs-approval', 1], ['researcher', 4, 'needs-approval', 2],
    ['steward', 1, 'deny', 0], ['admin', 1, 'deny', 0],
  ] as const)('a %s running their own pipeline reading L%i: %s (%i approvals)', (role, level, decision, approvals) => {
    const d = engine.decide(user(1, role), 'pipeline.run', pipeline(1, level));
    expect(d).toMatchObject({ decision, approvalsRequired: approvals, policyVersion: 7 });
    if (decision !== 'deny') expect(d.policies.length).toBeGreaterThan(0);
  });

  it('nobody runs someone else’s pipeline', () => {
    for (const role of ['analyst', 'officer', 'researcher', 'admin'] as const) {
      expect(engine.decide(user(1, role), 'pipeline.run', pipeline(2, 1)).decision).toBe('deny');
    }
  });

  it('officers approve and review others’ jobs, never their own; analysts never', () => {
    expect(engine.decide(user(1, 'officer'), 'job.approve', job(2, 'analyst', false)).decision).toBe('allow');
    expect(engine.decide(user(1, 'officer'), 'job.approve', job(1, 'officer', false)).decision).toBe('deny');
    expect(engine.decide(user(1, 'officer'), 'output.review', job(1, 'officer', false)).decision).toBe('deny');
    expect(engine.decide(user(1, 'analyst'), 'job.approve', job(2, 'analyst', false)).decision).toBe('deny');
  });

  it('results reach their owner only once released', () => {
    expect(engine.decide(user(1, 'researcher'), 'result.read', job(1, 'researcher', false)).decision).toBe('deny');
    expect(engine.decide(user(1, 'researcher'), 'result.read', job(1, 'researcher', true)).decision).toBe('allow');
    expect(engine.decide(user(1, 'analyst'), 'result.read', job(2, 'analyst', true)).decision).toBe('deny');
  });

  it('follow-up lists stay with the stewards of their domain', () => {
    const list: Resource = { type: 'FollowUpList', id: 'x', domain: 'registry' };
    expect(engine.decide(user(1, 'steward', 'registry'), 'followup.read', list).decision).toBe('allow');
    expect(engine.decide(user(1, 'steward', 'health'), 'followup.read', list).decision).toBe('deny');
    expect(engine.decide(user(1, 'officer'), 'followup.read', list).decision).toBe('deny');
    expect(engine.decide(user(1, 'analyst'), 'followup.read', list).decision).toBe('deny');
  });
});

describe('checking a policy text', () => {
  it('names line and column of an attribute the schema does not have', () => {
    const text = bundle.cedar.replace('resource.maxLevel <= 3 ||', 'resource.maxLevl <= 3 ||');
    const r = checkBundle(text, bundle.params);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const line = text.split('\n').findIndex((l) => l.includes('maxLevl')) + 1;
    const column = (text.split('\n')[line - 1] ?? '').indexOf('resource.maxLevl') + 1;
    expect(r.problems[0]).toMatchObject({ line, column, policyId: 'staff-run' });
  });

  it('names line and column of a syntax error, even after Chinese comments (byte offsets)', () => {
    const r = checkBundle('// 中文注释\n@id("x")\npermit (principal, action, resource) when { 1 + };', bundle.params);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problems[0]).toMatchObject({ line: 3, column: 49 }); // the `}`
  });

  it('requires @id on every policy and refuses duplicates', () => {
    const noId = checkBundle('permit (principal, action == Lab::Action::"catalog.read", resource);', bundle.params);
    expect(noId.ok).toBe(false);
    const dup = checkBundle('@id("a")\npermit (principal, action == Lab::Action::"catalog.read", resource);\n@id("a")\npermit (principal, action == Lab::Action::"catalog.read", resource);', bundle.params);
    expect(dup.ok).toBe(false);
    if (!dup.ok) expect(dup.problems[0]?.message).toContain('duplicate');
  });

  it('checks the disclosure parameters (a threshold below 3 is not a threshold)', () => {
    const r = checkBundle(bundle.cedar, { ...bundle.params, staff: { ...bundle.params.staff, threshold: 1 } });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problems[0]?.message).toContain('params.staff.threshold');
  });

  it('formats what it accepts', () => {
    const r = checkBundle('@id("c")   permit(principal,action==Lab::Action::"catalog.read",resource);', bundle.params);
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.bundle.cedar).toBe('@id("c")\npermit (\n  principal,\n  action == Lab::Action::"catalog.read",\n  resource\n);\n');
  });
});
