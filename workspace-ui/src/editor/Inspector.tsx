import { Alert, Collapse, Empty, Input, Space, Tag, Typography } from 'antd';
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import type { CatalogDataset, ErrorBody, NodeOutput, OperatorInfo, OperatorRegistry } from '../api/types.ts';
import { LevelTag } from '../catalog/LevelTag.tsx';
import { useLang } from '../i18n/index.ts';
import type { InputColumns } from './columns.ts';
import type { EditorNode } from './model.ts';
import { SchemaForm } from './SchemaForm.tsx';
import { paramPathOf } from './schema.ts';

export interface InspectorProps {
  readonly node: EditorNode | undefined;
  readonly op: OperatorInfo | undefined;
  readonly errors: readonly ErrorBody[];
  readonly outputs: Readonly<Record<string, NodeOutput>> | undefined;
  readonly catalog: readonly CatalogDataset[];
  readonly tags: OperatorRegistry['tags'];
  readonly datasets: readonly string[];
  readonly inputColumns: (port: string | undefined) => InputColumns;
  readonly onParams: (params: Record<string, unknown>, group: string) => void;
  readonly onLabel: (label: string) => void;
  /** Shown under the outputs (the disclosure preview of a table). */
  readonly extra?: ReactNode;
}

/** The selected node: what its operator does, its parameters (a form generated from the schema), what the server said, what it outputs. */
export function Inspector(p: InspectorProps) {
  const { t } = useTranslation();
  const { pick } = useLang();
  if (!p.node) {
    return <div className="lab-inspector"><Typography.Text strong className="lab-panel-title">{t('inspector.title')}</Typography.Text><Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('inspector.nothing')} /></div>;
  }
  const node = p.node;
  if (!p.op) {
    return <div className="lab-inspector"><Alert type="error" showIcon message={t('inspector.unknownOp', { op: node.op })} /></div>;
  }
  const op = p.op;
  const fieldErrors = new Map<string, string[]>();
  const nodeErrors: ErrorBody[] = [];
  for (const e of p.errors) {
    const path = paramPathOf(e.field);
    if (path) fieldErrors.set(path, [...(fieldErrors.get(path) ?? []), e.message]);
    else nodeErrors.push(e);
  }
  // The port the form's column pickers read when a hint names none: the operator's first input.
  const firstInput = Object.keys(op.inputs)[0];
  return (
    // `nokey`: React Flow ignores keys typed here (Space would pan the canvas, Backspace delete the node).
    <div className="lab-inspector nokey" data-testid="inspector" data-node={node.id}>
      <Typography.Text strong className="lab-panel-title">{t('inspector.title')}</Typography.Text>
      <Space direction="vertical" size="small" className="lab-inspector-body">
        <Space wrap>
          <Tag color="blue">{pick(op.label)}</Tag>
          <Typography.Text code>{node.id}</Typography.Text>
          <Typography.Text type="secondary">{op.ref}</Typography.Text>
        </Space>
        <Typography.Paragraph type="secondary" className="lab-inspector-help" ellipsis={{ rows: 3, expandable: true, symbol: t('common.more') }}>{pick(op.help)}</Typography.Paragraph>
        <label className="lab-inline-label">
          <span>{t('inspector.label')}</span>
          <Input size="small" value={node.label ?? ''} placeholder={pick(op.label)} maxLength={200} onChange={(e) => { p.onLabel(e.target.value); }} aria-label={t('inspector.label')} />
        </label>
        {nodeErrors.map((e, i) => <Alert key={i} type="error" showIcon message={`${e.code} ${e.message}`} description={e.hint} data-testid="node-error" />)}
        <SchemaForm
          nodeId={node.id}
          schema={op.params}
          value={node.params}
          ui={op.ui}
          errors={fieldErrors}
          onChange={p.onParams}
          inputColumns={(port) => p.inputColumns(port ?? firstInput)}
          catalog={p.catalog}
          tags={p.tags}
          datasets={p.datasets}
        />
        {p.outputs && Object.keys(p.outputs).length > 0 && (
          <Collapse size="small" items={Object.entries(p.outputs).map(([port, out]) => ({
            key: port,
            label: t('inspector.output', { port, count: out.columns.length, domain: t(`domain.${out.domain}`, { defaultValue: out.domain }) }),
            children: (
              <div className="lab-out-cols">
                {out.columns.map((c) => (
                  <div key={c.name} className="lab-out-col">
                    <Typography.Text code>{c.name}</Typography.Text>
                    <Typography.Text type="secondary">{t(`columnType.${c.type}`, { defaultValue: c.type })}</Typography.Text>
                    {(c.level === 'L1' || c.level === 'L2' || c.level === 'L3' || c.level === 'L4') && <LevelTag level={c.level} />}
                    {c.identifier && <Tag color="volcano">{t('inspector.identifier')}</Tag>}
                  </div>
                ))}
              </div>
            ),
          }))} />
        )}
        {p.extra}
      </Space>
    </div>
  );
}
