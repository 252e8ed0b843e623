import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileRel } from '../../sandbox/compile/plan.compile.ts';
import type { ErrorCode } from '../../sandbox/errors/codes.ts';
import { validatePipeline } from '../../sandbox/pipeline/validate.ts';
import { planPipeline } from '../../sandbox/plan/planner.ts';
import { waitForJob, type ApiClient } from '../support/api-client.ts';
import { createBadInputLab, type BadInputLab } from './bad-input-harness.ts';
import { pathText, stringSites, withString, type StringSite } from './string-fields.ts';

/**
 * Bad input through the real HTTP API: each case must get a 4xx with a LAB-E code (and the node
 * and field where one applies) from both POST /api/pipelines/validate and POST /api/pipelines,
 * and leave no trace: nothing saved, queued or executed.
 */

interface Doc { specVersion: number; name: string; description?: string; nodes: Node[] }
interface Node { id: string; op: string; label?: string; inputs?: Record<string, string>; params: Record<string, unknown>; position?: { x: number; y: number } }

const s1 = JSON.parse(readFileSync(new URL('../../examples/pipelines/s1-population-rollup.json', import.meta.url), 'utf8')) as Doc;
/** S1 with a label on every node, so labels are among the string fields. */
const base = (): Doc => ({ ...structuredClone(s1), nodes: s1.nodes.map((n) => ({ ...structuredClone(n), label: `节点 ${n.id}` })) });
const nodeIndex = (d: Doc, id: string) => d.nodes.findIndex((n) => n.id === id);
const node = (d: Doc, id: string): Node => {
  const n = d.nodes[nodeIndex(d, id)];
  if (!n) throw new Error(`no node ${id}`);
  return n;
};
const mutate = (f: (d: Doc) => void): string => { const d = base(); f(d); return JSON.stringify(d); };

const ENDPOINTS = ['/api/pipelines/validate', '/api/pipelines'] as const;

/** `field: true`: some field must be named. */
interface Refusal { status?: number; code?: ErrorCode; nodeId?: string; field?: string | true }

let t: BadInputLab;
beforeAll(async () => { t = await createBadInputLab(); });
afterAll(async () => { await t?.close(); });

/** Sends `body` to both endpoints; each must refuse it as `want` says and leave no footprint. */
async function expectRefused(body: string, want: Refusal, headers?: Record<string, string>) {
  for (const path of ENDPOINTS) {
    const before = await t.footprint();
    const res = await t.post(path, body, headers);
    const text = await res.text();
    const what = `${path} ← ${body.slice(0, 120)} → ${res.status} ${text.slice(0, 300)}`;
    expect(res.status, what).toBeGreaterThanOrEqual(400);
    expect(res.status, what).toBeLessThan(500);
    if (want.status) expect(res.status, what).toBe(want.status);
    const json = JSON.parse(text) as { code: string; message: string; nodeId?: string; field?: string };
    expect(json.code, what).toMatch(/^LAB-E\d{3}$/);
    expect(json.message.length, what).toBeGreaterThan(0);
    if (want.code) expect(json.code, what).toBe(want.code);
    if (want.nodeId) expect(json.nodeId, what).toBe(want.nodeId);
    if (want.field === true) expect(json.field, what).toMatch(/./);
    else if (want.field) expect(json.field, what).toBe(want.field);
    expect(await t.footprint(), what).toEqual(before);
  }
}

