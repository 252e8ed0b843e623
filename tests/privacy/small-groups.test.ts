import { sql } from 'kysely';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReleasedTable } from '../../sandbox/disclosure/released-table.ts';
import {
  BIRTHDAY_SQL, QUASI_ID_SQL, bornOnBirthdayOf, countPipeline, createPrivacyLab, only, quasiId, runAs, trueRows, truthQuery, type PipelineDoc, type PipelineNode, type PrivacyLab,
} from './privacy-lab.ts';

/**
 * Small groups: identifiers smuggled into group keys, one person isolated by what a neighbour
 * knows (with and without tags), and small subgroups counted through sums.
 */

let p: PrivacyLab;
beforeAll(async () => { p = await createPrivacyLab({ persons: 10_000, seed: 'privacy-small-groups' }); }, 180_000);
afterAll(async () => { await p?.close(); });

const pipelines = async () => Number((await sql<{ n: number }>`SELECT count(*)::int AS n FROM pipeline`.execute(p.lab.control.kysely)).rows[0]?.n);

/** Both validation and saving refuse the document with LAB-E063 (or `code`) on `nodeId`; nothing is saved. */
async function expectRefused(doc: PipelineDoc, nodeId: string, codes: readonly string[] = ['LAB-E063']) {
  const before = await pipelines();
  for (const path of ['/api/pipelines/validate', '/api/pipelines']) {
    const res = await p.analyst.post(path, doc);
    const body = await res.json() as { code: string; nodeId?: string; field?: string; message: string };
    expect(res.status, `${path}: ${JSON.stringify(body)}`).toBe(422);
    expect(codes).toContain(body.code);
    expect(body.nodeId).toBe(nodeId);
  }
  expect(await pipelines()).toBe(before);
}

