import '@xyflow/react/dist/style.css';
import { Background, BackgroundVariant, Controls, ReactFlow, ReactFlowProvider, type Edge } from '@xyflow/react';
import { Alert, Spin, Typography } from 'antd';
import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useCatalog, useOperators } from '../api/resources.ts';
import type { PipelineDocument } from '../api/types.ts';
import { errorText } from '../app/errors.ts';
import { useLang } from '../i18n/index.ts';
import { edgeId, fromDocument } from './model.ts';
import { summaryOf } from './node-summary.ts';
import { NODE_TYPES, type OperatorFlowNode } from './OperatorNode.tsx';

/**
 * A pipeline on the canvas, read-only (what an officer approves, what a job ran): the editor's own
 * node type, nothing can be moved, connected or deleted; a click on a node shows its parameters.
 */
export default function PipelineView({ doc }: { doc: PipelineDocument }) {
  const { t } = useTranslation();
  const operators = useOperators();
  const catalog = useCatalog();
  const failed = operators.error ?? catalog.error;
  if (failed) return <Alert type="error" showIcon message={errorText(failed, t)} />;
  if (!operators.data || !catalog.data) return <div className="lab-center"><Spin /></div>;
  return (
    <ReactFlowProvider>
      <ReadOnlyCanvas doc={doc} operators={operators.data.operators} catalog={catalog.data.datasets} />
    </ReactFlowProvider>
  );
}

type Operators = NonNullable<ReturnType<typeof useOperators>['data']>['operators'];
type Datasets = NonNullable<ReturnType<typeof useCatalog>['data']>['datasets'];

function ReadOnlyCanvas({ doc, operators, catalog }: { doc: PipelineDocument; operators: Operators; catalog: Datasets }) {
  const { t } = useTranslation();
  const { pick } = useLang();
  const ops = useMemo(() => new Map(operators.map((o) => [o.ref, o])), [operators]);
  const editorDoc = useMemo(() => fromDocument(doc, (ref) => ops.get(ref)), [doc, ops]);
  const [picked, setPicked] = useState<string | undefined>();
  const nodes: OperatorFlowNode[] = useMemo(() => editorDoc.nodes.map((n) => {
    const op = ops.get(n.op);
    return {
      id: n.id, type: 'operator', position: n.position, selected: n.id === picked,
      data: {
        title: n.label || pick(op?.label) || n.op, opLabel: pick(op?.label) || n.op, category: op?.category ?? 'unknown',
        inputs: Object.entries(op?.inputs ?? {}), outputs: Object.entries(op?.outputs ?? {}),
        status: op ? 'ready' : 'invalid', problems: [], portProblems: {}, summary: summaryOf(n, op, catalog, pick, t),
      },
    };
  }), [editorDoc, ops, pick, catalog, t, picked]);
  const edges: Edge[] = useMemo(() => editorDoc.edges.map((e) => {
    const type = ops.get(editorDoc.nodes.find((n) => n.id === e.source)?.op ?? '')?.outputs[e.sourcePort] ?? 'rows';
    return { id: edgeId(e), source: e.source, target: e.target, sourceHandle: e.sourcePort || null, targetHandle: e.targetPort, className: `lab-edge lab-edge-${type}`, type: 'smoothstep' };
  }), [editorDoc, ops]);
  const node = editorDoc.nodes.find((n) => n.id === picked);
  return (
    <div className="lab-pipeline-view" data-testid="pipeline-view" data-nodes={editorDoc.nodes.length}>
      <div className="lab-pipeline-view-canvas">
        <ReactFlow<OperatorFlowNode>
          nodes={nodes} edges={edges} nodeTypes={NODE_TYPES}
          nodesDraggable={false} nodesConnectable={false} elementsSelectable edgesFocusable={false} deleteKeyCode={null}
          onNodeClick={(_e, n) => { setPicked(n.id); }} onPaneClick={() => { setPicked(undefined); }}
          fitView fitViewOptions={{ padding: 0.15 }} minZoom={0.2} proOptions={{ hideAttribution: true }}
        >
          <Background variant={BackgroundVariant.Dots} gap={18} size={1} />
          <Controls showInteractive={false} />
        </ReactFlow>
      </div>
      {node ? (
        <div className="lab-pipeline-view-params" data-testid="pipeline-view-params" data-node={node.id}>
          <Typography.Text strong>{t('pipelineView.params', { node: node.label || node.id })}</Typography.Text>
          <pre>{JSON.stringify(node.params, null, 2)}</pre>
        </div>
      ) : <Typography.Text type="secondary">{t('pipelineView.hint')}</Typography.Text>}
    </div>
  );
}