describe('malformed requests', () => {
  it.each([
    ['malformed JSON', '{"specVersion":1,"name":"x",', 400, 'LAB-E002'],
    ['an empty body', '', 400, 'LAB-E002'],
    ['JSON with a trailing comma', '{"specVersion":1,}', 400, 'LAB-E002'],
    ['a JSON array', '[]', 422, 'LAB-E003'],
    ['JSON null', 'null', 422, 'LAB-E003'],
    ['a JSON string', '"pipeline"', 422, 'LAB-E003'],
  ] as const)('%s → %s %s', async (_name, body, status, code) => {
    await expectRefused(body, { status, code });
  });

  it('a body that is not declared JSON → 400 LAB-E002', async () => {
    await expectRefused(JSON.stringify(base()), { status: 400, code: 'LAB-E002' }, { 'content-type': 'text/plain' });
    await expectRefused(JSON.stringify(base()), { status: 400, code: 'LAB-E002' }, {});
  });

  it('a body over 256 KB → 413 LAB-E005, with or without Content-Length', async () => {
    const big = JSON.stringify({ ...base(), description: 'x'.repeat(300 * 1024) });
    await expectRefused(big, { status: 413, code: 'LAB-E005' });
    await expectRefused(big, { status: 413, code: 'LAB-E005' }, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(big)) });
    // Fewer than 256 K characters, but more than 256 KB as UTF-8: the limit is on bytes.
    const wide = JSON.stringify({ ...base(), description: '流'.repeat(100 * 1024) });
    expect(wide.length).toBeLessThan(256 * 1024);
    await expectRefused(wide, { status: 413, code: 'LAB-E005' });
  });

  it('deeply nested JSON (anywhere in the document) → 422 LAB-E003, not a stack overflow', async () => {
    await expectRefused(`${'['.repeat(100_000)}${']'.repeat(100_000)}`, { status: 422, code: 'LAB-E003' });
    const deep = mutate((d) => { node(d, 'persons').params = { dataset: 'registry.person', extra: 0 }; }).replace('"extra":0', `"extra":${'['.repeat(60_000)}${']'.repeat(60_000)}`);
    await expectRefused(deep, { status: 422, code: 'LAB-E003', nodeId: 'persons' });
  });

  it('text Postgres cannot store (NUL, unpaired surrogate) → 422 LAB-E003 naming the field', async () => {
    await expectRefused(JSON.stringify({ ...base(), name: 'S1\u0000' }), { code: 'LAB-E003', field: 'name' });
    await expectRefused(JSON.stringify({ ...base(), description: 'x\ud800y' }), { code: 'LAB-E003', field: 'description' });
    await expectRefused(mutate((d) => { node(d, 'out').params['title'] = 'a\u0000b'; }), { code: 'LAB-E003', nodeId: 'out', field: 'nodes.4.params.title' });
  });

  it('a __proto__ key → 422 LAB-E003 (never silently dropped)', async () => {
    const body = mutate(() => undefined).replace('"params":{"dataset"', '"params":{"__proto__":{"dataset":"registry.person"},"dataset"');
    await expectRefused(body, { code: 'LAB-E003', nodeId: 'persons', field: 'nodes.0.params.__proto__' });
  });
});

