import type { Insertable } from 'kysely';
import { z } from 'zod';
import { CATALOG, type DatasetSpec } from '../../sandbox/domains/catalog/index.ts';
import type { GeoUnit as SandboxGeoUnit } from '../../sandbox/domains/geography/city-geography.ts';
import { LabError, t } from '../../sandbox/errors/index.ts';
import type { Database } from '../../sandbox/store/database.ts';
import type { ControlSchema } from '../db/control.schema.ts';
import {
  deleteAllColumns, deleteAllGeoUnits, deleteDatasetsExcept, insertColumns, insertGeoUnits, listColumns, listDatasets,
  listGeoUnits, upsertDatasets, type ColumnInsert, type ColumnRow,
} from '../repositories/catalog.repository.ts';

/**
 * The catalog as the control database holds it: dataset and column metadata copied from the
 * code catalog (`sandbox/domains/catalog`), and the reference geography. Metadata only: no
 * domain row is ever read or stored here.
 */

export interface Bilingual { zh: string; en: string }

export interface CatalogColumn {
  name: string;
  type: string;
  semantic: string;
  level: 'L1' | 'L2' | 'L3' | 'L4';
  label: Bilingual;
  nullable: boolean;
  /** Closed code list of a category column: code → label. */
  values: Record<string, Bilingual> | null;
  /** Clamping bounds of a measure. */
  bounds: [number, number] | null;
  geoLevel: string | null;
}

export interface CatalogDataset {
  id: string;
  domain: string;
  table: string;
  label: Bilingual;
  description: Bilingual;
  unit: { column: string; kind: string };
  columns: CatalogColumn[];
}

export interface GeoUnitView {
  code: string;
  level: 'district' | 'street' | 'community' | 'grid';
  parentCode: string | null;
  name: Bilingual;
  urbanVillage: boolean;
}

/**
 * Writes the code catalog into `catalog_dataset` / `catalog_column` in one transaction.
 * Idempotent: datasets are upserted, datasets no longer in the code catalog are removed, and
 * every column list is replaced.
 */
export async function syncCatalog(control: Database<ControlSchema>, catalog: readonly DatasetSpec[] = CATALOG): Promise<void> {
  await control.kysely.transaction().execute(async (trx) => {
    await deleteAllColumns(trx);
    await deleteDatasetsExcept(trx, catalog.map((d) => d.id));
    await upsertDatasets(trx, catalog.map((d) => ({
      id: d.id, domain: d.domain, table_name: d.table,
      label_zh: d.label.zh, label_en: d.label.en, description_zh: d.description.zh, description_en: d.description.en,
      unit_column: d.unit.column, unit_kind: d.unit.kind,
    })));
    await insertColumns(trx, catalog.flatMap((d) => d.columns.map((c, position): ColumnInsert => ({
      dataset_id: d.id, name: c.name, position, col_type: c.type, semantic: c.semantic, level: c.level,
      label_zh: c.label.zh, label_en: c.label.en, nullable: c.nullable ?? false,
      // An ordered list: jsonb objects do not keep key order, and the declared order is the display order.
      code_values: c.values ? Object.entries(c.values).map(([code, label]) => ({ code, zh: label.zh, en: label.en })) : null,
      bounds: c.bounds ?? null,
      geo_level: c.geoLevel ?? null,
    }))));
  });
}

/** A geography unit as the generator produces it (`sandbox/domains/geography`), or in camelCase. */
export type GeoUnitInput =
  | SandboxGeoUnit
  | { readonly code: string; readonly level: GeoUnitView['level']; readonly parentCode: string | null; readonly nameZh: string; readonly nameEn: string; readonly urbanVillage: boolean };

/** Replaces the reference geography in `geo_unit` (one transaction, batched inserts). */
export async function saveGeography(control: Database<ControlSchema>, units: readonly GeoUnitInput[]): Promise<void> {
  const rows = units.map((u): Insertable<ControlSchema['geo_unit']> => ('parentCode' in u
    ? { code: u.code, level: u.level, parent_code: u.parentCode, name_zh: u.nameZh, name_en: u.nameEn, urban_village: u.urbanVillage }
    : { code: u.code, level: u.level, parent_code: u.parent_code, name_zh: u.name_zh, name_en: u.name_en, urban_village: u.urban_village }));
  await control.kysely.transaction().execute(async (trx) => {
    await deleteAllGeoUnits(trx);
    await insertGeoUnits(trx, rows);
  });
}

/** `catalog_column.code_values`: `[{ code, zh, en }, …]` in the declared order. */
const codeValuesSchema = z.array(z.object({ code: z.string(), zh: z.string(), en: z.string() }));
const boundsSchema = z.tuple([z.number(), z.number()]);

/** Every dataset with its columns, read from the control database. */
export async function readCatalog(control: Database<ControlSchema>): Promise<CatalogDataset[]> {
  const [datasets, columns] = await Promise.all([listDatasets(control.kysely), listColumns(control.kysely)]);
  const byDataset = new Map<string, CatalogColumn[]>();
  for (const c of columns) {
    const list = byDataset.get(c.dataset_id) ?? [];
    list.push(toColumn(c));
    byDataset.set(c.dataset_id, list);
  }
  return datasets.map((d) => ({
    id: d.id, domain: d.domain, table: d.table_name,
    label: { zh: d.label_zh, en: d.label_en },
    description: { zh: d.description_zh, en: d.description_en },
    unit: { column: d.unit_column, kind: d.unit_kind },
    columns: byDataset.get(d.id) ?? [],
  }));
}

function toColumn(c: ColumnRow): CatalogColumn {
  const values = c.code_values === null ? null : codeValuesSchema.safeParse(c.code_values);
  const bounds = c.bounds === null ? null : boundsSchema.safeParse(c.bounds);
  if ((values && !values.success) || (bounds && !bounds.success)) {
    throw new LabError('LAB-E001', { detail: t(`目录列 ${c.dataset_id}.${c.name} 的元数据损坏`, `catalog column ${c.dataset_id}.${c.name} has corrupt metadata`) });
  }
  return {
    name: c.name, type: c.col_type, semantic: c.semantic, level: c.level,
    label: { zh: c.label_zh, en: c.label_en }, nullable: c.nullable,
    values: values?.data ? Object.fromEntries(values.data.map((v) => [v.code, { zh: v.zh, en: v.en }])) : null, bounds: bounds?.data ?? null, geoLevel: c.geo_level,
  };
}

/** The reference geography, parents before children; the tree is given by `parentCode`. */
export async function readGeography(control: Database<ControlSchema>): Promise<GeoUnitView[]> {
  const rows = await listGeoUnits(control.kysely);
  return rows.map((r) => ({ code: r.code, level: r.level, parentCode: r.parent_code, name: { zh: r.name_zh, en: r.name_en }, urbanVillage: r.urban_village }));
}
