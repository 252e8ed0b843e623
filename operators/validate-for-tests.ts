import type { LabError } from '../sandbox/errors/index.ts';
import { validatePipeline, type ValidPipeline } from '../sandbox/pipeline/validate.ts';

/** For operator tests: a document that must validate, and the first error of one that must not. */
export const valid = (d: unknown): ValidPipeline => {
  const v = validatePipeline(d);
  if (!v.ok) throw v.errors[0];
  return v.pipeline;
};

export const firstError = (d: unknown): LabError => {
  const v = validatePipeline(d);
  if (v.ok) throw new Error('expected a validation error');
  const [e] = v.errors;
  if (!e) throw new Error('no error');
  return e;
};
