import { z } from 'zod';
import type { ReleasedTable } from '../../disclosure/released-table.ts';

/** What a domain worker answers for a stage: the released table, or a user error in both languages. */
export type StageOutcome =
  | { readonly ok: true; readonly table: ReleasedTable }
  | { readonly ok: false; readonly error: StageError };

export interface StageError {
  readonly code: string;
  readonly zh: string;
  readonly en: string;
  readonly nodeId?: string;
  readonly field?: string;
}

/** The queue payload of a stage, checked before anything runs. */
export const stagePayloadSchema = z.object({
  jobId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
  stageId: z.string().regex(/^[A-Za-z][A-Za-z0-9_-]{0,63}$/),
  pipeline: z.unknown(),
  guard: z.object({
    threshold: z.number().int().min(1).max(1000),
    rounding: z.number().int().min(1).max(1000),
    pPercent: z.number().min(0).max(1),
    nkK: z.number().min(0).max(1),
    maxLevels: z.number().int().min(1).max(1000),
    cellKeyNoise: z.object({ d: z.number().int().min(1).max(10) }).strict().optional(),
  }).strict(),
  dp: z.object({
    epsilon: z.string().regex(/^\d{1,6}(\.\d{1,6})?(\/\d{1,6})?$/),
    mechanism: z.enum(['discrete-laplace', 'discrete-gaussian']),
  }).strict().optional(),
}).strict();
