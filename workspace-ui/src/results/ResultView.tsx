import { BarChartOutlined, DownloadOutlined, TableOutlined } from '@ant-design/icons';
import { Button, Segmented, Space, Spin, Tooltip } from 'antd';
import { lazy, Suspense, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { CatalogDataset, GeoUnit, ReleasedTable } from '../api/types.ts';
import { ResultTable } from './ResultTable.tsx';

// ECharts loads the first time a chart is shown.
const ResultChart = lazy(() => import('./ResultChart.tsx'));

export interface ResultViewProps {
  readonly table: ReleasedTable;
  readonly title: string;
  readonly geography: readonly GeoUnit[] | undefined;
  readonly catalog: readonly CatalogDataset[];
  /** The job whose released tables the user may export (its owner): CSV and XLSX buttons. */
  readonly exportJobId?: string | undefined;
}

/** Export buttons: plain links to the server's files (the download is audited there). */
export function ExportButtons({ jobId }: { jobId: string }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language === 'en' ? 'en' : 'zh-CN';
  const href = (format: 'csv' | 'xlsx') => `/api/jobs/${encodeURIComponent(jobId)}/result.${format}?lang=${lang}`;
  return (
    <Space size={4} className="lab-export">
      <Tooltip title={t('export.help')}>
        <Button size="small" icon={<DownloadOutlined />} href={href('csv')} download data-testid="export-csv">{t('export.csv')}</Button>
      </Tooltip>
      <Button size="small" icon={<DownloadOutlined />} href={href('xlsx')} download data-testid="export-xlsx">{t('export.xlsx')}</Button>
    </Space>
  );
}

/** A released table as the workspace shows it: the table, or a chart of it. */
export function ResultView({ exportJobId, ...props }: ResultViewProps) {
  const { t } = useTranslation();
  const [view, setView] = useState<'table' | 'chart'>('table');
  return (
    <div className="lab-result-view">
      <Space className="lab-result-view-head" wrap>
      <Segmented<'table' | 'chart'>
        size="small" value={view} onChange={setView} aria-label={t('chart.view')} data-testid="result-view-switch"
        options={[
          { value: 'table', icon: <TableOutlined />, label: <span data-testid="view-table">{t('chart.tableView')}</span> },
          { value: 'chart', icon: <BarChartOutlined />, label: <span data-testid="view-chart">{t('chart.chartView')}</span> },
        ]}
      />
      {exportJobId && <ExportButtons jobId={exportJobId} />}
      </Space>
      {view === 'table' ? <ResultTable {...props} /> : (
        <Suspense fallback={<div className="lab-center"><Spin /></div>}>
          <div className="lab-result">
            <ResultChart table={props.table} geography={props.geography} catalog={props.catalog} />
          </div>
        </Suspense>
      )}
    </div>
  );
}
