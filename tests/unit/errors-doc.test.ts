import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../sandbox/errors/codes.ts';
import { LabError } from '../../sandbox/errors/lab-error.ts';
import { renderErrorsDoc } from '../support/errors-doc.ts';

describe('error family', () => {
  it('docs/errors.md lists every code as the code list says', () => {
    expect(readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8')).toBe(renderErrorsDoc());
  });

  it('codes are LAB-E plus three digits, unique, with both languages', () => {
    for (const [code, spec] of Object.entries(ERROR_CODES)) {
      expect(code).toMatch(/^LAB-E\d{3}$/);
      expect(spec.zh.length).toBeGreaterThan(0);
      expect(spec.en.length).toBeGreaterThan(0);
    }
  });

  it('the wire form carries code, message in the asked language, node and field', () => {
    const e = new LabError('LAB-E003', { detail: { zh: '列不存在', en: 'unknown column' }, nodeId: 'n3', field: 'params.column' });
    expect(e.toBody('en')).toEqual({ code: 'LAB-E003', message: 'Request failed validation: unknown column', nodeId: 'n3', field: 'params.column' });
    expect(e.toBody('zh-CN').message).toBe('请求内容校验失败：列不存在');
    expect(e.status).toBe(422);
  });
});
