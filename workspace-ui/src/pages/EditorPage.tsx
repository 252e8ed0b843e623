import '@xyflow/react/dist/style.css';
import { CaretRightOutlined, CopyOutlined, DeleteOutlined, DownOutlined, ExpandOutlined, RedoOutlined, SaveOutlined, SnippetsOutlined, UndoOutlined, UpOutlined } from '@ant-design/icons';
import {
  Background, BackgroundVariant, Controls, MiniMap, Panel, ReactFlow, ReactFlowProvider, applyNodeChanges, useConnection, useReactFlow,
  type Connection as FlowConnection, type Edge, type FinalConnectionState, type IsValidConnection, type NodeChange, type EdgeChange,
} from '@xyflow/react';
import { Alert, App, Badge, Button, Divider, Input, Select, Space, Spin, Tabs, Tag, Tooltip, Typography } from 'antd';
import type { TFunction } from 'i18next';
import { useCallback, useEffect, useMemo, useRef, useState, type DragEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { get } from '../api/client.ts';
import { errorText } from '../app/errors.ts';
import { useAuth } from '../app/auth.tsx';
import { formatTime } from '../app/format.ts';
import { usePath } from '../app/router.ts';
import { AUTOSAVE_MS, clearDraft, readDraft, writeDraft, type Draft } from '../editor/draft.ts';
import { pipelineIdOfPath } from '../jobs/job-list.ts';
import { useCatalog, useOperators } from '../api/resources.ts';
import type { CatalogDataset, ErrorBody, OperatorInfo, OperatorRegistry, SavedPipeline } from '../api/types.ts';
import { inputColumns, upstreamDatasets } from '../editor/columns.ts';
import { EXAMPLES } from '../editor/examples.ts';
import { Inspector } from '../editor/Inspector.tsx';
import {
  addNode, commit, connect, copySelection, newNodeId, connectionProblem, edgeId, emptyDoc, fromDocument, historyOf, moveNodes, pasteClip, redo, removeElements, toDocument, undo, updateNode, upstream,
  type Clip, type ConnectionProblem, type EditorDoc, type EditorNode, type History, type PortsOf, type XY,
} from '../editor/model.ts';
import type { NodeStatus } from '../editor/node-status.ts';
import { NODE_TYPES, type OperatorFlowNode, type OperatorNodeData } from '../editor/OperatorNode.tsx';
import { DRAG_TYPE, Palette } from '../editor/Palette.tsx';
import { summaryOf } from '../editor/node-summary.ts';
import { ErrorList, RunPanel } from '../editor/RunPanel.tsx';
import { missingRequired, startParams } from '../editor/schema.ts';
import { useRun } from '../editor/useRun.ts';
import { useValidation, validationKey } from '../editor/useValidation.ts';
import { DisclosurePanel } from '../editor/DisclosurePanel.tsx';
import { MockPreview } from '../preview/MockPreview.tsx';
import { useDisclosurePreview } from '../editor/useDisclosurePreview.ts';
import { useLang } from '../i18n/index.ts';

/** The pipeline editor: palette, canvas, inspector, and the problems / run / result panel. */
export default function EditorPage() {
  const { t } = useTranslation();
  const operators = useOperators();
  const catalog = useCatalog();
  const failed = operators.error ?? catalog.error;
  if (failed) return <Alert type="error" showIcon message={t('editor.loadFailed')} description={errorText(failed, t)} />;
  if (!operators.data || !catalog.data) return <div className="lab-center"><Spin /></div>;
  return (
    <ReactFlowProvider>
      <Editor registry={operators.data} catalog={catalog.data.datasets} />
    </ReactFlowProvider>
  );
}

function problemText(t: TFunction, p: ConnectionProblem): string {
  switch (p.kind) {
    case 'self': return t('connect.self');
    case 'unknown-port': return t('connect.unknownPort');
    case 'type-mismatch': return t('connect.typeMismatch', { from: t(`portType.${p.from}`), to: t(`portType.${p.to}`) });
    case 'cycle': return t('connect.cycle');
  }
}

/** While a connection is dragged over a port that refuses it, say why. */
function ConnectionHint({ problemOf }: { problemOf: (c: FlowConnection) => ConnectionProblem | undefined }) {
  const { t } = useTranslation();
  const connection = useConnection();
  if (!connection.inProgress || !connection.toHandle || connection.isValid !== false) return null;
  const from = connection.fromHandle;
  const to = connection.toHandle;
  const c = from.type === 'source'
    ? { source: from.nodeId, sourceHandle: from.id ?? null, target: to.nodeId, targetHandle: to.id ?? null }
    : { source: to.nodeId, sourceHandle: to.id ?? null, target: from.nodeId, targetHandle: from.id ?? null };
  const p = problemOf(c);
  if (!p) return null;
  return <Panel position="top-center"><div className="lab-connect-hint" role="status" data-testid="connect-hint">{problemText(t, p)}</div></Panel>;
}

/** A click on the canvas takes the keyboard back from a field of the inspector (so Delete and Ctrl+Z act on the canvas). */
function blurInspector(): void {
  const active = document.activeElement;
  if (active instanceof HTMLElement && active.closest('.lab-inspector')) active.blur();
}

const isTyping = (target: EventTarget | null): boolean => {
  if (!(target instanceof HTMLElement)) return false;
  return target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName) || target.closest('.monaco-editor') !== null;
};

