/** Pure helpers of the pipeline and job lists. */
import type { JobState, Role } from '../api/types.ts';

/** Roles the default policy lets keep pipelines (pipeline.create / pipeline.list). */
export const keepsPipelines = (role: Role): boolean => role === 'analyst' || role === 'officer' || role === 'researcher';

/** antd tag colour of a job state. */
export function jobStateColor(state: JobState): string {
  switch (state) {
    case 'succeeded': return 'success';
    case 'failed': case 'rejected': return 'error';
    case 'awaiting_approval': return 'warning';
    case 'queued': case 'running': return 'processing';
    case 'cancelled': return 'default';
  }
}

/** The job id in a `/jobs/{id}` path. */
export const jobIdOfPath = (path: string): string | undefined => /^\/jobs\/([A-Za-z0-9_-]{1,64})$/.exec(path)?.[1];

/** The pipeline id in an `/editor/{id}` path. */
export const pipelineIdOfPath = (path: string): string | undefined => /^\/editor\/([A-Za-z0-9_-]{1,64})$/.exec(path)?.[1];

/** The follow-up list id in a `/followups/{listId}` path (`<jobId>~<node id>`). */
export const listIdOfPath = (path: string): string | undefined => /^\/followups\/([A-Za-z0-9_-]{1,64}~[A-Za-z][A-Za-z0-9_-]{0,63})$/.exec(path)?.[1];
