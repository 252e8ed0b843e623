/** When a run waits for people rather than for the domains. Pure (no React), so it is tested without a browser. */
import type { JobState, ReviewState } from '../api/types.ts';

/** The job waits for people (officers' approval, the output's review): nothing is pushed for that, so it is asked again. */
export const waitsForOfficers = (r: { readonly jobState?: JobState | undefined; readonly reviewState?: ReviewState | null | undefined }): boolean =>
  r.jobState === 'awaiting_approval' || (r.jobState === 'succeeded' && r.reviewState === 'pending');
