import { type Insertable, type Kysely, type Selectable } from 'kysely';
import { jsonb } from './jsonb.ts';
import type { ControlSchema } from '../db/control.schema.ts';

/** Kysely queries on the catalog metadata (`catalog_dataset`, `catalog_column`) and `geo_unit`. */
type Db = Kysely<ControlSchema>;
export type DatasetRow = Selectable<ControlSchema['catalog_dataset']>;
export type ColumnRow = Selectable<ControlSchema['catalog_column']>;
export type GeoUnitRow = Selectable<ControlSchema['geo_unit']>;

/** Postgres allows 65 535 bind parameters per statement; stay well below. */
const MAX_PARAMS = 30_000;

function* batches<T>(rows: readonly T[], columnsPerRow: number): Generator<T[]> {
  const size = Math.max(1, Math.floor(MAX_PARAMS / columnsPerRow));
  for (let i = 0; i < rows.length; i += size) yield rows.slice(i, i + size);
}

export async function upsertDatasets(db: Db, rows: readonly Insertable<ControlSchema['catalog_dataset']>[]): Promise<void> {
  if (rows.length === 0) return;
  await db.insertInto('catalog_dataset').values([...rows]).onConflict((oc) => oc.column('id').doUpdateSet((eb) => ({
    domain: eb.ref('excluded.domain'),
    table_name: eb.ref('excluded.table_name'),
    label_zh: eb.ref('excluded.label_zh'),
    label_en: eb.ref('excluded.label_en'),
    description_zh: eb.ref('excluded.description_zh'),
    description_en: eb.ref('excluded.description_en'),
    unit_column: eb.ref('excluded.unit_column'),
    unit_kind: eb.ref('excluded.unit_kind'),
  }))).execute();
}

/** Deletes datasets (and, by cascade, their columns) whose id is not in `keep`. */
export async function deleteDatasetsExcept(db: Db, keep: readonly string[]): Promise<void> {
  let q = db.deleteFrom('catalog_dataset');
  if (keep.length > 0) q = q.where('id', 'not in', [...keep]);
  await q.execute();
}

export async function deleteAllColumns(db: Db): Promise<void> {
  await db.deleteFrom('catalog_column').execute();
}

/** A column row with its JSON fields as plain values (encoded here). */
export type ColumnInsert = Omit<Insertable<ControlSchema['catalog_column']>, 'code_values' | 'bounds'> & { code_values: unknown; bounds: unknown };

export async function insertColumns(db: Db, rows: readonly ColumnInsert[]): Promise<void> {
  const enc = (v: unknown) => (v === null || v === undefined ? null : jsonb(v));
  const encoded = rows.map((r) => ({ ...r, code_values: enc(r.code_values), bounds: enc(r.bounds) }));
  for (const batch of batches(encoded, 12)) await db.insertInto('catalog_column').values(batch).execute();
}

export function listDatasets(db: Db): Promise<DatasetRow[]> {
  return db.selectFrom('catalog_dataset').selectAll().orderBy('domain').orderBy('id').execute();
}

export function listColumns(db: Db): Promise<ColumnRow[]> {
  return db.selectFrom('catalog_column').selectAll().orderBy('dataset_id').orderBy('position').execute();
}

export async function deleteAllGeoUnits(db: Db): Promise<void> {
  await db.deleteFrom('geo_unit').execute();
}

export async function insertGeoUnits(db: Db, rows: readonly Insertable<ControlSchema['geo_unit']>[]): Promise<void> {
  for (const batch of batches(rows, 6)) await db.insertInto('geo_unit').values(batch).execute();
}

const LEVEL_ORDER = { district: 0, street: 1, community: 2, grid: 3 } as const;

/** Every unit, parents before children (by level, then code). */
export async function listGeoUnits(db: Db): Promise<GeoUnitRow[]> {
  const rows = await db.selectFrom('geo_unit').selectAll().orderBy('code').execute();
  return rows.sort((a, b) => LEVEL_ORDER[a.level] - LEVEL_ORDER[b.level] || (a.code < b.code ? -1 : a.code > b.code ? 1 : 0));
}