/** What was copied last (kept while the workspace is open, so it pastes into another pipeline too), and how often it was pasted. */
const clipboard: { clip: Clip | undefined; pasted: number } = { clip: undefined, pasted: 0 };

function Editor({ registry, catalog }: { registry: OperatorRegistry; catalog: readonly CatalogDataset[] }) {
  const { t } = useTranslation();
  const { lang, pick } = useLang();
  const { message } = App.useApp();
  const flow = useReactFlow<OperatorFlowNode>();
  const ops = useMemo(() => new Map(registry.operators.map((o) => [o.ref, o])), [registry]);
  const portsOf: PortsOf = useCallback((ref) => ops.get(ref), [ops]);

  const [history, setHistory] = useState<History>(() => historyOf(emptyDoc(t('editor.untitled'))));
  const doc = history.present;
  const apply = useCallback((f: (d: EditorDoc) => EditorDoc, group?: string) => { setHistory((h) => commit(h, f(h.present), group)); }, []);
  const [selectedId, setSelectedId] = useState<string | undefined>();
  const selectedIdRef = useRef(selectedId);
  selectedIdRef.current = selectedId;
  const [selectedEdges, setSelectedEdges] = useState<ReadonlySet<string>>(new Set());
  const validation = useValidation(doc, lang);
  const { run, start, save, markSaved, cancel } = useRun();
  const [tab, setTab] = useState('problems');
  const [tall, setTall] = useState(false);
  const [saving, setSaving] = useState(false);
  const docKey = useMemo(() => validationKey(doc), [doc]);
  const disclosure = useDisclosurePreview(doc, docKey, validation.status === 'valid');

  // ---- statuses --------------------------------------------------------------------------
  const errorsByNode = useMemo(() => {
    const m = new Map<string, ErrorBody[]>();
    for (const e of validation.errors) if (e.nodeId) m.set(e.nodeId, [...(m.get(e.nodeId) ?? []), e]);
    return m;
  }, [validation.errors]);
  const globalErrors = validation.errors.filter((e) => !e.nodeId);

  const runStateOf = useMemo(() => {
    const m = new Map<string, string>();
    // Before officers approve (or after they refused) nothing runs: the nodes keep their editing status.
    if (run.docKey !== docKey || run.jobState === 'awaiting_approval' || run.jobState === 'rejected') return m;
    const rank: Record<string, number> = { failed: 3, cancelled: 2, queued: 1, running: 1, succeeded: 0 };
    for (const s of run.stages) {
      for (const id of upstream(doc, s.id)) {
        const prev = m.get(id);
        if (prev === undefined || (rank[s.state] ?? 0) > (rank[prev] ?? 0)) m.set(id, s.state);
      }
    }
    return m;
  }, [run.stages, run.docKey, run.jobState, docKey, doc]);

  const statusOf = useCallback((n: EditorNode): NodeStatus => {
    const r = runStateOf.get(n.id);
    if (r === 'failed') return 'failed';
    if (r === 'queued' || r === 'running') return 'queued';
    if (r === 'succeeded') return 'done';
    const op = ops.get(n.op);
    if (!op) return 'invalid';
    // Still being filled in: not an error yet (the server's messages are listed all the same).
    const unconnected = Object.keys(op.inputs).some((port) => !doc.edges.some((e) => e.target === n.id && e.targetPort === port));
    if (unconnected || missingRequired(op.params, n.params).length > 0) return 'unconfigured';
    if (errorsByNode.has(n.id)) return 'invalid';
    if (validation.status === 'checking') return 'checking';
    if (validation.status === 'valid') return 'ready';
    if (validation.status === 'invalid') {
      // The server reports every broken node and infers every node not downstream of one.
      const broken = [...upstream(doc, n.id)].some((id) => id !== n.id && errorsByNode.has(id));
      return broken ? 'blocked' : 'ready';
    }
    return 'unconfigured';
  }, [runStateOf, errorsByNode, ops, doc, validation.status]);

  const dataOf = useCallback((n: EditorNode): OperatorNodeData => {
    const op = ops.get(n.op);
    const errors = errorsByNode.get(n.id) ?? [];
    const portProblems: Record<string, string> = {};
    for (const e of errors) if (e.field?.startsWith('inputs.')) portProblems[e.field.slice('inputs.'.length)] = e.message;
    const stageError = run.docKey === docKey ? run.stageErrors[n.id] : undefined;
    return {
      title: n.label || pick(op?.label) || n.op,
      opLabel: pick(op?.label) || n.op,
      category: op?.category ?? 'unknown',
      inputs: Object.entries(op?.inputs ?? {}),
      outputs: Object.entries(op?.outputs ?? {}),
      status: statusOf(n),
      problems: [...errors.map((e) => e.message), ...(stageError ? [`${stageError.code} ${pick(stageError)}`] : [])],
      portProblems,
      summary: summaryOf(n, op, catalog, pick, t),
    };
  }, [ops, errorsByNode, statusOf, pick, catalog, t, run.docKey, run.stageErrors, docKey]);

  // ---- React Flow state (positions while dragging, measured sizes, selection) -------------------
  const [nodes, setNodes] = useState<OperatorFlowNode[]>([]);
  /** Nodes to show selected when they appear (what was just pasted). */
  const selectOnAdd = useRef<ReadonlySet<string>>(new Set());
  useEffect(() => {
    setNodes((prev) => {
      const byId = new Map(prev.map((n) => [n.id, n]));
      return doc.nodes.map((n): OperatorFlowNode => {
        const old = byId.get(n.id);
        const data = dataOf(n);
        return old
          ? { ...old, position: old.dragging ? old.position : n.position, data }
          : { id: n.id, type: 'operator', position: n.position, data, selected: n.id === selectedId || selectOnAdd.current.has(n.id) };
      });
    });
  }, [doc.nodes, dataOf, selectedId]);

  const onNodesChange = useCallback((changes: NodeChange<OperatorFlowNode>[]) => {
    setNodes((nds) => applyNodeChanges(changes, nds));
    for (const c of changes) {
      if (c.type === 'select' && c.selected) setSelectedId(c.id);
      if (c.type === 'select' && !c.selected) setSelectedId((cur) => (cur === c.id ? undefined : cur));
    }
  }, []);

  const onEdgesChange = useCallback((changes: EdgeChange[]) => {
    setSelectedEdges((cur) => {
      const next = new Set(cur);
      for (const c of changes) if (c.type === 'select') { if (c.selected) next.add(c.id); else next.delete(c.id); }
      return next;
    });
  }, []);

  const edges: Edge[] = useMemo(() => doc.edges.map((e) => {
    const id = edgeId(e);
    const type = ops.get(doc.nodes.find((n) => n.id === e.source)?.op ?? '')?.outputs[e.sourcePort] ?? 'rows';
    return { id, source: e.source, target: e.target, sourceHandle: e.sourcePort || null, targetHandle: e.targetPort, selected: selectedEdges.has(id), className: `lab-edge lab-edge-${type}`, type: 'smoothstep' };
  }), [doc.edges, doc.nodes, ops, selectedEdges]);

  // ---- editing -------------------------------------------------------------------------------
  const toConnection = (c: FlowConnection | Edge) => ({ source: c.source, sourcePort: c.sourceHandle ?? '', target: c.target, targetPort: c.targetHandle ?? '' });
  const problemOf = useCallback((c: FlowConnection) => connectionProblem(doc, portsOf, toConnection(c)), [doc, portsOf]);
  const isValidConnection: IsValidConnection = useCallback((c) => problemOf(c as FlowConnection) === undefined, [problemOf]);

  const onConnect = useCallback((c: FlowConnection) => {
    const conn = toConnection(c);
    if (connectionProblem(doc, portsOf, conn)) return;
    apply((d) => connect(d, conn));
  }, [apply, doc, portsOf]);

  const onConnectEnd = useCallback((_e: MouseEvent | TouchEvent, state: FinalConnectionState) => {
    if (state.isValid !== false || !state.toHandle || !state.fromHandle) return;
    const from = state.fromHandle;
    const to = state.toHandle;
    const c = from.type === 'source'
      ? { source: from.nodeId, sourceHandle: from.id ?? null, target: to.nodeId, targetHandle: to.id ?? null }
      : { source: to.nodeId, sourceHandle: to.id ?? null, target: from.nodeId, targetHandle: from.id ?? null };
    const p = problemOf(c);
    if (p) void message.warning({ content: problemText(t, p), key: 'connect' });
  }, [problemOf, message, t]);

  const select = useCallback((id: string | undefined) => {
    setSelectedId(id);
    setNodes((nds) => nds.map((n) => ({ ...n, selected: n.id === id })));
  }, []);

  const docRef = useRef(doc);
  docRef.current = doc;
  const canvasRef = useRef<HTMLDivElement>(null);
  const addOperator = useCallback((op: OperatorInfo, at?: XY) => {
    const current = docRef.current;
    let position = at;
    if (!position) {
      // Added with +: to the right of the selected node (the usual next step), else of the last one
      // added, else in the middle of the view; moved down while it would cover another node.
      const anchor = current.nodes.find((n) => n.id === selectedIdRef.current) ?? current.nodes[current.nodes.length - 1];
      const box = canvasRef.current?.getBoundingClientRect();
      const centre = box ? flow.screenToFlowPosition({ x: box.left + box.width / 2, y: box.top + box.height / 2 }) : { x: 0, y: 0 };
      position = anchor ? { x: anchor.position.x + 240, y: anchor.position.y } : { x: centre.x - 92, y: centre.y - 30 };
      const overlaps = (p: XY) => current.nodes.some((n) => Math.abs(n.position.x - p.x) < 190 && Math.abs(n.position.y - p.y) < 80);
      for (let i = 0; i < 12 && overlaps(position); i++) position = { x: position.x, y: position.y + 100 };
    }
    const id = newNodeId(current, op.id);
    const placed = position;
    apply((d) => addNode(d, { id, op: op.ref, params: startParams(op.params), position: placed }, op.id).doc);
    select(id);
    // Keep the new node in view.
    const box = canvasRef.current?.getBoundingClientRect();
    if (box) {
      const topLeft = flow.screenToFlowPosition({ x: box.left, y: box.top });
      const bottomRight = flow.screenToFlowPosition({ x: box.right, y: box.bottom });
      const visible = placed.x >= topLeft.x && placed.y >= topLeft.y && placed.x + 184 <= bottomRight.x && placed.y + 80 <= bottomRight.y;
      if (!visible) void flow.setCenter(placed.x + 92, placed.y + 40, { zoom: flow.getZoom(), duration: 200 });
    }
  }, [apply, select, flow]);

  const onDrop = useCallback((e: DragEvent<HTMLDivElement>) => {
    const ref = e.dataTransfer.getData(DRAG_TYPE);
    const op = ops.get(ref);
    if (!op) return;
    e.preventDefault();
    addOperator(op, flow.screenToFlowPosition({ x: e.clientX, y: e.clientY }));
  }, [ops, flow, addOperator]);

  const onDelete = useCallback(({ nodes: ns, edges: es }: { nodes: OperatorFlowNode[]; edges: Edge[] }) => {
    apply((d) => removeElements(d, ns.map((n) => n.id), es.map((e) => e.id)));
    if (ns.some((n) => n.id === selectedId)) setSelectedId(undefined);
  }, [apply, selectedId]);

  const deleteSelected = () => {
    void flow.deleteElements({ nodes: nodes.filter((n) => n.selected), edges: edges.filter((e) => e.selected) });
  };

  // ---- copy / paste: the selected nodes and the connections among them, pasted with fresh ids ----
  const onCopy = useCallback(() => {
    const ids = nodes.filter((n) => n.selected).map((n) => n.id);
    if (ids.length === 0) return;
    clipboard.clip = copySelection(docRef.current, ids);
    clipboard.pasted = 0;
    void message.info({ content: t('editor.copied', { count: ids.length }), key: 'clipboard' });
  }, [nodes, message, t]);

  const onPaste = useCallback(() => {
    const clip = clipboard.clip;
    if (!clip || clip.nodes.length === 0) return;
    clipboard.pasted += 1;
    const step = 40 * clipboard.pasted;
    const pasted = pasteClip(docRef.current, clip, { x: step, y: step });
    selectOnAdd.current = new Set(pasted.ids);
    setNodes((nds) => nds.map((n) => (n.selected ? { ...n, selected: false } : n)));
    setSelectedId(pasted.ids.length === 1 ? pasted.ids[0] : undefined);
    apply(() => pasted.doc);
    void message.info({ content: t('editor.pasted', { count: pasted.ids.length }), key: 'clipboard' });
  }, [apply, message, t]);

  const onUndo = useCallback(() => { setHistory(undo); }, []);
  const onRedo = useCallback(() => { setHistory(redo); }, []);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (isTyping(e.target)) return;
      const mod = e.ctrlKey || e.metaKey;
      if (mod && e.key.toLowerCase() === 'z' && !e.shiftKey) { e.preventDefault(); onUndo(); }
      else if (mod && ((e.key.toLowerCase() === 'z' && e.shiftKey) || e.key.toLowerCase() === 'y')) { e.preventDefault(); onRedo(); }
      else if (mod && e.key.toLowerCase() === 'c' && !window.getSelection()?.toString()) { onCopy(); }
      else if (mod && e.key.toLowerCase() === 'v') { e.preventDefault(); onPaste(); }
    };
    window.addEventListener('keydown', onKey);
    return () => { window.removeEventListener('keydown', onKey); };
  }, [onUndo, onRedo, onCopy, onPaste]);

  // ---- autosave: the canvas is kept as a draft in this browser, per user --------------------
  const { user } = useAuth();
  const username = user?.username ?? '';
  const [draftOffer, setDraftOffer] = useState<Draft | undefined>(() => readDraft(window.localStorage, username));
  // Nothing is written over a draft before its owner said whether to restore it.
  const autosave = draftOffer === undefined && username !== '';
  const autosaveRef = useRef(autosave);
  autosaveRef.current = autosave;
  const writeNow = useCallback(() => {
    if (autosaveRef.current) writeDraft(window.localStorage, username, toDocument(docRef.current), new Date());
  }, [username]);
  useEffect(() => {
    if (!autosave) return undefined;
    const timer = window.setTimeout(writeNow, AUTOSAVE_MS);
    return () => { window.clearTimeout(timer); };
  }, [doc, autosave, writeNow]);
  // Leaving the page (another page of the workspace, a closed tab) writes at once.
  useEffect(() => {
    window.addEventListener('pagehide', writeNow);
    return () => { window.removeEventListener('pagehide', writeNow); writeNow(); };
  }, [writeNow]);
  const restoreDraft = () => {
    if (!draftOffer) return;
    setHistory((h) => commit(h, fromDocument(draftOffer.doc, portsOf)));
    setSelectedId(undefined);
    setDraftOffer(undefined);
    window.setTimeout(() => { void flow.fitView({ padding: 0.2 }); }, 50);
  };
  const discardDraft = () => {
    clearDraft(window.localStorage, username);
    setDraftOffer(undefined);
  };

  const loadExample = (file: string) => {
    const ex = EXAMPLES.find((x) => x.file === file);
    if (!ex) return;
    setHistory((h) => commit(h, fromDocument(ex.doc, portsOf)));
    setSelectedId(undefined);
    void message.info({ content: t('editor.exampleLoaded', { name: ex.doc.name }), key: 'example' });
    window.setTimeout(() => { void flow.fitView({ padding: 0.2 }); }, 50);
  };

  // `/editor/{id}` (from the pipeline list): that saved pipeline, as one undoable step.
  const path = usePath();
  const openId = pipelineIdOfPath(path);
  useEffect(() => {
    if (!openId) return undefined;
    let live = true;
    get<SavedPipeline>(`/api/pipelines/${encodeURIComponent(openId)}`).then((p) => {
      if (!live) return;
      const opened = fromDocument(p.spec, portsOf);
      setHistory((h) => commit(h, opened));
      markSaved(opened, p.id);
      setSelectedId(undefined);
      void message.info({ content: t('jobs.opened', { name: p.name }), key: 'opened' });
      window.setTimeout(() => { void flow.fitView({ padding: 0.2 }); }, 50);
    }, (e: unknown) => {
      if (live) void message.error(`${t('jobs.loadFailed')}: ${errorText(e, t)}`);
    });
    return () => { live = false; };
    // Opened once per path (the helpers it uses do not change while the page is open).
  }, [openId]);

  const showNode = useCallback((id: string) => {
    const n = doc.nodes.find((x) => x.id === id);
    if (!n) return;
    select(id);
    void flow.setCenter(n.position.x + 100, n.position.y + 40, { zoom: 1, duration: 300 });
  }, [doc.nodes, flow, select]);

  const onSave = async () => {
    setSaving(true);
    try {
      const id = await save(doc);
      void message.success(t('editor.saved', { id }));
    } catch (e) {
      setTab('problems');
      await validation.validateNow();
      void message.error(errorText(e, t));
    } finally {
      setSaving(false);
    }
  };

  const onRun = async () => {
    const ok = await validation.validateNow();
    if (!ok) {
      setTab('problems');
      void message.error(t('editor.fixFirst'));
      return;
    }
    setTab('run');
    await start(doc);
  };

  // Results need room: the panel grows when a table arrives (and folds back with its toggle).
  useEffect(() => { if (run.result) { setTab('run'); setTall(true); } }, [run.result]);
  // So does a run that waits for officers: its steps and what happens next need the room.
  const waitingForOfficers = run.jobState === 'awaiting_approval';
  useEffect(() => { if (waitingForOfficers) { setTab('run'); setTall(true); } }, [waitingForOfficers]);
  // The canvas changes size with the panel: keep the pipeline in view.
  useEffect(() => {
    const timer = window.setTimeout(() => { void flow.fitView({ padding: 0.2, maxZoom: 1.1, duration: 150 }); }, 60);
    return () => { window.clearTimeout(timer); };
  }, [tall, tab, flow]);

  // ---- inspector -----------------------------------------------------------------------------
  const selected = doc.nodes.find((n) => n.id === selectedId);
  const selectedOp = selected ? ops.get(selected.op) : undefined;
  const columnsFor = useCallback((port: string | undefined) => {
    if (!selected || !port) return { columns: undefined, source: 'none' as const };
    return inputColumns(doc, selected.id, port, validation.outputs, ops, catalog);
  }, [selected, doc, validation.outputs, ops, catalog]);

  const running = run.phase === 'saving' || run.phase === 'starting' || (run.phase === 'following' && (run.jobState === 'queued' || run.jobState === 'running'));
  const problemCount = validation.errors.length;

  return (
    <div className={`lab-editor${tall && tab === 'run' ? ' lab-editor-tall' : ''}${draftOffer ? ' lab-editor-draft' : ''}`}>
      <div className="lab-toolbar">
        <Input
          className="lab-name" value={doc.name} maxLength={200} aria-label={t('editor.name')} placeholder={t('editor.name')}
          onChange={(e) => { const name = e.target.value; apply((d) => ({ ...d, name }), 'name'); }}
        />
        <span data-testid="example-select">
          <Select
            className="lab-examples" placeholder={t('editor.fromExample')} value={null} aria-label={t('editor.fromExample')}
            options={EXAMPLES.map((x) => ({ value: x.file, label: <span data-example={x.file}>{x.doc.name}</span> }))} onChange={(v: string | null) => { if (v) loadExample(v); }}
            popupMatchSelectWidth={460}
          />
        </span>
        <Divider type="vertical" />
        <Tooltip title={t('editor.undo')}><Button icon={<UndoOutlined />} onClick={onUndo} disabled={history.past.length === 0} aria-label={t('editor.undo')} /></Tooltip>
        <Tooltip title={t('editor.redo')}><Button icon={<RedoOutlined />} onClick={onRedo} disabled={history.future.length === 0} aria-label={t('editor.redo')} /></Tooltip>
        <Tooltip title={t('editor.delete')}><Button icon={<DeleteOutlined />} onClick={deleteSelected} disabled={!nodes.some((n) => n.selected) && selectedEdges.size === 0} aria-label={t('editor.delete')} /></Tooltip>
        <Tooltip title={t('editor.copy')}><Button icon={<CopyOutlined />} onClick={onCopy} disabled={!nodes.some((n) => n.selected)} aria-label={t('editor.copy')} data-testid="copy-button" /></Tooltip>
        <Tooltip title={t('editor.paste')}><Button icon={<SnippetsOutlined />} onClick={onPaste} aria-label={t('editor.paste')} data-testid="paste-button" /></Tooltip>
        <Tooltip title={t('editor.fit')}><Button icon={<ExpandOutlined />} onClick={() => { void flow.fitView({ padding: 0.2, duration: 200 }); }} aria-label={t('editor.fit')} /></Tooltip>
        <Divider type="vertical" />
        <span className="lab-validation" data-testid="validation-status" data-status={validation.status}>
          <Badge status={validation.status === 'valid' ? 'success' : validation.status === 'checking' ? 'processing' : validation.status === 'empty' ? 'default' : 'error'} />
          {t(`validation.${validation.status}`, { count: problemCount })}
        </span>
        <span className="lab-toolbar-spacer" />
        <Button icon={<SaveOutlined />} onClick={() => { void onSave(); }} loading={saving} disabled={doc.nodes.length === 0}>{t('editor.save')}</Button>
        <Button type="primary" icon={<CaretRightOutlined />} onClick={() => { void onRun(); }} loading={running} disabled={doc.nodes.length === 0} data-testid="run-button">{t('editor.run')}</Button>
      </div>
      {draftOffer && (
        <Alert
          className="lab-draft" type="info" showIcon data-testid="draft-prompt"
          message={t('editor.draftFound', { name: draftOffer.doc.name, nodes: draftOffer.doc.nodes.length, at: formatTime(draftOffer.savedAt, lang) })}
          action={(
            <Space>
              <Button size="small" type="primary" onClick={restoreDraft} data-testid="draft-restore">{t('editor.draftRestore')}</Button>
              <Button size="small" onClick={discardDraft} data-testid="draft-discard">{t('editor.draftDiscard')}</Button>
            </Space>
          )}
        />
      )}
      <div className="lab-editor-main">
        <Palette operators={registry.operators} onAdd={(op) => { addOperator(op); }} />
        <div ref={canvasRef} className="lab-canvas" onDragOver={(e) => { if (e.dataTransfer.types.includes(DRAG_TYPE)) { e.preventDefault(); e.dataTransfer.dropEffect = 'move'; } }} onDrop={onDrop} data-testid="canvas">
          <ReactFlow<OperatorFlowNode>
            nodes={nodes}
            edges={edges}
            nodeTypes={NODE_TYPES}
            onNodesChange={onNodesChange}
            onEdgesChange={onEdgesChange}
            onConnect={onConnect}
            onConnectEnd={onConnectEnd}
            isValidConnection={isValidConnection}
            onDelete={onDelete}
            onNodeDragStop={(_e, _n, dragged) => { apply((d) => moveNodes(d, new Map(dragged.map((n) => [n.id, n.position])))); }}
            onPaneClick={() => { blurInspector(); select(undefined); }}
            onNodeClick={() => { blurInspector(); }}
            deleteKeyCode={['Delete', 'Backspace']}
            fitView
            fitViewOptions={{ padding: 0.2, maxZoom: 1.1 }}
            minZoom={0.2}
            proOptions={{ hideAttribution: true }}
          >
            <Background variant={BackgroundVariant.Dots} gap={18} size={1} />
            <Controls showInteractive={false} />
            <MiniMap pannable zoomable className="lab-minimap" style={{ width: 150, height: 100 }} />
            <ConnectionHint problemOf={problemOf} />
            {doc.nodes.length === 0 && (
              <Panel position="top-center"><div className="lab-canvas-empty">{t('editor.empty')}</div></Panel>
            )}
          </ReactFlow>
        </div>
        <Inspector
          node={selected}
          op={selectedOp}
          errors={selected ? errorsByNode.get(selected.id) ?? [] : []}
          outputs={selected ? validation.outputs.get(selected.id) : undefined}
          catalog={catalog}
          tags={registry.tags}
          datasets={selected ? upstreamDatasets(doc, selected.id, ops) : []}
          inputColumns={columnsFor}
          onParams={(params, group) => { if (selected) apply((d) => updateNode(d, selected.id, { params }), group); }}
          onLabel={(label) => { if (selected) apply((d) => updateNode(d, selected.id, { label }), `label:${selected.id}`); }}
          extra={selected ? <><MockPreview doc={doc} nodeId={selected.id} catalog={catalog} disclosure={disclosure} /><DisclosurePanel preview={disclosure} nodeId={selected.id} /></> : undefined}
        />
      </div>
      <Tabs
        className="lab-bottom"
        size="small"
        activeKey={tab}
        onChange={setTab}
        tabBarExtraContent={tab === 'run' &&
          <Tooltip title={tall ? t('editor.panelSmaller') : t('editor.panelLarger')}>
            <Button size="small" type="text" icon={tall ? <DownOutlined /> : <UpOutlined />} onClick={() => { setTall((v) => !v); }} aria-label={tall ? t('editor.panelSmaller') : t('editor.panelLarger')} />
          </Tooltip>
        }
        items={[
          {
            key: 'problems',
            label: <span data-testid="tab-problems">{t('problems.title')} <Badge count={problemCount} size="small" /></span>,
            children: (
              <div className="lab-bottom-body">
                {validation.status === 'valid' && <Alert type="success" showIcon message={t('problems.none')} />}
                {validation.status === 'empty' && <Typography.Text type="secondary">{t('problems.empty')}</Typography.Text>}
                {validation.status === 'failed' && <Alert type="error" showIcon message={t('problems.unavailable')} />}
                {globalErrors.length > 0 && <Alert type="warning" showIcon message={globalErrors.map((e) => `${e.code} ${e.message}`).join('；')} />}
                {validation.errors.length > 0 && <ErrorList errors={validation.errors} onShowNode={showNode} />}
              </div>
            ),
          },
          {
            key: 'run',
            label: <span data-testid="tab-run">{t('run.title')} {run.jobState && <Tag className="lab-tab-tag">{t(`jobState.${run.jobState}`)}</Tag>}</span>,
            children: <div className="lab-bottom-body"><RunPanel run={run} doc={doc} onCancel={() => { void cancel(); }} onShowNode={showNode} /></div>,
          },
        ]}
      />
      <Space className="lab-sr-only" aria-live="polite">{run.jobState ? t(`jobState.${run.jobState}`) : ''}</Space>
    </div>
  );
}
