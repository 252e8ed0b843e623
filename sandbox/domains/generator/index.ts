import { createReadStream, createWriteStream, mkdtempSync, rmSync, type WriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DOMAIN_IDS, type DomainId } from '../domain-ids.ts';
import { buildGeography, geographyCounts, type GeoUnit } from '../geography/city-geography.ts';
import { LabError, t } from '../../errors/index.ts';
import type { Database } from '../../store/database.ts';
import { GENERATOR_VERSION } from './city-plan.ts';
import { ChunkChannel } from './chunk-channel.ts';
import { defaultThreads, generateCity } from './city-generation.ts';
import { parseIsoDate } from './dates.ts';
import { finalizeTruth, writeTruthFile, type GroundTruth } from './ground-truth.ts';
import { copyGeography, geographyCopyText, indexDomain, isCompleteLoad, markComplete, probeConcurrency, readMeta, resetDomain, TABLES_BY_SIZE } from './load.ts';
import { cityContentHash, rowsPerTable } from './content-hash.ts';
import { TABLES } from './tables.ts';

export type { GeoUnit } from '../geography/city-geography.ts';
export type { GroundTruth } from './ground-truth.ts';
export { GENERATOR_VERSION } from './city-plan.ts';

export interface SeedOptions {
  /** Persons in the synthetic city, 10 000 … 25 000 000. */
  persons: number;
  /** Any non-empty string (≤ 200 characters); the same seed and size give the same content. */
  seed: string;
  /** Snapshot date 'YYYY-MM-DD' (2000-01-01 … 2100-12-31), default '2026-06-30'. */
  asOf?: string;
  /** Where to write the ground-truth JSON (outside every domain). */
  truthFile?: string;
  /** Opened, migrated domain databases. With a pool of ≥ 4 connections every table streams at once; smaller pools spool some tables to temporary files. */
  domains: Record<DomainId, Database>;
  onProgress?: (p: { phase: string; persons: number; total: number }) => void;
  /** Generator threads (default: up to 2, one per core). The content does not depend on it. */
  threads?: number;
}

export interface SeedReport {
  persons: number;
  /** Rows per dataset id (`registry.person` …) of the whole city. */
  rows: Record<string, number>;
  seconds: number;
  contentHash: string;
  geography: { districts: number; streets: number; communities: number; grids: number };
}

export const DEFAULT_AS_OF = '2026-06-30';

/** The reference geography of a city of this size and seed (also loaded into the control DB by the caller). */
export function geographyFor(persons: number, seed: string): GeoUnit[] {
  validatePersons(persons);
  validateSeed(seed);
  return [...buildGeography(persons, seed).units];
}

function validatePersons(persons: unknown): asserts persons is number {
  if (typeof persons !== 'number' || !Number.isInteger(persons) || persons < 10_000 || persons > 25_000_000) {
    throw new LabError('LAB-E030', {
      detail: t(`persons 必须是 10000 到 25000000 之间的整数（收到 ${String(persons)}）`, `persons must be an integer from 10000 to 25000000 (got ${String(persons)})`),
      field: 'persons',
    });
  }
}

function validateSeed(seed: unknown): asserts seed is string {
  if (typeof seed !== 'string' || seed.length === 0 || seed.length > 200) {
    throw new LabError('LAB-E030', { detail: t('seed 必须是 1 到 200 个字符的字符串', 'seed must be a string of 1 to 200 characters'), field: 'seed' });
  }
}

function validate(o: SeedOptions): { asOf: string } {
  validatePersons(o.persons);
  validateSeed(o.seed);
  const asOf = o.asOf ?? DEFAULT_AS_OF;
  const day = typeof asOf === 'string' ? parseIsoDate(asOf) : undefined;
  if (day === undefined || asOf < '2000-01-01' || asOf > '2100-12-31') {
    throw new LabError('LAB-E030', { detail: t(`asOf 必须是 2000-01-01 到 2100-12-31 之间的 YYYY-MM-DD 日期（收到 ${String(asOf)}）`, `asOf must be a YYYY-MM-DD date from 2000-01-01 to 2100-12-31 (got ${String(asOf)})`), field: 'asOf' });
  }
  if (o.truthFile !== undefined && (typeof o.truthFile !== 'string' || o.truthFile.trim() === '')) {
    throw new LabError('LAB-E030', { detail: t('truthFile 必须是文件路径', 'truthFile must be a file path'), field: 'truthFile' });
  }
  if (o.threads !== undefined && (!Number.isInteger(o.threads) || o.threads < 0 || o.threads > 64)) {
    throw new LabError('LAB-E030', { detail: t('threads 必须是 0 到 64 的整数', 'threads must be an integer from 0 to 64'), field: 'threads' });
  }
  for (const d of DOMAIN_IDS) {
    const db = o.domains?.[d];
    if (!db || typeof db.copyIn !== 'function') {
      throw new LabError('LAB-E030', { detail: t(`缺少域数据库 ${d}`, `missing the ${d} domain database`), field: `domains.${d}` });
    }
  }
  return { asOf };
}

/**
 * Generates the synthetic city for (persons, seed, asOf) and loads it into the six domain
 * databases, COPYing into all of them at once; writes the ground truth if asked. Restartable:
 * a domain that already holds this exact city is left alone; any other domain is emptied and
 * loaded again, and marked complete only at the very end.
 */
