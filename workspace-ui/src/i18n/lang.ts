/** The workspace's languages (pure: no i18next, usable from any module and from tests). */
export type Lang = 'zh-CN' | 'en';
export const LANGS: readonly Lang[] = ['zh-CN', 'en'];
