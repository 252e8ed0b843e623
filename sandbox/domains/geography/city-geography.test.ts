import { describe, expect, it } from 'vitest';
import { buildGeography, geographyCounts } from './city-geography.ts';
import { DISTRICTS } from './guangzhou.data.ts';

const REAL_DISTRICTS = {
  '440103': '荔湾区', '440104': '越秀区', '440105': '海珠区', '440106': '天河区', '440111': '白云区', '440112': '黄埔区',
  '440113': '番禺区', '440114': '花都区', '440115': '南沙区', '440117': '从化区', '440118': '增城区',
};

describe('the synthetic Guangzhou geography', () => {
  it('has the 11 real districts with their GB codes', () => {
    const g = buildGeography(10_000, 's');
    const districts = g.units.filter((u) => u.level === 'district');
    expect(Object.fromEntries(districts.map((d) => [d.code, d.name_zh]))).toEqual(REAL_DISTRICTS);
  });

  it('nests codes: street = district + 3 digits, community = street + 3, grid = community + 3', () => {
    const g = buildGeography(50_000, 's');
    const byCode = new Map(g.units.map((u) => [u.code, u]));
    expect(byCode.size).toBe(g.units.length);
    const length = { district: 6, street: 9, community: 12, grid: 15 } as const;
    for (const u of g.units) {
      expect(u.code).toMatch(/^\d+$/);
      expect(u.code.length).toBe(length[u.level]);
      if (u.level === 'district') expect(u.parent_code).toBeNull();
      else {
        expect(u.parent_code).toBe(u.code.slice(0, u.code.length - 3));
        expect(byCode.get(u.parent_code ?? '')?.level).toBe(u.level === 'street' ? 'district' : u.level === 'community' ? 'street' : 'community');
      }
      expect(u.name_zh.length).toBeGreaterThan(0);
      expect(u.name_en.length).toBeGreaterThan(0);
      expect(`${u.name_zh}${u.name_en}`).not.toMatch(/[\t\n\\]/);
    }
  });

  it('scales with the population: few streets at 10 k, the real 176 and ≈ 900 per grid at full scale', () => {
    const small = geographyCounts(buildGeography(10_000, 's').units);
    expect(small.streets).toBe(22);
    expect(small.communities).toBeGreaterThanOrEqual(66);
    expect(10_000 / small.grids).toBeGreaterThan(40);
    const full = geographyCounts(buildGeography(18_700_000, 's').units);
    expect(full.streets).toBe(176);
    expect(full.communities).toBeGreaterThan(2500);
    expect(18_700_000 / full.grids).toBeGreaterThan(800);
    expect(18_700_000 / full.grids).toBeLessThan(1000);
    const mid = geographyCounts(buildGeography(1_000_000, 's').units);
    expect(mid.streets).toBeGreaterThan(small.streets);
    expect(mid.streets).toBeLessThan(full.streets);
  });

  it('includes real urban villages, flagged, down to the smallest city', () => {
    const g = buildGeography(10_000, 's');
    const villages = g.units.filter((u) => u.level === 'community' && u.urban_village).map((u) => u.name_zh);
    for (const name of ['三元里村', '江夏村', '石牌村', '冼村', '杨箕村', '康乐村']) expect(villages).toContain(name);
    const full = buildGeography(18_700_000, 's');
    for (const name of ['猎德村', '棠下村']) expect(full.units.some((u) => u.name_zh === name && u.urban_village)).toBe(true);
    // Grids inherit the flag of their community.
    for (const u of g.units.filter((x) => x.level === 'grid')) {
      expect(u.urban_village).toBe(g.units.find((c) => c.code === u.parent_code)?.urban_village);
    }
  });

  it('spreads residents by the 2020 census shares and is deterministic', () => {
    const g = buildGeography(1_000_000, 's');
    const total = DISTRICTS.reduce((a, d) => a + d.population, 0);
    DISTRICTS.forEach((d, i) => {
      let sum = 0;
      for (let k = g.districtGridFrom[i] ?? 0; k < (g.districtGridTo[i] ?? 0); k++) sum += g.gridWeight[k] ?? 0;
      expect(sum / 1_000_000).toBeCloseTo(d.population / total, 6);
    });
    expect(buildGeography(20_000, 'a').units).toEqual(buildGeography(20_000, 'a').units);
    expect(buildGeography(20_000, 'a').units).not.toEqual(buildGeography(20_000, 'b').units);
  });
});
