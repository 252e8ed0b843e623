import { readFileSync, writeFileSync } from 'node:fs';
import { renderErrorsDoc } from './errors-doc.ts';
import { syncPipelineSpecDoc } from './pipeline-spec-doc.ts';

writeFileSync(new URL('../../docs/errors.md', import.meta.url), renderErrorsDoc());
// docs/pipeline-spec.md lists the codes a pipeline can get: keep it in step too.
const spec = new URL('../../docs/pipeline-spec.md', import.meta.url);
writeFileSync(spec, syncPipelineSpecDoc(readFileSync(spec, 'utf8')));
