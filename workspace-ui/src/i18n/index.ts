/**
 * Translations (react-i18next): every string the workspace shows has a key in zh-CN.json and
 * en.json (tests/unit/workspace-ui checks that both files have the same keys). Chinese is the
 * default; the choice is kept in localStorage. Labels that come from the lab itself (operators,
 * datasets, columns, tags) are bilingual in the API and picked with `pick`.
 */
import i18n from 'i18next';
import { useCallback } from 'react';
import { initReactI18next, useTranslation } from 'react-i18next';
import { setApiLanguage } from '../api/client.ts';
import type { Bilingual } from '../api/types.ts';
import en from './en.json';
import zhCN from './zh-CN.json';

import { LANGS, type Lang } from './lang.ts';

export { LANGS, type Lang };
const STORAGE_KEY = 'lab.lang';

function initialLang(): Lang {
  try {
    const saved = localStorage.getItem(STORAGE_KEY);
    if (saved === 'en' || saved === 'zh-CN') return saved;
  } catch {
    // storage unavailable (private mode): Chinese
  }
  return 'zh-CN';
}

const lng = initialLang();
setApiLanguage(lng);
document.documentElement.lang = lng;

void i18n.use(initReactI18next).init({
  resources: { 'zh-CN': { translation: zhCN }, en: { translation: en } },
  lng,
  fallbackLng: 'zh-CN',
  interpolation: { escapeValue: false },
  returnNull: false,
});

export function setLanguage(lang: Lang): void {
  try {
    localStorage.setItem(STORAGE_KEY, lang);
  } catch {
    // not kept; the switch still applies to this page
  }
  setApiLanguage(lang);
  document.documentElement.lang = lang;
  void i18n.changeLanguage(lang);
}

export const pickIn = (lang: Lang, b: Bilingual | undefined): string => (b ? (lang === 'en' ? b.en : b.zh) : '');

/** The current language and a picker for the API's bilingual labels. */
export function useLang(): { lang: Lang; pick: (b: Bilingual | undefined) => string } {
  const { i18n: instance } = useTranslation();
  const lang: Lang = instance.language === 'en' ? 'en' : 'zh-CN';
  const pick = useCallback((b: Bilingual | undefined) => pickIn(lang, b), [lang]);
  return { lang, pick };
}

export { i18n };
