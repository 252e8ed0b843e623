import ExcelJS from 'exceljs';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReleasedTable } from '../../../sandbox/disclosure/released-table.ts';
import { geographyFor } from '../../../sandbox/domains/generator/index.ts';
import { saveGeography } from '../../../server/services/catalog.service.ts';
import { createUser } from '../../../server/services/user.service.ts';
import { waitForJob, type ApiClient } from '../../support/api-client.ts';
import { startServedLab, type ServedLab } from '../../support/served-lab.ts';

const example = (name: string) => JSON.parse(readFileSync(new URL(`../../../examples/pipelines/${name}.json`, import.meta.url), 'utf8')) as Record<string, unknown>;

/** RFC 4180 lines of a CSV body (no quoted newlines in these files). */
function csvRows(text: string): string[][] {
  return text.replace(/^\uFEFF/, '').split('\r\n').filter((l, i, all) => i < all.length - 1 || l !== '').map((line) => {
    const out: string[] = [];
    let cur = '';
    let quoted = false;
    for (let i = 0; i < line.length; i++) {
      const ch = line[i];
      if (quoted) {
        if (ch === '"' && line[i + 1] === '"') { cur += '"'; i++; } else if (ch === '"') quoted = false; else cur += ch;
      } else if (ch === '"') quoted = true;
      else if (ch === ',') { out.push(cur); cur = ''; } else cur += ch;
    }
    out.push(cur);
    return out;
  });
}

/**
 * Export of released tables on the real HTTP API: GET /api/jobs/{id}/result.csv and .xlsx for the
 * owner of S1 (a roll-up with suppressed cells), cell by cell against GET /api/jobs/{id}/result;
 * suppressed cells carry the table's mark, never a number; the guard's rules in a note; every
 * export audited; others refused as for the result.
 */
