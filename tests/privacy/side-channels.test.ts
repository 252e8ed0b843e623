import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PROJECT } from '../../server/lab/demo-users.ts';
import { waitForJob } from '../support/api-client.ts';
import {
  BIRTHDAY_SQL, ID_NUMBER, bornOnBirthdayOf, countPipeline, createPrivacyLab, finish, only, runAs, truthQuery, type PipelineDoc, type PrivacyLab, type RunOutcome,
} from './privacy-lab.ts';

/**
 * Leaks around the tables: error bodies, result metadata, job records and events, logs, and the
 * success or failure of a job itself as a one-bit answer.
 */

let p: PrivacyLab;
/**
 * Two patients singled out by their birthday (no other patient shares it; so also by birth date,
 * sex and origin): X has a severe mental disorder, Y not.
 */
let X = '';
let Y = '';
let names: string[] = [];
/** Every body the attackers received in this file, with where it came from. */
const received: { what: string; text: string }[] = [];
const keep = (what: string, o: RunOutcome) => { for (const text of o.bodies) received.push({ what, text }); };

beforeAll(async () => {
  p = await createPrivacyLab({ persons: 10_000, seed: 'privacy-side-channels' });
  const rows = await truthQuery<{ id_number: string; severe: boolean }>(p.domains.health, `
    WITH q AS (SELECT DISTINCT id_number, ${BIRTHDAY_SQL('id_number')} AS qk FROM chronic_condition),
         uniq AS (SELECT qk FROM q GROUP BY qk HAVING count(*) = 1)
    SELECT id_number, bool_or(condition = 'severe_mental') AS severe FROM chronic_condition
    WHERE ${BIRTHDAY_SQL('id_number')} IN (SELECT qk FROM uniq) GROUP BY 1 ORDER BY 1`);
  X = rows.find((r) => r.severe)?.id_number ?? '';
  Y = rows.find((r) => !r.severe)?.id_number ?? '';
  expect(X && Y).toBeTruthy();
  names = (await truthQuery<{ name: string }>(p.domains.registry, 'SELECT DISTINCT name FROM person WHERE char_length(name) >= 2')).map((r) => r.name);
}, 180_000);
afterAll(async () => { await p?.close(); });

describe('result metadata and job records', () => {
  it('a released table carries keys, values and flags only: suppressed cells are null, every released count is marked rounded', async () => {
    const doc: PipelineDoc = {
      specVersion: 1, name: 'S1 by street',
      nodes: [
        { id: 'src', op: 'source@1', params: { dataset: 'registry.person' } },
        { id: 'f', op: 'filter@1', inputs: { rows: 'src' }, params: { condition: "status = 'active'" } },
        { id: 'd', op: 'derive@1', inputs: { rows: 'f' }, params: { columns: [{ name: 'age_band', expr: 'bucket(age(birth_date), 0, 15, 25, 45, 60, 80)' }] } },
        { id: 'agg', op: 'geo-rollup@1', inputs: { rows: 'd' }, params: { depth: 'street', by: ['sex', 'age_band'] } },
        { id: 'out', op: 'output@1', inputs: { table: 'agg' }, params: {} },
      ],
    };
    const out = await runAs(p.analyst, doc);
    keep('S1 by street', out);
    const t = only(out);
    expect(t.rows.some((r) => r.suppressed)).toBe(true);
    for (const r of t.rows) {
      expect(Object.keys(r).sort()).toEqual(['allOfParent', 'grouping', 'keys', 'rounded', 'suppressed', 'values']);
      if (r.suppressed) { expect(r.values.every((v) => v === null)).toBe(true); expect(r.rounded).toBe(false); expect(r.allOfParent).toBe(false); }
      else { expect(r.rounded).toBe(true); for (const v of r.values) expect((v ?? 1) % 5).toBe(0); }
    }
    expect(Object.keys(t.guard).sort()).toEqual(['cells', 'rounding', 'rule', 'suppressed', 'threshold']);
    for (const c of t.columns) expect(Object.keys(c).every((k) => ['name', 'role', 'label', 'measure', 'geoLevel'].includes(k))).toBe(true);
    const text = out.bodies.join('\n');
    expect(text).not.toMatch(/__units|__fp|__top|__grouping|primary|secondary/);
  });

  it('a researcher’s output waiting for review: the job record, its events and the result route show no value of it', async () => {
    const s7 = countPipeline({ name: 'floating by district and sex', dataset: 'registry.person', where: "status = 'active' AND household_type = 'floating'", groupBy: ['district_code', 'sex'] });
    const saved = await p.researcher.post('/api/pipelines', s7);
    const { id } = await saved.json() as { id: string };
    const { jobId } = await (await p.researcher.post(`/api/pipelines/${id}/runs`, { projectId: DEMO_PROJECT })).json() as { jobId: string };
    expect((await p.officer.post(`/api/jobs/${jobId}/approve`, {})).status).toBe(200);
    expect((await waitForJob(p.researcher, jobId)).state).toBe('succeeded');
    const asResearcher = await finish(p.researcher, jobId);
    keep('researcher before review', asResearcher);
    expect(asResearcher.tables.size).toBe(0);
    const officerView = only(await finish(p.officer, jobId));
    const values = officerView.rows.flatMap((r) => r.values).filter((v): v is number => v !== null && v >= 100);
    expect(values.length).toBeGreaterThan(0);
    const seen = asResearcher.bodies.join('\n');
    for (const v of values) expect(seen, `value ${v} of the unreviewed output`).not.toMatch(new RegExp(`"values":\\[[^\\]]*\\b${v}\\b`));
    // No table rows anywhere (the job record carries the pipeline document, whose ports are named "rows").
    expect(seen.replace(/"pipeline":\{.*?"specVersion":1\}/gs, '')).not.toContain('"rows":[');
    expect((await p.researcher.get('/api/approvals')).status).toBe(403);
  });
});

