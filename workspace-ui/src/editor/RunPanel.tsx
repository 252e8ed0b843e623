import { AuditOutlined, CheckCircleFilled, ClockCircleOutlined, CloseCircleFilled, FileSearchOutlined, LoadingOutlined, StopOutlined } from '@ant-design/icons';
import { Alert, Button, Empty, List, Progress, Space, Steps, Tag, Typography } from 'antd';
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { useCatalog, useGeography } from '../api/resources.ts';
import type { ErrorBody } from '../api/types.ts';
import { formatDecimal } from '../app/format.ts';
import { useLang } from '../i18n/index.ts';
import { ResultView } from '../results/ResultView.tsx';
import type { EditorDoc } from './model.ts';
import type { RunState, StageError } from './useRun.ts';

const STATE_ICON: Readonly<Record<string, ReactNode>> = {
  queued: <ClockCircleOutlined />,
  running: <LoadingOutlined />,
  succeeded: <CheckCircleFilled className="lab-ok" />,
  failed: <CloseCircleFilled className="lab-bad" />,
  cancelled: <StopOutlined />,
  awaiting_approval: <AuditOutlined />,
  rejected: <CloseCircleFilled className="lab-bad" />,
};

const STATE_COLOR: Readonly<Record<string, string>> = {
  succeeded: 'success', failed: 'error', rejected: 'error', cancelled: 'default', awaiting_approval: 'warning',
};

/** Codes whose failure has a specific remedy (`runHelp.<code>`); others get the general advice. */
const HELP_CODES: ReadonlySet<string> = new Set(['LAB-E136', 'LAB-E132', 'LAB-E124', 'LAB-E120']);


/** The run: progress per stage and domain (from the job's server-sent events), then what failed or the released tables. */
export function RunPanel({ run, doc, onCancel, onShowNode }: { run: RunState; doc: EditorDoc; onCancel: () => void; onShowNode: (id: string) => void }) {
  const { t } = useTranslation();
  const { pick } = useLang();
  const catalog = useCatalog();
  const geography = useGeography(run.result !== undefined);

  if (run.phase === 'idle') return <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('run.none')} />;

  // Stages that ran to an end (a stage cancelled before it ran did no work).
  const finished = run.stages.filter((s) => s.state === 'succeeded' || s.state === 'failed').length;
  const percent = run.stages.length ? Math.round((finished / run.stages.length) * 100) : 0;
  const jobState = run.jobState ?? (run.phase === 'saving' ? 'saving' : 'starting');
  // Before officers approve (or after they refused, or a cancel) nothing runs: no progress to show.
  const ran = run.jobState === 'queued' || run.jobState === 'running' || run.jobState === 'succeeded' || run.jobState === 'failed';
  const active = run.phase === 'following' && (run.jobState === 'queued' || run.jobState === 'running' || run.jobState === 'awaiting_approval');
  const titleOf = (stageId: string) => {
    const node = doc.nodes.find((n) => n.id === stageId);
    const title = node?.params['title'];
    return typeof title === 'string' && title ? title : stageId;
  };

  return (
    <div className="lab-run" data-testid="run-panel" data-job-id={run.jobId ?? ''} data-job-state={run.jobState ?? ''} data-review-state={run.reviewState ?? ''}>
      {run.refused && (
        <Alert type="error" showIcon message={t('run.refused')} description={<ErrorList errors={run.refused} onShowNode={onShowNode} />} />
      )}
      {run.jobId && (
        <>
          <Space className="lab-run-head" wrap>
            <Typography.Text strong>{t('run.job')}</Typography.Text>
            <Typography.Text code copyable>{run.jobId}</Typography.Text>
            <Tag color={STATE_COLOR[jobState] ?? 'processing'} data-testid="job-state">
              {t(`jobState.${jobState}`)}
            </Tag>
            {run.reviewState && <Tag color={run.reviewState === 'released' ? 'success' : run.reviewState === 'pending' ? 'processing' : 'error'} data-testid="review-state">{t(`reviewState.${run.reviewState}`)}</Tag>}
            {run.epsilon && <Tag color="purple">{t('run.epsilon', { epsilon: formatDecimal(run.epsilon) })}</Tag>}
            {active && <Button size="small" danger icon={<StopOutlined />} onClick={onCancel}>{t('run.cancel')}</Button>}
          </Space>
          <Lifecycle run={run} />
          <Outcome run={run} />
          {ran && <Progress percent={percent} status={run.jobState === 'failed' ? 'exception' : run.jobState === 'succeeded' ? 'success' : 'active'} aria-label={t('run.progress')} />}
          <List
            size="small"
            className="lab-stages"
            dataSource={[...run.stages]}
            renderItem={(s) => {
              const err = run.stageErrors[s.id];
              return (
                <List.Item data-testid={`stage-${s.id}`} data-state={s.state}>
                  <Space wrap>
                    {STATE_ICON[s.state] ?? <ClockCircleOutlined />}
                    <Typography.Text>{t('run.stage', { title: titleOf(s.id) })}</Typography.Text>
                    <Tag color="geekblue">{t(`domain.${s.domain}`, { defaultValue: s.domain })}</Tag>
                    <Typography.Text type="secondary">{run.jobState === 'awaiting_approval' && s.state === 'queued' ? t('run.stageWaits') : t(`jobState.${s.state}`, { defaultValue: s.state })}</Typography.Text>
                    {err && <Typography.Text type="danger">{err.code} {pick(err)}{err.nodeId ? ` (${err.nodeId})` : ''}</Typography.Text>}
                  </Space>
                </List.Item>
              );
            }}
          />
        </>
      )}
      {run.resultError && <Alert type="error" showIcon message={`${run.resultError.code} ${run.resultError.message}`} />}
      {run.result?.tables.map((tb) => (
        <ResultView key={tb.stageId} exportJobId={run.jobId} table={tb.table} title={titleOf(tb.stageId)} geography={geography.data?.units} catalog={catalog.data?.datasets ?? []} />
      ))}
    </div>
  );
}

