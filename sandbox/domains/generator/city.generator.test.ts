import { beforeAll, describe, expect, it } from 'vitest';
import { buildGeography } from '../geography/city-geography.ts';
import { buildPlan, PERSON_TASKS, SLOTS_PER_TASK } from './city-plan.ts';
import { generateCity, type GenerateResult } from './city-generation.ts';
import { IdAllocator } from './city.generator.ts';
import { cityContentHash, rowsPerTable } from './content-hash.ts';
import { dayFromYmd } from './dates.ts';
import { finalizeTruth } from './ground-truth.ts';
import { isValidIdNumber } from './id-number.ts';
import { geographyCopyText } from './load.ts';
import { TABLES, UTF8_TABLES } from './tables.ts';

const AS_OF = '2026-06-30';

/** Generates a city in this thread and keeps every row as text, per dataset id. */
async function generateText(persons: number, seed: string, threads = 0): Promise<{ g: GenerateResult; text: Map<string, string[]>; hash: string; ascii: Map<string, boolean> }> {
  const parts = new Map<string, string[]>();
  const ascii = new Map<string, boolean>();
  const decoder = new TextDecoder();
  const g = await generateCity({
    persons, seed, asOf: AS_OF, threads,
    sink: (table, bytes, _rows, taken) => {
      const id = TABLES[table]?.id ?? '?';
      let onlyAscii = ascii.get(id) ?? true;
      for (const b of bytes) if (b > 127) { onlyAscii = false; break; }
      ascii.set(id, onlyAscii);
      const list = parts.get(id) ?? [];
      list.push(decoder.decode(bytes));
      parts.set(id, list);
      taken();
    },
  });
  const text = new Map<string, string[]>();
  for (const [id, chunks] of parts) text.set(id, chunks.join('').split('\n').filter((l) => l.length > 0));
  const hash = cityContentHash({ persons, seed, asOf: AS_OF, geoText: geographyCopyText(buildGeography(persons, seed).units), tasks: g.tasks });
  return { g, text, hash, ascii };
}

