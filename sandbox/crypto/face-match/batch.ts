import { FaceProbeHolder, FaceReferenceHolder, maxComparisonsPerSession, type FaceOutcome, type Probe, type ReferenceLookup } from './face-match.protocol.ts';

/**
 * Both parties in one process, messages relayed in memory: the measurable unit of the `face` and
 * `face-match` benchmarks, and a convenience for tests. Comparisons beyond one session's capacity
 * run as several sessions in turn (fresh keys each), exactly as a worker would run them.
 */
export interface BatchComparison {
  readonly jobId: string;
  readonly modelId: string;
  readonly dimension: number;
  readonly threshold: number;
  readonly probes: readonly Probe[];
  readonly lookup: ReferenceLookup;
}

export interface BatchTiming {
  readonly comparisons: number;
  readonly sessions: number;
  readonly seconds: number;
  readonly comparisonsPerSecond: number;
  /** Bytes relayed in both directions (what the coordinator would carry). */
  readonly bytes: number;
}

export async function compareBatch(job: BatchComparison): Promise<{ outcomes: FaceOutcome[]; timing: BatchTiming }> {
  const per = maxComparisonsPerSession(job.dimension);
  const outcomes: FaceOutcome[] = [];
  let bytes = 0, sessions = 0;
  const t0 = performance.now();
  for (let from = 0; from < job.probes.length; from += per) {
    sessions++;
    const probe = await FaceProbeHolder.open({ jobId: job.jobId, modelId: job.modelId, dimension: job.dimension, threshold: job.threshold });
    const reference = await FaceReferenceHolder.open({ lookup: job.lookup });
    try {
      let toReference = probe.start(job.probes.slice(from, from + per));
      while (toReference.length > 0) {
        const toProbe: Uint8Array[] = [];
        for (const m of toReference) { bytes += m.byteLength; toProbe.push(...(await reference.handle(m))); }
        toReference = [];
        for (const m of toProbe) { bytes += m.byteLength; toReference.push(...(await probe.handle(m))); }
      }
      outcomes.push(...probe.result());
    } finally {
      probe.close();
      reference.close();
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  return { outcomes, timing: { comparisons: outcomes.length, sessions, seconds, comparisonsPerSecond: outcomes.length / seconds, bytes } };
}
