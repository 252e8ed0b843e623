import type { Kysely } from 'kysely';
import type { DomainId } from '../domain-ids.ts';
import type { GeoUnit } from '../geography/city-geography.ts';
import { quoteIdent, type Database } from '../../store/database.ts';
import { TABLES } from './tables.ts';

/**
 * Loading one domain database: reset it, COPY the geography and the tables, build indexes,
 * ANALYZE, and only then write the completion marker in lab_meta. A domain is all-or-nothing: a
 * load that stopped half-way has no `complete` key and is redone from scratch on the next seed.
 */

interface MetaSchema { lab_meta: { key: string; value: string } }
const metaDb = (db: Database): Kysely<MetaSchema> => db.kysely as unknown as Kysely<MetaSchema>;

/** What a finished load records in lab_meta (all values are text). */
export interface LoadMeta {
  seed: string;
  persons: number;
  as_of: string;
  generator_version: string;
  content_hash: string;
  /** JSON: rows per dataset id of the whole city (all domains). */
  rows: string;
}

export async function readMeta(db: Database): Promise<Record<string, string>> {
  const rows = await metaDb(db).selectFrom('lab_meta').select(['key', 'value']).execute();
  return Object.fromEntries(rows.map((r) => [r.key, r.value]));
}

/** True when the domain already holds a complete load of this city (same seed, size, snapshot date, generator). */
export function isCompleteLoad(meta: Record<string, string>, want: { seed: string; persons: number; asOf: string; version: string }): boolean {
  return meta['complete'] === 'true' && meta['seed'] === want.seed && meta['persons'] === String(want.persons)
    && meta['as_of'] === want.asOf && meta['generator_version'] === want.version;
}

/**
 * Indexes built after COPY (none exist during the load, which keeps COPY fast): the identifiers and
 * keys that joins and lookups use (ID numbers, house ids, address keys, household ids). Geography
 * codes are not indexed: statistics read whole tables, and on a libc collation every text index
 * costs ≈ 1.7 µs per row to build (docs/benchmarks.md).
 */
export const DOMAIN_INDEXES: Record<DomainId, readonly { table: string; columns: readonly string[]; unique?: boolean }[]> = {
  registry: [
    { table: 'person', columns: ['id_number'], unique: true },
    { table: 'person', columns: ['household_id'] },
    { table: 'household', columns: ['household_id'], unique: true },
    { table: 'reference_photo', columns: ['id_number'] },
  ],
  social: [
    { table: 'employment', columns: ['id_number'] },
    { table: 'insurance', columns: ['id_number'] },
  ],
  health: [
    { table: 'chronic_condition', columns: ['id_number'] },
    { table: 'pregnancy', columns: ['id_number'] },
    { table: 'birth', columns: ['mother_id_number'] },
  ],
  civil: [
    { table: 'elderly_alone', columns: ['id_number'] },
    { table: 'disability', columns: ['id_number'] },
    { table: 'subsidy', columns: ['id_number'] },
    { table: 'death', columns: ['id_number'] },
  ],
  housing: [
    { table: 'rental_house', columns: ['house_id'], unique: true },
    { table: 'rental_house', columns: ['address_key'] },
    { table: 'tenancy', columns: ['tenant_id_number'] },
    { table: 'tenancy', columns: ['house_id'] },
    { table: 'self_declaration', columns: ['house_id'] },
  ],
  grid: [
    { table: 'visit', columns: ['id_number'] },
    { table: 'incident', columns: ['address_key'] },
  ],
};

const indexName = (table: string, columns: readonly string[]) => `${table}_${columns.join('_')}_idx`;

/** Text key columns: ID numbers and address keys, compared for equality only. */
const TEXT_KEYS = new Set(['id_number', 'mother_id_number', 'tenant_id_number', 'owner_id_number', 'address_key']);

/**
 * CREATE INDEX for one entry. Text keys use `text_pattern_ops`: byte-wise comparison, which serves
 * `=` lookups and joins exactly like the default operator class (equality does not depend on the
 * collation) but builds ≈ 35 % faster than sorting with the database's libc collation (C.UTF-8 is
 * not special-cased by Postgres 15). Such an index does not serve ORDER BY or range scans on the
 * key, which nobody needs on an ID number.
 */
export function createIndexSql(ix: { table: string; columns: readonly string[]; unique?: boolean }): string {
  const cols = ix.columns.map((c) => (TEXT_KEYS.has(c) ? `${quoteIdent(c)} text_pattern_ops` : quoteIdent(c)));
  return `CREATE ${ix.unique ? 'UNIQUE ' : ''}INDEX ${quoteIdent(indexName(ix.table, ix.columns))} ON ${quoteIdent(ix.table)} (${cols.join(', ')})`;
}

