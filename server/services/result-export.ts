import ExcelJS from 'exceljs';
import type { ReleasedColumn, ReleasedTable } from '../../sandbox/disclosure/released-table.ts';

/**
 * Released tables as files for people who continue in a spreadsheet: CSV (UTF-8 with a byte-order
 * mark, so Excel reads Chinese correctly; CRLF; RFC 4180 quoting) and XLSX (one sheet per table).
 * Pure: what the guard released, laid out as the workspace shows it — a rolled-up key reads "all",
 * a suppressed cell reads the same mark the table shows (never a number, never empty), and a note
 * under each table states the guard's rules. Nothing here sees anything the guard did not release.
 */

export type ExportLang = 'zh-CN' | 'en';
export type Cell = string | number | null;

export interface ExportSheet {
  readonly title: string;
  /** The header row first, then one row per released row, then a blank row and the notes. */
  readonly rows: readonly (readonly Cell[])[];
  /** How many rows of `rows` are data (after the header). */
  readonly dataRows: number;
}

export interface ExportInput {
  readonly jobId: string;
  readonly pipelineName: string;
  readonly exportedAt: Date;
  readonly tables: readonly { readonly stageId: string; readonly title: string; readonly table: ReleasedTable }[];
  /** Geography code → name (both languages). */
  readonly geoNames: ReadonlyMap<string, { readonly zh: string; readonly en: string }>;
}

const TEXT = {
  'zh-CN': {
    all: '合计', none: '（无）', suppressed: '已抑制', code: '代码',
    geo: { district: '区', street: '街道（镇）', community: '社区（村）', grid: '网格' } as Record<string, string>,
    notes: '说明',
    rule: (g: ReleasedTable['guard']) => `披露规则：不超过 ${g.threshold} 人的格子抑制（含为防反推而做的二次抑制），其余取整到 ${g.rounding} 的倍数；共 ${g.cells} 格，抑制 ${g.suppressed} 格。`,
    mark: '“已抑制”表示该格按披露规则不发布，它不是 0，也不能由其他格子推算。',
    total: '“合计”表示该列已汇总（小计或总计）。',
    noise: (d: number) => `计数含不超过 ±${d} 的扰动（同一批人得到同一扰动）。`,
    dp: (dp: NonNullable<ReleasedTable['guard']['dp']>) => `差分隐私：ε = ${dp.epsilon}，${dp.noisyCells} 个最细格子各加离散拉普拉斯噪声（尺度 ${dp.scale}），小计为加噪格子之和；计数是近似值。`,
    source: (job: string, name: string, at: string) => `数据实验室任务 ${job}（${name}），导出于 ${at}（UTC）。`,
  },
  en: {
    all: 'All', none: '(none)', suppressed: 'Suppressed', code: 'code',
    geo: { district: 'District', street: 'Street / town', community: 'Community / village', grid: 'Grid' } as Record<string, string>,
    notes: 'Notes',
    rule: (g: ReleasedTable['guard']) => `Disclosure rules: cells of at most ${g.threshold} persons suppressed (with secondary suppression so none can be worked out), the rest rounded to multiples of ${g.rounding}; ${g.cells} cells, ${g.suppressed} suppressed.`,
    mark: '"Suppressed" marks a cell the disclosure rules withhold: it is not zero and cannot be worked out from the others.',
    total: '"All" marks a rolled-up key (a subtotal or the total).',
    noise: (d: number) => `Counts carry noise of at most ±${d} (the same persons always get the same noise).`,
    dp: (dp: NonNullable<ReleasedTable['guard']['dp']>) => `Differential privacy: ε = ${dp.epsilon}, discrete Laplace noise (scale ${dp.scale}) on each of ${dp.noisyCells} finest cells; subtotals are sums of the noisy cells; counts are approximate.`,
    source: (job: string, name: string, at: string) => `Data Lab job ${job} (${name}), exported ${at} (UTC).`,
  },
} as const;

/** The mark of a suppressed cell in a file, as the workspace's table shows it. */
export const suppressedMark = (lang: ExportLang): string => TEXT[lang].suppressed;

const pick = (b: { zh: string; en: string } | undefined, lang: ExportLang) => (b ? (lang === 'en' ? b.en : b.zh) : '');

function heading(c: ReleasedColumn, lang: ExportLang): string {
  return pick(c.label, lang) || (c.geoLevel ? TEXT[lang].geo[c.geoLevel] ?? c.geoLevel : '') || c.name;
}

