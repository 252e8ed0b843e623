import { EyeOutlined, LockOutlined, ReloadOutlined } from '@ant-design/icons';
import { Alert, Button, Drawer, Input, List, Space, Spin, Table, Tag, Typography } from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { useState, type HTMLAttributes } from 'react';
import { useTranslation } from 'react-i18next';
import type { FollowUpListInfo, FollowUpRows } from '../api/types.ts';
import { useFetch } from '../api/useFetch.ts';
import { useAuth } from '../app/auth.tsx';
import { errorText } from '../app/errors.ts';
import { formatTime, shortId } from '../app/format.ts';
import { navigate, usePath } from '../app/router.ts';
import { useLang } from '../i18n/index.ts';
import { listIdOfPath } from '../jobs/job-list.ts';

/**
 * A steward's follow-up lists (I6): the people or houses to re-check that jobs wrote into the
 * steward's own domain. Read from the domain on request (GET /api/domains/{id}/follow-ups), never
 * kept in the browser; every read is audited by the server.
 */
export default function FollowUpsPage() {
  const { t } = useTranslation();
  const { lang } = useLang();
  const { user } = useAuth();
  const domain = user?.domain ?? undefined;
  const lists = useFetch<{ lists: FollowUpListInfo[] }>(domain ? `/api/domains/${encodeURIComponent(domain)}/follow-ups` : undefined);
  const listId = listIdOfPath(usePath());
  const columns: ColumnsType<FollowUpListInfo> = [
    { title: t('followups.listTitle'), key: 'title', render: (_: unknown, l) => <Typography.Text strong>{l.title}</Typography.Text> },
    { title: t('followups.unit'), key: 'unit', render: (_: unknown, l) => <Tag>{t(`followups.unitKind.${l.unitKind}`)}</Tag> },
    { title: t('followups.count'), key: 'count', align: 'right', render: (_: unknown, l) => l.count.toLocaleString() },
    { title: t('followups.created'), key: 'created', render: (_: unknown, l) => formatTime(l.createdAt, lang) },
    { title: t('followups.job'), key: 'job', render: (_: unknown, l) => <Typography.Text code>{shortId(l.jobId)}</Typography.Text> },
    { title: t('jobs.actions'), key: 'open', render: (_: unknown, l) => <Button size="small" icon={<EyeOutlined />} onClick={() => { navigate(`/followups/${l.listId}`); }} data-testid="open-followup">{t('followups.open')}</Button> },
  ];
  return (
    <div className="lab-page" data-testid="followups-page">
      <div className="lab-page-head">
        <Typography.Title level={4}>{t('followups.title')}</Typography.Title>
        {domain && <Tag color="cyan">{t(`domain.${domain}`, { defaultValue: domain })}</Tag>}
        <Typography.Text type="secondary">{t('followups.intro')}</Typography.Text>
        <span className="lab-toolbar-spacer" />
        <Button icon={<ReloadOutlined />} onClick={lists.reload} loading={lists.loading}>{t('common.refresh')}</Button>
      </div>
      {!domain && <Alert type="warning" showIcon message={t('followups.noDomain')} />}
      {lists.error !== undefined && <Alert type="error" showIcon message={errorText(lists.error, t)} />}
      <Table<FollowUpListInfo>
        size="small" rowKey="listId" columns={columns} dataSource={lists.data?.lists ?? []} loading={lists.loading && !lists.data}
        data-testid="followup-lists" onRow={(l) => ({ 'data-list': l.listId } as HTMLAttributes<HTMLElement>)}
        locale={{ emptyText: t('followups.none') }} pagination={{ defaultPageSize: 20 }}
      />
      {domain && <FollowUpDrawer domain={domain} listId={listId} onClose={() => { navigate('/followups'); }} />}
    </div>
  );
}

function FollowUpDrawer({ domain, listId, onClose }: { domain: string; listId: string | undefined; onClose: () => void }) {
  const { t } = useTranslation();
  const { lang } = useLang();
  const rows = useFetch<FollowUpRows>(listId ? `/api/domains/${encodeURIComponent(domain)}/follow-ups/${encodeURIComponent(listId)}` : undefined);
  const [filter, setFilter] = useState('');
  const shown = (rows.data?.rows ?? []).filter((r) => !filter || r.includes(filter.trim()));
  return (
    <Drawer open={listId !== undefined} onClose={onClose} width={560} title={rows.data?.list.title ?? t('followups.listTitle')} destroyOnHidden>
      <div data-testid="followup-drawer" data-list={listId ?? ''}>
        {rows.error !== undefined && <Alert type="error" showIcon message={errorText(rows.error, t)} />}
        {!rows.data && rows.error === undefined && <div className="lab-center"><Spin /></div>}
        {rows.data && (
          <Space direction="vertical" size="middle" className="lab-drawer-body">
            <Alert type="info" showIcon icon={<LockOutlined />} message={t('followups.stayHome')} />
            <Typography.Text type="secondary">
              {t('followups.summary', { count: rows.data.rows.length, unit: t(`followups.unitKind.${rows.data.list.unitKind}`), at: formatTime(rows.data.list.createdAt, lang) })}
            </Typography.Text>
            <Input.Search allowClear placeholder={t('followups.search')} onChange={(e) => { setFilter(e.target.value); }} aria-label={t('followups.search')} />
            <List
              size="small" bordered dataSource={shown} data-testid="followup-rows" pagination={{ pageSize: 50, size: 'small', showSizeChanger: false }}
              renderItem={(r) => <List.Item data-row={r}><Typography.Text code copyable>{r}</Typography.Text></List.Item>}
            />
          </Space>
        )}
      </div>
    </Drawer>
  );
}
