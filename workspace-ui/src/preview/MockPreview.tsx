import { ExperimentOutlined } from '@ant-design/icons';
import { Alert, Button, Card, Space, Table, Tag, Typography } from 'antd';
import { useEffect, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useGeography } from '../api/resources.ts';
import type { CatalogDataset, DisclosurePreview } from '../api/types.ts';
import type { EditorDoc } from '../editor/model.ts';
import type { Row } from './evaluate-expr.ts';
import { guardMockTable, type GuardedCell } from './guard-preview.ts';
import { MOCK_ROWS, previewNode, type MockAggregate, type PreviewResult } from './run-preview.ts';

/** The date mock dates lie before and age() counts to (the demo city's snapshot date). */
export const MOCK_AS_OF = '2026-06-30';
const SHOWN = 50;
/** Cells of the guarded mock table shown (totals first; the table scrolls). */
const SHOWN_CELLS = 200;

/**
 * The selected node's output on mock rows (模拟数据): computed in the browser from rows made up
 * from the catalog's schema, never real rows; nothing is sent to the server. Shown on request,
 * then kept up to date with the edits.
 */
export function MockPreview({ doc, nodeId, catalog, disclosure }: { doc: EditorDoc; nodeId: string; catalog: readonly CatalogDataset[]; disclosure?: DisclosurePreview | undefined }) {
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
            {r.aggregate && <GuardedMock aggregate={r.aggregate} disclosure={disclosure} nodeId={nodeId} />}
          </>
        )}
      </div>
    </Card>
  );
}

/**
 * The mock table as the staff guard's primary rules would release it, under the policy in force
 * (the parameters of POST /api/pipelines/disclosure-preview): suppressed cells marked, the rest
 * rounded. Secondary suppression and the ledger are decided in the domain on the real data.
 */
function GuardedMock({ aggregate, disclosure, nodeId }: { aggregate: MockAggregate; disclosure: DisclosurePreview | undefined; nodeId: string }) {
  const { t } = useTranslation();
  const table = disclosure?.tables.find((x) => x.nodeId === nodeId);
  const staff = disclosure?.rule === 'staff';
  const guarded = useMemo(
    () => (disclosure && table && staff ? guardMockTable(aggregate, { threshold: disclosure.threshold, rounding: disclosure.rounding }, table.groupingSets) : undefined),
    [aggregate, disclosure, table, staff],
  );
  if (!disclosure || !table) return null;
  if (!guarded) return <Alert type="info" showIcon className="lab-mock-guard" data-testid="mock-guard-dp" message={t('mock.guardDp')} />;
  const k = disclosure.threshold;
  return (
    <div className="lab-mock-guard" data-testid="mock-guard" data-threshold={k} data-rounding={disclosure.rounding} data-suppressed={guarded.suppressed}>
      <Typography.Text strong>{t('mock.guardTitle')}</Typography.Text>
      <Typography.Text type="secondary" className="lab-mock-help">{t('mock.guardRule', { version: disclosure.policyVersion, threshold: k, rounding: disclosure.rounding })}</Typography.Text>
      <Typography.Text data-testid="mock-guard-count">{t('mock.guardSummary', { cells: guarded.cells.length, suppressed: guarded.suppressed })}</Typography.Text>
      <Table<GuardedCell & { __i: number }>
        size="small" className="lab-mock-table" data-testid="mock-guard-table" pagination={false} scroll={{ x: true, y: 240 }}
        rowKey="__i" dataSource={guarded.cells.slice(0, SHOWN_CELLS).map((c, i) => ({ ...c, __i: i }))}
        rowClassName={(c) => (c.suppressed ? 'lab-mock-suppressed-row' : '')}
        columns={[
          ...guarded.keys.map((key, i) => ({
            title: key, key, ellipsis: true,
            render: (_: unknown, c: GuardedCell) => (c.grouped.includes(key) ? String(c.keys[i] ?? 'NULL') : <Typography.Text type="secondary">{t('mock.total')}</Typography.Text>),
          })),
          ...guarded.measures.map((m, j) => ({
            title: m.name, key: `m:${m.name}`,
            render: (_: unknown, c: GuardedCell) => {
              if (c.suppressed) {
                return (
                  <Tag color="red" data-testid="mock-suppressed" title={t(c.reason === 'contributors' ? 'mock.suppressedContributors' : 'mock.suppressedPersons', { threshold: k })}>
                    {t('mock.suppressed')}
                  </Tag>
                );
              }
              const v = c.values[j];
              const step = c.steps[j];
              return v === null || v === undefined ? <Typography.Text type="secondary">NULL</Typography.Text>
                : <span data-testid="mock-rounded" title={step === null || step === undefined ? undefined : t('mock.step', { step })}>{v}</span>;
            },
          })),
        ]}
      />
      <Alert type="warning" showIcon data-testid="mock-guard-note" message={t('mock.guardNote')} />
    </div>
  );
}