describe('documents that are not pipelines of this lab', () => {
  it.each([
    ['specVersion 2', (d: Doc) => { d.specVersion = 2; }],
    ['specVersion "1"', (d: Doc) => { (d as { specVersion: unknown }).specVersion = '1'; }],
    ['no specVersion', (d: Doc) => { delete (d as { specVersion?: unknown }).specVersion; }],
  ])('%s → LAB-E086 on specVersion', async (_name, f) => {
    await expectRefused(mutate(f), { status: 422, code: 'LAB-E086', field: 'specVersion' });
  });

  it.each([
    ['unknown operator', (d: Doc) => { node(d, 'active').op = 'magic@1'; }, 'LAB-E060', 'active', 'op'],
    ['unknown operator version', (d: Doc) => { node(d, 'active').op = 'filter@9'; }, 'LAB-E060', 'active', 'op'],
    ['operator without a version', (d: Doc) => { node(d, 'active').op = 'filter'; }, 'LAB-E003', 'active', 'nodes.1.op'],
    ['unknown key on a node', (d: Doc) => { (node(d, 'active') as unknown as Record<string, unknown>)['sql'] = 'DROP TABLE person'; }, 'LAB-E003', 'active', 'nodes.1.sql'],
    ['unknown key on the document', (d: Doc) => { (d as unknown as Record<string, unknown>)['owner'] = 'admin'; }, 'LAB-E003', undefined, 'owner'],
    ['unknown parameter', (d: Doc) => { node(d, 'active').params['sql'] = 'DROP TABLE person'; }, 'LAB-E003', 'active', 'params'],
    ['duplicate node id', (d: Doc) => { node(d, 'bands').id = 'active'; }, 'LAB-E064', 'active', 'id'],
    ['a cycle', (d: Doc) => { node(d, 'active').inputs = { rows: 'bands' }; }, 'LAB-E066', undefined, 'inputs'],
    ['a node reading itself', (d: Doc) => { node(d, 'active').inputs = { rows: 'active' }; }, 'LAB-E066', 'active', 'inputs'],
    ['a dangling input', (d: Doc) => { node(d, 'active').inputs = { rows: 'ghost' }; }, 'LAB-E061', 'active', 'inputs.rows'],
    ['an unconnected input', (d: Doc) => { node(d, 'active').inputs = {}; }, 'LAB-E061', 'active', 'inputs.rows'],
    ['an input port the operator does not have', (d: Doc) => { node(d, 'active').inputs = { rows: 'persons', more: 'persons' }; }, 'LAB-E061', 'active', 'inputs.more'],
    ['an output port the source does not have', (d: Doc) => { node(d, 'active').inputs = { rows: 'persons.table' }; }, 'LAB-E061', 'active', 'inputs.rows'],
    ['rows into a table port', (d: Doc) => { node(d, 'out').inputs = { table: 'bands' }; }, 'LAB-E061', 'out', 'inputs.table'],
    ['a table into a rows port (and a cycle)', (d: Doc) => { node(d, 'bands').inputs = { rows: 'rollup' }; }, 'LAB-E061', 'bands', 'inputs.rows'],
    ['a table into a rows port (no cycle)', (d: Doc) => { d.nodes.push({ id: 'again', op: 'filter@1', inputs: { rows: 'rollup' }, params: { condition: 'true' } }); }, 'LAB-E061', 'again', 'inputs.rows'],
    ['no output node', (d: Doc) => { d.nodes.pop(); }, 'LAB-E068', undefined, 'nodes'],
    ['unknown dataset', (d: Doc) => { node(d, 'persons').params = { dataset: 'registry.secret' }; }, 'LAB-E062', 'persons', 'params.dataset'],
    ['a dataset spelled as a table', (d: Doc) => { node(d, 'persons').params = { dataset: 'person' }; }, 'LAB-E062', 'persons', 'params.dataset'],
    ['unknown column in an expression', (d: Doc) => { node(d, 'active').params = { condition: "statsu = 'active'" }; }, 'LAB-E052', 'active', 'params.condition'],
    ['unknown column as a group key', (d: Doc) => { node(d, 'rollup').params['by'] = ['household_type', 'gender']; }, 'LAB-E052', 'rollup', 'params.by.1'],
    ['unknown column in a measure', (d: Doc) => { node(d, 'rollup').params['measures'] = [{ kind: 'sum', column: 'income' }]; }, 'LAB-E052', 'rollup', 'params.measures.0.column'],
    ['a sum of a text column', (d: Doc) => { node(d, 'rollup').params['measures'] = [{ kind: 'sum', column: 'sex' }]; }, 'LAB-E051', 'rollup', 'params.measures.0.column'],
    ['arithmetic on text', (d: Doc) => { node(d, 'active').params = { condition: 'status + 1 > 2' }; }, 'LAB-E051', 'active', 'params.condition'],
    ['a date compared with a number', (d: Doc) => { node(d, 'active').params = { condition: 'birth_date > 1990' }; }, 'LAB-E051', 'active', 'params.condition'],
    ['a filter that is not true/false', (d: Doc) => { node(d, 'active').params = { condition: 'age(birth_date)' }; }, 'LAB-E051', 'active', 'params.condition'],
    ['a function with the wrong argument', (d: Doc) => { node(d, 'active').params = { condition: 'age(sex) > 3' }; }, 'LAB-E051', 'active', 'params.condition'],
    ['CASE branches of two types', (d: Doc) => { node(d, 'bands').params = { columns: [{ name: 'age_band', expr: "CASE WHEN sex = 'M' THEN 1 ELSE 'x' END" }] }; }, 'LAB-E051', 'bands', 'params.columns.0.expr'],
    ['a function that is not on the list', (d: Doc) => { node(d, 'active').params = { condition: 'pg_sleep(10) IS NULL' }; }, 'LAB-E053', 'active', 'params.condition'],
    ['a syntax error', (d: Doc) => { node(d, 'active').params = { condition: "status = 'active' AND" }; }, 'LAB-E050', 'active', 'params.condition'],
    ['SQL comment syntax', (d: Doc) => { node(d, 'active').params = { condition: "status = 'active' -- and more" }; }, 'LAB-E050', 'active', 'params.condition'],
    ['a statement separator', (d: Doc) => { node(d, 'active').params = { condition: "status = 'active'; DROP TABLE person" }; }, 'LAB-E050', 'active', 'params.condition'],
    ['a derived column named like an existing one', (d: Doc) => { node(d, 'bands').params = { columns: [{ name: 'sex', expr: "'x'" }] }; }, 'LAB-E064', 'bands', 'params.columns.0.name'],
    ['a derived column name that is not an identifier', (d: Doc) => { node(d, 'bands').params = { columns: [{ name: 'age band"; --', expr: "'x'" }] }; }, 'LAB-E003', 'bands', 'params.columns.0.name'],
  ])('%s → %s', async (_name, f, code, nodeId, field) => {
    await expectRefused(mutate(f), { code: code as ErrorCode, ...(nodeId ? { nodeId } : {}), field });
  });
});

