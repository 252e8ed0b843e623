import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CATALOG } from '../../../sandbox/domains/catalog/index.ts';
import { saveGeography, syncCatalog, type CatalogDataset, type GeoUnitView } from '../../../server/services/catalog.service.ts';
import { createUser } from '../../../server/services/user.service.ts';
import { createServerHarness, signIn, type ServerHarness, type SignedIn } from './server-harness.ts';

/** The catalog routes serve metadata from the control database, never rows, and only to signed-in users. */
describe('catalog routes', () => {
  let h: ServerHarness;
  let s: SignedIn;
  const PASSWORD = 'catalog-reader-pw-1';

  beforeAll(async () => {
    h = await createServerHarness();
    await createUser(h.lab.control, { username: 'reader', displayName: 'Reader', role: 'researcher', password: PASSWORD });
    s = await signIn(h.app, 'reader', PASSWORD);
  });
  afterAll(async () => { await h?.lab.drop(); });

  const get = (path: string) => h.app.request(path, { headers: { cookie: s.cookie } });

  it('requires a signed-in user', async () => {
    for (const p of ['/api/catalog', '/api/catalog/geography']) {
      const res = await h.app.request(p);
      expect(res.status).toBe(401);
      expect((await res.json() as { code: string }).code).toBe('LAB-E011');
    }
  });

  it('syncCatalog writes the code catalog; /api/catalog returns every dataset with its columns', async () => {
    await syncCatalog(h.lab.control);
    const res = await get('/api/catalog');
    expect(res.status).toBe(200);
    const { datasets } = await res.json() as { datasets: CatalogDataset[] };
    expect(datasets.map((d) => d.id).sort()).toEqual(CATALOG.map((d) => d.id).sort());
    for (const spec of CATALOG) {
      const d = datasets.find((x) => x.id === spec.id);
      expect(d, spec.id).toBeDefined();
      if (!d) continue;
      expect(d).toMatchObject({ domain: spec.domain, table: spec.table, label: spec.label, description: spec.description, unit: { column: spec.unit.column, kind: spec.unit.kind } });
      expect(d.columns.map((c) => c.name)).toEqual(spec.columns.map((c) => c.name));
      spec.columns.forEach((c, i) => {
        expect(d.columns[i]).toEqual({
          name: c.name, type: c.type, semantic: c.semantic, level: c.level, label: c.label, nullable: c.nullable ?? false,
          values: c.values ?? null, bounds: c.bounds ? [...c.bounds] : null, geoLevel: c.geoLevel ?? null,
        });
        // Code values keep their declared (display) order.
        if (c.values) expect(Object.keys(d.columns[i]?.values ?? {}), `${spec.id}.${c.name}`).toEqual(Object.keys(c.values));
      });
    }
  });

  it('carries metadata only: exactly the documented fields, no rows', async () => {
    const { datasets } = await (await get('/api/catalog')).json() as { datasets: Record<string, unknown>[] };
    for (const d of datasets) {
      expect(Object.keys(d).sort()).toEqual(['columns', 'description', 'domain', 'id', 'label', 'table', 'unit']);
      for (const c of d['columns'] as Record<string, unknown>[]) {
        expect(Object.keys(c).sort()).toEqual(['bounds', 'geoLevel', 'label', 'level', 'name', 'nullable', 'semantic', 'type', 'values']);
      }
    }
    expect(JSON.stringify(datasets)).not.toMatch(/"rows"|"data"|"sample"/);
  });

  it('syncCatalog is idempotent and removes datasets no longer in the code', async () => {
    await h.lab.control.kysely.insertInto('catalog_dataset').values({
      id: 'civil.stale', domain: 'civil', table_name: 'stale', label_zh: '旧', label_en: 'Stale', description_zh: '', description_en: '', unit_column: 'id_number', unit_kind: 'person',
    }).execute();
    await syncCatalog(h.lab.control);
    await syncCatalog(h.lab.control);
    const counts = async () => ({
      datasets: (await h.lab.control.kysely.selectFrom('catalog_dataset').select('id').execute()).length,
      columns: (await h.lab.control.kysely.selectFrom('catalog_column').select('name').execute()).length,
    });
    expect(await counts()).toEqual({ datasets: CATALOG.length, columns: CATALOG.reduce((n, d) => n + d.columns.length, 0) });
  });

  it('saveGeography replaces the geography; /api/catalog/geography lists it parents first', async () => {
    await saveGeography(h.lab.control, [{ code: 'X', level: 'district', parent_code: null, name_zh: '旧区', name_en: 'Old', urban_village: false }]);
    const units = [
      { code: '440111001001001', level: 'grid', parent_code: '440111001001', name_zh: '三元里村第1网格', name_en: 'Sanyuanli grid 1', urban_village: true },
      { code: '440111001001', level: 'community', parent_code: '440111001', name_zh: '三元里村', name_en: 'Sanyuanli', urban_village: true },
      { code: '440111001', level: 'street', parent_code: '440111', name_zh: '三元里街道', name_en: 'Sanyuanli Subdistrict', urban_village: false },
      { code: '440111', level: 'district', parent_code: null, name_zh: '白云区', name_en: 'Baiyun', urban_village: false },
    ] as const;
    await saveGeography(h.lab.control, units);
    const res = await get('/api/catalog/geography');
    expect(res.status).toBe(200);
    const body = await res.json() as { units: GeoUnitView[] };
    expect(body.units.map((u) => u.code)).toEqual(['440111', '440111001', '440111001001', '440111001001001']);
    expect(body.units[3]).toEqual({ code: '440111001001001', level: 'grid', parentCode: '440111001001', name: { zh: '三元里村第1网格', en: 'Sanyuanli grid 1' }, urbanVillage: true });

    // The camelCase shape is accepted too, and large lists are inserted in batches.
    const many = Array.from({ length: 12_000 }, (_, i) => ({
      code: `G${String(i).padStart(6, '0')}`, level: 'grid' as const, parentCode: '440111001001', nameZh: `网格${i}`, nameEn: `Grid ${i}`, urbanVillage: false,
    }));
    await saveGeography(h.lab.control, many);
    const rows = await h.lab.control.kysely.selectFrom('geo_unit').select('code').execute();
    expect(rows.length).toBe(12_000);
  });
});
