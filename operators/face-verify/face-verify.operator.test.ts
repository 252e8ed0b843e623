import { describe, expect, it } from 'vitest';
import { compileRel } from '../../sandbox/compile/plan.compile.ts';
import type { RowsRelation } from '../../sandbox/pipeline/relation.ts';
import { planReads } from '../../sandbox/plan/levels.ts';
import { planPipeline, type DomainStage, type ProtocolStep } from '../../sandbox/plan/planner.ts';
import { firstError, valid } from '../validate-for-tests.ts';

const doc = (params: Record<string, unknown> = {}, source = 'grid.visit') => ({
  specVersion: 1, name: 'face verification',
  nodes: [
    { id: 'visits', op: 'source@1', params: { dataset: source } },
    { id: 'verify', op: 'face-verify@1', inputs: { rows: 'visits' }, params },
    { id: 'count', op: 'aggregate@1', inputs: { rows: 'verify' }, params: { groupBy: ['district_code', 'face_outcome'], measures: [{ kind: 'count_persons' }] } },
    { id: 'out', op: 'output@1', inputs: { table: 'count' }, params: {} },
  ],
});

describe('face-verify@1', () => {
  it('adds face_outcome (pass / fail / unusable, L2, groupable), drops the template, and names the registry\u2019s references among the datasets', () => {
    const r = valid(doc()).byId.get('verify')?.outputs['rows'] as RowsRelation;
    expect(r.domain).toBe('grid');
    expect(r.columns.map((c) => c.name)).not.toContain('face_template');
    const outcome = r.columns.find((c) => c.name === 'face_outcome');
    expect(outcome).toMatchObject({ level: 'L2', semantic: 'category', identifierOrigins: [] });
    expect(Object.keys(outcome?.values ?? {})).toEqual(['pass', 'fail', 'unusable']);
    expect(r.datasets).toEqual(['grid.visit', 'registry.reference_photo']);
  });

  it('is planned as a face-compare step (grid probes, registry references) before the stage that reads its outcomes', () => {
    const plan = planPipeline(valid(doc()));
    const [step, stage] = plan.stages as [ProtocolStep, DomainStage];
    expect(step).toMatchObject({ kind: 'protocol', id: 'face~verify', protocol: 'face-compare', receiver: 'grid', sender: 'registry', nodeId: 'verify' });
    expect(step.face).toMatchObject({ modelId: 'synthetic-128', dimension: 128, threshold: 0.5, key: 'visit_id', lookup: 'id_number', template: 'face_template' });
    expect(stage).toMatchObject({ kind: 'domain', id: 'out', domain: 'grid', after: ['face~verify'] });
    expect(plan.datasets).toEqual(['grid.visit', 'registry.reference_photo']);
    expect(planReads(plan)).toEqual({ maxLevel: 4, domains: ['grid', 'registry'] });
    // The stage reads the outcomes of its own job and step; a visit not compared is 'unusable'.
    const q = compileRel(stage.rel, '2026-06-30', { jobId: 'job-1' });
    expect(q.sql).toMatch(/LEFT JOIN "lab_face_outcome" o ON o\."job_id" = \$\d+::text AND o\."step_id" = \$\d+::text AND o\."visit_key" = s\."visit_id"::text/);
    expect(q.sql).toMatch(/COALESCE\(o\."outcome", \$\d+::text\) AS "face_outcome"/);
    expect(q.parameters).toEqual(expect.arrayContaining(['job-1', 'face~verify', 'unusable']));
    expect(() => compileRel(stage.rel, '2026-06-30')).toThrow(/without its job/);
  });

  it('takes a model with its dimension and threshold; an unknown model without them is LAB-E147', () => {
    const step = planPipeline(valid(doc({ model: 'other-512', dimension: 512, threshold: 0.62 }))).stages[0] as ProtocolStep;
    expect(step.face).toMatchObject({ modelId: 'other-512', dimension: 512, threshold: 0.62 });
    expect(firstError(doc({ model: 'other-512' }))).toMatchObject({ code: 'LAB-E147', nodeId: 'verify', field: 'params.dimension' });
    expect(firstError(doc({ model: 'other-512', dimension: 512 }))).toMatchObject({ code: 'LAB-E147', field: 'params.threshold' });
    expect(firstError(doc({ dimension: 256 }))).toMatchObject({ code: 'LAB-E147', field: 'params.dimension' });
  });

  it('refuses rows that are not visits with face templates (LAB-E146)', () => {
    expect(firstError(doc({}, 'grid.incident'))).toMatchObject({ code: 'LAB-E146', nodeId: 'verify', field: 'inputs.rows' });
    expect(firstError(doc({}, 'registry.person'))).toMatchObject({ code: 'LAB-E146' });
  });

  it('never lets the template be grouped or output downstream: the column is gone', () => {
    const d = doc();
    (d.nodes[2] as { params: unknown }).params = { groupBy: ['face_template'], measures: [{ kind: 'count_persons' }] };
    expect(firstError(d).code).toMatch(/^LAB-E0/);
  });
});
