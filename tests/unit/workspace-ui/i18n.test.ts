import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DOMAIN_IDS } from '../../../sandbox/domains/domain-ids.ts';
import { CLASSIFICATIONS, GEO_LEVELS, SEMANTIC_TYPES } from '../../../sandbox/domains/catalog/types.ts';
import { operatorRegistry } from '../../../server/routes/operator.route.ts';
import type { JsonSchema } from '../../../workspace-ui/src/api/types.ts';
import { MENU_BY_ROLE } from '../../../workspace-ui/src/app/menu.ts';

const SRC = new URL('../../../workspace-ui/src/', import.meta.url).pathname;
type Tree = { [k: string]: string | Tree };
const load = (lang: string) => JSON.parse(readFileSync(join(SRC, 'i18n', `${lang}.json`), 'utf8')) as Tree;
const keysOf = (t: Tree, prefix = ''): string[] => Object.entries(t).flatMap(([k, v]) => (typeof v === 'string' ? [`${prefix}${k}`] : keysOf(v, `${prefix}${k}.`)));
const zh = new Set(keysOf(load('zh-CN')));
const en = new Set(keysOf(load('en')));

function* sources(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* sources(p);
    else if (/\.tsx?$/.test(name)) yield p;
  }
}

describe('workspace translations', () => {
  it('zh-CN and en have the same keys, none empty', () => {
    expect([...zh].filter((k) => !en.has(k))).toEqual([]);
    expect([...en].filter((k) => !zh.has(k))).toEqual([]);
    const valueAt = (t: Tree, key: string) => key.split('.').reduce<unknown>((node, part) => (node as Tree)[part], t);
    for (const lang of ['zh-CN', 'en']) {
      const tree = load(lang);
      expect(keysOf(tree).filter((k) => String(valueAt(tree, k)).trim() === ''), lang).toEqual([]);
    }
  });

  it('every key the code names literally exists', () => {
    const used = new Set<string>();
    for (const file of sources(SRC)) {
      for (const m of readFileSync(file, 'utf8').matchAll(/\bt\(\s*'([a-zA-Z][\w-]*(?:\.[\w-]+)+)'/g)) used.add(m[1] ?? '');
    }
    expect(used.size).toBeGreaterThan(80);
    expect([...used].filter((k) => !zh.has(k))).toEqual([]);
  });

  it('every family of keys built at run time is complete: menus, roles, domains, levels, semantic types, geography', () => {
    const missing: string[] = [];
    const need = (k: string) => { if (!zh.has(k)) missing.push(k); };
    for (const [role, pages] of Object.entries(MENU_BY_ROLE)) { need(`role.${role}`); for (const p of pages) need(`menu.${p}`); }
    for (const d of DOMAIN_IDS) need(`domain.${d}`);
    for (const l of CLASSIFICATIONS) { need(`level.${l}.name`); need(`level.${l}.help`); }
    for (const s of SEMANTIC_TYPES) need(`semantic.${s}`);
    for (const g of GEO_LEVELS) need(`geo.${g}`);
    for (const s of ['unconfigured', 'invalid', 'blocked', 'checking', 'ready', 'queued', 'done', 'failed']) need(`status.${s}`);
    for (const s of ['saving', 'starting', 'queued', 'running', 'succeeded', 'failed', 'cancelled']) need(`jobState.${s}`);
    expect(missing).toEqual([]);
  });

  it('every operator parameter and choice has a label (a translation here, or a bilingual `label` in its schema)', () => {
    const missing: string[] = [];
    const walk = (name: string, s: JsonSchema) => {
      if (name && !s.label && !zh.has(`param.${name}`)) missing.push(`param.${name}`);
      for (const v of s.enum ?? []) if (!zh.has(`enum.${v === '' ? '_empty' : String(v)}`)) missing.push(`enum.${String(v)}`);
      for (const [k, p] of Object.entries(s.properties ?? {})) walk(k, p);
      if (s.items) walk('', s.items);
    };
    const { operators } = operatorRegistry();
    for (const op of operators) {
      walk('', op.params);
      for (const c of [op.category]) if (!zh.has(`category.${c}`)) missing.push(`category.${c}`);
      for (const t of [...Object.values(op.inputs), ...Object.values(op.outputs)]) if (!zh.has(`portType.${t}`)) missing.push(`portType.${t}`);
    }
    expect([...new Set(missing)]).toEqual([]);
  });
});
