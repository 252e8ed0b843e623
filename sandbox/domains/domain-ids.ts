/** The six data domains (departments). Each has its own database, role and worker. */
export const DOMAIN_IDS = ['registry', 'social', 'health', 'civil', 'housing', 'grid'] as const;
export type DomainId = (typeof DOMAIN_IDS)[number];

export const isDomainId = (s: string): s is DomainId => (DOMAIN_IDS as readonly string[]).includes(s);

export const DOMAIN_LABELS: Record<DomainId, { zh: string; en: string }> = {
  registry: { zh: '公安户政', en: 'Public security registry' },
  social: { zh: '人社', en: 'Human resources & social security' },
  health: { zh: '卫健', en: 'Health' },
  civil: { zh: '民政', en: 'Civil affairs' },
  housing: { zh: '住建（出租屋）', en: 'Housing (rental houses)' },
  grid: { zh: '网格化服务管理', en: 'Grid management' },
};
