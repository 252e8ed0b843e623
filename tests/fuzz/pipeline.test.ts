import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { compileRel } from '../../sandbox/compile/plan.compile.ts';
import { isLabError, type LabError } from '../../sandbox/errors/index.ts';
import { validatePipeline } from '../../sandbox/pipeline/validate.ts';
import { planPipeline, type Plan } from '../../sandbox/plan/planner.ts';
import { AS_OF, fuzzRuns, Tally } from './fuzz-support.ts';
import { BASES, mutatedPipeline, reExpressedPipeline } from './pipeline-arbitraries.ts';
import { checkPlanSql } from './sql-shape.ts';

/**
 * The pipeline validator and planner under mutated documents. validatePipeline never throws: it
 * answers valid, or LabErrors of kind `user` (4xx) that name the node (one of the document's) or
 * the field. Planning a valid pipeline throws nothing but such a LabError, and every stage compiles
 * to SQL whose user values are exactly its `$1..$n` parameters — the same SQL again when the
 * document makes the trip through JSON to the domain, which re-validates and re-plans it.
 */

const tally = new Tally('pipelines');
afterAll(() => { console.log(tally.report()); });

const nodeIdsOf = (doc: unknown): string[] => {
  const nodes = doc !== null && typeof doc === 'object' ? (doc as { nodes?: unknown }).nodes : undefined;
  return Array.isArray(nodes) ? nodes.map((n: unknown) => (n !== null && typeof n === 'object' ? (n as { id?: unknown }).id : undefined)).filter((x): x is string => typeof x === 'string') : [];
};

function errorProblems(e: unknown, doc: unknown): string[] {
  if (!isLabError(e)) return [`not a LabError: ${String(e)}`];
  const problems: string[] = [];
  if (!/^LAB-E\d{3}$/.test(e.code)) problems.push(`code ${e.code}`);
  if (e.kind !== 'user' || e.status < 400 || e.status >= 500) problems.push(`${e.code} is ${e.kind}, status ${e.status}`);
  if (e.nodeId !== undefined && !nodeIdsOf(doc).includes(e.nodeId)) problems.push(`${e.code} names node ${JSON.stringify(e.nodeId)}, not in the document`);
  if (e.nodeId === undefined && e.field === undefined && e.code !== 'LAB-E005') problems.push(`${e.code} names neither node nor field: ${e.message}`);
  // The wire form must serialise (the API answers with it).
  JSON.stringify(e.toBody('en'));
  return problems;
}

/** SQL of every stage of a plan (with the options a worker may pass). */
function compiledStages(plan: Plan): { sql: string; parameters: readonly unknown[] }[] {
  return plan.stages.flatMap((s) => {
    if (s.kind !== 'domain') return [];
    const clamp = Object.fromEntries(s.table.measures.filter((m) => m.kind === 'sum' || m.kind === 'mean').map((m) => [m.name, [-5, 100] as const]));
    return [compileRel(s.rel, AS_OF, { jobId: 'fuzz-job' }), compileRel(s.rel, AS_OF, { jobId: 'fuzz-job', fingerprintKey: '8402759183', clampPerUnit: clamp })];
  });
}

/**
 * Validates, plans and compiles; fails the property on anything but the contract. `roundTrip`:
 * also re-validate, re-plan and re-compile the document after JSON (as the domain does).
 */
function checkDocument(doc: unknown, roundTrip = true): string {
  let v: ReturnType<typeof validatePipeline>;
  try {
    v = validatePipeline(doc);
  } catch (e) {
    throw new Error(`validatePipeline threw: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
  }
  if (!v.ok) {
    expect(v.errors.length).toBeGreaterThan(0);
    for (const e of v.errors) expect(errorProblems(e, doc), e.message).toEqual([]);
    return `invalid ${v.errors[0]?.code ?? ''}`;
  }
  let plan: Plan;
  try {
    plan = planPipeline(v.pipeline);
  } catch (e) {
    expect(errorProblems(e, doc), String(e)).toEqual([]);
    return `unplannable ${(e as LabError).code}`;
  }
  const stages = compiledStages(plan);
  for (const q of stages) expect(checkPlanSql(q.sql, q.parameters), q.sql.slice(0, 2000)).toEqual([]);
  if (!roundTrip) return 'planned';
  // The domain gets the document as JSON and compiles its own SQL: it must be the same.
  const again = validatePipeline(JSON.parse(JSON.stringify(doc)));
  expect(again.ok).toBe(true);
  if (again.ok) expect(compiledStages(planPipeline(again.pipeline))).toEqual(stages);
  return 'planned';
}

describe('pipeline fuzzing: validate → plan → compile', () => {
  it('the base documents are valid and plan (the cross-domain semi join as a PSI step)', () => {
    for (const [name, doc] of Object.entries(BASES)) {
      const outcome = checkDocument(doc);
      expect(outcome, name).toBe('planned');
    }
  });

  it('mutated documents: the validator answers, never throws; planning throws only LabErrors; the SQL holds values only as parameters', () => {
    fc.assert(fc.property(mutatedPipeline, ({ doc }) => {
      const outcome = checkDocument(doc);
      tally.add(outcome.startsWith('invalid') ? 'mutated invalid' : `mutated ${outcome.split(' ')[0] ?? ''}`);
    }), fuzzRuns(16_000));
    // Mutations must leave some documents valid, or planning would go untested.
    expect(tally.get('mutated planned')).toBeGreaterThan(fuzzRuns(16_000).numRuns * 0.05);
  });

  it('documents with generated expressions over the inferred columns of a filter, a derived column or a new filter', () => {
    let n = 0;
    fc.assert(fc.property(reExpressedPipeline, ({ doc }) => {
      // Planning the bigger examples takes milliseconds: the JSON round trip on every fourth case.
      const outcome = checkDocument(doc, n++ % 4 === 0);
      tally.add(outcome.startsWith('invalid') ? 'expressions invalid' : `expressions ${outcome.split(' ')[0] ?? ''}`);
    }), fuzzRuns(3_000));
    expect(tally.get('expressions planned')).toBeGreaterThan(fuzzRuns(3_000).numRuns * 0.7);
  });
});