/**
 * Where the job stands for its requester when officers take part: submitted → approved by x of y
 * officers → run → (researchers) output reviewed → released. Shown only when the policy asked for
 * approval or the output is reviewed.
 */
function Lifecycle({ run }: { run: RunState }) {
  const { t } = useTranslation();
  const needsApproval = run.approvalsRequired > 0;
  const reviewed = run.reviewState !== undefined && run.reviewState !== null;
  if (!needsApproval && !reviewed && !run.epsilon) return null;
  const approved = run.approvals.filter((a) => a.decision === 'approve').length;
  const s = run.jobState;
  const ran = s === 'queued' || s === 'running' || s === 'succeeded' || s === 'failed';
  type Step = { title: string; description?: string; status: 'wait' | 'process' | 'finish' | 'error' };
  const steps: Step[] = [{ title: t('lifecycle.submitted'), status: 'finish' }];
  if (needsApproval) {
    steps.push({
      title: t('lifecycle.approval'),
      description: t('lifecycle.approvals', { n: Math.min(approved, run.approvalsRequired), required: run.approvalsRequired }),
      status: s === 'rejected' ? 'error' : s === 'awaiting_approval' ? 'process' : ran ? 'finish' : 'wait',
    });
  }
  steps.push({ title: t('lifecycle.run'), status: s === 'failed' ? 'error' : s === 'succeeded' ? 'finish' : s === 'queued' || s === 'running' ? 'process' : 'wait' });
  if (run.epsilon || reviewed) {
    const r = run.reviewState;
    steps.push({ title: t('lifecycle.review'), status: r === 'pending' ? 'process' : r === 'released' ? 'finish' : r === 'returned' || r === 'rejected' ? 'error' : 'wait' });
    steps.push({ title: t('lifecycle.released'), status: r === 'released' ? 'finish' : 'wait' });
  }
  return <Steps size="small" className="lab-lifecycle" items={steps} data-testid="run-lifecycle" />;
}