describe('result export (CSV, XLSX)', () => {
  const password = 'export-password-0';
  let served: ServedLab;
  let analyst: ApiClient;
  let officer: ApiClient;
  let other: ApiClient;
  let jobId = '';
  let table: ReleasedTable;

  beforeAll(async () => {
    served = await startServedLab({ persons: 10_000, seed: 'export', password });
    await saveGeography(served.lab.control, geographyFor(10_000, 'export'));
    await createUser(served.lab.control, { username: 'analyst.other', displayName: 'other', role: 'analyst', password });
    analyst = await served.signIn('analyst');
    officer = await served.signIn('officer');
    other = await served.signIn('analyst.other');
    const saved = await (await analyst.post('/api/pipelines', example('s1-population-rollup'))).json() as { id: string };
    jobId = ((await (await analyst.post(`/api/pipelines/${saved.id}/runs`)).json()) as { jobId: string }).jobId;
    expect(await waitForJob(analyst, jobId)).toMatchObject({ state: 'succeeded' });
    const result = await (await analyst.get(`/api/jobs/${jobId}/result`)).json() as { tables: { table: ReleasedTable }[] };
    expect(result.tables).toHaveLength(1);
    table = result.tables[0]!.table;
    expect(table.rows.some((r) => r.suppressed)).toBe(true);
  }, 240_000);
  afterAll(async () => { await served?.close(); });

  it('CSV: UTF-8 with BOM, a header, one line per released row, suppressed cells as 已抑制, the rules in a note', async () => {
    const res = await analyst.get(`/api/jobs/${jobId}/result.csv`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="data-lab-[A-Za-z0-9_-]{8}\.csv"/);
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect([...bytes.slice(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const text = new TextDecoder('utf-8', { ignoreBOM: false }).decode(bytes);
    const rows = csvRows(text);
    const keyCols = table.columns.filter((c) => c.role === 'key');
    const measureCols = table.columns.filter((c) => c.role === 'measure');
    const width = keyCols.length + keyCols.filter((c) => c.geoLevel).length + measureCols.length;
    const header = rows[0]!;
    expect(header).toHaveLength(width);
    expect(header[0]).toBe('区代码');
    expect(header[1]).toBe('区');
    const data = rows.slice(1, 1 + table.rows.length);
    expect(data).toHaveLength(table.rows.length);
    table.rows.forEach((r, i) => {
      const line = data[i]!;
      expect(line).toHaveLength(width);
      const values = line.slice(width - measureCols.length);
      if (r.suppressed) expect(values.every((v) => v === '已抑制'), JSON.stringify(line)).toBe(true);
      else expect(values.map(Number)).toEqual(r.values);
      // The city total: every key "合计".
      if (r.grouping === (1 << keyCols.length) - 1) expect(line.slice(0, width - measureCols.length).every((v) => v === '合计')).toBe(true);
    });
    // A district's code and its name.
    const district = data.find((l) => /^\d{6}$/.test(l[0] ?? ''));
    expect(district?.[1]).toMatch(/区$/);
    const notes = rows.slice(1 + table.rows.length).map((l) => l.join(','));
    expect(notes[0]).toBe('');
    expect(notes[1]).toBe('说明');
    expect(notes.join('\n')).toContain(`不超过 ${table.guard.threshold} 人的格子抑制`);
    expect(notes.join('\n')).toContain(`取整到 ${table.guard.rounding} 的倍数`);
    expect(notes.join('\n')).toContain(`抑制 ${table.guard.suppressed} 格`);
    expect(notes.join('\n')).toContain(jobId);
  });

  it('CSV in English on ?lang=en', async () => {
    const text = await (await analyst.get(`/api/jobs/${jobId}/result.csv?lang=en`)).text();
    const rows = csvRows(text);
    expect(rows[0]?.[0]).toMatch(/^\S+ code$/);
    expect(rows.flat()).toContain('Suppressed');
    expect(rows.flat()).toContain('All');
    expect(text).toContain('Disclosure rules: cells of at most');
  });

  it('XLSX: the same cells in a worksheet, suppressed cells as 已抑制 (text), the note below', async () => {
    const res = await analyst.get(`/api/jobs/${jobId}/result.xlsx`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(await res.arrayBuffer());
    expect(wb.worksheets).toHaveLength(1);
    const ws = wb.worksheets[0]!;
    const keyCols = table.columns.filter((c) => c.role === 'key');
    const measureCols = table.columns.filter((c) => c.role === 'measure');
    const width = keyCols.length + keyCols.filter((c) => c.geoLevel).length + measureCols.length;
    expect(ws.getRow(1).getCell(2).value).toBe('区');
    table.rows.forEach((r, i) => {
      const row = ws.getRow(i + 2);
      for (let m = 0; m < measureCols.length; m++) {
        const v = row.getCell(width - measureCols.length + m + 1).value;
        if (r.suppressed) expect(v).toBe('已抑制');
        else expect(v).toBe(r.values[m]);
      }
    });
    const notes: string[] = [];
    ws.eachRow((row, n) => { if (n > table.rows.length + 1) notes.push(String(row.getCell(1).value ?? '')); });
    expect(notes[0]).toBe('说明');
    expect(notes.join('\n')).toContain(`不超过 ${table.guard.threshold} 人的格子抑制`);
  });

  it('every export is audited: who, which job, which format', async () => {
    const entries = await served.lab.control.kysely.selectFrom('audit_entry').selectAll().where('action', '=', 'job.result.export').orderBy('seq').execute();
    expect(entries.map((e) => [e.actor_username, e.resource_id, (e.detail as { format: string }).format])).toEqual([
      ['analyst', jobId, 'csv'], ['analyst', jobId, 'csv'], ['analyst', jobId, 'xlsx'],
    ]);
    expect(entries.every((e) => e.decision === 'allow' && e.policy_version === '1')).toBe(true);
    expect((entries[1]?.detail as { lang: string }).lang).toBe('en');
    expect((entries[0]?.detail as { rows: number }).rows).toBe(table.rows.length);
  });

  it('others are refused as for the result: an officer 403 (reads to review, does not export), another analyst 404; nothing audited as an export', async () => {
    const before = await served.lab.control.kysely.selectFrom('audit_entry').select('seq').where('action', '=', 'job.result.export').execute();
    for (const fmt of ['csv', 'xlsx']) {
      const o = await officer.get(`/api/jobs/${jobId}/result.${fmt}`);
      expect(o.status).toBe(403);
      expect(await o.json()).toMatchObject({ code: 'LAB-E137' });
      const a = await other.get(`/api/jobs/${jobId}/result.${fmt}`);
      expect(a.status).toBe(404);
      expect(await a.json()).toMatchObject({ code: 'LAB-E004' });
    }
    expect((await analyst.get(`/api/jobs/${jobId}/result.csv?lang=fr`)).status).toBe(422);
    const after = await served.lab.control.kysely.selectFrom('audit_entry').select('seq').where('action', '=', 'job.result.export').execute();
    expect(after).toHaveLength(before.length);
  });

  it('a job that has not finished has nothing to export: 409 LAB-E071', async () => {
    const l4 = example('s1-population-rollup') as { nodes: { id: string; params: Record<string, unknown> }[] };
    const active = l4.nodes.find((n) => n.id === 'active');
    if (active) active.params['condition'] = "status = 'active' AND NOT ends_with(id_number, 'X')";
    const saved = await (await analyst.post('/api/pipelines', l4)).json() as { id: string };
    const waiting = await (await analyst.post(`/api/pipelines/${saved.id}/runs`)).json() as { jobId: string; state: string };
    expect(waiting.state).toBe('awaiting_approval');
    const res = await analyst.get(`/api/jobs/${waiting.jobId}/result.csv`);
    expect(res.status).toBe(409);
    expect(await res.json()).toMatchObject({ code: 'LAB-E071' });
  });
});
