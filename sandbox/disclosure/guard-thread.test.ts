import { describe, expect, it } from 'vitest';
import type { AggregateTable } from '../pipeline/relation.ts';
import { DEFAULT_STAFF_PARAMS } from './guard-params.ts';
import { guardTable, runGuard } from './guard-thread.ts';
import { makeRows, table } from './guard-test-tables.ts';
import type { RawRow } from './staff-guard.ts';

describe('the guard on a thread of its own', () => {
  it('gives the same released table and ledger entries as on this thread', async () => {
    const rows = makeRows(3).map((r, i) => ({ ...r, __fp: String(1_000_003 * (i + 1)) }));
    const task = { table, rows, params: DEFAULT_STAFF_PARAMS, prior: [] };
    const inline = runGuard(task);
    const threaded = await guardTable(task, undefined, { minCells: 0 });
    expect(threaded).toEqual(inline);
    // Every cell is recorded: the released ones, and the suppressed ones (listed or not).
    expect(threaded.entries.length).toBe(rows.length);
    expect(threaded.entries.filter((e) => !e.suppressed).length).toBe(inline.released.rows.filter((r) => !r.suppressed).length);
  });

  it('a refusal crosses the thread as the same LabError (code and field)', async () => {
    const t3: AggregateTable = { ...table, keys: [table.keys[2]!], groupingSets: [['sex']] };
    const rows: RawRow[] = Array.from({ length: 41 }, (_, i) => ({ sex: `v${i}`, __grouping: 0, __units: 50, persons: 50 }));
    await expect(guardTable({ table: t3, rows, params: DEFAULT_STAFF_PARAMS, prior: [] }, undefined, { minCells: 0 }))
      .rejects.toMatchObject({ name: 'LabError', code: 'LAB-E065', field: 'sex' });
  });

  it('an abort stops the thread: LAB-E073', async () => {
    const aborter = new AbortController();
    const run = guardTable({ table, rows: makeRows(4), params: DEFAULT_STAFF_PARAMS, prior: [] }, aborter.signal, { minCells: 0 });
    aborter.abort();
    await expect(run).rejects.toMatchObject({ code: 'LAB-E073' });
  });

  it('after an abort the next tables are guarded as before (a new thread), one after another', async () => {
    const aborter = new AbortController();
    const stopped = guardTable({ table, rows: makeRows(5), params: DEFAULT_STAFF_PARAMS, prior: [] }, aborter.signal, { minCells: 0 });
    aborter.abort();
    await expect(stopped).rejects.toMatchObject({ code: 'LAB-E073' });
    const tasks = [6, 7].map((seed) => ({ table, rows: makeRows(seed), params: DEFAULT_STAFF_PARAMS, prior: [] }));
    const [a, b] = await Promise.all(tasks.map((task) => guardTable(task, undefined, { minCells: 0 })));
    expect(a).toEqual(runGuard(tasks[0]!));
    expect(b).toEqual(runGuard(tasks[1]!));
  });
});

