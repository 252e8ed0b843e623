import { ExperimentOutlined } from '@ant-design/icons';
import { Alert, Button, Card, Space, Table, Tag, Typography } from 'antd';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useGeography } from '../api/resources.ts';
import type { CatalogDataset } from '../api/types.ts';
import type { EditorDoc } from '../editor/model.ts';
import type { Row } from './evaluate-expr.ts';
import { MOCK_ROWS, previewNode, type PreviewResult } from './run-preview.ts';

/** The date mock dates lie before and age() counts to (the demo city's snapshot date). */
export const MOCK_AS_OF = '2026-06-30';
const SHOWN = 50;

/**
 * The selected node's output on mock rows (模拟数据): computed in the browser from rows made up
 * from the catalog's schema, never real rows; nothing is sent to the server. Shown on request,
 * then kept up to date with the edits.
 */
export function MockPreview({ doc, nodeId, catalog }: { doc: EditorDoc; nodeId: string; catalog: readonly CatalogDataset[] }) {
  const { t } = useTranslation();
  const [asked, setAsked] = useState(false);
  const geography = useGeography(asked);
  const [result, setResult] = useState<{ nodeId: string; r: PreviewResult } | undefined>();
  const units = geography.data?.units;
  // Recomputed after every edit once asked (a few hundred rows in the browser).
  useEffect(() => {
    if (asked && units) setResult({ nodeId, r: previewNode(doc, nodeId, catalog, { geography: units, asOf: MOCK_AS_OF }) });
  }, [asked, units, doc, nodeId, catalog]);
  const r = result && result.nodeId === nodeId ? result.r : undefined;
  return (
    <Card
      size="small" className="lab-mock-preview" data-testid="mock-preview"
      title={<Space size={6}><ExperimentOutlined />{t('mock.title')}</Space>}
      extra={<Tag color="orange" data-testid="mock-label">{t('mock.tag')}</Tag>}
    >
      <div className="lab-mock-body">
        <Typography.Paragraph type="secondary" className="lab-mock-help">{t('mock.help', { n: MOCK_ROWS })}</Typography.Paragraph>
        {!asked && <Button size="small" icon={<ExperimentOutlined />} onClick={() => { setAsked(true); }} data-testid="mock-preview-run">{t('mock.run')}</Button>}
        {asked && !r && <Typography.Text type="secondary">{t('common.loading')}</Typography.Text>}
        {r && !r.ok && (
          <Alert type="info" showIcon data-testid="mock-preview-none" message={
            r.reason === 'unsupported' ? t('mock.unsupported', { op: r.op, node: r.nodeId })
              : r.reason === 'incomplete' ? t('mock.incomplete', { node: r.nodeId })
                : t('mock.expression', { node: r.nodeId, detail: r.detail ?? '' })
          } />
        )}
        {r && r.ok && (
          <>
            <Typography.Text data-testid="mock-preview-count" data-rows={r.rows.length}>
              {t(r.kind === 'table' ? 'mock.groups' : 'mock.rows', { count: r.rows.length, n: r.sourceRows })}
            </Typography.Text>
            <Table<Row & { __i: number }>
              size="small" className="lab-mock-table" data-testid="mock-preview-table" pagination={false} scroll={{ x: true, y: 240 }}
              rowKey="__i" dataSource={r.rows.slice(0, SHOWN).map((row, i) => ({ ...row, __i: i }))}
              columns={r.columns.map((c) => ({ title: c, dataIndex: c, key: c, ellipsis: true, render: (v: unknown) => (v === null || v === undefined ? <Typography.Text type="secondary">NULL</Typography.Text> : String(v)) }))}
            />
          </>
        )}
      </div>
    </Card>
  );
}