describe('an identifier through a derived expression as a group key (I3)', () => {
  it.each([
    ['a prefix of the ID number', 'substr(id_number, 1, 17)'],
    ['the ID number padded', 'length(id_number) + 0'],
    ['the ID number in a test', "id_number IN ('440103194901111937')"],
    ['a CASE on the ID number', "CASE WHEN id_number = '440103194901111937' THEN 'x' ELSE 'y' END"],
    ['the name lower-cased', 'lower(name)'],
    ['the length of the name', 'length(name)'],
    ['the surname', "starts_with(name, '张')"],
    ['the name through CASE', "CASE WHEN sex = 'M' THEN name ELSE name END"],
    ['the name through greatest()', "greatest(name, '')"],
    ['the name through nested calls', 'upper(trim(name))'],
    ['the ID number through nullif()', "nullif(id_number, '')"],
    ['the phone through coalesce()', "coalesce(phone, 'none')"],
    ['part of a phone number', "contains(phone, '138')"],
    ['part of the address', 'substr(address, 1, 30)'],
    ['a safe derivation not applied to the catalog column', 'region_of_id(upper(id_number))'],
    ['the domain-local person number, bucketed', 'person_id % 1000'],
    ['the household number', 'household_id'],
  ])('%s (%s) → LAB-E063 at validation, nothing saved', async (_name, expr) => {
    await expectRefused(countPipeline({ name: 'k', dataset: 'registry.person', derive: [{ name: 'k', expr }], groupBy: ['k'] }), 'agg');
  });

  it('through two derive steps, a join or a union, or as the column of a sum → refused', async () => {
    // Two steps: a column derived from a derived column.
    await expectRefused(countPipeline({ name: 'chain', dataset: 'registry.person', derive: [{ name: 'k1', expr: 'substr(id_number, 1, 18)' }, { name: 'k2', expr: 'substr(k1, 7, 8)' }], groupBy: ['k2'] }), 'agg');
    // A join within the domain bringing the household head's name along.
    await expectRefused({
      specVersion: 1, name: 'join',
      nodes: [
        { id: 'a', op: 'source@1', params: { dataset: 'registry.person' } },
        { id: 'b', op: 'source@1', params: { dataset: 'registry.person' } },
        { id: 'j', op: 'join@1', inputs: { left: 'a', right: 'b' }, params: { leftKey: 'household_id', rightKey: 'household_id', columns: [{ column: 'name', as: 'hh_name' }] } },
        { id: 'agg', op: 'aggregate@1', inputs: { rows: 'j' }, params: { groupBy: ['hh_name'], measures: [{ kind: 'count_persons' }] } },
        { id: 'out', op: 'output@1', inputs: { table: 'agg' }, params: {} },
      ],
    }, 'agg');
    // A union whose two branches derive the key from the name in two ways (origins are merged) …
    const union = (ea: string, eb: string): PipelineDoc => ({
      specVersion: 1, name: 'union',
      nodes: [
        { id: 'a', op: 'source@1', params: { dataset: 'registry.person' } },
        { id: 'da', op: 'derive@1', inputs: { rows: 'a' }, params: { columns: [{ name: 'k', expr: ea }] } },
        { id: 'b', op: 'source@1', params: { dataset: 'registry.person' } },
        { id: 'db', op: 'derive@1', inputs: { rows: 'b' }, params: { columns: [{ name: 'k', expr: eb }] } },
        { id: 'u', op: 'union@1', inputs: { a: 'da', b: 'db' }, params: {} },
        { id: 'agg', op: 'aggregate@1', inputs: { rows: 'u' }, params: { groupBy: ['k'], measures: [{ kind: 'count_persons' }] } },
        { id: 'out', op: 'output@1', inputs: { table: 'agg' }, params: {} },
      ],
    });
    await expectRefused(union('lower(name)', 'upper(name)'), 'agg');
    // … or laundered through a branch with a harmless key of another semantic type: the union drops
    // a column the branches do not share, so the key is unknown (LAB-E052), never an identifier.
    await expectRefused(union('region_of_id(id_number)', 'substr(id_number, 1, 18)'), 'agg', ['LAB-E063', 'LAB-E052']);
    // The column of a sum.
    await expectRefused(countPipeline({ name: 'sum', dataset: 'registry.person', derive: [{ name: 'l', expr: 'length(name)' }], groupBy: ['sex'], measures: [{ kind: 'sum', column: 'l' }] }), 'agg');
  });
});

/** Persons of a dataset whose (birth date, sex, origin) is unique there, with a grouping of their rows. */
/** Persons of a table whom `key` (birth date, sex and origin by default) singles out, with their attributes. */
async function isolatable(db: 'health' | 'civil', table: string, attribute: string, key: (column: string) => string = QUASI_ID_SQL) {
  return truthQuery<{ id_number: string; attrs: string }>(p.domains[db], `
    WITH q AS (SELECT DISTINCT id_number, ${key('id_number')} AS qk FROM ${table}),
         uniq AS (SELECT qk FROM q GROUP BY qk HAVING count(*) = 1)
    SELECT id_number, string_agg(DISTINCT ${attribute}, ',' ORDER BY ${attribute}) AS attrs FROM ${table}
    WHERE ${key('id_number')} IN (SELECT qk FROM uniq) GROUP BY 1 ORDER BY 1`);
}

const listed = (t: ReleasedTable) => t.rows.filter((r) => r.grouping === 0).map((r) => r.keys.join('|')).sort();

