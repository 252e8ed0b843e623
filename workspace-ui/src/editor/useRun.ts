import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError, get, post } from '../api/client.ts';
import type { ErrorBody, Job, JobApproval, JobResult, JobState, ReviewState, RunStarted, StageInfo } from '../api/types.ts';
import { toDocument, type EditorDoc } from './model.ts';
import { waitsForOfficers } from './run-waits.ts';
import { validationKey } from './useValidation.ts';

export type RunPhase = 'idle' | 'saving' | 'starting' | 'following' | 'finished';

export interface StageError { readonly code: string; readonly zh: string; readonly en: string; readonly nodeId?: string; readonly field?: string; readonly reason?: string }

export interface RunState {
  readonly phase: RunPhase;
  readonly pipelineId?: string;
  readonly jobId?: string;
  readonly jobState?: JobState;
  readonly stages: readonly StageInfo[];
  /** Refusal before the job started (validation, permission), as the server answered it. */
  readonly refused?: readonly ErrorBody[];
  readonly stageErrors: Readonly<Record<string, StageError>>;
  readonly result?: JobResult;
  readonly resultError?: ErrorBody;
  /** Officers who must approve before the job runs (0: none), and the decisions so far. */
  readonly approvalsRequired: number;
  readonly approvals: readonly JobApproval[];
  /** Researchers' outputs: the officer's review (null for staff). */
  readonly reviewState?: ReviewState | null;
  /** Why the job stopped: an officer's rejection (with the reason), an exhausted budget, a failed stage. */
  readonly jobError?: StageError;
  readonly epsilon?: string | null;
  readonly projectId?: string | null;
  /** The document the job runs (statuses on the canvas apply while it is unchanged). */
  readonly docKey?: string;
}

const TERMINAL: ReadonlySet<string> = new Set(['succeeded', 'failed', 'cancelled', 'rejected']);

/** While the job waits for officers or its output for review, nothing is pushed: the job is asked again this often. */
export const POLL_MS = 3000;

const IDLE: RunState = { phase: 'idle', stages: [], stageErrors: {}, approvalsRequired: 0, approvals: [] };

function isStageError(v: unknown): v is StageError {
  return typeof v === 'object' && v !== null && typeof (v as StageError).code === 'string' && typeof (v as StageError).zh === 'string';
}

interface StateEvent { state: JobState; stages?: StageInfo[] }
interface StageEvent { stage: string; state: string; error?: unknown }

/**
 * A job that ended (failed, cancelled, refused) runs none of its stages any more, whatever their
 * record says (a job refused for want of budget leaves them queued): shown as cancelled.
 */
function stagesOf(job: Job): readonly StageInfo[] {
  if (job.state !== 'failed' && job.state !== 'cancelled' && job.state !== 'rejected') return job.stages;
  return job.stages.map((s) => (s.state === 'queued' || s.state === 'running' ? { ...s, state: 'cancelled' } : s));
}

/** What the job record says beyond its stages: approvals, review, the reason it stopped. */
function jobFacts(job: Job): Partial<RunState> {
  return {
    jobState: job.state, stages: stagesOf(job), approvalsRequired: job.approvalsRequired, approvals: job.approvals,
    reviewState: job.reviewState, epsilon: job.epsilon, projectId: job.projectId,
    ...(isStageError(job.error) ? { jobError: job.error } : {}),
  };
}

/**
 * Save → run → follow: POST /api/pipelines (again only when the document changed), POST
 * /api/pipelines/{id}/runs (queued, or awaiting officers' approval as the policy decides), then the
 * job's server-sent events (GET /api/jobs/{id}/events, which resumes after Last-Event-ID by itself and
 * stays open while the job waits for approval) until the job ends, then its released tables. A
 * researcher's finished job waits for an officer's review: the job is asked again until it is
 * released (then the tables are read), returned or rejected.
 */