describe('identifiers are never grouped on (I3)', () => {
  it.each([
    ['the ID number', ['id_number']],
    ['the name', ['name']],
    ['the phone', ['phone']],
    ['the address', ['address']],
    ['the domain-local person number', ['person_id']],
  ])('%s directly → LAB-E063 on the key', async (_name, by) => {
    await expectRefused(mutate((d) => { node(d, 'rollup').params['by'] = by; }), { code: 'LAB-E063', nodeId: 'rollup', field: 'params.by.0' });
  });

  it.each([
    ['substr(id_number, 1, 6)'],
    ['substr(id_number, 7, 8)'],
    ['lower(name)'],
    ["coalesce(phone, 'none')"],
    ["CASE WHEN length(address) > 10 THEN address ELSE 'short' END"],
    ['birth_date_from_id(upper(id_number))'],
  ])('through a derivation, %s → LAB-E063', async (expr) => {
    const body = mutate((d) => {
      node(d, 'bands').params = { columns: [{ name: 'age_band', expr: 'bucket(age(birth_date), 0, 15, 25, 45, 60, 80)' }, { name: 'k', expr }] };
      node(d, 'rollup').params['by'] = ['k'];
    });
    await expectRefused(body, { code: 'LAB-E063', nodeId: 'rollup', field: 'params.by.0' });
  });

  it.each([
    ['sum', 'person_id'],
    ['mean', 'household_id'],
  ])('a %s of an identifier (%s) is refused too → LAB-E063 on the measure', async (kind, column) => {
    await expectRefused(mutate((d) => { node(d, 'rollup').params['measures'] = [{ kind, column }]; }), { code: 'LAB-E063', nodeId: 'rollup', field: 'params.measures.0.column' });
  });

  it('through a join bringing an identifier along → LAB-E063', async () => {
    const body = JSON.stringify({
      specVersion: 1, name: 'landlords',
      nodes: [
        { id: 'ten', op: 'source@1', params: { dataset: 'housing.tenancy' } },
        { id: 'house', op: 'source@1', params: { dataset: 'housing.rental_house' } },
        { id: 'j', op: 'join@1', inputs: { left: 'ten', right: 'house' }, params: { leftKey: 'house_id', rightKey: 'house_id', columns: [{ column: 'owner_id_number', as: 'landlord' }] } },
        { id: 'count', op: 'aggregate@1', inputs: { rows: 'j' }, params: { groupBy: ['landlord'], measures: [{ kind: 'count_persons' }] } },
        { id: 'out', op: 'output@1', inputs: { table: 'count' }, params: {} },
      ],
    });
    await expectRefused(body, { code: 'LAB-E063', nodeId: 'count', field: 'params.groupBy.0' });
  });

  it('a derivation the catalog declares safe (region_of_id) is accepted', async () => {
    const body = mutate((d) => {
      node(d, 'bands').params = { columns: [{ name: 'age_band', expr: 'bucket(age(birth_date), 0, 15, 25, 45, 60, 80)' }, { name: 'origin', expr: 'province_of_id(id_number)' }] };
      node(d, 'rollup').params['by'] = ['household_type', 'origin'];
    });
    const res = await t.post('/api/pipelines/validate', body);
    expect(res.status).toBe(200);
  });
});

