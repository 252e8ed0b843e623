import { CheckOutlined, CloseOutlined, FileSearchOutlined, ProfileOutlined, ReloadOutlined } from '@ant-design/icons';
import { Alert, App, Badge, Button, Card, Empty, Space, Table, Tabs, Tag, Tooltip, Typography } from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { post } from '../api/client.ts';
import type { ApproveOutcome, Inbox, InboxItem } from '../api/types.ts';
import { useFetch } from '../api/useFetch.ts';
import { errorText } from '../app/errors.ts';
import { formatDecimal, formatTime, shortId } from '../app/format.ts';
import { navigate } from '../app/router.ts';
import { LevelTag } from '../catalog/LevelTag.tsx';
import { useLang } from '../i18n/index.ts';
import { decisionOf, levelOf } from '../officer/inbox.ts';
import { DomainTags, JobDrawer } from '../officer/JobDrawer.tsx';
import { ReasonModal } from '../officer/ReasonModal.tsx';

type Pending = { kind: 'approve' | 'reject'; item: InboxItem };

/**
 * The officer's inbox (GET /api/approvals, never their own jobs): runs waiting for approval, with
 * what the policy saw (requester, highest level read, domains, approvals needed, the version and
 * the policies that decided); approve with an optional note or reject with a reason; outputs of
 * researchers waiting for review, opened in the review page.
 */
