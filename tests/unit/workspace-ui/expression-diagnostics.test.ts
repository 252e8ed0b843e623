import { describe, expect, it } from 'vitest';
import { findDataset } from '../../../sandbox/domains/catalog/index.ts';
import { validatePipeline } from '../../../sandbox/pipeline/validate.ts';
import { diagnose } from '../../../workspace-ui/src/expr/diagnose.ts';
import type { ExprColumn } from '../../../workspace-ui/src/expr/expr-types.ts';
import { moveStyleAttributes } from '../../../workspace-ui/src/styles/style-attributes.ts';

const IDENTIFIERS = new Set(['id_number', 'name', 'phone', 'address', 'photo', 'face_template', 'record_id']);
const person = findDataset('registry.person');
const columns: ExprColumn[] = (person?.columns ?? []).map((c) => ({
  name: c.name, type: c.type === 'bigint' ? 'int' : c.type === 'bytea' ? 'bytes' : c.type, level: c.level, semantic: c.semantic, identifier: IDENTIFIERS.has(c.semantic),
}));

/** What the server says about a filter condition on registry.person. */
function serverSays(condition: string) {
  const v = validatePipeline({
    specVersion: 1, name: 't', nodes: [
      { id: 'p', op: 'source@1', params: { dataset: 'registry.person' } },
      { id: 'f', op: 'filter@1', inputs: { rows: 'p' }, params: { condition } },
      { id: 'a', op: 'aggregate@1', inputs: { rows: 'f' }, params: { groupBy: ['sex'], measures: [{ kind: 'count_persons' }] } },
      { id: 'o', op: 'output@1', inputs: { table: 'a' } },
    ],
  });
  return v.ok ? undefined : v.errors.find((e) => e.nodeId === 'f');
}

describe('expression diagnostics in the browser = the server\'s parser and checker', () => {
  it.each([
    ["statsu = 'active'", 'LAB-E052'],
    ["status = 'active' AND", 'LAB-E050'],
    ["status = 'active", 'LAB-E050'],
    ['age(status) > 3', 'LAB-E051'],
    ["nosuchfn(status) = 'x'", 'LAB-E053'],
  ])('%s → %s, same code, span and message as the server', (text, code) => {
    const server = serverSays(text);
    const browser = diagnose(text, { columns, lang: 'zh-CN' });
    expect(server?.code).toBe(code);
    expect(browser?.code).toBe(code);
    expect(browser?.message).toBe(`${code} ${server?.messageIn('zh-CN') ?? ''}`);
    if (server?.span) expect({ start: browser?.start, end: browser?.end }).toEqual({ start: server.span.start, end: Math.max(server.span.end, server.span.start + 1) });
    expect(diagnose(text, { columns, lang: 'en' })?.message).toBe(`${code} ${server?.messageIn('en') ?? ''}`);
  });

  it('accepts what the server accepts, and checks only syntax before the input is known', () => {
    const ok = "status = 'active' AND age(birth_date) >= 60";
    expect(serverSays(ok)).toBeUndefined();
    expect(diagnose(ok, { columns, lang: 'zh-CN' })).toBeUndefined();
    expect(diagnose("statsu = 'active'", { columns: undefined, lang: 'zh-CN' })).toBeUndefined();
    expect(diagnose("statsu = 'active", { columns: undefined, lang: 'zh-CN' })?.code).toBe('LAB-E050');
  });
});

describe('Monaco HTML kept within the CSP', () => {
  it('moves style attributes of tags, never text that looks like one', () => {
    const html = '<div style="top:0px;height:19px;" class="view-line"><span class="mtk1">a&nbsp;style="x"&nbsp;&lt;b style="y"&gt;</span></div>';
    expect(moveStyleAttributes(html)).toBe('<div data-lab-style="top:0px;height:19px;" class="view-line"><span class="mtk1">a&nbsp;style="x"&nbsp;&lt;b style="y"&gt;</span></div>');
    expect(moveStyleAttributes('<div class="a" style="width:3px"></div>')).toBe('<div class="a" data-lab-style="width:3px"></div>');
  });
});
