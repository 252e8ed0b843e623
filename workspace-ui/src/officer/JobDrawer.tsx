import { CheckCircleFilled, CloseCircleFilled } from '@ant-design/icons';
import { Alert, Descriptions, Drawer, Empty, List, Space, Spin, Tag, Timeline, Typography } from 'antd';
import { lazy, Suspense, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import type { InboxItem, Job } from '../api/types.ts';
import { useFetch } from '../api/useFetch.ts';
import { errorText } from '../app/errors.ts';
import { formatDecimal, formatTime } from '../app/format.ts';
import { LevelTag } from '../catalog/LevelTag.tsx';
import { useLang } from '../i18n/index.ts';
import { decisionOf, domainsOf, levelOf } from './inbox.ts';

// The canvas (React Flow) loads when a drawer shows a pipeline.
const PipelineView = lazy(() => import('../editor/PipelineView.tsx'));

/** The request as the policy saw it: requester, highest level read, domains, approvals needed, version and deciding policies. */
export function RequestFacts({ item }: { item: InboxItem }) {
  const { t } = useTranslation();
  const decision = decisionOf(item);
  return (
    <Descriptions size="small" column={1} bordered className="lab-facts">
      <Descriptions.Item label={t('inbox.requester')}>{item.requesterRole ? t(`role.${item.requesterRole}`) : '—'}</Descriptions.Item>
      <Descriptions.Item label={t('inbox.maxLevel')}><LevelTag level={levelOf(item.maxLevel)} /></Descriptions.Item>
      <Descriptions.Item label={t('inbox.domains')}><DomainTags item={item} /></Descriptions.Item>
      <Descriptions.Item label={t('inbox.approvalsRequired')}>{t('inbox.officers', { count: item.approvalsRequired })}</Descriptions.Item>
      <Descriptions.Item label={t('inbox.policy')}>
        <Space size={[4, 4]} wrap>
          {item.policyVersion !== null && <Tag>{t('inbox.version', { version: item.policyVersion })}</Tag>}
          {decision?.policies.map((p) => <Tag key={p} color="geekblue" className="lab-policy-id">{p}</Tag>)}
        </Space>
      </Descriptions.Item>
      {item.projectId && <Descriptions.Item label={t('inbox.project')}>{item.projectId}</Descriptions.Item>}
      {item.epsilon && <Descriptions.Item label={t('inbox.epsilon')}>ε = {formatDecimal(item.epsilon)}</Descriptions.Item>}
    </Descriptions>
  );
}

export function DomainTags({ item }: { item: Pick<InboxItem, 'domains'> }) {
  const { t } = useTranslation();
  const domains = domainsOf(item);
  if (domains.length === 0) return <Typography.Text type="secondary">—</Typography.Text>;
  return <Space size={[4, 4]} wrap>{domains.map((d) => <Tag key={d} color="cyan">{t(`domain.${d}`, { defaultValue: d })}</Tag>)}</Space>;
}

/** The officers' decisions on a job so far (approvals with their notes, a rejection with its reason). */
export function ApprovalTimeline({ job }: { job: Job }) {
  const { t } = useTranslation();
  const { lang } = useLang();
  if (job.approvals.length === 0) return <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('inbox.noDecisions')} />;
  return (
    <Timeline
      className="lab-approvals"
      items={job.approvals.map((a) => ({
        color: a.decision === 'approve' ? 'green' : 'red',
        dot: a.decision === 'approve' ? <CheckCircleFilled /> : <CloseCircleFilled />,
        children: (
          <div data-testid="approval-entry" data-decision={a.decision}>
            <Space wrap size={4}>
              <Typography.Text strong>{a.officer}</Typography.Text>
              <Tag color={a.decision === 'approve' ? 'success' : 'error'}>{t(`inbox.decision.${a.decision}`)}</Tag>
              <Typography.Text type="secondary">{formatTime(a.at, lang)}</Typography.Text>
            </Space>
            {a.reason && <div className="lab-approval-reason">{a.reason}</div>}
          </div>
        ),
      }))}
    />
  );
}

/**
 * One job for an officer: the request (from the inbox), the job's state, its stages per domain
 * (the pipeline as planned: one stage per output, run in its domain) and the decisions so far.
 */
export function JobDrawer({ jobId, item, onClose, extra }: { jobId: string | undefined; item: InboxItem | undefined; onClose: () => void; extra?: ReactNode }) {
  const { t } = useTranslation();
  const { lang } = useLang();
  const job = useFetch<Job>(jobId ? `/api/jobs/${encodeURIComponent(jobId)}` : undefined);
  const j = job.data;
  return (
    <Drawer open={jobId !== undefined} onClose={onClose} width={720} title={t('inbox.jobTitle')} extra={extra} destroyOnHidden>
      <div data-testid="job-drawer" data-job={jobId ?? ''}>
        {job.error !== undefined && <Alert type="error" showIcon message={errorText(job.error, t)} />}
        {!j && job.error === undefined && <div className="lab-center"><Spin /></div>}
        {j && (
          <Space direction="vertical" size="middle" className="lab-drawer-body">
            <Descriptions size="small" column={1} bordered>
              <Descriptions.Item label={t('inbox.job')}><Typography.Text code copyable>{j.id}</Typography.Text></Descriptions.Item>
              <Descriptions.Item label={t('inbox.submitted')}>{formatTime(j.createdAt, lang)}</Descriptions.Item>
              <Descriptions.Item label={t('inbox.state')}>
                <Space size={4}>
                  <Tag data-testid="drawer-job-state" data-state={j.state}>{t(`jobState.${j.state}`)}</Tag>
                  {j.reviewState && <Tag>{t(`reviewState.${j.reviewState}`)}</Tag>}
                </Space>
              </Descriptions.Item>
            </Descriptions>
            {item && <RequestFacts item={item} />}
            <div>
              <Typography.Title level={5}>{t('inbox.pipeline')}</Typography.Title>
              {j.pipeline && (
                <Suspense fallback={<div className="lab-center"><Spin /></div>}>
                  <PipelineView doc={j.pipeline} />
                </Suspense>
              )}
              <Typography.Paragraph type="secondary" className="lab-note">{t('inbox.pipelineHelp')}</Typography.Paragraph>
              <List
                size="small" bordered dataSource={[...j.stages]} data-testid="drawer-stages"
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
            </div>
            <div>
              <Typography.Title level={5}>{t('inbox.decisions', { n: j.approvals.filter((a) => a.decision === 'approve').length, required: j.approvalsRequired })}</Typography.Title>
              <ApprovalTimeline job={j} />
            </div>
          </Space>
        )}
      </div>
    </Drawer>
  );
}
