import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError, get, post } from '../api/client.ts';
import type { ErrorBody, Job, JobResult, JobState, StageInfo } from '../api/types.ts';
import { toDocument, type EditorDoc } from './model.ts';
import { validationKey } from './useValidation.ts';

export type RunPhase = 'idle' | 'saving' | 'starting' | 'following' | 'finished';

export interface StageError { readonly code: string; readonly zh: string; readonly en: string; readonly nodeId?: string; readonly field?: string }

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
  /** The document the job runs (statuses on the canvas apply while it is unchanged). */
  readonly docKey?: string;
}

const TERMINAL: ReadonlySet<string> = new Set(['succeeded', 'failed', 'cancelled']);

function isStageError(v: unknown): v is StageError {
  return typeof v === 'object' && v !== null && typeof (v as StageError).code === 'string' && typeof (v as StageError).zh === 'string';
}

interface StateEvent { state: JobState; stages?: StageInfo[] }
interface StageEvent { stage: string; state: string; error?: unknown }

/**
 * Save → run → follow: POST /api/pipelines (again only when the document changed), POST
 * /api/pipelines/{id}/runs, then the job's server-sent events (GET /api/jobs/{id}/events, which
 * resumes after Last-Event-ID by itself) until the job ends, then its released tables.
 */
export function useRun() {
  const [run, setRun] = useState<RunState>({ phase: 'idle', stages: [], stageErrors: {} });
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
    if (job?.state === 'succeeded') {
      try {
        const result = await get<JobResult>(`/api/jobs/${jobId}/result`);
        setRun((r) => ({ ...r, phase: 'finished', jobState: 'succeeded', stages: job.stages, stageErrors, result }));
      } catch (e) {
        setRun((r) => ({ ...r, phase: 'finished', jobState: 'succeeded', stages: job.stages, stageErrors, ...(e instanceof ApiError ? { resultError: e.body } : {}) }));
      }
      return;
    }
    setRun((r) => ({ ...r, phase: 'finished', ...(job ? { jobState: job.state, stages: job.stages } : {}), stageErrors: { ...r.stageErrors, ...stageErrors } }));
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

  const start = useCallback(async (doc: EditorDoc) => {
    close();
    const key = validationKey(doc);
    setRun({ phase: 'saving', stages: [], stageErrors: {}, docKey: key });
    try {
      let pipelineId = saved.current?.key === key ? saved.current.id : undefined;
      if (!pipelineId) {
        pipelineId = (await post<{ id: string }>('/api/pipelines', toDocument(doc))).id;
        saved.current = { key, id: pipelineId };
      }
      setRun((r) => ({ ...r, phase: 'starting', pipelineId }));
      const { jobId } = await post<{ jobId: string }>(`/api/pipelines/${encodeURIComponent(pipelineId)}/runs`);
      setRun((r) => ({ ...r, phase: 'following', jobId, jobState: 'queued' }));
      follow(jobId);
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

  const cancel = useCallback(async () => {
    if (!run.jobId) return;
    await post<{ state: string }>(`/api/jobs/${encodeURIComponent(run.jobId)}/cancel`);
  }, [run.jobId]);

  const reset = useCallback(() => { close(); setRun({ phase: 'idle', stages: [], stageErrors: {} }); }, []);

  return { run, start, save, cancel, reset };
}