export async function seedCity(opts: SeedOptions): Promise<SeedReport> {
  const { asOf } = validate(opts);
  const started = performance.now();
  const { persons, seed, domains } = opts;
  const progress = (phase: string, done: number) => opts.onProgress?.({ phase, persons: done, total: persons });
  const want = { seed, persons, asOf, version: GENERATOR_VERSION };
  const geo = buildGeography(persons, seed);
  const geography = geographyCounts(geo.units);

  progress('prepare', 0);
  const metas = await Promise.all(DOMAIN_IDS.map(async (d) => [d, await readMeta(domains[d])] as const));
  const toLoad = metas.filter(([, m]) => !isCompleteLoad(m, want)).map(([d]) => d);
  const loading = new Set<DomainId>(toLoad);

  // Every domain already holds this city and no truth is wanted: nothing to do.
  const firstMeta = metas[0]?.[1];
  if (toLoad.length === 0 && !opts.truthFile && firstMeta) {
    progress('done', persons);
    return {
      persons, rows: JSON.parse(firstMeta['rows'] ?? '{}') as Record<string, number>,
      seconds: (performance.now() - started) / 1000, contentHash: firstMeta['content_hash'] ?? '', geography,
    };
  }

  await Promise.all(toLoad.map((d) => resetDomain(domains[d], d)));
  const geoText = geographyCopyText(geo.units);
  await Promise.all(toLoad.map((d) => copyGeography(domains[d], geoText)));

  // Where each table's rows go: a COPY stream (as many at once as the domain's connection pool can
  // hold, largest tables first), a spool file COPYed after generation (PGlite has one connection;
  // tables beyond the pool's size), or nowhere (domain already complete).
  const streamed = new Set<string>();
  await Promise.all(toLoad.map(async (d) => {
    const order = TABLES_BY_SIZE[d];
    const n = await probeConcurrency(domains[d], order.length);
    for (const table of order.slice(0, n)) streamed.add(`${d}.${table}`);
  }));
  const spoolDir = TABLES.some((t) => loading.has(t.domain) && !streamed.has(t.id)) ? mkdtempSync(join(tmpdir(), 'lab-seed-')) : undefined;
  const channels = new Map<number, ChunkChannel>();
  const spools = new Map<number, { path: string; stream: WriteStream }>();
  const copies: Promise<number>[] = [];
  const abort = new AbortController();
  TABLES.forEach((table, i) => {
    if (!loading.has(table.domain)) return;
    const db = domains[table.domain];
    if (!streamed.has(table.id) && spoolDir) {
      const path = join(spoolDir, `${table.id}.copy`);
      spools.set(i, { path, stream: createWriteStream(path) });
      return;
    }
    const channel = new ChunkChannel();
    channels.set(i, channel);
    const copy = db.copyIn(table.table, table.columns, channel);
    copy.catch((e: unknown) => abort.abort(new LabError('LAB-E040', { detail: t(`写入 ${table.id} 失败`, `loading ${table.id} failed`), cause: e })));
    copies.push(copy);
  });

  let done = 0;
  let lastReport = 0;
  try {
    progress('generate', 0);
    const generated = await generateCity({
      persons, seed, asOf, threads: opts.threads ?? defaultThreads(), signal: abort.signal,
      onPersons: (n) => {
        done += n;
        if (done - lastReport >= persons / 200 || done === persons) { lastReport = done; progress('generate', done); }
      },
      sink: (table, bytes, _rows, taken) => {
        const channel = channels.get(table);
        if (channel) return channel.push(bytes, taken);
        const spool = spools.get(table);
        if (spool) {
          spool.stream.write(bytes, () => taken());
          return;
        }
        taken();
      },
    });
    for (const c of channels.values()) c.close();
    await Promise.all(copies);
    await Promise.all([...spools.values()].map((s) => new Promise<void>((resolve, reject) => s.stream.end((e?: Error | null) => (e ? reject(e) : resolve())))));
    if (abort.signal.aborted) throw abort.signal.reason;

    // Spooled tables: one after another within a domain, the domains at the same time.
    await Promise.all(toLoad.map(async (d) => {
      for (const [i, spool] of spools) {
        const table = TABLES[i];
        if (table?.domain === d) await domains[d].copyIn(table.table, table.columns, wholeLines(spool.path));
      }
    }));

    const contentHash = cityContentHash({ persons, seed, asOf, geoText, tasks: generated.tasks });
    const rows = rowsPerTable(generated.tasks);

    progress('index', persons);
    await Promise.all(toLoad.map(async (d) => {
      await indexDomain(domains[d], d);
      await markComplete(domains[d], { seed, persons, as_of: asOf, generator_version: GENERATOR_VERSION, content_hash: contentHash, rows: JSON.stringify(rows) });
    }));

    if (opts.truthFile) {
      const truth: GroundTruth = finalizeTruth(generated.truth, generated.plan, { generatorVersion: GENERATOR_VERSION, contentHash });
      writeTruthFile(opts.truthFile, truth);
    }
    progress('done', persons);
    return { persons, rows, seconds: (performance.now() - started) / 1000, contentHash, geography };
  } catch (e) {
    abort.abort(e);
    for (const c of channels.values()) c.fail(e);
    await Promise.allSettled(copies);
    for (const s of spools.values()) s.stream.destroy();
    throw e instanceof LabError ? e : new LabError('LAB-E040', { detail: t('合成城市加载失败', 'loading the synthetic city failed'), cause: e });
  } finally {
    if (spoolDir) rmSync(spoolDir, { recursive: true, force: true });
  }
}

/** A spool file as chunks of whole lines. */
async function* wholeLines(path: string): AsyncGenerator<Uint8Array> {
  let carry: Buffer | undefined;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    const data: Buffer = carry ? Buffer.concat([carry, chunk]) : chunk;
    const cut = data.lastIndexOf(10);
    if (cut < 0) { carry = data; continue; }
    carry = data.subarray(cut + 1);
    yield data.subarray(0, cut + 1);
  }
  if (carry && carry.length > 0) yield carry;
}
