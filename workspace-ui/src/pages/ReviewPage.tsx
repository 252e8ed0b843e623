import { CheckOutlined, CloseOutlined, FileSearchOutlined, ReloadOutlined, RollbackOutlined } from '@ant-design/icons';
import { Alert, App, Button, Card, Empty, List, Popconfirm, Space, Spin, Tag, Typography } from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { post } from '../api/client.ts';
import { useCatalog, useGeography } from '../api/resources.ts';
import type { Inbox, InboxItem, Job, JobResult, ReviewState } from '../api/types.ts';
import { useFetch } from '../api/useFetch.ts';
import { errorText } from '../app/errors.ts';
import { formatDecimal, formatTime, shortId } from '../app/format.ts';
import { navigate, usePath } from '../app/router.ts';
import { LevelTag } from '../catalog/LevelTag.tsx';
import { useLang } from '../i18n/index.ts';
import { levelOf } from '../officer/inbox.ts';
import { ApprovalTimeline, RequestFacts } from '../officer/JobDrawer.tsx';
import { ReasonModal } from '../officer/ReasonModal.tsx';
import { ResultView } from '../results/ResultView.tsx';

type Decision = Exclude<ReviewState, 'pending'>;

/** The job named by the path: /review/{jobId}. */
function jobIdOf(path: string): string | undefined {
  const id = path.split('/')[2];
  return id ? decodeURIComponent(id) : undefined;
}

/**
 * Output review (officers): a researcher's finished job is released to them only after an officer
 * (not the requester) has read it here — the released tables as the domain's guard let them out
 * (researcher rule: DP noise, then threshold and rounding) — and released it, returned it with a
 * reason, or rejected it with a reason.
 */
export default function ReviewPage() {
  const { t } = useTranslation();
  const { lang } = useLang();
  const path = usePath();
  const inbox = useFetch<Inbox>('/api/approvals');
  const reviews = inbox.data?.reviews ?? [];
  const selected = jobIdOf(path) ?? reviews[0]?.jobId;

  return (
    <div className="lab-page" data-testid="review-page">
      <div className="lab-page-head">
        <Typography.Title level={4}>{t('review.title')}</Typography.Title>
        <Typography.Text type="secondary">{t('review.intro')}</Typography.Text>
        <span className="lab-toolbar-spacer" />
        <Button icon={<ReloadOutlined />} onClick={inbox.reload} loading={inbox.loading}>{t('common.refresh')}</Button>
      </div>
      {inbox.error !== undefined && <Alert type="error" showIcon message={errorText(inbox.error, t)} />}
      <div className="lab-review">
        <Card size="small" title={t('review.waiting', { count: reviews.length })} className="lab-review-list">
          <List
            size="small" dataSource={[...reviews]} loading={inbox.loading && !inbox.data}
            locale={{ emptyText: <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('inbox.noReviews')} /> }}
            renderItem={(r) => (
              <List.Item
                className={`lab-review-item${r.jobId === selected ? ' lab-review-item-active' : ''}`} data-job={r.jobId}
                onClick={() => { navigate(`/review/${encodeURIComponent(r.jobId)}`); }}
              >
                <Space direction="vertical" size={2}>
                  <Space size={4}><FileSearchOutlined /><Typography.Text code>{shortId(r.jobId)}</Typography.Text><LevelTag level={levelOf(r.maxLevel)} /></Space>
                  <Typography.Text type="secondary" className="lab-small">{r.projectId ?? '—'} · ε {r.epsilon ? formatDecimal(r.epsilon) : '—'} · {formatTime(r.createdAt, lang)}</Typography.Text>
                </Space>
              </List.Item>
            )}
          />
        </Card>
        {selected
          ? <ReviewJob key={selected} jobId={selected} item={reviews.find((r) => r.jobId === selected)} onDecided={() => { inbox.reload(); }} />
          : <Card size="small"><Empty description={t('review.nothing')} /></Card>}
      </div>
    </div>
  );
}