describe('isolating one person by what a neighbour knows (birth date, sex, origin: L3, no approval)', () => {
  const views = new Map<string, { listed: string[]; truth: string }>();
  const refusals = new Map<string, unknown>();

  it('the attacker’s filter that singles out a patient is refused (condition audit, LAB-E125), the same for two patients with different conditions', async () => {
    const people = await isolatable('health', 'chronic_condition', 'condition');
    const x = people.find((r) => r.attrs.includes(','));
    const y = people.find((r) => x && r.attrs !== x.attrs);
    if (!x || !y) throw new Error('no targets');
    for (const [label, who] of [['X', x], ['Y', y]] as const) {
      const out = await runAs(p.analyst, countPipeline({ name: `isolate ${label}`, dataset: 'health.chronic_condition', where: quasiId(who.id_number), groupBy: ['condition'] }));
      expect(out.state).toBe('failed');
      expect(out.tables.size).toBe(0);
      const e = out.error as { code?: string; nodeId?: string; field?: string; en?: string };
      refusals.set(label, { code: e.code, nodeId: e.nodeId, field: e.field, en: e.en });
    }
    expect(refusals.get('X')).toMatchObject({ code: 'LAB-E125', nodeId: 'f', field: 'params.condition' });
    expect(refusals.get('X')).toEqual(refusals.get('Y'));
  });

  it('isolated by arithmetic instead (a group key that is 1 on the patient’s birthday): the patient’s cells are suppressed and not listed', async () => {
    const people = await isolatable('health', 'chronic_condition', 'condition', BIRTHDAY_SQL);
    const x = people.find((r) => r.attrs.includes(','));
    const y = people.find((r) => x && r.attrs !== x.attrs);
    if (!x || !y) throw new Error('no targets');
    for (const [label, who] of [['X', x], ['Y', y]] as const) {
      const out = await runAs(p.analyst, countPipeline({
        name: `isolate ${label} by arithmetic`, dataset: 'health.chronic_condition',
        // A key name per target: the release ledger compares cells by key names, and would otherwise
        // suppress Y's cells that differ by one person from X's (the ledger's own oracle:
        // docs/privacy-attacks.md#arithmetic-isolation); here the listing rule is under test.
        derive: [{ name: `k_${label.toLowerCase()}`, expr: bornOnBirthdayOf(who.id_number) }], groupBy: [`k_${label.toLowerCase()}`, 'condition'],
      }));
      const t = only(out);
      for (const r of t.rows) if (r.keys[0] === '1') { expect(r.suppressed).toBe(true); expect(r.values).toEqual([null]); }
      views.set(label, { listed: listed(t), truth: who.attrs });
    }
  });

  // Was a leak (docs/privacy-attacks.md#presence): a suppressed cell was listed with its keys, so
  // the keys of the cells an isolated person makes were that person's attributes. A suppressed cell
  // is now listed only when it holds a released cell.
  it('the attacker sees the same table whatever conditions the isolated person has', () => {
    const [x, y] = [views.get('X'), views.get('Y')];
    expect(x?.truth).not.toBe(y?.truth);
    expect(x?.listed.some((k) => k.startsWith('1|')), 'no cell of the isolated person is listed').toBe(false);
    expect(x?.listed, `X has ${x?.truth}, Y has ${y?.truth}`).toEqual(y?.listed);
  });
});

