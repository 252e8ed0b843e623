import { FlagFilled, StopOutlined } from '@ant-design/icons';
import { Checkbox, Segmented, Space, Table, Tag, Tooltip, Typography } from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { Bilingual, CatalogDataset, GeoUnit, ReleasedColumn, ReleasedRow, ReleasedTable } from '../api/types.ts';
import { useLang } from '../i18n/index.ts';

interface Row { readonly key: number; readonly row: ReleasedRow }

export interface ResultTableProps {
  readonly table: ReleasedTable;
  readonly title: string;
  readonly geography: readonly GeoUnit[] | undefined;
  readonly catalog: readonly CatalogDataset[];
}

/**
 * A released table as the guard let it out: key columns (a rolled-up key reads "all", so subtotal
 * rows are visible as such), measures rounded, suppressed cells marked (never a number), cells
 * holding every person of their parent group flagged.
 */
export function ResultTable({ table, title, geography, catalog }: ResultTableProps) {
  const { t } = useTranslation();
  const { pick } = useLang();
  const [releasedOnly, setReleasedOnly] = useState(false);
  const [level, setLevel] = useState<number | 'all'>('all');

  const geoNames = useMemo(() => new Map((geography ?? []).map((u) => [u.code, u.name])), [geography]);
  const valueLabels = useMemo(() => {
    const out = new Map<string, Readonly<Record<string, Bilingual>>>();
    for (const d of catalog) for (const c of d.columns) if (c.values && !out.has(c.name)) out.set(c.name, c.values);
    return out;
  }, [catalog]);

  const keyCols = table.columns.map((c, i) => ({ c, i })).filter((x) => x.c.role === 'key');
  const measureCols = table.columns.map((c, i) => ({ c, i })).filter((x) => x.c.role === 'measure');
  const keyIndex = new Map(keyCols.map((x, k) => [x.i, k]));
  const measureIndex = new Map(measureCols.map((x, k) => [x.i, k]));

  const heading = (c: ReleasedColumn) => pick(c.label) || (c.geoLevel ? t(`geo.${c.geoLevel}`) : '') || c.name;

  // A rolled-up key (its bit set in `grouping`, first key the highest bit) reads "all"; a NULL
  // value of a finest cell (e.g. an unknown birth date: researchers' tables list every public value,
  // NULL included) reads "none", never "all".
  const rolledUp = (r: ReleasedRow, k: number) => ((r.grouping >> (keyCols.length - 1 - k)) & 1) === 1;

  const keyText = (c: ReleasedColumn, v: string | null, total: boolean) => {
    if (total) return <span className="lab-total">{t('result.all')}</span>;
    if (v === null) return <span className="lab-null">{t('result.null')}</span>;
    const geo = geoNames.get(v);
    if (c.geoLevel && geo) return <span title={v}>{pick(geo)}</span>;
    const label = valueLabels.get(c.name)?.[v];
    return label ? <span title={v}>{pick(label)}</span> : v;
  };

  const columns: ColumnsType<Row> = [
    ...keyCols.map(({ c, i }) => ({
      title: heading(c), key: `k${i}`,
      render: (_: unknown, r: Row) => {
        const k = keyIndex.get(i) ?? 0;
        return keyText(c, r.row.keys[k] ?? null, rolledUp(r.row, k));
      },
    })),
    ...measureCols.map(({ c, i }) => ({
      title: heading(c), key: `m${i}`, align: 'right' as const,
      render: (_: unknown, r: Row) => {
        const v = r.row.values[measureIndex.get(i) ?? 0] ?? null;
        if (v === null || r.row.suppressed) {
          return <Tooltip title={t('result.suppressedHelp', { threshold: table.guard.threshold })}><Tag icon={<StopOutlined />} className="lab-suppressed" data-suppressed="true">{t('result.suppressed')}</Tag></Tooltip>;
        }
        return (
          <Space size={4}>
            {r.row.allOfParent && <Tooltip title={t('result.allOfParentHelp')}><FlagFilled className="lab-all-of-parent" /></Tooltip>}
            <span className="lab-num">{v.toLocaleString()}</span>
          </Space>
        );
      },
    })),
  ];

  // Roll-up order: the city total first, then each geography level down; within a level, margins before cells.
  const geoKeys = keyCols.filter((x) => x.c.geoLevel).map((x) => keyIndex.get(x.i) ?? 0);
  const otherKeys = keyCols.filter((x) => !x.c.geoLevel).map((x) => keyIndex.get(x.i) ?? 0);
  const depthOf = (r: ReleasedRow) => geoKeys.filter((k) => !rolledUp(r, k)).length;
  const marginOf = (r: ReleasedRow) => otherKeys.filter((k) => rolledUp(r, k)).length;
  const ordered = useMemo(
    () => table.rows.map((row, key) => ({ key, row, depth: depthOf(row), margin: marginOf(row) })).sort((a, b) => a.depth - b.depth || b.margin - a.margin || a.key - b.key),
    [table],
  );
  const rows: Row[] = ordered.filter((r) => (!releasedOnly || !r.row.suppressed) && (level === 'all' || r.depth === level));
  const levels = geoKeys.length ? [0, ...keyCols.filter((x) => x.c.geoLevel).map((_, i) => i + 1)] : [];
  const levelName = (d: number) => {
    if (d === 0) return t('result.city');
    const col = keyCols.filter((x) => x.c.geoLevel)[d - 1]?.c;
    return col?.geoLevel ? t(`geo.${col.geoLevel}`) : String(d);
  };
  const g = table.guard;

  return (
    <div className="lab-result" data-testid="result-table">
      <Space className="lab-result-head" wrap>
        <Typography.Text strong>{title}</Typography.Text>
        <Typography.Text type="secondary" data-testid="result-guard" data-rule={g.rule}>
          {g.rule === 'researcher-dp' && <Tag color="purple" className="lab-guard-rule">{t('result.ruleResearcherDp')}</Tag>}
          {t('result.guard', { threshold: g.threshold, rounding: g.rounding, cells: g.cells, suppressed: g.suppressed })}
          {g.cellKeyNoise ? ` ${t('result.noise', { d: g.cellKeyNoise })}` : ''}
        </Typography.Text>
        {g.dp && (
          <Tooltip title={t('result.dpHelp')}>
            <Typography.Text type="secondary" data-testid="result-dp" data-epsilon={g.dp.epsilon} data-noisy-cells={g.dp.noisyCells}>
              {t('result.dp', { epsilon: g.dp.epsilon, cells: g.dp.noisyCells, scale: g.dp.scale })}
            </Typography.Text>
          </Tooltip>
        )}
        {levels.length > 0 && (
          <Segmented<number | 'all'>
            size="small" value={level} onChange={setLevel} aria-label={t('result.level')}
            options={[{ value: 'all', label: t('result.allLevels') }, ...levels.map((d) => ({ value: d, label: levelName(d) }))]}
          />
        )}
        <Checkbox checked={releasedOnly} onChange={(e) => { setReleasedOnly(e.target.checked); }}>{t('result.releasedOnly')}</Checkbox>
      </Space>
      <Table<Row>
        size="small" bordered columns={columns} dataSource={rows}
        rowClassName={(r) => (r.row.grouping !== 0 ? 'lab-row-subtotal' : '')}
        pagination={{ defaultPageSize: 20, showSizeChanger: true, showTotal: (n) => t('result.rows', { count: n }) }}
        scroll={{ x: 'max-content' }}
      />
    </div>
  );
}
