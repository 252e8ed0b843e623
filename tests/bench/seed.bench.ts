import { spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, statSync, type WriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DOMAIN_IDS, type DomainId } from '../../sandbox/domains/domain-ids.ts';
import { buildGeography } from '../../sandbox/domains/geography/city-geography.ts';
import { defaultThreads, generateCity } from '../../sandbox/domains/generator/city-generation.ts';
import { cityContentHash, rowsPerTable } from '../../sandbox/domains/generator/content-hash.ts';
import { seedCity, DEFAULT_AS_OF } from '../../sandbox/domains/generator/index.ts';
import { createIndexSql, DOMAIN_INDEXES, domainTables, geographyCopyText } from '../../sandbox/domains/generator/load.ts';
import { TABLES } from '../../sandbox/domains/generator/tables.ts';
import type { Database } from '../../sandbox/store/database.ts';
import { roleUrl } from '../../sandbox/store/topology.ts';
import { createPgTestLab, type TestLab } from '../support/pg-lab.ts';

/**
 * Seed benchmark: loads N persons (all six domains) into a fresh throwaway lab with seedCity, then
 * writes the very same rows to files and loads them into a second fresh lab with `psql \copy`
 * (17 tables at once, one psql per table: the physical limit of the server), and finally builds
 * the same indexes there with psql. Prints rows/s of both and their ratio; the last line is JSON.
 *
 *   npm run bench -- seed [--persons 1000000] [--seed bench] [--threads 2] [--skip-psql]
 */
export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { persons: { type: 'string', default: '1000000' }, seed: { type: 'string', default: 'bench' }, threads: { type: 'string' }, 'skip-psql': { type: 'boolean', default: false } },
  });
  const persons = Number(values.persons);
  const seed = values.seed;
  const threads = values.threads === undefined ? defaultThreads() : Number(values.threads);
  const log = (s: string) => process.stdout.write(`${s}\n`);
  const labs: TestLab[] = [];
  let dir: string | undefined;
  try {
    // 1. seedCity into a fresh lab, sampling the process's resident memory.
    const lab = await createPgTestLab();
    labs.push(lab);
    const domains = {} as Record<DomainId, Database>;
    for (const d of DOMAIN_IDS) domains[d] = await lab.domain(d);
    let peak = 0;
    const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 50);
    let loadEnd = 0;
    const t0 = performance.now();
    const report = await seedCity({
      persons, seed, domains, threads,
      onProgress: (p) => { if (p.phase === 'index') loadEnd = performance.now(); },
    });
    clearInterval(sampler);
    const hwm = Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0) * 1024;
    const peakRss = Math.max(peak, hwm);
    const seconds = report.seconds;
    const loadSeconds = (loadEnd - t0) / 1000;
    const rows = Object.values(report.rows).reduce((a, b) => a + b, 0);
    log(`seedCity: ${persons} persons, ${rows} rows in ${seconds.toFixed(1)} s (${Math.round(rows / seconds)} rows/s; generate + COPY ${loadSeconds.toFixed(1)} s, indexes + ANALYZE ${(seconds - loadSeconds).toFixed(1)} s), peak RSS ${Math.round(peakRss / 2 ** 20)} MiB, ${threads} generator threads`);
    await lab.drop();
    labs.pop();

    if (values['skip-psql']) {
      log(JSON.stringify({ persons, seconds, loadSeconds, peakRssMiB: Math.round(peakRss / 2 ** 20), rows, threads }));
      return;
    }

    // 2. The same rows to files (checked by their content hash), then psql \copy into a second fresh lab.
    dir = mkdtempSync(join(tmpdir(), 'lab-bench-'));
    const files = new Map<number, WriteStream>();
    TABLES.forEach((t, i) => files.set(i, createWriteStream(join(dir ?? '', `${t.id}.copy`))));
    const generated = await generateCity({
      persons, seed, asOf: DEFAULT_AS_OF, threads,
      sink: (table, bytes, _rows, taken) => { files.get(table)?.write(bytes, () => taken()); },
    });
    await Promise.all([...files.values()].map((f) => new Promise<void>((resolve) => f.end(resolve))));
    const geoText = geographyCopyText(buildGeography(persons, seed).units);
    const fileHash = cityContentHash({ persons, seed, asOf: DEFAULT_AS_OF, geoText, tasks: generated.tasks });
    if (fileHash !== report.contentHash) throw new Error('the files do not hold the rows seedCity loaded');
    const bytes = TABLES.reduce((a, t) => a + statSync(join(dir ?? '', `${t.id}.copy`)).size, 0);
    log(`wrote the same ${Object.values(rowsPerTable(generated.tasks)).reduce((a, b) => a + b, 0)} rows to files (${(bytes / 2 ** 20).toFixed(0)} MiB)`);

    const lab2 = await createPgTestLab();
    labs.push(lab2);
    for (const d of DOMAIN_IDS) await lab2.domain(d);
    const psql = (url: string, command: string) => new Promise<void>((resolve, reject) => {
      const child = spawn('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', url, '-c', command], { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      child.stderr.on('data', (c: Buffer) => { err += c.toString(); });
      child.on('error', reject);
      child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`psql failed (${code}): ${err}`))));
    });
    const geoFile = join(dir, 'geo_unit.copy');
    await new Promise<void>((resolve) => { const s = createWriteStream(geoFile); s.end(geoText, () => resolve()); });
    const c0 = performance.now();
    await Promise.all([
      ...DOMAIN_IDS.map((d) => psql(roleUrl(lab2.cfg, d), `\\copy geo_unit (code, level, parent_code, name_zh, name_en, urban_village) from '${geoFile}'`)),
      ...TABLES.map((t) => psql(roleUrl(lab2.cfg, t.domain), `\\copy ${t.table} (${t.columns.join(', ')}) from '${join(dir ?? '', `${t.id}.copy`)}'`)),
    ]);
    const copySeconds = (performance.now() - c0) / 1000;
    const i0 = performance.now();
    await Promise.all(DOMAIN_IDS.map((d) => psql(roleUrl(lab2.cfg, d), [
      ...DOMAIN_INDEXES[d].map((ix) => `${createIndexSql(ix)};`),
      `ANALYZE ${domainTables(d).join(', ')};`,
    ].join(' '))));
    const psqlIndexSeconds = (performance.now() - i0) / 1000;
    log(`psql \\copy: ${rows} rows in ${copySeconds.toFixed(1)} s (${Math.round(rows / copySeconds)} rows/s); the same indexes + ANALYZE ${psqlIndexSeconds.toFixed(1)} s`);
    const ratio = copySeconds / seconds;
    log(`ratio (psql \\copy s / seedCity s): ${ratio.toFixed(2)}; rows-in only (psql \\copy s / seedCity generate+COPY s): ${(copySeconds / loadSeconds).toFixed(2)}; with indexes on both sides: ${((copySeconds + psqlIndexSeconds) / seconds).toFixed(2)}`);
    log(JSON.stringify({
      persons, seconds: round(seconds), copySeconds: round(copySeconds), ratio: round(ratio), peakRssMiB: Math.round(peakRss / 2 ** 20),
      loadSeconds: round(loadSeconds), loadRatio: round(copySeconds / loadSeconds), psqlIndexSeconds: round(psqlIndexSeconds),
      fullRatio: round((copySeconds + psqlIndexSeconds) / seconds), rows, bytes, threads,
    }));
  } finally {
    for (const lab of labs) await lab.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

const round = (x: number) => Math.round(x * 100) / 100;