describe('a job’s success or failure as a one-bit answer', () => {
  const outcomes = new Map<string, RunOutcome>();

  it('too many group levels (LAB-E065): the attacker pads a key to exactly 40 values and adds the target’s row as a 41st when the secret holds', async () => {
    // Ages 40…79 all occur among patients (checked on the truth); the target's severe-mental row, if
    // any, becomes the value −1.
    const [ages] = await truthQuery<{ n: number }>(p.domains.health,
      "SELECT count(DISTINCT date_part('year', age(DATE '2026-06-30', to_date(substr(id_number, 7, 8), 'YYYYMMDD'))))::int AS n FROM chronic_condition WHERE date_part('year', age(DATE '2026-06-30', to_date(substr(id_number, 7, 8), 'YYYYMMDD'))) BETWEEN 40 AND 79");
    expect(ages?.n).toBe(40);
    // The target is picked by arithmetic (a condition that singles the person out is refused by
    // the condition audit, the same for X and Y: see differencing.test.ts).
    for (const [label, who] of [['X', X], ['Y', Y]] as const) {
      const target = `(CASE WHEN condition = 'severe_mental' THEN 1 ELSE 0 END) * ${bornOnBirthdayOf(who)}`;
      const out = await runAs(p.analyst, countPipeline({
        name: `level oracle ${label}`, dataset: 'health.chronic_condition',
        where: `least(1, (CASE WHEN age_from_id(id_number) BETWEEN 40 AND 79 THEN 1 ELSE 0 END) + ${target}) = 1`,
        derive: [{ name: 'k', expr: `age_from_id(id_number) - (age_from_id(id_number) + 1) * ${target}` }],
        groupBy: ['k'],
      }));
      keep(`level oracle ${label}`, out);
      outcomes.set(`levels ${label}`, out);
    }
    for (const label of ['X', 'Y']) {
      const o = outcomes.get(`levels ${label}`);
      if (o?.state !== 'succeeded') expect(JSON.stringify(o?.error), 'a refusal names the column, never a value or how many').not.toMatch(/\b41\b|-1\b/);
    }
  });

  // Was a leak (docs/privacy-attacks.md#oracles): the level count included suppressed cells. It now
  // counts the values of released cells only.
  it('… the level check ends the job the same way whether or not the person has the condition', () => {
    expect(outcomes.get('levels X')?.state).toBe(outcomes.get('levels Y')?.state);
    expect(outcomes.get('levels X')?.state).toBe('succeeded');
  });

  it('a key with more than 40 released values is still refused (LAB-E065), naming the column only', async () => {
    const out = await runAs(p.analyst, countPipeline({
      name: 'too many levels', dataset: 'registry.person', derive: [{ name: 'k', expr: 'age(birth_date)' }], groupBy: ['k'],
    }));
    keep('too many levels', out);
    expect(out.state).toBe('failed');
    expect(out.tables.size, 'nothing is released').toBe(0);
    const text = out.bodies.join('\n');
    expect(text).toContain('LAB-E065');
    expect(text).toContain('LAB-E071');
  });

  it('an arithmetic error inside the domain: a product that overflows only on the target’s row when the secret holds', async () => {
    for (const [label, who] of [['X', X], ['Y', Y]] as const) {
      const out = await runAs(p.analyst, countPipeline({
        name: `error oracle ${label}`, dataset: 'health.chronic_condition',
        // Fails for the diabetes rows (so that the condition is not one person's: condition audit)
        // and, when the secret holds, for the target's row, whose product overflows bigint.
        where: `(CASE WHEN condition = 'severe_mental' THEN 1 ELSE 0 END) * ${bornOnBirthdayOf(who)} * age_from_id(id_number) * 3000000000 * 3000000000 * 3000000000 + (CASE WHEN condition = 'diabetes' THEN 1 ELSE 0 END) < 1`,
        groupBy: [],
      }));
      keep(`error oracle ${label}`, out);
      outcomes.set(`error ${label}`, out);
    }
    for (const label of ['X', 'Y']) {
      expect(outcomes.get(`error ${label}`)?.bodies.join('\n'), 'no database message').not.toMatch(/out of range|bigint|postgres/i);
    }
  });

  // Was a leak (docs/privacy-attacks.md#oracles): a bigint overflow on one row failed the stage.
  // Expressions are now compiled total (saturating numeric arithmetic, clamped casts and dates).
  it('… the arithmetic error ends the job the same way whether or not the person has the condition', () => {
    expect(outcomes.get('error X')?.state).toBe(outcomes.get('error Y')?.state);
    expect(outcomes.get('error X')?.state).toBe('succeeded');
  });
});