function ReviewJob({ jobId, item, onDecided }: { jobId: string; item: InboxItem | undefined; onDecided: () => void }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const job = useFetch<Job>(`/api/jobs/${encodeURIComponent(jobId)}`);
  const finished = job.data?.state === 'succeeded';
  const result = useFetch<JobResult>(finished ? `/api/jobs/${encodeURIComponent(jobId)}/result` : undefined);
  const catalog = useCatalog();
  const geography = useGeography(result.data !== undefined);
  const [asking, setAsking] = useState<Exclude<Decision, 'released'> | undefined>();
  const [releasing, setReleasing] = useState(false);

  const decide = async (decision: Decision, reason: string) => {
    const r = await post<{ reviewState: ReviewState }>(`/api/jobs/${encodeURIComponent(jobId)}/review`, { decision, reason });
    void message.success(t(`review.done.${r.reviewState}`));
    job.reload();
    onDecided();
  };
  const release = async () => {
    setReleasing(true);
    try {
      await decide('released', '');
    } catch (e) {
      void message.error(errorText(e, t));
    } finally {
      setReleasing(false);
    }
  };

  const j = job.data;
  const pending = j?.reviewState === 'pending';
  return (
    <Card
      size="small" className="lab-review-job" data-testid="review-job" data-job={jobId} data-review-state={j?.reviewState ?? ''}
      title={<Space><span>{t('review.job')}</span><Typography.Text code copyable>{jobId}</Typography.Text>{j?.reviewState && <Tag color={pending ? 'processing' : j.reviewState === 'released' ? 'success' : 'error'} data-testid="review-state">{t(`reviewState.${j.reviewState}`)}</Tag>}</Space>}
      extra={pending && (
        <Space>
          <Popconfirm title={t('review.releaseConfirm')} description={t('review.releaseConfirmHelp')} okText={t('review.release')} cancelText={t('common.cancel')} onConfirm={() => release()}>
            <Button type="primary" icon={<CheckOutlined />} loading={releasing} data-testid="release-button">{t('review.release')}</Button>
          </Popconfirm>
          <Button icon={<RollbackOutlined />} onClick={() => { setAsking('returned'); }} data-testid="return-button">{t('review.return')}</Button>
          <Button danger icon={<CloseOutlined />} onClick={() => { setAsking('rejected'); }} data-testid="review-reject-button">{t('review.reject')}</Button>
        </Space>
      )}
    >
      {job.error !== undefined && <Alert type="error" showIcon message={errorText(job.error, t)} />}
      {!j && job.error === undefined && <div className="lab-center"><Spin /></div>}
      {j && (
        <div className="lab-review-body">
          <div className="lab-review-facts">
            {item && <RequestFacts item={item} />}
            <Typography.Title level={5}>{t('inbox.decisions', { n: j.approvals.filter((a) => a.decision === 'approve').length, required: j.approvalsRequired })}</Typography.Title>
            <ApprovalTimeline job={j} />
          </div>
          <div className="lab-review-result">
            {!finished && <Alert type="info" showIcon message={t('review.notFinished', { state: t(`jobState.${j.state}`) })} />}
            {result.error !== undefined && <Alert type="error" showIcon message={errorText(result.error, t)} />}
            {finished && !result.data && result.error === undefined && <div className="lab-center"><Spin /></div>}
            {result.data?.tables.length === 0 && <Empty description={t('review.noTables')} />}
            {result.data?.tables.map((tb) => (
              <ResultView key={tb.stageId} table={tb.table} title={t('review.tableTitle', { stage: tb.stageId, domain: t(`domain.${tb.domain}`, { defaultValue: tb.domain }) })} geography={geography.data?.units} catalog={catalog.data?.datasets ?? []} />
            ))}
          </div>
        </div>
      )}
      <ReasonModal
        open={asking !== undefined}
        title={asking === 'returned' ? t('review.returnTitle') : t('review.rejectTitle')}
        intro={<Typography.Paragraph type="secondary">{asking === 'returned' ? t('review.returnIntro') : t('review.rejectIntro')}</Typography.Paragraph>}
        label={t('inbox.reason')} required placeholder={t('inbox.reasonPlaceholder')}
        okText={asking === 'returned' ? t('review.return') : t('review.reject')} danger={asking === 'rejected'}
        onSubmit={(text) => (asking ? decide(asking, text) : Promise.resolve())}
        onClose={() => { setAsking(undefined); }}
      />
    </Card>
  );
}