/** What the requester must know now: waiting for officers, refused (with the officer's reason), under review, returned, failed and what to do. */
function Outcome({ run }: { run: RunState }) {
  const { t } = useTranslation();
  const { pick } = useLang();
  const approved = run.approvals.filter((a) => a.decision === 'approve').length;
  const err: StageError | undefined = run.jobError;
  const errText = (e: StageError) => `${e.code} · ${pick(e)}`;
  switch (run.jobState) {
    case 'awaiting_approval':
      return (
        <Alert
          type="warning" showIcon icon={<AuditOutlined />} data-testid="run-outcome" data-outcome="awaiting-approval"
          message={t('run.awaitingApproval', { n: approved, required: run.approvalsRequired })}
          description={t('run.awaitingApprovalHelp')}
        />
      );
    case 'rejected': {
      const rejection = run.approvals.find((a) => a.decision === 'reject');
      const reason = err?.reason ?? rejection?.reason;
      return (
        <Alert
          type="error" showIcon data-testid="run-outcome" data-outcome="rejected"
          message={rejection ? t('run.rejectedBy', { officer: rejection.officer }) : t('run.rejected')}
          description={
            <Space direction="vertical" size={2}>
              {reason !== undefined ? <span>{t('run.reason')}<span data-testid="run-reason">{reason}</span></span> : err && <span>{errText(err)}</span>}
              <Typography.Text type="secondary">{err?.code === 'LAB-E132' ? t('runHelp.LAB-E132') : t('run.rejectedHelp')}</Typography.Text>
            </Space>
          }
        />
      );
    }
    case 'failed': {
      const code = err?.code;
      return (
        <Alert
          type="error" showIcon data-testid="run-outcome" data-outcome="failed" data-code={code ?? ''}
          message={err ? errText(err) : t('run.failed')}
          description={code && HELP_CODES.has(code) ? t(`runHelp.${code}`) : t('run.failedHelp')}
        />
      );
    }
    case 'succeeded':
      if (run.reviewState === 'pending') {
        return <Alert type="info" showIcon icon={<FileSearchOutlined />} data-testid="run-outcome" data-outcome="review-pending" message={t('run.reviewPending')} description={t('run.reviewPendingHelp')} />;
      }
      if (run.reviewState === 'released') return <Alert type="success" showIcon data-testid="run-outcome" data-outcome="released" message={t('run.released')} />;
      if (run.reviewState === 'returned') return <Alert type="warning" showIcon data-testid="run-outcome" data-outcome="returned" message={t('run.returned')} description={t('run.returnedHelp')} />;
      if (run.reviewState === 'rejected') return <Alert type="error" showIcon data-testid="run-outcome" data-outcome="review-rejected" message={t('run.reviewRejected')} description={t('run.reviewRejectedHelp')} />;
      return null;
    case 'cancelled': case 'queued': case 'running': case undefined:
      return null;
  }
}

/** Server errors, each with a link to the node it names. */
export function ErrorList({ errors, onShowNode }: { errors: readonly ErrorBody[]; onShowNode: (id: string) => void }) {
  const { t } = useTranslation();
  return (
    <List
      size="small"
      dataSource={[...errors]}
      renderItem={(e) => (
        <List.Item data-testid="problem" data-code={e.code} data-node={e.nodeId ?? ''} data-field={e.field ?? ''}>
          <Space wrap>
            <Tag color="red">{e.code}</Tag>
            {e.nodeId && <Button size="small" type="link" onClick={() => { onShowNode(e.nodeId ?? ''); }}>{t('problems.node', { id: e.nodeId })}</Button>}
            {e.field && <Typography.Text code>{e.field}</Typography.Text>}
            <Typography.Text>{e.message}</Typography.Text>
            {e.hint && <Typography.Text type="secondary">{e.hint}</Typography.Text>}
          </Space>
        </List.Item>
      )}
    />
  );
}
