import { describe, expect, it } from 'vitest';
import { AUTOSAVE_MS, clearDraft, draftKey, readDraft, writeDraft, type DraftStorage } from '../../../workspace-ui/src/editor/draft.ts';
import { addNode, connect, copySelection, emptyDoc, pasteClip, toDocument, type EditorDoc } from '../../../workspace-ui/src/editor/model.ts';

function s6(): EditorDoc {
  let d = emptyDoc('S6');
  d = addNode(d, { id: 'persons', op: 'source@1', params: { dataset: 'registry.person' }, position: { x: 0, y: 0 } }, 'source').doc;
  d = addNode(d, { id: 'inflow', op: 'filter@1', params: { condition: "status = 'active'" }, position: { x: 240, y: 0 } }, 'filter').doc;
  d = addNode(d, { id: 'by_district', op: 'aggregate@1', params: { groupBy: ['district_code'] }, position: { x: 480, y: 0 } }, 'aggregate').doc;
  d = connect(d, { source: 'persons', sourcePort: 'rows', target: 'inflow', targetPort: 'rows' });
  d = connect(d, { source: 'inflow', sourcePort: 'rows', target: 'by_district', targetPort: 'rows' });
  return d;
}

describe('copy and paste on the canvas', () => {
  it('copies the selected nodes with the connections among them only', () => {
    const clip = copySelection(s6(), ['inflow', 'by_district']);
    expect(clip.nodes.map((n) => n.id)).toEqual(['inflow', 'by_district']);
    // persons → inflow leaves the selection: not copied.
    expect(clip.edges).toEqual([{ source: 'inflow', sourcePort: 'rows', target: 'by_district', targetPort: 'rows' }]);
  });

  it('pastes with fresh ids, moved by the offset, connections following their nodes; the original is untouched', () => {
    const doc = s6();
    const clip = copySelection(doc, ['inflow', 'by_district']);
    const once = pasteClip(doc, clip, { x: 40, y: 40 });
    expect(once.ids).toEqual(['filter_1', 'aggregate_1']);
    expect(once.doc.nodes.slice(0, 3)).toEqual(doc.nodes);
    expect(once.doc.nodes.find((n) => n.id === 'filter_1')).toMatchObject({ op: 'filter@1', params: { condition: "status = 'active'" }, position: { x: 280, y: 40 } });
    expect(once.doc.edges).toContainEqual({ source: 'filter_1', sourcePort: 'rows', target: 'aggregate_1', targetPort: 'rows' });
    expect(once.doc.edges).toHaveLength(3);
    // Pasted again: other fresh ids, never a clash.
    const twice = pasteClip(once.doc, clip, { x: 80, y: 80 });
    expect(twice.ids).toEqual(['filter_2', 'aggregate_2']);
    expect(new Set(twice.doc.nodes.map((n) => n.id)).size).toBe(7);
    // The pasted copy is a valid part of the document the API takes (its input names the copy).
    const pastedAgg = toDocument(twice.doc).nodes.find((n) => n.id === 'aggregate_2');
    expect(pastedAgg?.inputs).toEqual({ rows: 'filter_2.rows' });
  });

  it('pastes nothing from an empty clip', () => {
    const doc = s6();
    expect(pasteClip(doc, copySelection(doc, []), { x: 1, y: 1 }).doc.nodes).toEqual(doc.nodes);
  });
});

describe('autosaved drafts', () => {
  const memory = (): DraftStorage & { map: Map<string, string> } => {
    const map = new Map<string, string>();
    return { map, getItem: (k) => map.get(k) ?? null, setItem: (k, v) => { map.set(k, v); }, removeItem: (k) => { map.delete(k); } };
  };

  it('keeps one draft per user and reads it back', () => {
    const store = memory();
    const at = new Date('2026-11-25T01:00:00Z');
    expect(writeDraft(store, 'analyst', toDocument(s6()), at)).toBe(true);
    expect(readDraft(store, 'analyst')).toEqual({ doc: toDocument(s6()), savedAt: at.toISOString() });
    expect(readDraft(store, 'researcher')).toBeUndefined();
    expect([...store.map.keys()]).toEqual([draftKey('analyst')]);
  });

  it('an empty canvas removes the draft; so does discarding it', () => {
    const store = memory();
    writeDraft(store, 'analyst', toDocument(s6()), new Date());
    writeDraft(store, 'analyst', toDocument(emptyDoc('x')), new Date());
    expect(store.map.size).toBe(0);
    writeDraft(store, 'analyst', toDocument(s6()), new Date());
    clearDraft(store, 'analyst');
    expect(readDraft(store, 'analyst')).toBeUndefined();
  });

  it('ignores what is not a draft (other JSON, a broken document) and survives a storage that refuses', () => {
    const store = memory();
    store.map.set(draftKey('analyst'), '{not json');
    expect(readDraft(store, 'analyst')).toBeUndefined();
    store.map.set(draftKey('analyst'), JSON.stringify({ doc: { specVersion: 2, name: 'x', nodes: [{ id: 'a', op: 'source@1' }] }, savedAt: 'now' }));
    expect(readDraft(store, 'analyst')).toBeUndefined();
    store.map.set(draftKey('analyst'), JSON.stringify({ doc: { specVersion: 1, name: 'x', nodes: [{ id: 1 }] }, savedAt: 'now' }));
    expect(readDraft(store, 'analyst')).toBeUndefined();
    const full: DraftStorage = { getItem: () => { throw new Error('denied'); }, setItem: () => { throw new Error('quota'); }, removeItem: () => { throw new Error('denied'); } };
    expect(writeDraft(full, 'analyst', toDocument(s6()), new Date())).toBe(false);
    expect(readDraft(full, 'analyst')).toBeUndefined();
    expect(() => { clearDraft(full, 'analyst'); }).not.toThrow();
    expect(AUTOSAVE_MS).toBeGreaterThan(0);
  });
});
