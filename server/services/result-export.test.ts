import { describe, expect, it } from 'vitest';
import type { ReleasedTable } from '../../sandbox/disclosure/released-table.ts';
import { exportSheets, safeText, suppressedMark, toCsv } from './result-export.ts';

const table: ReleasedTable = {
  columns: [{ name: 'district', role: 'key', geoLevel: 'district', label: { zh: '区', en: 'District' } }, { name: 'hukou_type', role: 'key', label: { zh: '户籍类型', en: 'Hukou' } }, { name: 'persons', role: 'measure', label: { zh: '人数', en: 'Persons' } }],
  rows: [
    { keys: [null, null], grouping: 3, values: [1200], suppressed: false, rounded: true, allOfParent: false },
    { keys: ['440103', null], grouping: 1, values: [600], suppressed: false, rounded: true, allOfParent: false },
    { keys: ['440103', '=HYPERLINK("x")'], grouping: 0, values: [null], suppressed: true, rounded: false, allOfParent: false },
    { keys: ['440103', null], grouping: 0, values: [35], suppressed: false, rounded: true, allOfParent: false },
  ],
  guard: { rule: 'staff', threshold: 7, rounding: 5, cells: 4, suppressed: 1, cellKeyNoise: 2 },
};
const input = { jobId: 'job-1', pipelineName: 'S1, "roll-up"', exportedAt: new Date('2026-11-25T01:00:00Z'), tables: [{ stageId: 'out', title: 'S1', table }], geoNames: new Map([['440103', { zh: '荔湾区', en: 'Liwan' }]]) };

describe('released tables as files', () => {
  it('lays a table out as the workspace shows it: code and name, 合计 for rolled-up keys, （无） for NULL, the mark for suppressed cells', () => {
    const [sheet] = exportSheets(input, 'zh-CN');
    expect(sheet?.rows.slice(0, 5)).toEqual([
      ['区代码', '区', '户籍类型', '人数'],
      ['合计', '合计', '合计', 1200],
      ['440103', '荔湾区', '合计', 600],
      ['440103', '荔湾区', '=HYPERLINK("x")', suppressedMark('zh-CN')],
      ['440103', '荔湾区', '（无）', 35],
    ]);
    expect(sheet?.dataRows).toBe(4);
    const notes = sheet?.rows.slice(6).map((r) => r[0]) ?? [];
    expect(notes[0]).toBe('说明');
    expect(notes.join('\n')).toContain('不超过 7 人的格子抑制');
    expect(notes.join('\n')).toContain('±2');
  });

  it('CSV: BOM, CRLF, quoting, and no formula a spreadsheet would run', () => {
    const csv = toCsv(exportSheets(input, 'en'));
    expect(csv.startsWith('\uFEFFDistrict code,District,Hukou,Persons\r\n')).toBe(true);
    expect(csv).toContain('\r\n440103,Liwan,"\'=HYPERLINK(""x"")",Suppressed\r\n');
    expect(csv).toContain('Data Lab job job-1 (S1, ""roll-up""), exported 2026-11-25 01:00:00 (UTC).');
    expect(csv.endsWith('\r\n')).toBe(true);
  });

  it('safeText defuses formulas, leaves other text alone', () => {
    expect(['=1+1', '+1', '-1', '@SUM(A1)', '\tx', '越秀区', 'a=b'].map(safeText)).toEqual(["'=1+1", "'+1", "'-1", "'@SUM(A1)", "'\tx", '越秀区', 'a=b']);
  });
});
