import { describe, expect, it } from 'vitest';
import { languageOf } from './error-handler.ts';

describe('languageOf (Accept-Language)', () => {
  it('defaults to zh-CN', () => {
    for (const h of [undefined, '', '*', 'fr-FR,de;q=0.8', 'garbage;;;']) expect(languageOf(h), String(h)).toBe('zh-CN');
  });
  it('answers in English when English ranks above Chinese', () => {
    expect(languageOf('en')).toBe('en');
    expect(languageOf('en-US,en;q=0.9')).toBe('en');
    expect(languageOf('fr,en;q=0.5')).toBe('en');
    expect(languageOf('zh-CN;q=0.4,en;q=0.6')).toBe('en');
  });
  it('keeps Chinese when it ranks first or ties first', () => {
    expect(languageOf('zh-CN,en;q=0.9')).toBe('zh-CN');
    expect(languageOf('zh,en')).toBe('zh-CN');
    expect(languageOf('en;q=0,zh-TW')).toBe('zh-CN');
  });
});
