import { readFileSync, writeFileSync } from 'node:fs';
import { syncPipelineSpecDoc } from './pipeline-spec-doc.ts';

const file = new URL('../../docs/pipeline-spec.md', import.meta.url);
writeFileSync(file, syncPipelineSpecDoc(readFileSync(file, 'utf8')));
