import { Alert, Segmented, Select, Space, Typography } from 'antd';
import { BarChart, LineChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';
import EChartsReactCore from 'echarts-for-react/esm/core';
import { useMemo, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import type { CatalogDataset, GeoUnit, ReleasedTable } from '../api/types.ts';
import { useLang } from '../i18n/index.ts';
import { chartData, chartModes, periodKey, pyramidChoices, pyramidData, pyramidKeys, trendData, type ChartMode } from './chart-data.ts';
import { useKeyLabel } from './key-labels.ts';

// Only what the charts use (ECharts is loaded with this chunk, when a chart is first shown).
echarts.use([BarChart, LineChart, GridComponent, LegendComponent, TooltipComponent, CanvasRenderer]);

export interface ResultChartProps {
  readonly table: ReleasedTable;
  readonly geography: readonly GeoUnit[] | undefined;
  readonly catalog: readonly CatalogDataset[];
}

type Kind = ChartMode | 'pyramid' | 'trend';
const ALL = '__all__';

/**
 * A released table as bars by its first key (or stacked by its second), a population pyramid (an
 * age-band key × sex, at one value of the other keys or their total), or a trend over a period
 * key (a total line, or a line per value of another key). Suppressed cells are gaps,
 * never zeros, and a note under the chart says how many there are. The tooltip is drawn on the
 * canvas (rich text), not as HTML: the lab's CSP allows no inline styles.
 */
export default function ResultChart({ table, geography, catalog }: ResultChartProps) {
  const { t } = useTranslation();
  const { pick } = useLang();
  const label = useKeyLabel(geography, catalog);
  const pk = pyramidKeys(table);
  const period = periodKey(table);
  const kinds: Kind[] = [...(pk ? ['pyramid' as const] : []), ...(period !== undefined ? ['trend' as const] : []), ...chartModes(table)];
  const [wanted, setMode] = useState<Kind | undefined>();
  const kind = wanted && kinds.includes(wanted) ? wanted : kinds[0];
  const mode = kind === 'bar' || kind === 'stacked' ? kind : undefined;
  const [at, setAt] = useState<string>(ALL);
  const [by, setBy] = useState<number | undefined>();
  const measures = table.columns.filter((c) => c.role === 'measure');
  const [measure, setMeasure] = useState(0);
  const keys = table.columns.filter((c) => c.role === 'key');
  const first = keys[0];
  const second = keys[1];
  const heading = (c: { name: string; label?: { zh: string; en: string }; geoLevel?: string }) => pick(c.label) || (c.geoLevel ? t(`geo.${c.geoLevel}`) : '') || c.name;
  const data = useMemo(() => (mode ? chartData(table, mode, measure) : undefined), [table, mode, measure]);
  const pyramidAtKey = pk?.others[0];
  const pyramid = useMemo(() => (kind === 'pyramid' ? pyramidData(table, measure, pyramidAtKey !== undefined && at !== ALL ? new Map([[pyramidAtKey, at]]) : new Map()) : undefined), [table, kind, measure, pyramidAtKey, at]);
  const trend = useMemo(() => (kind === 'trend' ? trendData(table, measure, by) : undefined), [table, kind, measure, by]);
  const kindLabel = (k: Kind) => (k === 'bar' && first ? t('chart.bar', { key: heading(first) })
    : k === 'stacked' && first ? t('chart.stacked', { key: heading(first), by: second ? heading(second) : '' })
      : k === 'pyramid' ? t('chart.pyramid') : t('chart.trend'));
  const head = (extra?: ReactNode) => (
    <Space wrap className="lab-chart-head">
      <Segmented<Kind> size="small" value={kind} onChange={setMode} aria-label={t('chart.kind')} options={kinds.map((k) => ({ value: k, label: <span data-testid={`chart-kind-${k}`}>{kindLabel(k)}</span> }))} />
      {measures.length > 1 && (
        <Select size="small" value={measure} onChange={setMeasure} aria-label={t('chart.measure')} options={measures.map((m, i) => ({ value: i, label: heading(m) }))} popupMatchSelectWidth={false} />
      )}
      {extra}
    </Space>
  );
  const note = (suppressed: number) => (
    <Typography.Text type="secondary" data-testid="chart-note" data-suppressed={suppressed}>
      {suppressed > 0 ? t('chart.suppressedNote', { count: suppressed, mark: t('result.suppressed') }) : t('chart.noneSuppressed')}
    </Typography.Text>
  );
  const measureName = measures[measure] ? heading(measures[measure]) : '';

  if (kind === 'pyramid' && pk && pyramid) {
    const bandKey = keys[pk.band];
    const sexKey = keys[pk.sex];
    const atKey = pyramidAtKey !== undefined ? keys[pyramidAtKey] : undefined;
    const option = {
      animation: false,
      grid: { left: 72, right: 24, top: 40, bottom: 32 },
      legend: { top: 0 },
      tooltip: { trigger: 'item', renderMode: 'richText' },
      // Men to the left (drawn negative, labelled as counts), women to the right.
      xAxis: { type: 'value', name: measureName, axisLabel: { formatter: (v: number) => String(Math.abs(v)) } },
      yAxis: { type: 'category', data: pyramid.bands.map((b) => (bandKey ? label(bandKey, b) : b)), axisTick: { show: false } },
      series: [
        { type: 'bar', stack: 'pyramid', name: sexKey ? label(sexKey, 'M') : 'M', data: pyramid.male.map((v) => (v === null ? '-' : -v)), barMaxWidth: 28 },
        { type: 'bar', stack: 'pyramid', name: sexKey ? label(sexKey, 'F') : 'F', data: pyramid.female.map((v) => (v === null ? '-' : v)), barMaxWidth: 28 },
      ],
    };
    const choices = pyramidAtKey !== undefined ? pyramidChoices(table, pyramidAtKey) : [];
    return (
      <div className="lab-chart" data-testid="result-chart" data-mode="pyramid" data-categories={pyramid.bands.length} data-suppressed={pyramid.suppressed} data-at={at}>
        {head(atKey && (
          <Select
            size="small" value={at} onChange={setAt} aria-label={heading(atKey)} popupMatchSelectWidth={false} data-testid="pyramid-at"
            options={[{ value: ALL, label: t('chart.total', { key: heading(atKey) }) }, ...choices.filter((c): c is string => c !== null).map((c) => ({ value: c, label: label(atKey, c) }))]}
          />
        ))}
        <EChartsReactCore echarts={echarts} option={option} notMerge style={{ height: Math.max(320, 24 * pyramid.bands.length + 80), width: '100%' }} />
        {note(pyramid.suppressed)}
      </div>
    );
  }
  if (kind === 'trend' && period !== undefined && trend) {
    const periodCol = keys[period];
    const byCol = by !== undefined ? keys[by] : undefined;
    const option = {
      animation: false,
      grid: { left: 56, right: 16, top: 48, bottom: 48 },
      legend: { type: 'scroll', top: 0 },
      tooltip: { trigger: 'item', renderMode: 'richText' },
      xAxis: { type: 'category', data: trend.periods.map((p) => (periodCol ? label(periodCol, p) : p)) },
      yAxis: { type: 'value', name: measureName },
      // '-' is a gap: the line breaks at a suppressed cell (connectNulls off), never drops to 0.
      series: trend.series.map((s) => ({ type: 'line', name: byCol ? label(byCol, s.key) : measureName, data: s.values.map((v) => (v === null ? '-' : v)), connectNulls: false, showSymbol: true })),
    };
    const others = keys.map((_, k) => k).filter((k) => k !== period);
    return (
      <div className="lab-chart" data-testid="result-chart" data-mode="trend" data-categories={trend.periods.length} data-suppressed={trend.suppressed}>
        {head(others.length > 0 && (
          <Select<number | -1>
            size="small" value={by ?? -1} onChange={(v) => { setBy(v === -1 ? undefined : v); }} aria-label={t('chart.trendBy')} popupMatchSelectWidth={false}
            options={[{ value: -1, label: t('chart.trendTotal') }, ...others.map((k) => ({ value: k, label: t('chart.trendLines', { key: keys[k] ? heading(keys[k]) : '' }) }))]}
          />
        ))}
        <EChartsReactCore echarts={echarts} option={option} notMerge style={{ height: 360, width: '100%' }} />
        {note(trend.suppressed)}
      </div>
    );
  }
  if (!mode || !data || !first) return <Alert type="info" showIcon message={kind === 'trend' ? t('chart.trendNone') : t('chart.none')} />;
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
      {head()}
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
