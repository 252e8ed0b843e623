import { describe, expect, it } from 'vitest';
import { buildPlan } from './city-plan.ts';
import { addPerson, addHouse, emptyFacts, emptyTruth, finalizeTruth, NO_DATE, type PersonFacts } from './ground-truth.ts';
import { addMonths, dayFromYmd } from './dates.ts';

/**
 * The scenario definitions (docs/data.md) on hand-made persons: window edges, tie-breaking and
 * precedence. asOf = 2026-06-30, so W = (2025-06-30, 2026-06-30] and Q = [2026-04-01, 2026-06-30].
 */
const plan = buildPlan(10_000, 'truth-test', '2026-06-30');
const D = (y: number, m: number, d: number) => dayFromYmd(y, m, d);
const W_START = D(2025, 6, 30);
const districtCode = (i: number) => plan.geo.districts[i]?.code ?? '?';
const gridOf = (district: number) => plan.geo.districtGridFrom[district] ?? 0;
const communityOf = (district: number) => plan.geo.gridCommunity[gridOf(district)] ?? 0;

function registered(id: string, district: number, o: Partial<NonNullable<PersonFacts['registry']>> = {}, birth = D(1980, 1, 1)): PersonFacts {
  const f = emptyFacts(id, birth);
  f.registry = { active: true, floating: false, sex: 0, district, community: communityOf(district), grid: gridOf(district), registeredOn: D(2000, 1, 1), ...o };
  return f;
}

function truthOf(...persons: PersonFacts[]) {
  const t = emptyTruth(plan);
  for (const p of persons) addPerson(t, plan, p);
  return finalizeTruth(t, plan, { generatorVersion: 'test', contentHash: 'test' });
}

