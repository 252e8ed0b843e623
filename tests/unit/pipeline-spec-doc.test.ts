import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { OPERATORS } from '../../operators/index.ts';
import { FUNCTIONS } from '../../sandbox/expr/functions.ts';
import { syncPipelineSpecDoc } from '../support/pipeline-spec-doc.ts';

const doc = readFileSync(new URL('../../docs/pipeline-spec.md', import.meta.url), 'utf8');

describe('docs/pipeline-spec.md', () => {
  it('its generated parts match the code (regenerate: npx tsx tests/support/write-pipeline-spec-doc.ts)', () => {
    expect(doc).toBe(syncPipelineSpecDoc(doc));
  });

  it('documents every registered operator and every function', () => {
    for (const op of OPERATORS) expect(doc).toContain(`\`${op.id}@${op.version}\` — ${op.label.en}`);
    for (const f of FUNCTIONS) expect(doc).toContain(`| \`${f.name}\` |`);
  });
});
