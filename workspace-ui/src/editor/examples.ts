/**
 * The runnable examples of examples/pipelines/ (S1, S2, S6 …), bundled with the workspace at build
 * time so a user can start from one; they are the same files the API tests run.
 */
import type { PipelineDocument } from '../api/types.ts';

const files = import.meta.glob<unknown>('../../../examples/pipelines/*.json', { eager: true, import: 'default' });

function isDocument(v: unknown): v is PipelineDocument {
  return typeof v === 'object' && v !== null && (v as PipelineDocument).specVersion === 1 && typeof (v as PipelineDocument).name === 'string' && Array.isArray((v as PipelineDocument).nodes);
}

export interface Example { readonly file: string; readonly doc: PipelineDocument }

export const EXAMPLES: readonly Example[] = Object.entries(files)
  .map(([path, doc]) => ({ file: path.slice(path.lastIndexOf('/') + 1), doc }))
  .filter((e): e is Example => isDocument(e.doc))
  .sort((a, b) => a.file.localeCompare(b.file));
