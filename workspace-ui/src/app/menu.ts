/** What each role sees in the menu. Pages not built yet are listed, disabled, so each role's workspace is visible. */
import type { Role } from '../api/types.ts';

export type PageKey = 'editor' | 'catalog' | 'jobs' | 'approvals' | 'review' | 'policies' | 'audit' | 'budget' | 'followups' | 'capture' | 'users';

export const MENU_BY_ROLE: Readonly<Record<Role, readonly PageKey[]>> = {
  analyst: ['editor', 'catalog', 'jobs'],
  researcher: ['editor', 'jobs', 'catalog', 'budget'],
  officer: ['approvals', 'review', 'policies', 'audit', 'editor', 'jobs', 'catalog'],
  steward: ['followups', 'catalog', 'capture'],
  admin: ['users', 'audit', 'catalog'],
};

/** Pages this workspace has today. */
export const READY_PAGES: ReadonlySet<PageKey> = new Set<PageKey>(['editor', 'catalog', 'jobs', 'followups', 'approvals', 'review', 'policies', 'audit', 'budget', 'capture']);

export const pathOf = (page: PageKey): string => `/${page}`;

export function pageOfPath(path: string): PageKey | undefined {
  const first = path.split('/')[1] ?? '';
  return (Object.values(MENU_BY_ROLE).flat() as string[]).includes(first) ? (first as PageKey) : undefined;
}

/** Where a role lands after signing in: its first page that exists. */
export function homePageOf(role: Role): PageKey {
  return MENU_BY_ROLE[role].find((p) => READY_PAGES.has(p)) ?? 'catalog';
}

/** A page the role may open (in its menu and built). */
export const mayOpen = (role: Role, page: PageKey): boolean => READY_PAGES.has(page) && MENU_BY_ROLE[role].includes(page);
