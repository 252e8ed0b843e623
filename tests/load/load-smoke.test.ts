import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLabProcess, type LabProcess } from '../faults/lab-process.ts';
import { runLoad } from './load-driver.ts';

/**
 * A short version of `npm run bench -- load` (tests/bench/load.bench.ts): 10 analyst sessions for
 * 15 s against the lab as deployed (Postgres + Redis, six worker processes), each submitting jobs.
 * Asserts correctness only — no 5xx, every request answered, every job finished and succeeded,
 * memory sampled — never timings (those are the benchmark's, docs/benchmarks.md).
 */
describe('load smoke: 10 sessions × 15 s', () => {
  let lab: LabProcess;
  const token = 'load-smoke-metrics-token';
  beforeAll(async () => {
    lab = await createLabProcess({ env: { LAB_METRICS_TOKEN: token, LAB_LOG_LEVEL: 'warn' } });
    await lab.start();
  }, 360_000);
  afterAll(async () => { await lab?.drop(); });

  it('zero 5xx, every request answered, every submitted job succeeded', async () => {
    const lines: string[] = [];
    const report = await runLoad(lab, { sessions: 10, seconds: 15, jobEverySeconds: 6, thinkMs: 500, settleSeconds: 120, metricsToken: token, log: (l) => lines.push(l) });
    expect(lines.filter((l) => / → (0|5\d\d) /.test(l))).toEqual([]);
    expect(report.errors5xx).toBe(0);
    expect(report.failedRequests).toBe(0);
    expect(report.byKind['login']).toMatchObject({ count: 10, errors4xx: 0 });
    expect(report.byKind['read']?.count ?? 0).toBeGreaterThan(20);
    expect(report.jobsSubmitted).toBeGreaterThan(0);
    expect(report.jobsSucceeded).toBe(report.jobsSubmitted);
    expect(report.byKind['sse']).toMatchObject({ count: report.jobsSubmitted, errors4xx: 0, errors5xx: 0 });
    expect(report.memory.length).toBeGreaterThan(2);
    expect(report.memory.every((m) => m.rssMiB > 0 && m.heapMiB > 0)).toBe(true);
  }, 300_000);
});