/** The tables of a domain the generator fills, plus geo_unit. */
export const domainTables = (domain: DomainId): string[] => ['geo_unit', ...TABLES.filter((t) => t.domain === domain).map((t) => t.table)];

/**
 * What a domain keeps about its loaded population besides the data (cleared with it when the city
 * is loaded again): the release ledger, protocol-step members and face outcomes, follow-up lists,
 * field photos and enrolled reference images. Those a domain's migrations did not create are skipped.
 */
const POPULATION_BOOKKEEPING = ['lab_release_cell', 'lab_release', 'lab_psi_member', 'lab_face_outcome', 'lab_follow_up_row', 'lab_follow_up_list', 'field_photo', 'reference_image'] as const;

/**
 * Forgets any previous load: removes the completion marker first, then indexes and rows. The release
 * ledger, protocol members, follow-up lists and captured photos go too: they describe the population
 * that was loaded, not the next one.
 */
export async function resetDomain(db: Database, domain: DomainId): Promise<void> {
  await metaDb(db).deleteFrom('lab_meta').execute();
  const present = await db.kysely.introspection.getTables();
  const names = new Set(present.map((t) => t.name));
  const bookkeeping = POPULATION_BOOKKEEPING.filter((t) => names.has(t));
  const drops = DOMAIN_INDEXES[domain].map((ix) => `DROP INDEX IF EXISTS ${quoteIdent(indexName(ix.table, ix.columns))};`);
  await db.exec(`${drops.join('\n')}\nTRUNCATE ${[...domainTables(domain), ...bookkeeping].map(quoteIdent).join(', ')};`);
}

/** geo_unit rows as COPY text. */
export function geographyCopyText(units: readonly GeoUnit[]): string {
  let out = '';
  for (const u of units) out += `${u.code}\t${u.level}\t${u.parent_code ?? '\\N'}\t${u.name_zh}\t${u.name_en}\t${u.urban_village ? 't' : 'f'}\n`;
  return out;
}

export async function copyGeography(db: Database, text: string): Promise<number> {
  async function* one() { yield text; }
  return db.copyIn('geo_unit', ['code', 'level', 'parent_code', 'name_zh', 'name_en', 'urban_village'], one());
}

/** Builds the domain's indexes and refreshes planner statistics. */
export async function indexDomain(db: Database, domain: DomainId): Promise<void> {
  for (const ix of DOMAIN_INDEXES[domain]) await db.exec(createIndexSql(ix));
  await db.exec(`ANALYZE ${domainTables(domain).map(quoteIdent).join(', ')}`);
}

/** Writes the completion marker (last step of a load), atomically. */
export async function markComplete(db: Database, meta: LoadMeta): Promise<void> {
  const values = [
    ...Object.entries(meta).map(([key, value]) => ({ key, value: String(value) })),
    { key: 'complete', value: 'true' },
  ];
  await metaDb(db).transaction().execute(async (trx) => {
    await trx.deleteFrom('lab_meta').execute();
    await trx.insertInto('lab_meta').values(values).execute();
  });
}

/** A domain's tables by expected size, largest first: the ones streamed when connections are scarce. */
export const TABLES_BY_SIZE: Record<DomainId, readonly string[]> = {
  registry: ['person', 'household', 'reference_photo'],
  social: ['insurance', 'employment'],
  health: ['chronic_condition', 'pregnancy', 'birth'],
  civil: ['subsidy', 'disability', 'elderly_alone', 'death'],
  housing: ['tenancy', 'rental_house', 'self_declaration'],
  grid: ['visit', 'incident'],
};

/**
 * How many connections of this handle can be held at the same time (up to `want`), found by
 * reserving them together for a moment. Each concurrent COPY needs its own connection; asking
 * for more than the pool has would wait forever.
 */
export async function probeConcurrency(db: Database, want: number, waitMs = 1500): Promise<number> {
  if (db.engine === 'pglite') return 1;
  let got = 0;
  let open = true;
  let release!: () => void;
  const released = new Promise<void>((r) => { release = () => { open = false; r(); }; });
  const timer = setTimeout(release, waitMs);
  const holders = Array.from({ length: want }, () => db.kysely.connection().execute(async () => {
    // Only connections held at the same time count (later ones reuse a released connection).
    if (!open) return;
    got++;
    if (got === want) release();
    await released;
  }));
  await released;
  const held = got;
  clearTimeout(timer);
  await Promise.all(holders);
  return Math.max(1, Math.min(want, held));
}