describe('limits', () => {
  it('more than 200 nodes → LAB-E003 on nodes', async () => {
    const d = base();
    for (let i = 0; d.nodes.length <= 200; i++) d.nodes.push({ id: `f${i}`, op: 'filter@1', inputs: { rows: 'persons' }, params: { condition: 'true' } });
    await expectRefused(JSON.stringify(d), { code: 'LAB-E003', field: 'nodes' });
  });

  it.each([
    ['parentheses', `${'('.repeat(70)}status = 'active'${')'.repeat(70)}`],
    ['NOT', `${'NOT '.repeat(70)}status = 'active'`],
    ['a chain of additions', `${Array.from({ length: 80 }, () => '1').join(' + ')} > 0`],
    ['a chain of ANDs', Array.from({ length: 80 }, () => "status = 'active'").join(' AND ')],
    ['nested CASE', `${'CASE WHEN TRUE THEN '.repeat(70)}TRUE${' END'.repeat(70)}`],
    ['nested calls', `${'abs('.repeat(70)}1${')'.repeat(70)} > 0`],
    ['unary minus', `${'-'.repeat(70)}1 > 0`],
  ])('expression deeper than 64 (%s) → LAB-E054 on the field', async (_name, condition) => {
    await expectRefused(mutate((d) => { node(d, 'active').params = { condition }; }), { code: 'LAB-E054', nodeId: 'active', field: 'params.condition' });
  });

  it('an IN list over 1000 items → LAB-E054; an expression over 8000 characters → LAB-E003', async () => {
    const inList = `household_type IN (${Array.from({ length: 1001 }, (_, i) => `'t${i}'`).join(', ')})`;
    await expectRefused(mutate((d) => { node(d, 'active').params = { condition: inList }; }), { code: 'LAB-E054', nodeId: 'active', field: 'params.condition' });
    const long = `status = '${'a'.repeat(8_100)}'`;
    await expectRefused(mutate((d) => { node(d, 'active').params = { condition: long }; }), { code: 'LAB-E003', nodeId: 'active', field: 'params.condition' });
  });

  it('more than 4 group keys, or a group key listed twice → refused on the field', async () => {
    await expectRefused(mutate((d) => { node(d, 'rollup').params['by'] = ['household_type', 'sex', 'age_band', 'status']; }), { code: 'LAB-E003', nodeId: 'rollup', field: 'params.by' });
    await expectRefused(mutate((d) => { node(d, 'rollup').params['by'] = ['sex', 'sex']; }), { code: 'LAB-E064', nodeId: 'rollup', field: 'params.by' });
  });
});

