import { existsSync, readFileSync, statSync } from 'node:fs';
import { userInfo } from 'node:os';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import { DOMAIN_MIGRATIONS } from '../../sandbox/domains/migrations/domain.migrations.ts';
import { LabError, t } from '../../sandbox/errors/index.ts';
import type { FaceAnalyser } from '../../sandbox/runtime/worker/photo-intake.ts';
import { enrollReferences, type EnrollReport, type ReferenceInput } from '../../sandbox/runtime/worker/reference-enroll.ts';
import type { Database } from '../../sandbox/store/database.ts';
import type { LabConfig } from '../../sandbox/store/lab-config.ts';
import { migrate } from '../../sandbox/store/migrate.ts';
import { openPGlite } from '../../sandbox/store/pglite.database.ts';
import { openPostgres } from '../../sandbox/store/postgres.database.ts';
import { roleUrl } from '../../sandbox/store/topology.ts';
import { parseCommandArgs } from './args.ts';

/**
 * `npm run lab -- face enroll`: reference photos enrolled inside the registry domain (S5). Like a
 * domain worker, the command holds the registry's own database credentials only
 * (`LAB_DOMAIN_DATABASE_URL`, else `<LAB_DATA_DIR>/secrets/registry.json`; embedded mode: the
 * registry's PGlite folder while the lab is stopped) — never the control database, the queue or
 * another domain. The photos are analysed by the face engine in this process and stored with their
 * templates by sandbox/runtime/worker/reference-enroll.ts, all or nothing. It prints file names and
 * counts, never an ID number.
 */

/** Largest reference photo file read (the engine has its own byte and pixel limits too). */
const MAX_FILE_BYTES = 15 * 1024 * 1024;

const manifestSchema = z.array(z.object({
  idNumber: z.string().min(1).max(32),
  /** The image file, relative to the manifest's folder or absolute. */
  photo: z.string().min(1).max(4096),
  capturedOn: z.string().regex(/^\d{4}-\d{2}-\d{2}$/).optional(),
}).strict()).min(1).max(100_000);

/** Today in Guangzhou (UTC+8), the default capture date. */
const todayInGuangzhou = (now: Date) => new Date(now.getTime() + 8 * 3_600_000).toISOString().slice(0, 10);

export interface FaceCommandDeps {
  /** An open registry database (tests; left open); default: opened from the environment as described above. */
  readonly registry?: Database;
  /** An open face engine (tests; left open); default: sandbox/face with LAB_FACE_MODEL_DIR or the npm-shipped models. */
  readonly engine?: FaceAnalyser;
  readonly now?: Date;
}

function readPhoto(path: string, source: string): Uint8Array {
  if (!existsSync(path) || !statSync(path).isFile()) {
    throw new LabError('LAB-E030', { field: 'photo', detail: t(`找不到照片文件：${source}`, `no such photo file: ${source}`) });
  }
  if (statSync(path).size > MAX_FILE_BYTES) {
    throw new LabError('LAB-E141', { field: 'photo', detail: t(`${source}：文件超过 15 MB`, `${source}: the file is over 15 MB`) });
  }
  return new Uint8Array(readFileSync(path));
}

function readManifest(file: string, defaultDate: string): ReferenceInput[] {
  if (!existsSync(file)) throw new LabError('LAB-E030', { field: 'manifest', detail: t(`找不到清单文件：${file}`, `no such manifest file: ${file}`) });
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (cause) {
    throw new LabError('LAB-E030', { field: 'manifest', detail: t(`清单不是有效的 JSON：${file}`, `the manifest is not valid JSON: ${file}`), cause });
  }
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue ? issue.path.join('.') : '';
    throw new LabError('LAB-E030', {
      field: 'manifest', detail: t(`清单 ${basename(file)}：${where} ${issue?.message ?? ''}`, `manifest ${basename(file)}: ${where} ${issue?.message ?? ''}`),
      hint: t('清单是 JSON 数组：[{ "idNumber": "…", "photo": "a.jpg", "capturedOn": "2026-05-01" }]', 'The manifest is a JSON array: [{ "idNumber": "…", "photo": "a.jpg", "capturedOn": "2026-05-01" }]'),
    });
  }
  const base = dirname(resolve(file));
  return parsed.data.map((e) => {
    const path = isAbsolute(e.photo) ? e.photo : join(base, e.photo);
    return { idNumber: e.idNumber, photo: readPhoto(path, e.photo), source: e.photo, capturedOn: e.capturedOn ?? defaultDate };
  });
}