describe('error bodies', () => {
  it('refusals of identifier keys, unknown columns and other users’ jobs name the field, never a value', async () => {
    const refused = [
      await p.analyst.post('/api/pipelines/validate', countPipeline({ name: 'k', dataset: 'registry.person', derive: [{ name: 'k', expr: 'substr(id_number, 1, 17)' }], groupBy: ['k'] })),
      await p.analyst.post('/api/pipelines/validate', countPipeline({ name: 'k', dataset: 'registry.person', where: 'nmae = 1', groupBy: [] })),
      await p.analyst.get(`/api/jobs/${(outcomes0() ?? 'x')}/result`),
      await p.analyst.post('/api/pipelines/validate', countPipeline({ name: 'k', dataset: 'registry.person', groupBy: ['name'] })),
    ];
    for (const r of refused) {
      expect(r.status).toBeGreaterThanOrEqual(400);
      received.push({ what: `refusal ${r.status}`, text: await r.text() });
    }
  });

  it('nothing the attackers received in this file holds an ID number, a resident’s name, or a guard-internal column', () => {
    expect(received.length).toBeGreaterThan(15);
    expect(names.length, 'the residents\' names to look for').toBeGreaterThan(1000);
    const nameSet = new Set(names);
    for (const { what, text } of received) {
      expect(text, what).not.toMatch(ID_NUMBER);
      expect(text, what).not.toMatch(/__units|__fp|__top/);
      for (const m of text.matchAll(/[\u4e00-\u9fff]{2,4}/g)) {
        // A run of Chinese characters in a body is a label or a message; never a resident's name.
        for (let len = 2; len <= m[0].length; len++) {
          for (let i = 0; i + len <= m[0].length; i++) {
            const s = m[0].slice(i, i + len);
            if (nameSet.has(s) && !LABEL_WORDS.has(s)) expect.fail(`${what}: contains the name ${s}`);
          }
        }
      }
    }
  });

  it('the lab’s own logs (server and domain workers) carry no ID number or name either', () => {
    const text = p.logs.join('\n');
    expect(text.length).toBeGreaterThan(0);
    expect(text).not.toMatch(ID_NUMBER);
    const nameSet = new Set(names);
    for (const m of text.matchAll(/[\u4e00-\u9fff]{2,4}/g)) if (nameSet.has(m[0]) && !LABEL_WORDS.has(m[0])) expect.fail(`log contains the name ${m[0]}`);
  });
});

/** Ordinary words of the lab's labels and messages that happen to be spelt like a generated name. */
const LABEL_WORDS = new Set<string>([]);

/** A job of the researcher's (the analyst must not learn whether it exists). */
function outcomes0(): string | undefined {
  return received.find((r) => r.what === 'researcher before review')?.text.match(/"id":"([0-9a-f-]{36})"/)?.[1];
}
