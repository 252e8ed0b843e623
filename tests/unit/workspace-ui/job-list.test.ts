import { describe, expect, it } from 'vitest';
import { jobIdOfPath, jobStateColor, keepsPipelines, listIdOfPath, pipelineIdOfPath } from '../../../workspace-ui/src/jobs/job-list.ts';

describe('workspace list paths and marks', () => {
  it('reads ids from the lists’ paths, and nothing from other paths or ids the API would refuse', () => {
    expect(jobIdOfPath('/jobs/0b7c-uuid_1')).toBe('0b7c-uuid_1');
    expect(jobIdOfPath('/jobs')).toBeUndefined();
    expect(jobIdOfPath('/jobs/a/b')).toBeUndefined();
    expect(jobIdOfPath(`/jobs/${'x'.repeat(65)}`)).toBeUndefined();
    expect(pipelineIdOfPath('/editor/abc-1')).toBe('abc-1');
    expect(pipelineIdOfPath('/editor')).toBeUndefined();
    expect(pipelineIdOfPath('/editor/a%20b')).toBeUndefined();
    expect(listIdOfPath('/followups/0b7c-1~list_registry')).toBe('0b7c-1~list_registry');
    expect(listIdOfPath('/followups/0b7c-1')).toBeUndefined();
    expect(listIdOfPath('/followups/0b7c-1~1list')).toBeUndefined();
  });

  it('keeps pipelines for the roles the default policy lets build them; colours every job state', () => {
    expect((['analyst', 'officer', 'researcher', 'steward', 'admin'] as const).filter(keepsPipelines)).toEqual(['analyst', 'officer', 'researcher']);
    expect((['awaiting_approval', 'rejected', 'queued', 'running', 'succeeded', 'failed', 'cancelled'] as const).map(jobStateColor))
      .toEqual(['warning', 'error', 'processing', 'processing', 'success', 'error', 'default']);
  });
});
