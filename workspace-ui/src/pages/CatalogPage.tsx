import { DatabaseOutlined, SafetyCertificateOutlined } from '@ant-design/icons';
import { Alert, Card, Descriptions, Empty, Input, Menu, Space, Spin, Table, Tag, Tooltip, Typography } from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { errorText } from '../app/errors.ts';
import { useCatalog } from '../api/resources.ts';
import type { CatalogColumn, CatalogDataset, Level } from '../api/types.ts';
import { domainRank, IDENTIFIER_SEMANTICS } from '../catalog/labels.ts';
import { LevelTag } from '../catalog/LevelTag.tsx';
import { useLang } from '../i18n/index.ts';

const LEVELS: readonly Level[] = ['L1', 'L2', 'L3', 'L4'];

/** Datasets by domain, each with its fields: semantic type, classification, identifiers. Metadata only. */
export function CatalogPage() {
  const { t } = useTranslation();
  const { pick } = useLang();
  const { data, error, reload } = useCatalog();
  const [query, setQuery] = useState('');
  const [selected, setSelected] = useState<string | undefined>();

  const datasets = useMemo(() => [...(data?.datasets ?? [])].sort((a, b) => domainRank(a.domain) - domainRank(b.domain) || a.id.localeCompare(b.id)), [data]);
  const q = query.trim().toLowerCase();
  const matches = (d: CatalogDataset) => !q || [d.id, d.label.zh, d.label.en, ...d.columns.flatMap((c) => [c.name, c.label.zh, c.label.en])].some((s) => s.toLowerCase().includes(q));
  const visible = datasets.filter(matches);
  const current = datasets.find((d) => d.id === selected) ?? visible[0];

  const domains = [...new Set(visible.map((d) => d.domain))];
  const menuItems = domains.map((domain) => ({
    type: 'group' as const,
    key: `domain:${domain}`,
    label: <span className="lab-domain-title"><DatabaseOutlined /> {t(`domain.${domain}`, { defaultValue: domain })}</span>,
    children: visible.filter((d) => d.domain === domain).map((d) => ({ key: d.id, label: <span title={d.id}>{pick(d.label)}</span> })),
  }));

  const columns: ColumnsType<CatalogColumn> = [
    { title: t('catalog.field'), dataIndex: 'name', width: 190, render: (name: string) => <Typography.Text code>{name}</Typography.Text> },
    { title: t('catalog.label'), key: 'label', render: (_, c) => pick(c.label) },
    { title: t('catalog.type'), dataIndex: 'type', width: 90, render: (v: string) => t(`columnType.${v}`, { defaultValue: v }) },
    {
      title: t('catalog.semantic'), dataIndex: 'semantic', width: 150,
      render: (s: string) => (IDENTIFIER_SEMANTICS.has(s)
        ? <Tooltip title={t('catalog.identifierHelp')}><Tag icon={<SafetyCertificateOutlined />} color="volcano">{t(`semantic.${s}`, { defaultValue: s })}</Tag></Tooltip>
        : <Tag>{t(`semantic.${s}`, { defaultValue: s })}</Tag>),
    },
    { title: t('catalog.level'), dataIndex: 'level', width: 130, render: (l: Level) => <LevelTag level={l} />, filters: LEVELS.map((l) => ({ text: l, value: l })), onFilter: (v, c) => c.level === v },
    {
      title: t('catalog.values'), key: 'values', render: (_, c) => {
        if (c.values) {
          const entries = Object.entries(c.values);
          return <Space size={[4, 4]} wrap>{entries.slice(0, 6).map(([code, label]) => <Tag key={code} bordered={false}>{pick(label)}</Tag>)}{entries.length > 6 && <Typography.Text type="secondary">{t('catalog.more', { count: entries.length - 6 })}</Typography.Text>}</Space>;
        }
        if (c.geoLevel) return <Typography.Text type="secondary">{t(`geo.${c.geoLevel}`)}</Typography.Text>;
        if (c.bounds) return <Typography.Text type="secondary">{c.bounds[0]} – {c.bounds[1]}</Typography.Text>;
        return null;
      },
    },
  ];

  if (error) return <Alert type="error" showIcon message={t('catalog.loadFailed')} description={errorText(error, t)} action={<a onClick={reload}>{t('common.retry')}</a>} />;
  if (!data) return <div className="lab-center"><Spin /></div>;

  return (
    <div className="lab-catalog">
      <Card className="lab-catalog-list" size="small" title={t('catalog.title')}>
        <Input.Search allowClear placeholder={t('catalog.search')} value={query} onChange={(e) => { setQuery(e.target.value); }} aria-label={t('catalog.search')} />
        {visible.length === 0
          ? <Empty description={t('catalog.noMatch')} />
          : <Menu mode="inline" items={menuItems} selectedKeys={current ? [current.id] : []} onClick={({ key }) => { setSelected(key); }} className="lab-catalog-menu" />}
      </Card>
      <div className="lab-catalog-detail">
        {current && (
          <Card
            size="small"
            title={<Space><span data-testid="dataset-title">{pick(current.label)}</span><Typography.Text code>{current.id}</Typography.Text></Space>}
            extra={<Tag color="geekblue">{t(`domain.${current.domain}`, { defaultValue: current.domain })}</Tag>}
          >
            <Typography.Paragraph>{pick(current.description)}</Typography.Paragraph>
            <Descriptions size="small" column={3} items={[
              { key: 'unit', label: t('catalog.unit'), children: <span><Typography.Text code>{current.unit.column}</Typography.Text> · {t(`unitKind.${current.unit.kind}`, { defaultValue: current.unit.kind })}</span> },
              { key: 'fields', label: t('catalog.fieldCount'), children: current.columns.length },
              { key: 'max', label: t('catalog.maxLevel'), children: <LevelTag level={current.columns.reduce<Level>((m, c) => (c.level > m ? c.level : m), 'L1')} /> },
            ]} />
            <Alert className="lab-catalog-note" type="info" showIcon message={t('catalog.metadataOnly')} />
            <Table<CatalogColumn> rowKey="name" size="small" columns={columns} dataSource={[...current.columns]} pagination={false} data-testid="catalog-columns" />
          </Card>
        )}
      </div>
    </div>
  );
}
