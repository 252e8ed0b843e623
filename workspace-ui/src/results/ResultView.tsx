import { BarChartOutlined, TableOutlined } from '@ant-design/icons';
import { Segmented, Spin } from 'antd';
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
}

/** A released table as the workspace shows it: the table, or a chart of it. */
export function ResultView(props: ResultViewProps) {
  const { t } = useTranslation();
  const [view, setView] = useState<'table' | 'chart'>('table');
  return (
    <div className="lab-result-view">
      <Segmented<'table' | 'chart'>
        size="small" value={view} onChange={setView} aria-label={t('chart.view')} data-testid="result-view-switch"
        options={[
          { value: 'table', icon: <TableOutlined />, label: <span data-testid="view-table">{t('chart.tableView')}</span> },
          { value: 'chart', icon: <BarChartOutlined />, label: <span data-testid="view-chart">{t('chart.chartView')}</span> },
        ]}
      />
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