describe('isolating one person with tags', () => {
  const views = new Map<string, { listed: string[]; truth: string }>();

  it('disability tags for two persons isolated by arithmetic, counted by tag: their counts are suppressed', async () => {
    const people = await isolatable('civil', 'disability', 'disability_type', BIRTHDAY_SQL);
    const x = people.find((r) => /intellectual|mental/.test(r.attrs));
    const y = people.find((r) => !/intellectual|mental/.test(r.attrs));
    if (!x || !y) throw new Error('no targets');
    for (const [label, who] of [['X', x], ['Y', y]] as const) {
      const nodes: PipelineNode[] = [
        { id: 'src', op: 'source@1', params: { dataset: 'civil.disability' } },
        { id: 'tags', op: 'tag@1', inputs: { rows: 'src' }, params: { tags: ['disabled', 'severe_disability', 'intellectual_or_mental_disability'] } },
        // A key name per target (see above).
        { id: 'one', op: 'derive@1', inputs: { rows: 'tags' }, params: { columns: [{ name: `k_${label.toLowerCase()}`, expr: bornOnBirthdayOf(who.id_number) }] } },
        { id: 'agg', op: 'aggregate@1', inputs: { rows: 'one' }, params: { groupBy: [`k_${label.toLowerCase()}`, 'tag'], measures: [{ kind: 'count_persons' }] } },
        { id: 'out', op: 'output@1', inputs: { table: 'agg' }, params: {} },
      ];
      const t = only(await runAs(p.analyst, { specVersion: 1, name: `tags of ${label}`, nodes }));
      for (const r of t.rows) if (r.keys[0] === '1') expect(r.suppressed).toBe(true);
      views.set(label, { listed: listed(t), truth: who.attrs });
    }
  });

  // Was a leak (docs/privacy-attacks.md#presence): as above, with the tag names.
  it('the attacker sees the same table whatever tags the isolated person has', () => {
    const [x, y] = [views.get('X'), views.get('Y')];
    expect(x?.listed.some((k) => k.startsWith('1|'))).toBe(false);
    expect(x?.listed, `X: ${x?.truth}, Y: ${y?.truth}`).toEqual(y?.listed);
  });

  it('key groups per community × tag (S2, civil affairs) with margins requested: no subtotal across tags, no small count released', async () => {
    const s2 = JSON.parse(readFileSync(new URL('../../examples/pipelines/s2-key-groups.json', import.meta.url), 'utf8')) as PipelineDoc;
    const keep = new Set(['elderly', 'elderly_tags', 'disability', 'disability_tags', 'subsidy', 'subsidy_tags', 'civil_1', 'civil_tags', 'civil_count', 'civil']);
    const nodes = s2.nodes.filter((n) => keep.has(n.id)).map((n) => (n.id === 'civil_count' ? { ...n, params: { ...n.params, subtotals: 'margins' } } : n));
    const out = await runAs(p.analyst, { specVersion: 1, name: 'S2 civil with margins', nodes });
    const t = out.tables.get('civil');
    if (!t) throw new Error(`nothing released: ${JSON.stringify(out.error)}`);
    const tagAt = t.columns.findIndex((c) => c.name === 'tag');
    expect(t.rows.length).toBeGreaterThan(0);
    for (const r of t.rows) {
      expect(r.keys[tagAt], 'every cell is within one tag').not.toBeNull();
      for (const v of r.values) if (v !== null) expect(v).toBeGreaterThanOrEqual(10);
    }
  });
});

describe('a small subgroup counted through a sum', () => {
  let table: ReleasedTable | undefined;

  it('patients per community with a sum of a 0/1 indicator (severe mental disorder): communities of ≥ 8 patients with 1…7 such patients exist', async () => {
    const doc = countPipeline({
      name: 'severe mental disorder per community, as a sum', dataset: 'health.chronic_condition',
      derive: [{ name: 'sm', expr: "CASE WHEN condition = 'severe_mental' THEN 1 ELSE 0 END" }],
      groupBy: ['community_code'], measures: [{ kind: 'count_persons' }, { kind: 'sum', column: 'sm', name: 'severe_mental' }],
    });
    const out = await runAs(p.analyst, doc);
    expect(out.state).toBe('succeeded');
    table = only(out);
    // The targets of the attack (the test's look at the truth): cells the count rule alone releases
    // whose indicator sum is a small count.
    const truth = await trueRows(p.domains.health, 'health', doc);
    const targets = truth.filter((r) => Number(r['__units']) > 7 && Number(r['severe_mental']) >= 1 && Number(r['severe_mental']) <= 7);
    expect(targets.length).toBeGreaterThan(0);
  });

  // Was a leak (docs/privacy-attacks.md#indicator-sums): a 0/1 indicator's sum is a count of its
  // own. The count threshold now applies to the persons contributing a non-zero amount.
  it('no released sum is a count of 1…7 persons', () => {
    const small = (table?.rows ?? []).filter((r) => !r.suppressed && (r.values[1] ?? 0) >= 1 && (r.values[1] ?? 0) <= 7);
    expect(small.map((r) => `${r.keys[0]}: ${r.values[1]}`)).toEqual([]);
  });
});