describe('ground truth definitions', () => {
  it('uses W = (asOf − 12 months, asOf] and Q = the three calendar months ending at asOf', () => {
    expect(plan.wStart).toBe(W_START);
    expect(plan.qStart).toBe(D(2026, 4, 1));
    expect(addMonths(plan.asOf, -12)).toBe(W_START);
    const t = truthOf();
    expect(t.window).toEqual({ after: '2025-06-30', through: '2026-06-30' });
    expect(t.quarter).toEqual({ from: '2026-04-01', through: '2026-06-30' });
  });

  it('S1/S7 count active registry persons only, by age at asOf', () => {
    const a = registered('A', 0, {}, D(1946, 6, 30)); // 80 on asOf
    const b = registered('B', 0, {}, D(1946, 7, 1)); // still 79
    const c = registered('C', 0, { active: false });
    const f = registered('F', 1, { floating: true, sex: 1 }, D(2001, 7, 1)); // 24
    const t = truthOf(a, b, c, f);
    expect(t.s1.cells).toContainEqual([plan.geo.gridCodes[gridOf(0)], 'local', 'M', '80+', 1]);
    expect(t.s1.cells).toContainEqual([plan.geo.gridCodes[gridOf(0)], 'local', 'M', '60-79', 1]);
    expect(t.s1.cells.reduce((s, x) => s + x[4], 0)).toBe(3);
    expect(t.s7.cells).toEqual([[districtCode(1), '20-24', 'F', 1]]);
    expect(Object.values(t.s2.elderly_80)).toEqual([1]);
    expect(Object.values(t.s2.floating)).toEqual([1]);
  });

  it('S2 subsidies count only when active at asOf', () => {
    const p = registered('P', 0);
    const c = communityOf(0);
    p.subsidies.push({ type: 'dibao', since: D(2020, 1, 1), until: plan.asOf, community: c }); // ended on asOf: not active
    p.subsidies.push({ type: 'tekun', since: plan.asOf, until: NO_DATE, community: c }); // starts on asOf: active
    const q = registered('Q', 0);
    q.subsidies.push({ type: 'dibao', since: D(2020, 1, 1), until: plan.asOf + 1, community: c });
    const t = truthOf(p, q);
    expect(Object.values(t.s2.dibao)).toEqual([1]);
    expect(Object.values(t.s2.tekun)).toEqual([1]);
  });

  it('S4a counts unregistered persons seen in W, per source at their most recent row', () => {
    const u = emptyFacts('U', D(1990, 1, 1));
    u.employment.push({ id: 10, start: D(2020, 1, 1), end: W_START, district: 0 }); // ended on the window start: not in W
    u.visits.push({ id: 20, day: W_START + 1, district: 2 });
    u.visits.push({ id: 21, day: W_START + 1, district: 3 }); // same day, greater id wins
    const v = emptyFacts('V', D(1990, 1, 1));
    v.tenancy.push({ id: 30, start: D(2024, 1, 1), end: W_START + 1, houseDistrict: 4 });
    v.tenancy.push({ id: 31, start: D(2026, 1, 1), end: NO_DATE, houseDistrict: 5 });
    const old = emptyFacts('O', D(1990, 1, 1));
    old.visits.push({ id: 40, day: W_START, district: 1 }); // only before W
    const t = truthOf(u, v, old, registered('R', 0));
    expect(t.s4a.total).toBe(2);
    expect(t.s4a.idNumbers).toEqual(['U', 'V']);
    expect(t.s4a.bySource.employment).toEqual({});
    expect(t.s4a.bySource.visit).toEqual({ [districtCode(3)]: 1 });
    expect(t.s4a.bySource.tenancy).toEqual({ [districtCode(5)]: 1 });
  });

  it('S4b: deceased first; inactive only when registered ≥ 12 months and no activity in W', () => {
    const dead = registered('D1', 2);
    dead.death = true;
    dead.insurance.push({ first: D(2010, 1, 1), last: D(2026, 6, 1) });
    const idle = registered('I1', 2);
    idle.insurance.push({ first: D(2010, 1, 1), last: D(2025, 6, 1) });
    idle.chronic.push({ condition: 'diabetes', lastVisit: W_START, community: 0 });
    const recent = registered('N1', 2, { registeredOn: W_START + 1 }); // registered inside W: not checked
    const active = registered('A1', 2);
    active.pregnancy.push({ registeredOn: plan.asOf, ongoing: true, community: 0 });
    const t = truthOf(dead, idle, recent, active);
    expect(t.s4b.byDistrictReason).toEqual([[districtCode(2), 'deceased', 1], [districtCode(2), 'inactive', 1]]);
    expect(t.s4b.idNumbers).toEqual(['D1', 'I1']);
  });

  it('S4c: the tenancy active at asOf decides, else the latest visit in W', () => {
    const a = registered('A', 0);
    a.tenancy.push({ id: 1, start: D(2025, 1, 1), end: NO_DATE, houseDistrict: 3 });
    a.visits.push({ id: 2, day: D(2026, 5, 1), district: 0 });
    const b = registered('B', 0);
    b.tenancy.push({ id: 1, start: D(2025, 1, 1), end: plan.asOf, houseDistrict: 3 }); // ended on asOf: not active
    b.visits.push({ id: 2, day: D(2026, 5, 1), district: 0 });
    const c = registered('C', 0);
    c.visits.push({ id: 5, day: D(2026, 5, 1), district: 4 });
    c.visits.push({ id: 4, day: D(2026, 5, 1), district: 0 }); // same day, lower id loses
    const f = registered('F', 0, { floating: true });
    f.tenancy.push({ id: 1, start: D(2025, 1, 1), end: NO_DATE, houseDistrict: 3 });
    const t = truthOf(a, b, c, f);
    expect(t.s4c.idNumbers).toEqual(['A', 'C']);
    expect(t.s4c.byDistrict).toEqual({ [districtCode(0)]: 2 });
  });

  it('S6: first sighting with source order registry, employment, tenancy, visit, insurance', () => {
    const q = D(2026, 4, 1);
    const a = registered('A', 0, { registeredOn: q + 5, floating: true }); // registry in Q
    a.employment.push({ id: 1, start: q + 5, end: NO_DATE, district: 1 }); // same day: registry wins
    const b = emptyFacts('B', D(1990, 1, 1)); // unregistered: insurance ignored
    b.insurance.push({ first: q - 30, last: q });
    b.tenancy.push({ id: 7, start: q + 1, end: NO_DATE, houseDistrict: 2 });
    b.visits.push({ id: 8, day: q + 1, district: 3 }); // same day: tenancy wins
    const c = registered('C', 4, { registeredOn: q + 10 });
    c.insurance.push({ first: q, last: q }); // registered: insurance counts, located at the registry district
    const d = registered('D', 5, { registeredOn: q + 10 });
    d.visits.push({ id: 9, day: q - 1, district: 5 }); // first seen before Q
    const t = truthOf(a, b, c, d);
    expect(t.s6.registry).toEqual({ [districtCode(0)]: 1 });
    expect(t.s6.anyDomain).toEqual({ [districtCode(0)]: 1, [districtCode(2)]: 1, [districtCode(4)]: 1 });
  });

  it('S3: undeclared houses with an incident in W', () => {
    const t = emptyTruth(plan);
    addHouse(t, plan, 1, 0, [W_START], 0); // incident only on the window start
    addHouse(t, plan, 2, 0, [W_START + 1], 0);
    addHouse(t, plan, 3, 0, [plan.asOf], 1); // declared
    addHouse(t, plan, 4, 1, [D(2020, 1, 1), plan.asOf], 0);
    const f = finalizeTruth(t, plan, { generatorVersion: 'x', contentHash: 'x' });
    expect(f.s3.houseIds).toEqual([2, 4]);
    expect(f.s3.byDistrict).toEqual({ [districtCode(0)]: 1, [districtCode(1)]: 1 });
  });
});