describe('domains', () => {
  it('an inner join across two domains → LAB-E161 on the join node, from the planner, at validation already', async () => {
    const body = JSON.stringify({
      specVersion: 1, name: 'tenants missing from the registry',
      nodes: [
        { id: 'ten', op: 'source@1', params: { dataset: 'housing.tenancy' } },
        { id: 'reg', op: 'source@1', params: { dataset: 'registry.person' } },
        { id: 'unreg', op: 'join@1', inputs: { left: 'ten', right: 'reg' }, params: { type: 'inner', leftKey: 'tenant_id_number', rightKey: 'id_number' } },
        { id: 'count', op: 'aggregate@1', inputs: { rows: 'unreg' }, params: { measures: [{ kind: 'count_persons' }] } },
        { id: 'out', op: 'output@1', inputs: { table: 'count' }, params: {} },
      ],
    });
    await expectRefused(body, { code: 'LAB-E161', nodeId: 'unreg', field: 'params.type' });
  });
});

const HOSTILE = [
  "'; DROP TABLE person; --",
  '" OR ""="',
  "x') UNION SELECT id_number, name FROM person --",
  '1; SELECT pg_sleep(5)',
  '$1::text); DELETE FROM pipeline; --',
  "status = 'active' OR 1=1 --",
  "*/ pg_read_file('/etc/passwd') /*",
  'persons\u0000',
  'a\ud800b',
];
const storable = (s: string) => !s.includes('\u0000') && !/[\ud800-\udfff]/.test(s);
/** Free text: names, descriptions, labels, titles. Hostile strings there are just text. */
const isFreeText = (site: StringSite) => site.kind === 'value' && /^(name|description|nodes\.\d+\.label|nodes\.\d+\.params\.title)$/.test(pathText(site.path));

