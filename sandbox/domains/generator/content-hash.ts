import { createHash } from 'node:crypto';
import { GENERATOR_VERSION } from './city-plan.ts';
import { taskOrdinal, type TaskResult } from './run-task.ts';

type TaskDigests = Pick<TaskResult, 'ref' | 'rows' | 'digests'>;
import { TABLES } from './tables.ts';

/**
 * The city's content hash: SHA-256 over the generator version, size, seed, snapshot date, the
 * geography's COPY text, and then, table by table (catalog order) and task by task (canonical
 * order), the SHA-256 of the exact COPY bytes the task emitted for that table. Rows of a task are
 * emitted in a fixed order, so the hash is the same whatever the number of threads.
 */
export function cityContentHash(o: { persons: number; seed: string; asOf: string; geoText: string; tasks: readonly TaskDigests[] }): string {
  const tasks = [...o.tasks].sort((a, b) => taskOrdinal(a.ref) - taskOrdinal(b.ref));
  const hash = createHash('sha256').update(`${GENERATOR_VERSION}\n${o.persons}\n${o.seed}\n${o.asOf}\n`).update(o.geoText);
  TABLES.forEach((table, i) => {
    for (const task of tasks) hash.update(`${table.id}\t${taskOrdinal(task.ref)}\t${task.digests[i] ?? ''}\n`);
  });
  return hash.digest('hex');
}

/** Rows per dataset id, summed over tasks. */
export function rowsPerTable(tasks: readonly TaskDigests[]): Record<string, number> {
  const rows: Record<string, number> = {};
  TABLES.forEach((table, i) => {
    rows[table.id] = tasks.reduce((a, task) => a + (task.rows[i] ?? 0), 0);
  });
  return rows;
}