/** One sheet per released table, laid out as the workspace's table. */
export function exportSheets(input: ExportInput, lang: ExportLang): ExportSheet[] {
  const tx = TEXT[lang];
  const at = input.exportedAt.toISOString().replace('T', ' ').slice(0, 19);
  return input.tables.map(({ title, table }) => {
    const keyCols = table.columns.filter((c) => c.role === 'key');
    const measureCols = table.columns.filter((c) => c.role === 'measure');
    // A geography key is given as its code and its name.
    const header: Cell[] = [];
    for (const c of keyCols) {
      if (c.geoLevel) header.push(`${heading(c, lang)}${lang === 'en' ? ' ' : ''}${tx.code}`);
      header.push(heading(c, lang));
    }
    for (const c of measureCols) header.push(heading(c, lang));
    const rows: Cell[][] = [header];
    for (const r of table.rows) {
      const line: Cell[] = [];
      keyCols.forEach((c, k) => {
        const total = ((r.grouping >> (keyCols.length - 1 - k)) & 1) === 1;
        const v = r.keys[k] ?? null;
        const text = total ? tx.all : v === null ? tx.none : v;
        if (c.geoLevel) {
          line.push(total || v === null ? text : v);
          line.push(total || v === null ? text : pick(input.geoNames.get(v), lang) || v);
        } else line.push(text);
      });
      measureCols.forEach((_c, m) => {
        const v = r.values[m];
        line.push(r.suppressed || v === null || v === undefined ? tx.suppressed : v);
      });
      rows.push(line);
    }
    const notes: string[] = [tx.rule(table.guard), tx.mark, tx.total];
    if (table.guard.cellKeyNoise) notes.push(tx.noise(table.guard.cellKeyNoise));
    if (table.guard.dp) notes.push(tx.dp(table.guard.dp));
    notes.push(tx.source(input.jobId, input.pipelineName, at));
    rows.push([], [tx.notes], ...notes.map((n) => [n]));
    return { title, rows, dataRows: table.rows.length };
  });
}

/**
 * A text cell that a spreadsheet would take for a formula (=, +, -, @, tab, CR first) gets a
 * leading apostrophe (OWASP CSV injection). Numbers stay numbers.
 */
export function safeText(s: string): string {
  return /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
}

function csvField(v: Cell): string {
  if (v === null) return '';
  if (typeof v === 'number') return String(v);
  const s = safeText(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** CSV: BOM, CRLF, each table under its title, tables separated by a blank line. */
export function toCsv(sheets: readonly ExportSheet[]): string {
  const lines: string[] = [];
  sheets.forEach((sheet, i) => {
    if (i > 0) lines.push('');
    if (sheets.length > 1) lines.push(csvField(sheet.title));
    for (const r of sheet.rows) lines.push(r.map(csvField).join(','));
  });
  return `\uFEFF${lines.join('\r\n')}\r\n`;
}

/** A worksheet name: at most 31 characters, none of : \ / ? * [ ], unique in the workbook. */
function sheetName(title: string, taken: Set<string>): string {
  const base = (title.replace(/[:\\/?*[\]]/g, ' ').trim() || 'Sheet').slice(0, 31);
  let name = base;
  for (let i = 2; taken.has(name.toLowerCase()); i++) name = `${base.slice(0, 31 - String(i).length - 1)}~${i}`;
  taken.add(name.toLowerCase());
  return name;
}

/** XLSX: one worksheet per table, header bold and frozen, suppressed cells in grey italics. */
export async function toXlsx(sheets: readonly ExportSheet[], lang: ExportLang): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  wb.creator = 'Data Lab';
  const taken = new Set<string>();
  const mark = suppressedMark(lang);
  for (const sheet of sheets) {
    const ws = wb.addWorksheet(sheetName(sheet.title, taken), { views: [{ state: 'frozen', ySplit: 1 }] });
    for (const r of sheet.rows) ws.addRow(r.map((v) => (typeof v === 'string' ? safeText(v) : v)));
    ws.getRow(1).font = { bold: true };
    for (let i = 2; i <= sheet.dataRows + 1; i++) {
      ws.getRow(i).eachCell((cell) => { if (cell.value === mark) cell.font = { italic: true, color: { argb: 'FF8C959F' } }; });
    }
    const width = Math.max(1, ...sheet.rows.slice(0, sheet.dataRows + 1).map((r) => r.length));
    for (let c = 1; c <= width; c++) ws.getColumn(c).width = c === 1 ? 24 : 16;
  }
  return Buffer.from(await wb.xlsx.writeBuffer());
}