/** The registry's database with its own credentials, migrated (0008 adds reference_image). */
export async function openRegistryDatabase(cfg: LabConfig): Promise<Database> {
  const url = process.env['LAB_DOMAIN_DATABASE_URL'];
  let db: Database;
  if (url) db = await openPostgres('registry', url);
  else if (cfg.mode === 'postgres' || existsSync(join(cfg.dataDir, 'secrets', 'registry.json'))) db = await openPostgres('registry', roleUrl({ ...cfg, mode: 'postgres' }, 'registry'));
  else {
    const dir = join(cfg.dataDir, 'pglite', 'registry');
    if (!existsSync(join(dir, 'PG_VERSION'))) {
      throw new LabError('LAB-E031', { detail: t(`没有人口库数据库：${dir}`, `no registry database at ${dir}`), hint: t('先运行 npm start 或 npm run lab -- migrate', 'Run `npm start` or `npm run lab -- migrate` first') });
    }
    // PGlite is one process's database: while `npm start` has it open, its postmaster.pid is there.
    if (existsSync(join(dir, 'postmaster.pid'))) {
      throw new LabError('LAB-E031', {
        detail: t('内置模式的实验室正在运行（人口库数据库已被打开）', 'the embedded lab is running (the registry database is open)'),
        hint: t('先停止 npm start 再登记证件照', 'Stop `npm start` first, then enroll'),
      });
    }
    db = await openPGlite('registry', dir);
  }
  try {
    await migrate(db, DOMAIN_MIGRATIONS.registry);
  } catch (e) {
    await db.close();
    throw e;
  }
  return db;
}

async function defaultEngine(): Promise<FaceAnalyser & { close(): Promise<void> }> {
  const { openFaceEngine } = await import('../../sandbox/face/index.ts');
  return openFaceEngine();
}

const summary = (r: EnrollReport): string => [
  `已登记 ${r.enrolled.length} 张证件照（模型 ${r.modelId}，${r.dimension} 维${r.replaced ? `，替换 ${r.replaced} 条旧特征` : ''}）`,
  `enrolled ${r.enrolled.length} reference photo(s) (model ${r.modelId}, ${r.dimension} values${r.replaced ? `, ${r.replaced} earlier reference(s) replaced` : ''})`,
  ...r.enrolled.map((e) => `  ${e.source} → reference_image:${e.photoId}`),
  '',
].join('\n');

/** `face enroll --id-number N --photo FILE [--captured-on D] [--replace] [--by NAME]` or `face enroll --manifest FILE [--replace] [--by NAME]`. */
export async function runFaceCommand(argv: string[], cfg: LabConfig, out: NodeJS.WritableStream = process.stdout, deps: FaceCommandDeps = {}): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== 'enroll') throw new LabError('LAB-E030', { detail: t('face 只支持 enroll', 'face: only `face enroll` is supported'), hint: t('运行 npm run lab -- help', 'Run `npm run lab -- help`') });
  const a = parseCommandArgs('face enroll', rest, {
    'id-number': { type: 'string' }, photo: { type: 'string' }, 'captured-on': { type: 'string' },
    manifest: { type: 'string' }, replace: { type: 'boolean' }, by: { type: 'string' },
  });
  const now = deps.now ?? new Date();
  const single = a['id-number'] !== undefined || a.photo !== undefined;
  if (single === (a.manifest !== undefined)) {
    throw new LabError('LAB-E030', {
      detail: t('face enroll：给出 --id-number 与 --photo，或只给 --manifest', 'face enroll: give --id-number and --photo, or --manifest alone'),
      hint: t('运行 npm run lab -- help 查看用法', 'Run `npm run lab -- help` for usage'),
    });
  }
  if (a.manifest !== undefined && a['captured-on'] !== undefined) {
    throw new LabError('LAB-E030', { field: 'captured-on', detail: t('使用清单时，采集日期写在清单里（capturedOn）', 'with --manifest, capture dates go in the manifest (capturedOn)') });
  }
  let inputs: ReferenceInput[];
  if (a.manifest !== undefined) inputs = readManifest(a.manifest, todayInGuangzhou(now));
  else {
    if (!a['id-number']) throw new LabError('LAB-E030', { field: 'id-number', detail: t('face enroll：缺少 --id-number', 'face enroll: --id-number is required') });
    if (!a.photo) throw new LabError('LAB-E030', { field: 'photo', detail: t('face enroll：缺少 --photo', 'face enroll: --photo is required') });
    inputs = [{ idNumber: a['id-number'], photo: readPhoto(a.photo, basename(a.photo)), source: basename(a.photo), capturedOn: a['captured-on'] ?? todayInGuangzhou(now) }];
  }
  const by = a.by ?? userInfo().username;
  if (!/^[\w.@-]{1,64}$/.test(by)) throw new LabError('LAB-E030', { field: 'by', detail: t('--by 须为 1–64 个字母、数字或 . _ @ -', '--by must be 1–64 letters, digits or . _ @ -') });
  const db = deps.registry ?? await openRegistryDatabase(cfg);
  try {
    let opened: (FaceAnalyser & { close(): Promise<void> }) | undefined;
    const engine = deps.engine ?? (opened = await defaultEngine());
    try {
      const report = await enrollReferences(db, engine, inputs, { enrolledBy: by, replace: a.replace === true, now });
      out.write(summary(report));
      return 0;
    } finally {
      await opened?.close();
    }
  } finally {
    if (!deps.registry) await db.close();
  }
}