export function useRun() {
  const [run, setRun] = useState<RunState>(IDLE);
  const source = useRef<EventSource | null>(null);
  const saved = useRef<{ key: string; id: string } | undefined>(undefined);

  const close = () => { source.current?.close(); source.current = null; };
  useEffect(() => close, []);

  const finish = useCallback(async (jobId: string) => {
    close();
    let job: Job | undefined;
    try {
      job = await get<Job>(`/api/jobs/${jobId}`);
    } catch {
      job = undefined;
    }
    const stageErrors: Record<string, StageError> = {};
    for (const s of job?.stages ?? []) if (isStageError(s.error)) stageErrors[s.id] = s.error;
    if (job?.state === 'succeeded' && (job.reviewState === null || job.reviewState === 'released')) {
      const facts = jobFacts(job);
      try {
        const result = await get<JobResult>(`/api/jobs/${jobId}/result`);
        setRun((r) => (r.jobId === jobId ? { ...r, ...facts, phase: 'finished', stageErrors, result } : r));
      } catch (e) {
        setRun((r) => (r.jobId === jobId ? { ...r, ...facts, phase: 'finished', stageErrors, ...(e instanceof ApiError ? { resultError: e.body } : {}) } : r));
      }
      return;
    }
    setRun((r) => (r.jobId === jobId ? { ...r, phase: 'finished', ...(job ? jobFacts(job) : {}), stageErrors: { ...r.stageErrors, ...stageErrors } } : r));
  }, []);

  const follow = useCallback((jobId: string) => {
    close();
    const es = new EventSource(`/api/jobs/${encodeURIComponent(jobId)}/events`);
    source.current = es;
    es.addEventListener('state', (ev) => {
      const data = JSON.parse((ev as MessageEvent<string>).data) as StateEvent;
      setRun((r) => ({ ...r, jobState: data.state, stages: data.stages ?? r.stages }));
      if (TERMINAL.has(data.state)) void finish(jobId);
    });
    es.addEventListener('stage', (ev) => {
      const data = JSON.parse((ev as MessageEvent<string>).data) as StageEvent;
      setRun((r) => ({
        ...r,
        stages: r.stages.map((s) => (s.id === data.stage ? { ...s, state: data.state } : s)),
        stageErrors: isStageError(data.error) ? { ...r.stageErrors, [data.stage]: data.error } : r.stageErrors,
      }));
    });
    es.onerror = () => {
      // The browser reconnects by itself (with Last-Event-ID); a closed stream means the server refused it.
      if (es.readyState === EventSource.CLOSED) void finish(jobId);
    };
  }, [finish]);

  // Officers' approvals and the output review push no event: ask for the job while they are awaited
  // (at once, for what the run answer does not say: ε and project, then every few seconds).
  const waiting = waitsForOfficers(run);
  const { jobId, reviewState } = run;
  useEffect(() => {
    if (!waiting || !jobId) return undefined;
    let live = true;
    const ask = () => {
      get<Job>(`/api/jobs/${encodeURIComponent(jobId)}`).then((job) => {
        if (!live) return;
        if (job.state === 'succeeded' && job.reviewState !== reviewState) { void finish(jobId); return; }
        setRun((r) => (r.jobId === jobId
          ? { ...r, approvals: job.approvals, approvalsRequired: job.approvalsRequired, epsilon: job.epsilon, projectId: job.projectId }
          : r));
      }, () => { /* asked again at the next tick */ });
    };
    ask();
    const timer = window.setInterval(ask, POLL_MS);
    return () => { live = false; window.clearInterval(timer); };
  }, [waiting, jobId, reviewState, finish]);

  const start = useCallback(async (doc: EditorDoc) => {
    close();
    const key = validationKey(doc);
    setRun({ ...IDLE, phase: 'saving', docKey: key });
    try {
      let pipelineId = saved.current?.key === key ? saved.current.id : undefined;
      if (!pipelineId) {
        pipelineId = (await post<{ id: string }>('/api/pipelines', toDocument(doc))).id;
        saved.current = { key, id: pipelineId };
      }
      setRun((r) => ({ ...r, phase: 'starting', pipelineId }));
      const started = await post<RunStarted>(`/api/pipelines/${encodeURIComponent(pipelineId)}/runs`);
      setRun((r) => ({ ...r, phase: 'following', jobId: started.jobId, jobState: started.state, approvalsRequired: started.approvalsRequired }));
      follow(started.jobId);
    } catch (e) {
      setRun((r) => ({ ...r, phase: 'finished', refused: e instanceof ApiError ? e.errors : [{ code: 'LAB-E001', message: String(e) }] }));
    }
  }, [follow]);

  const save = useCallback(async (doc: EditorDoc): Promise<string> => {
    const key = validationKey(doc);
    const { id } = await post<{ id: string }>('/api/pipelines', toDocument(doc));
    saved.current = { key, id };
    setRun((r) => ({ ...r, pipelineId: id }));
    return id;
  }, []);

  /** A document as saved under `id` (opened from the pipeline list): running it unchanged saves nothing new. */
  const markSaved = useCallback((doc: EditorDoc, id: string) => {
    saved.current = { key: validationKey(doc), id };
    setRun((r) => ({ ...r, pipelineId: id }));
  }, []);

  const cancel = useCallback(async () => {
    if (!run.jobId) return;
    await post<{ state: string }>(`/api/jobs/${encodeURIComponent(run.jobId)}/cancel`);
  }, [run.jobId]);

  const reset = useCallback(() => { close(); setRun(IDLE); }, []);

  return { run, start, save, markSaved, cancel, reset };
}
