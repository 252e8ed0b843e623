import { Alert, Segmented, Select, Space, Typography } from 'antd';
import { BarChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';
import EChartsReactCore from 'echarts-for-react/esm/core';
import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { CatalogDataset, GeoUnit, ReleasedTable } from '../api/types.ts';
import { useLang } from '../i18n/index.ts';
import { chartData, chartModes, type ChartMode } from './chart-data.ts';
import { useKeyLabel } from './key-labels.ts';

// Only what the charts use (ECharts is loaded with this chunk, when a chart is first shown).
echarts.use([BarChart, GridComponent, LegendComponent, TooltipComponent, CanvasRenderer]);

export interface ResultChartProps {
  readonly table: ReleasedTable;
  readonly geography: readonly GeoUnit[] | undefined;
  readonly catalog: readonly CatalogDataset[];
}

/**
 * A released table as bars by its first key (or stacked by its second). Suppressed cells are gaps,
 * never zeros, and a note under the chart says how many there are. The tooltip is drawn on the
 * canvas (rich text), not as HTML: the lab's CSP allows no inline styles.
 */
export default function ResultChart({ table, geography, catalog }: ResultChartProps) {
  const { t } = useTranslation();
  const { pick } = useLang();
  const label = useKeyLabel(geography, catalog);
  const modes = chartModes(table);
  const [wanted, setMode] = useState<ChartMode | undefined>();
  const mode = wanted && modes.includes(wanted) ? wanted : modes[0];
  const measures = table.columns.filter((c) => c.role === 'measure');
  const [measure, setMeasure] = useState(0);
  const keys = table.columns.filter((c) => c.role === 'key');
  const first = keys[0];
  const second = keys[1];
  const heading = (c: { name: string; label?: { zh: string; en: string }; geoLevel?: string }) => pick(c.label) || (c.geoLevel ? t(`geo.${c.geoLevel}`) : '') || c.name;
  const data = useMemo(() => (mode ? chartData(table, mode, measure) : undefined), [table, mode, measure]);

  if (!mode || !data || !first) return <Alert type="info" showIcon message={t('chart.none')} />;
  const suppressedText = t('result.suppressed');
  const categories = data.categories.map((c, i) => (data.mode === 'bar' && data.suppressedAt[i] ? `${label(first, c)} ⊘` : label(first, c)));
  const option = {
    animation: false,
    grid: { left: 56, right: 16, top: data.mode === 'stacked' ? 48 : 16, bottom: 72 },
    legend: data.mode === 'stacked' ? { type: 'scroll', top: 0 } : { show: false },
    tooltip: { trigger: 'item', renderMode: 'richText' },
    xAxis: { type: 'category', data: categories, axisLabel: { interval: 0, rotate: categories.length > 8 ? 40 : 0 } },
    yAxis: { type: 'value', name: measures[measure] ? heading(measures[measure]) : '' },
    series: data.series.map((s) => ({
      type: 'bar',
      name: data.mode === 'stacked' && second ? label(second, s.key) : (measures[measure] ? heading(measures[measure]) : ''),
      ...(data.mode === 'stacked' ? { stack: 'all' } : {}),
      // A suppressed cell is '-' for ECharts: no bar at all (a gap), never a bar of height 0.
      data: s.values.map((v) => (v === null ? '-' : v)),
      barMaxWidth: 48,
    })),
  };
  return (
    <div className="lab-chart" data-testid="result-chart" data-mode={data.mode} data-categories={data.categories.length} data-suppressed={data.suppressed}>
      <Space wrap className="lab-chart-head">
        <Segmented<ChartMode>
          size="small" value={mode} onChange={setMode} aria-label={t('chart.kind')}
          options={modes.map((m) => ({ value: m, label: m === 'bar' ? t('chart.bar', { key: heading(first) }) : t('chart.stacked', { key: heading(first), by: second ? heading(second) : '' }) }))}
        />
        {measures.length > 1 && (
          <Select size="small" value={measure} onChange={setMeasure} aria-label={t('chart.measure')} options={measures.map((m, i) => ({ value: i, label: heading(m) }))} popupMatchSelectWidth={false} />
        )}
      </Space>
      <EChartsReactCore echarts={echarts} option={option} notMerge style={{ height: 360, width: '100%' }} />
      <Space direction="vertical" size={0}>
        <Typography.Text type="secondary" data-testid="chart-note" data-suppressed={data.suppressed}>
          {data.suppressed > 0 ? t('chart.suppressedNote', { count: data.suppressed, mark: suppressedText }) : t('chart.noneSuppressed')}
        </Typography.Text>
        {data.truncated > 0 && <Typography.Text type="secondary">{t('chart.truncated', { shown: data.categories.length, more: data.truncated })}</Typography.Text>}
      </Space>
    </div>
  );
}