describe('the city generator', () => {
  let city: Awaited<ReturnType<typeof generateText>>;
  beforeAll(async () => { city = await generateText(20_000, 'unit-test'); });
  const rows = (id: string) => city.text.get(id) ?? [];
  const col = (id: string, name: string) => {
    const i = TABLES.find((t) => t.id === id)?.columns.indexOf(name) ?? -1;
    return rows(id).map((line) => line.split('\t')[i] ?? '');
  };

  it('fills every table of the catalog, with the catalog column count on every row', () => {
    for (const t of TABLES) {
      const lines = rows(t.id);
      expect(lines.length, t.id).toBeGreaterThan(0);
      expect(lines.length, t.id).toBe(rowsPerTable(city.g.tasks)[t.id]);
      const bad = lines.filter((l) => l.split('\t').length !== t.columns.length);
      expect(bad.slice(0, 3), t.id).toEqual([]);
      if (!UTF8_TABLES.has(t.id)) expect(city.ascii.get(t.id), `${t.id} must be pure ASCII (it is encoded as Latin-1)`).toBe(true);
    }
  });

  it('writes only valid GB 11643 ID numbers, unique per person, matching sex and birth date', () => {
    const idColumns: [string, string][] = [
      ['registry.person', 'id_number'], ['registry.reference_photo', 'id_number'], ['social.employment', 'id_number'],
      ['social.insurance', 'id_number'], ['health.chronic_condition', 'id_number'], ['health.pregnancy', 'id_number'],
      ['health.birth', 'mother_id_number'], ['civil.elderly_alone', 'id_number'], ['civil.disability', 'id_number'],
      ['civil.subsidy', 'id_number'], ['civil.death', 'id_number'], ['housing.rental_house', 'owner_id_number'],
      ['housing.tenancy', 'tenant_id_number'], ['grid.visit', 'id_number'],
    ];
    for (const [table, column] of idColumns) {
      const invalid = col(table, column).filter((id) => !isValidIdNumber(id));
      expect(invalid.slice(0, 3), `${table}.${column}`).toEqual([]);
    }
    const ids = col('registry.person', 'id_number');
    expect(new Set(ids).size).toBe(ids.length);
    // Everyone has at most one medical insurance row: two people sharing a number would show up here.
    const insurance = rows('social.insurance').map((l) => l.split('\t')).filter((f) => f[1] === 'medical').map((f) => f[0] ?? '');
    expect(new Set(insurance).size).toBe(insurance.length);
    // Landlords use reserved sequence slots, so they are never one of the persons.
    const persons = new Set([...ids, ...insurance, ...col('grid.visit', 'id_number'), ...col('housing.tenancy', 'tenant_id_number')]);
    expect(col('housing.rental_house', 'owner_id_number').filter((id) => persons.has(id))).toEqual([]);
    for (const line of rows('registry.person')) {
      const f = line.split('\t');
      const id = f[1] ?? '';
      expect(Number(id.charAt(16)) % 2 === 1 ? 'M' : 'F').toBe(f[3]);
      expect(`${id.slice(6, 10)}-${id.slice(10, 12)}-${id.slice(12, 14)}`).toBe(f[4]);
    }
  });

  it('gives locals Guangzhou district codes and floating people codes from elsewhere', () => {
    const districts = new Set(buildGeography(20_000, 'unit-test').units.filter((u) => u.level === 'district').map((u) => u.code));
    let floating = 0;
    for (const line of rows('registry.person')) {
      const f = line.split('\t');
      const region = (f[1] ?? '').slice(0, 6);
      if (f[7] === 'local') expect(districts.has(region), region).toBe(true);
      else {
        floating++;
        expect(region.startsWith('4401'), region).toBe(false);
        expect(f[8]).toBe(region);
      }
    }
    expect(floating).toBeGreaterThan(0);
  });

  it('keeps dates consistent: nothing after asOf except expected deliveries and fixed-term subsidies', () => {
    const checks: [string, string][] = [
      ['registry.person', 'registered_on'], ['registry.person', 'deregistered_on'], ['social.employment', 'start_date'],
      ['social.employment', 'end_date'], ['social.insurance', 'last_paid_month'], ['health.chronic_condition', 'last_visit_on'],
      ['housing.tenancy', 'start_date'], ['housing.tenancy', 'end_date'], ['grid.visit', 'visited_on'], ['grid.incident', 'reported_on'],
      ['civil.death', 'death_date'], ['housing.self_declaration', 'declared_on'],
    ];
    for (const [table, column] of checks) {
      const late = col(table, column).filter((d) => d !== '\\N' && d > AS_OF);
      expect(late.slice(0, 3), `${table}.${column}`).toEqual([]);
    }
    for (const line of rows('social.employment')) {
      const f = line.split('\t');
      if (f[8] !== '\\N') expect((f[8] ?? '') >= (f[7] ?? '')).toBe(true);
    }
  });

  it('uses the same normalised address key for a house in housing and in grid', () => {
    const houseKeys = new Set(col('housing.rental_house', 'address_key'));
    const visitKeys = col('grid.visit', 'address_key').filter((k) => k.includes('-H'));
    expect(visitKeys.length).toBeGreaterThan(0);
    expect(visitKeys.filter((k) => !houseKeys.has(k))).toEqual([]);
    const incidentKeys = col('grid.incident', 'address_key').filter((k) => k.includes('-H'));
    expect(incidentKeys.filter((k) => !houseKeys.has(k))).toEqual([]);
  });

  it('plants the documented rates', () => {
    const t = finalizeTruth(city.g.truth, city.g.plan, { generatorVersion: 'x', contentHash: 'x' });
    const active = t.s1.cells.reduce((a, c) => a + c[4], 0);
    const floating = t.s1.cells.filter((c) => c[1] === 'floating').reduce((a, c) => a + c[4], 0);
    const reason = (r: string) => t.s4b.byDistrictReason.filter((x) => x[1] === r).reduce((a, x) => a + x[2], 0);
    expect(floating / active).toBeGreaterThan(0.32);
    expect(floating / active).toBeLessThan(0.40);
    const unregistered = t.s4a.total / (floating + t.s4a.total);
    expect(unregistered).toBeGreaterThan(0.04);
    expect(unregistered).toBeLessThan(0.09);
    expect(reason('deceased') / active).toBeGreaterThan(0.0015);
    expect(reason('deceased') / active).toBeLessThan(0.005);
    // Only the planted households are inactive: everyone else is active in W (medical insurance at least).
    expect(reason('inactive') / active).toBeGreaterThan(0.002);
    expect(reason('inactive') / active).toBeLessThan(0.01);
    expect(t.s4c.total / (active - floating)).toBeGreaterThan(0.05);
    expect(t.s4c.total / (active - floating)).toBeLessThan(0.12);
    expect(t.s3.total).toBeGreaterThan(0);
    expect(Object.keys(t.s6.anyDomain).length).toBeGreaterThan(5);
    expect(Object.keys(t.s2.elderly_alone).length).toBeGreaterThan(5);
  });

  it('is deterministic: same seed and size, same content hash, whatever the thread count', async () => {
    const again = await generateText(20_000, 'unit-test', 2);
    expect(again.hash).toBe(city.hash);
    const other = await generateText(20_000, 'unit-test-2');
    expect(other.hash).not.toBe(city.hash);
    const bigger = await generateText(20_001, 'unit-test');
    expect(bigger.hash).not.toBe(city.hash);
  });

  it('never hands out the same ID number twice, even when one birth date is crowded', () => {
    const plan = buildPlan(10_000, 'ids', AS_OF);
    const alloc = new IdAllocator(plan);
    const birth = dayFromYmd(1990, 5, 17);
    const seen = new Set<string>();
    let moved = 0;
    for (let task = 0; task < PERSON_TASKS; task++) {
      alloc.reset();
      for (let i = 0; i < SLOTS_PER_TASK + 5; i++) {
        for (const male of [true, false]) {
          const id = alloc.allocate(task, 3, birth, male, birth - 30, birth + 30);
          if (id.birth !== birth) moved++;
          expect(isValidIdNumber(id.idNumber)).toBe(true);
          expect(Number(id.idNumber.charAt(16)) % 2 === 1).toBe(male);
          seen.add(id.idNumber);
        }
      }
    }
    expect(seen.size).toBe(PERSON_TASKS * (SLOTS_PER_TASK + 5) * 2);
    expect(moved).toBe(PERSON_TASKS * 5 * 2);
  });
});