export default function ApprovalsPage() {
  const { t } = useTranslation();
  const { lang } = useLang();
  const { message } = App.useApp();
  const inbox = useFetch<Inbox>('/api/approvals');
  const [tab, setTab] = useState('approvals');
  const [detail, setDetail] = useState<InboxItem | undefined>();
  const [pending, setPending] = useState<Pending | undefined>();

  const approve = async (item: InboxItem, note: string) => {
    const r = await post<ApproveOutcome>(`/api/jobs/${encodeURIComponent(item.jobId)}/approve`, note.trim() ? { note } : {});
    if (r.state === 'awaiting_approval') void message.info(t('inbox.approvedPartly', { n: r.approvals, required: r.approvalsRequired, left: r.approvalsRequired - r.approvals }));
    else void message.success(t('inbox.approvedRuns', { n: r.approvals, required: r.approvalsRequired }));
    setDetail(undefined);
    inbox.reload();
  };
  const reject = async (item: InboxItem, reason: string) => {
    await post<{ state: string }>(`/api/jobs/${encodeURIComponent(item.jobId)}/reject`, { reason });
    void message.success(t('inbox.rejectedDone'));
    setDetail(undefined);
    inbox.reload();
  };

  const jobCell = (r: InboxItem) => (
    <Tooltip title={r.jobId}>
      <Button type="link" size="small" className="lab-link" data-job={r.jobId} onClick={() => { setDetail(r); }}>
        <Typography.Text code>{shortId(r.jobId)}</Typography.Text>
      </Button>
    </Tooltip>
  );
  const common: ColumnsType<InboxItem> = [
    { title: t('inbox.submitted'), dataIndex: 'createdAt', width: 170, render: (v: string) => formatTime(v, lang) },
    { title: t('inbox.job'), key: 'job', width: 110, render: (_, r) => jobCell(r) },
    { title: t('inbox.requester'), dataIndex: 'requesterRole', width: 120, render: (v: InboxItem['requesterRole']) => (v ? <Tag color={v === 'researcher' ? 'purple' : 'blue'}>{t(`role.${v}`)}</Tag> : '—') },
    { title: t('inbox.maxLevel'), dataIndex: 'maxLevel', width: 120, render: (v: number | null) => <LevelTag level={levelOf(v)} /> },
    { title: t('inbox.domains'), key: 'domains', render: (_, r) => <DomainTags item={r} /> },
  ];
  const approvalColumns: ColumnsType<InboxItem> = [
    ...common,
    { title: t('inbox.approvalsRequired'), dataIndex: 'approvalsRequired', width: 110, render: (n: number) => <Tag color={n >= 2 ? 'red' : 'orange'}>{t('inbox.officers', { count: n })}</Tag> },
    {
      title: t('inbox.policy'), key: 'policy', render: (_, r) => (
        <Space size={[4, 4]} wrap>
          {r.policyVersion !== null && <Tag>{t('inbox.version', { version: r.policyVersion })}</Tag>}
          {decisionOf(r)?.policies.map((p) => <Tag key={p} color="geekblue" className="lab-policy-id">{p}</Tag>)}
        </Space>
      ),
    },
    { title: t('inbox.epsilon'), dataIndex: 'epsilon', width: 70, render: (v: string | null) => (v ? formatDecimal(v) : '—') },
    {
      title: t('inbox.actions'), key: 'actions', width: 250, fixed: 'right', render: (_, r) => (
        <Space size={4}>
          <Button size="small" icon={<ProfileOutlined />} onClick={() => { setDetail(r); }}>{t('inbox.details')}</Button>
          <Button size="small" type="primary" icon={<CheckOutlined />} onClick={() => { setPending({ kind: 'approve', item: r }); }} data-testid="approve-button">{t('inbox.approve')}</Button>
          <Button size="small" danger icon={<CloseOutlined />} onClick={() => { setPending({ kind: 'reject', item: r }); }} data-testid="reject-button">{t('inbox.reject')}</Button>
        </Space>
      ),
    },
  ];
  const reviewColumns: ColumnsType<InboxItem> = [
    ...common,
    { title: t('inbox.project'), dataIndex: 'projectId', render: (v: string | null) => v ?? '—' },
    { title: t('inbox.epsilon'), dataIndex: 'epsilon', width: 70, render: (v: string | null) => (v ? formatDecimal(v) : '—') },
    {
      title: t('inbox.actions'), key: 'actions', width: 130, fixed: 'right', render: (_, r) => (
        <Button size="small" type="primary" icon={<FileSearchOutlined />} onClick={() => { navigate(`/review/${encodeURIComponent(r.jobId)}`); }} data-testid="open-review">{t('inbox.openReview')}</Button>
      ),
    },
  ];

  const approvals = inbox.data?.approvals ?? [];
  const reviews = inbox.data?.reviews ?? [];
  const item = pending?.item;

  return (
    <div className="lab-page" data-testid="approvals-page">
      <div className="lab-page-head">
        <Typography.Title level={4}>{t('inbox.title')}</Typography.Title>
        <Typography.Text type="secondary">{t('inbox.intro')}</Typography.Text>
        <span className="lab-toolbar-spacer" />
        <Button icon={<ReloadOutlined />} onClick={inbox.reload} loading={inbox.loading}>{t('common.refresh')}</Button>
      </div>
      {inbox.error !== undefined && <Alert type="error" showIcon message={errorText(inbox.error, t)} />}
      <Card size="small">
        <Tabs
          activeKey={tab} onChange={setTab}
          items={[
            {
              key: 'approvals',
              label: <span data-testid="tab-approvals">{t('inbox.approvals')} <Badge count={approvals.length} size="small" showZero color={approvals.length ? '#fa8c16' : '#d0d7de'} /></span>,
              children: (
                <div data-testid="approvals-table"><Table<InboxItem>
                  size="small" rowKey="jobId" columns={approvalColumns} dataSource={[...approvals]} loading={inbox.loading && !inbox.data}
                  pagination={{ pageSize: 20, hideOnSinglePage: true }} scroll={{ x: 'max-content' }}
                  locale={{ emptyText: <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('inbox.noApprovals')} /> }}
                /></div>
              ),
            },
            {
              key: 'reviews',
              label: <span data-testid="tab-reviews">{t('inbox.reviews')} <Badge count={reviews.length} size="small" showZero color={reviews.length ? '#1677ff' : '#d0d7de'} /></span>,
              children: (
                <div data-testid="reviews-table"><Table<InboxItem>
                  size="small" rowKey="jobId" columns={reviewColumns} dataSource={[...reviews]} loading={inbox.loading && !inbox.data}
                  pagination={{ pageSize: 20, hideOnSinglePage: true }} scroll={{ x: 'max-content' }}
                  locale={{ emptyText: <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('inbox.noReviews')} /> }}
                /></div>
              ),
            },
          ]}
        />
      </Card>
      <JobDrawer
        jobId={detail?.jobId} item={detail} onClose={() => { setDetail(undefined); }}
        extra={detail && approvals.some((a) => a.jobId === detail.jobId) && (
          <Space>
            <Button type="primary" icon={<CheckOutlined />} onClick={() => { setPending({ kind: 'approve', item: detail }); }}>{t('inbox.approve')}</Button>
            <Button danger icon={<CloseOutlined />} onClick={() => { setPending({ kind: 'reject', item: detail }); }}>{t('inbox.reject')}</Button>
          </Space>
        )}
      />
      <ReasonModal
        open={pending !== undefined}
        title={pending?.kind === 'reject' ? t('inbox.rejectTitle', { job: shortId(item?.jobId ?? '') }) : t('inbox.approveTitle', { job: shortId(item?.jobId ?? '') })}
        label={pending?.kind === 'reject' ? t('inbox.reason') : t('inbox.note')}
        required={pending?.kind === 'reject'}
        placeholder={pending?.kind === 'reject' ? t('inbox.reasonPlaceholder') : t('inbox.notePlaceholder')}
        okText={pending?.kind === 'reject' ? t('inbox.reject') : t('inbox.approve')}
        danger={pending?.kind === 'reject'}
        intro={item && <Typography.Paragraph type="secondary">{pending?.kind === 'reject' ? t('inbox.rejectIntro') : t('inbox.approveIntro', { count: item.approvalsRequired })}</Typography.Paragraph>}
        onSubmit={(text) => (item ? (pending?.kind === 'reject' ? reject(item, text) : approve(item, text)) : Promise.resolve())}
        onClose={() => { setPending(undefined); }}
      />
    </div>
  );
}
