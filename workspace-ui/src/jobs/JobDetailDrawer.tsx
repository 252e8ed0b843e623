import { Alert, Descriptions, Drawer, List, Space, Spin, Tag, Typography } from 'antd';
import { lazy, Suspense, useEffect } from 'react';
import { useTranslation } from 'react-i18next';
import { useCatalog, useGeography } from '../api/resources.ts';
import type { Job, JobResult } from '../api/types.ts';
import { useFetch } from '../api/useFetch.ts';
import { useAuth } from '../app/auth.tsx';
import { errorText } from '../app/errors.ts';
import { formatDecimal, formatTime } from '../app/format.ts';
import { useLang } from '../i18n/index.ts';
import { ApprovalTimeline } from '../officer/JobDrawer.tsx';
import { POLL_MS } from '../editor/useRun.ts';
import { ResultView } from '../results/ResultView.tsx';
import { jobStateColor } from './job-list.ts';

const PipelineView = lazy(() => import('../editor/PipelineView.tsx'));

/** Whether the released tables of a job can be read by this user now (owner: once released; officers: once finished). */
export function resultReadable(job: Job, officer: boolean): boolean {
  if (job.state !== 'succeeded') return false;
  return officer || job.reviewState === null || job.reviewState === 'released';
}

/** One job from the list: its state, stages per domain, officers' decisions and, once released, its tables. */
export function JobDetailDrawer({ jobId, onClose }: { jobId: string | undefined; onClose: () => void }) {
  const { t } = useTranslation();
  const { lang } = useLang();
  const { user } = useAuth();
  const job = useFetch<Job>(jobId ? `/api/jobs/${encodeURIComponent(jobId)}` : undefined);
  const j = job.data;
  // While the job still moves (queued, running, waiting for officers, output under review) it is asked again.
  const moving = j !== undefined && (j.state === 'queued' || j.state === 'running' || j.state === 'awaiting_approval' || j.reviewState === 'pending');
  const { reload } = job;
  useEffect(() => {
    if (!moving) return undefined;
    const timer = window.setInterval(reload, POLL_MS);
    return () => { window.clearInterval(timer); };
  }, [moving, reload]);
  const readable = j !== undefined && resultReadable(j, user?.role === 'officer');
  const result = useFetch<JobResult>(readable && jobId ? `/api/jobs/${encodeURIComponent(jobId)}/result` : undefined);
  const catalog = useCatalog();
  const geography = useGeography(result.data !== undefined);
  const titleOf = (stageId: string) => {
    const node = j?.pipeline?.nodes.find((n) => n.id === stageId);
    const title = node?.params?.['title'];
    return typeof title === 'string' && title ? title : stageId;
  };
  return (
    <Drawer open={jobId !== undefined} onClose={onClose} width="min(1100px, 92vw)" title={t('jobs.jobTitle')} destroyOnHidden>
      <div data-testid="job-detail" data-job={jobId ?? ''}>
        {job.error !== undefined && <Alert type="error" showIcon message={errorText(job.error, t)} />}
        {!j && job.error === undefined && <div className="lab-center"><Spin /></div>}
        {j && (
          <Space direction="vertical" size="middle" className="lab-drawer-body">
            <Descriptions size="small" column={2} bordered>
              <Descriptions.Item label={t('jobs.pipeline')}>{j.pipeline?.name ?? j.pipelineId}</Descriptions.Item>
              <Descriptions.Item label={t('inbox.job')}><Typography.Text code copyable>{j.id}</Typography.Text></Descriptions.Item>
              <Descriptions.Item label={t('jobs.state')}>
                <Space size={4}>
                  <Tag color={jobStateColor(j.state)} data-testid="detail-job-state" data-state={j.state}>{t(`jobState.${j.state}`)}</Tag>
                  {j.reviewState && <Tag>{t(`reviewState.${j.reviewState}`)}</Tag>}
                </Space>
              </Descriptions.Item>
              <Descriptions.Item label={t('jobs.submitted')}>{formatTime(j.createdAt, lang)}</Descriptions.Item>
              {j.policyVersion !== null && <Descriptions.Item label={t('inbox.policy')}>{t('inbox.version', { version: j.policyVersion })}</Descriptions.Item>}
              {j.finishedAt && <Descriptions.Item label={t('jobs.finished')}>{formatTime(j.finishedAt, lang)}</Descriptions.Item>}
              {j.epsilon && <Descriptions.Item label={t('inbox.epsilon')}>ε = {formatDecimal(j.epsilon)}</Descriptions.Item>}
            </Descriptions>
            {j.pipeline && (
              <Suspense fallback={<div className="lab-center"><Spin /></div>}>
                <PipelineView doc={j.pipeline} />
              </Suspense>
            )}
            <List
              size="small" bordered dataSource={[...j.stages]} header={<Typography.Text strong>{t('jobs.stages')}</Typography.Text>}
              renderItem={(s) => (
                <List.Item>
                  <Space wrap>
                    <Typography.Text code>{s.id}</Typography.Text>
                    <Tag color="cyan">{t(`domain.${s.domain}`, { defaultValue: s.domain })}</Tag>
                    <Typography.Text type="secondary">{t(`jobState.${s.state}`, { defaultValue: s.state })}</Typography.Text>
                  </Space>
                </List.Item>
              )}
            />
            {j.approvalsRequired > 0 && (
              <div>
                <Typography.Title level={5}>{t('inbox.decisions', { n: j.approvals.filter((a) => a.decision === 'approve').length, required: j.approvalsRequired })}</Typography.Title>
                <ApprovalTimeline job={j} />
              </div>
            )}
            {!readable && j.state === 'succeeded' && <Alert type="info" showIcon message={t('jobs.notReleased')} />}
            {result.error !== undefined && <Alert type="error" showIcon message={errorText(result.error, t)} />}
            {result.data?.tables.map((tb) => (
              <ResultView key={tb.stageId} exportJobId={user?.role === 'officer' ? undefined : j.id} table={tb.table} title={titleOf(tb.stageId)} geography={geography.data?.units} catalog={catalog.data?.datasets ?? []} />
            ))}
          </Space>
        )}
      </div>
    </Drawer>
  );
}
