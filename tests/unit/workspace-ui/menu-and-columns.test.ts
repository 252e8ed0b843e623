import { describe, expect, it } from 'vitest';
import { findDataset } from '../../../sandbox/domains/catalog/index.ts';
import { operatorRegistry } from '../../../server/routes/operator.route.ts';
import type { CatalogDataset } from '../../../workspace-ui/src/api/types.ts';
import { homePageOf, mayOpen, MENU_BY_ROLE, READY_PAGES } from '../../../workspace-ui/src/app/menu.ts';
import { inputColumns, upstreamDatasets } from '../../../workspace-ui/src/editor/columns.ts';
import { connect, emptyDoc, addNode } from '../../../workspace-ui/src/editor/model.ts';

describe('menu by role', () => {
  it('lands every role on a page that exists and is in its menu; never opens another role\'s page', () => {
    for (const [role, pages] of Object.entries(MENU_BY_ROLE) as [keyof typeof MENU_BY_ROLE, readonly string[]][]) {
      const home = homePageOf(role);
      expect(READY_PAGES.has(home), role).toBe(true);
      expect(pages, role).toContain(home);
    }
    expect(homePageOf('analyst')).toBe('editor');
    expect(homePageOf('steward')).toBe('followups'); // their domain's follow-up lists
    expect(mayOpen('steward', 'editor')).toBe(false);
    expect(mayOpen('analyst', 'approvals')).toBe(false); // not the analyst's
    expect(mayOpen('analyst', 'jobs')).toBe(true);
    expect(mayOpen('officer', 'jobs')).toBe(true); // every job they may read
    expect(mayOpen('steward', 'jobs')).toBe(false); // stewards run no jobs
    expect(mayOpen('admin', 'users')).toBe(false); // not built yet
    expect(homePageOf('officer')).toBe('approvals');
    expect(homePageOf('admin')).toBe('audit');
    expect(mayOpen('researcher', 'budget')).toBe(true);
    expect(mayOpen('analyst', 'budget')).toBe(false); // researchers' only
    expect(mayOpen('researcher', 'approvals')).toBe(false); // officers' only
  });
});

describe('input columns offered by the inspector', () => {
  const ops = new Map(operatorRegistry().operators.map((o) => [o.ref, o]));
  const person = findDataset('registry.person');
  if (!person) throw new Error('catalog without registry.person');
  const catalog = [{ ...person, columns: person.columns.map((c) => ({ ...c, nullable: c.nullable ?? false, values: c.values ?? null, bounds: c.bounds ?? null, geoLevel: c.geoLevel ?? null })) }] as unknown as CatalogDataset[];
  let doc = addNode(emptyDoc('t'), { id: 'p', op: 'source@1', params: { dataset: 'registry.person' }, position: { x: 0, y: 0 } }, 'source').doc;
  doc = addNode(doc, { id: 'f', op: 'filter@1', params: { condition: '' }, position: { x: 0, y: 0 } }, 'filter').doc;
  doc = addNode(doc, { id: 'd', op: 'derive@1', params: { columns: [] }, position: { x: 0, y: 0 } }, 'derive').doc;

  it('offers nothing before the port is connected', () => {
    expect(inputColumns(doc, 'f', 'rows', new Map(), ops, catalog)).toEqual({ columns: undefined, source: 'none' });
  });

  it('offers the upstream dataset\'s columns before validation, then the inferred ones (with catalog labels)', () => {
    const wired = connect(connect(doc, { source: 'p', sourcePort: 'rows', target: 'f', targetPort: 'rows' }), { source: 'f', sourcePort: 'rows', target: 'd', targetPort: 'rows' });
    expect(upstreamDatasets(wired, 'd', ops)).toEqual(['registry.person']);
    const before = inputColumns(wired, 'd', 'rows', new Map(), ops, catalog);
    expect(before.source).toBe('catalog');
    expect(before.columns?.find((c) => c.name === 'id_number')).toMatchObject({ identifier: true, semantic: 'id_number' });
    expect(before.columns?.find((c) => c.name === 'sex')?.values).toBeTruthy();
    const outputs = new Map([['f', { rows: { kind: 'rows' as const, domain: 'registry', columns: [{ name: 'sex', type: 'text', level: 'L2', identifier: false }, { name: 'age_band', type: 'text', level: 'L3', identifier: false }] } }]]);
    const after = inputColumns(wired, 'd', 'rows', outputs, ops, catalog);
    expect(after.source).toBe('validated');
    expect(after.columns?.map((c) => c.name)).toEqual(['sex', 'age_band']);
    expect(after.columns?.[0]?.label?.zh).toBe('性别');
    expect(after.columns?.[1]?.label).toBeUndefined();
  });
});