describe('SQL-injection strings in every string field of S1 (values and keys)', () => {
  const doc = base();
  const sites = stringSites(doc);

  it('walks every string field: names, ids, operators, inputs, params, expressions, columns, labels, keys', () => {
    const paths = sites.map((s) => `${s.kind}:${pathText(s.path)}`);
    for (const p of ['value:name', 'value:description', 'value:nodes.0.id', 'value:nodes.0.op', 'value:nodes.0.label', 'value:nodes.0.params.dataset',
      'value:nodes.1.inputs.rows', 'value:nodes.1.params.condition', 'value:nodes.2.params.columns.0.name', 'value:nodes.2.params.columns.0.expr',
      'value:nodes.3.params.by.2', 'value:nodes.3.params.measures.0.kind', 'value:nodes.4.params.title', 'value:nodes.4.params.chart',
      'key:specVersion', 'key:nodes.1.inputs.rows', 'key:nodes.3.params.by', 'key:nodes.0.position.x']) {
      expect(paths).toContain(p);
    }
    expect(sites.length).toBeGreaterThan(80);
  });

  it('everywhere but free text: 4xx with a LAB-E code naming the node and field; nothing saved, queued or run', async () => {
    let checked = 0;
    for (const site of sites) {
      const payloads = site.kind === 'key' ? [HOSTILE[0] as string, HOSTILE[4] as string, HOSTILE[7] as string] : HOSTILE;
      for (const payload of payloads) {
        if (isFreeText(site) && storable(payload)) continue;
        const i = site.path[0] === 'nodes' ? Number(site.path[1]) : -1;
        const ownId = site.path.length === 3 && site.path[2] === 'id';
        const nodeId = i >= 0 && !ownId ? doc.nodes[i]?.id : undefined;
        await expectRefused(JSON.stringify(withString(doc, site, payload)), { field: true, ...(nodeId ? { nodeId } : {}) });
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(400);
  });

  it('in free text (name, description, labels, title): stored as text, and the SQL is exactly that of S1', async () => {
    const s1Sql = compiledSql(JSON.stringify(base()));
    for (const site of sites.filter(isFreeText)) {
      for (const payload of HOSTILE.filter(storable)) {
        const body = JSON.stringify(withString(doc, site, payload));
        expect((await t.post('/api/pipelines/validate', body)).status).toBe(200);
        const saved = await t.post('/api/pipelines', body);
        expect(saved.status).toBe(201);
        const { id } = await saved.json() as { id: string };
        const row = await t.lab.control.kysely.selectFrom('pipeline').select(['name', 'spec']).where('id', '=', id).executeTakeFirstOrThrow();
        expect(valueAt(row.spec, site.path)).toBe(payload);
        if (pathText(site.path) === 'name') expect(row.name).toBe(payload);
        expect(compiledSql(body)).toEqual(s1Sql);
      }
    }
  });

  it('inside a string literal of an expression: a value, passed as a parameter, never SQL text', async () => {
    for (const payload of HOSTILE.filter(storable)) {
      const literal = `'${payload.replace(/'/g, "''")}'`;
      const body = mutate((d) => { node(d, 'active').params = { condition: `status = ${literal} OR status = 'active'` }; });
      expect((await t.post('/api/pipelines/validate', body)).status).toBe(200);
      const q = compiledSql(body);
      expect(q.parameters).toContain(payload);
      expect(q.sql).not.toContain(payload);
      expect(q.sql).not.toMatch(/DROP|DELETE|UNION|pg_sleep|pg_read_file/);
    }
  });
});

function valueAt(doc: unknown, path: readonly (string | number)[]): unknown {
  let v = doc;
  for (const p of path) v = (v as Record<string | number, unknown>)[p];
  return v;
}

function compiledSql(body: string) {
  const v = validatePipeline(JSON.parse(body));
  if (!v.ok) throw v.errors[0];
  const stage = planPipeline(v.pipeline).stages[0];
  if (stage?.kind !== 'domain') throw new Error('no domain stage');
  return compileRel(stage.rel, '2026-06-30');
}

describe('found only at run time', () => {
  it('a non-geography group key with more than 40 levels, none in a released cell: the run succeeds and lists nothing it suppressed', async () => {
    // The catalog cannot know how many birth years there are; the guard counts them in the domain,
    // over released cells only (a refusal must not tell what suppressed cells hold: LAB-E065 for a
    // key with more than 40 released values is tested on a city in tests/privacy/side-channels).
    // Here 60 persons have 60 birth years: every cell is suppressed.
    const body = mutate((d) => {
      // Without the filter: on 60 persons `status = 'active'` fails for a handful, and the
      // condition audit would refuse it before the guard is reached (LAB-E125).
      node(d, 'bands').inputs = { rows: 'persons' };
      d.nodes = d.nodes.filter((n) => n.id !== 'active');
      node(d, 'bands').params = { columns: [{ name: 'birth_year', expr: 'year(birth_date)' }] };
      node(d, 'rollup').params = { depth: 'district', by: ['birth_year'] };
    });
    expect((await t.post('/api/pipelines/validate', body)).status).toBe(200);
    const saved = await t.post('/api/pipelines', body);
    expect(saved.status).toBe(201);
    const { id } = await saved.json() as { id: string };
    const run = await t.post(`/api/pipelines/${id}/runs`);
    expect(run.status).toBe(202);
    const { jobId } = await run.json() as { jobId: string };
    const api: ApiClient = { get: (p) => t.get(p), post: (p, b) => t.post(p, b) };
    const job = await waitForJob(api, jobId, 60_000) as { state: string; error: { code?: string; nodeId?: string } | null };
    expect(job.state).toBe('succeeded');
    const result = await t.get(`/api/jobs/${jobId}/result`);
    expect(result.status).toBe(200);
    const { tables } = await result.json() as { tables: { table: { rows: { suppressed: boolean; keys: (string | null)[] }[] } }[] };
    for (const { table } of tables) for (const r of table.rows) expect(r.suppressed, JSON.stringify(r.keys)).toBe(false);
    expect((await t.footprint()).queued).toBe(0);
  });
});
