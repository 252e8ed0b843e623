import type { ReleasedTable } from '../../sandbox/disclosure/released-table.ts';
import { LabError, t } from '../../sandbox/errors/index.ts';
import type { Database } from '../../sandbox/store/database.ts';
import type { ControlSchema } from '../db/control.schema.ts';
import { jobRepository } from '../repositories/job.repository.ts';
import { auditTrailOf, userActor } from './audit.service.ts';
import type { SessionUser } from './auth.service.ts';
import { readGeography } from './catalog.service.ts';
import { jobAccess } from './job.service.ts';
import { exportSheets, toCsv, toXlsx, type ExportLang } from './result-export.ts';

type Db = Database<ControlSchema>;

export type ExportFormat = 'csv' | 'xlsx';

export interface ExportFile { readonly body: Uint8Array; readonly contentType: string; readonly filename: string }

const CONTENT_TYPE: Record<ExportFormat, string> = {
  csv: 'text/csv; charset=utf-8',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
};

interface SpecLike { name?: unknown; nodes?: unknown }

/** The output node's title (its `title` parameter), else the stage id. */
function stageTitle(spec: unknown, stageId: string): string {
  const nodes = (spec as SpecLike | null)?.nodes;
  if (!Array.isArray(nodes)) return stageId;
  const node = nodes.find((n): n is { id: string; params?: { title?: unknown } } => typeof n === 'object' && n !== null && (n as { id?: unknown }).id === stageId);
  const title = node?.params?.title;
  return typeof title === 'string' && title ? title : stageId;
}

/**
 * A finished job's released tables as a file (policy `result.export`: the owner, once released;
 * others 404 or 403 as for the result). Every export is recorded: who, which job, which format.
 */
export async function exportResult(db: Db, user: SessionUser, jobId: string, format: ExportFormat, lang: ExportLang, now = new Date()): Promise<ExportFile> {
  const { job, decision } = await jobAccess(db, user, jobId, 'result.export');
  if (job.state !== 'succeeded') throw new LabError('LAB-E071', { detail: t(`任务状态为 ${job.state}`, `the job is ${job.state}`) });
  const results = await jobRepository.results(db, job.id);
  const geoNames = new Map((await readGeography(db)).map((u) => [u.code, u.name]));
  const specName = (job.spec as SpecLike | null)?.name;
  const pipelineName = typeof specName === 'string' ? specName : job.pipeline_id;
  const sheets = exportSheets({
    jobId: job.id, pipelineName, exportedAt: now, geoNames,
    tables: results.map((r) => ({ stageId: r.stage_id, title: stageTitle(job.spec, r.stage_id), table: r.result as ReleasedTable })),
  }, lang);
  const body = format === 'csv' ? new TextEncoder().encode(toCsv(sheets)) : new Uint8Array(await toXlsx(sheets, lang));
  await auditTrailOf(db).append({
    actor: userActor(user), action: 'job.result.export', resource: { type: 'job', id: job.id }, decision: decision?.decision ?? null,
    policyVersion: decision?.policyVersion ?? null, pipelineHash: job.spec_hash,
    detail: { format, lang, tables: sheets.length, rows: sheets.reduce((n, s) => n + s.dataRows, 0), bytes: body.byteLength },
  });
  return { body, contentType: CONTENT_TYPE[format], filename: `data-lab-${job.id.slice(0, 8)}.${format}` };
}
