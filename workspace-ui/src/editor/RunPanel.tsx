import { CheckCircleFilled, ClockCircleOutlined, CloseCircleFilled, LoadingOutlined, StopOutlined } from '@ant-design/icons';
import { Alert, Button, Empty, List, Progress, Space, Tag, Typography } from 'antd';
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { useCatalog, useGeography } from '../api/resources.ts';
import type { ErrorBody } from '../api/types.ts';
import { useLang } from '../i18n/index.ts';
import { ResultTable } from '../results/ResultTable.tsx';
import type { EditorDoc } from './model.ts';
import type { RunState } from './useRun.ts';

const STATE_ICON: Readonly<Record<string, ReactNode>> = {
  queued: <ClockCircleOutlined />,
  running: <LoadingOutlined />,
  succeeded: <CheckCircleFilled className="lab-ok" />,
  failed: <CloseCircleFilled className="lab-bad" />,
  cancelled: <StopOutlined />,
};

/** The run: progress per stage and domain (from the job's server-sent events), then what failed or the released tables. */
export function RunPanel({ run, doc, onCancel, onShowNode }: { run: RunState; doc: EditorDoc; onCancel: () => void; onShowNode: (id: string) => void }) {
  const { t } = useTranslation();
  const { pick } = useLang();
  const catalog = useCatalog();
  const geography = useGeography(run.result !== undefined);

  if (run.phase === 'idle') return <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('run.none')} />;

  const finished = run.stages.filter((s) => s.state !== 'queued' && s.state !== 'running').length;
  const percent = run.stages.length ? Math.round((finished / run.stages.length) * 100) : 0;
  const jobState = run.jobState ?? (run.phase === 'saving' ? 'saving' : 'starting');
  const active = run.phase === 'following' && (run.jobState === 'queued' || run.jobState === 'running');
  const titleOf = (stageId: string) => {
    const node = doc.nodes.find((n) => n.id === stageId);
    const title = node?.params['title'];
    return typeof title === 'string' && title ? title : stageId;
  };

  return (
    <div className="lab-run" data-testid="run-panel" data-job-state={run.jobState ?? ''}>
      {run.refused && (
        <Alert type="error" showIcon message={t('run.refused')} description={<ErrorList errors={run.refused} onShowNode={onShowNode} />} />
      )}
      {run.jobId && (
        <>
          <Space className="lab-run-head" wrap>
            <Typography.Text strong>{t('run.job')}</Typography.Text>
            <Typography.Text code copyable>{run.jobId}</Typography.Text>
            <Tag color={run.jobState === 'succeeded' ? 'success' : run.jobState === 'failed' ? 'error' : run.jobState === 'cancelled' ? 'default' : 'processing'} data-testid="job-state">
              {t(`jobState.${jobState}`)}
            </Tag>
            {active && <Button size="small" danger icon={<StopOutlined />} onClick={onCancel}>{t('run.cancel')}</Button>}
          </Space>
          <Progress percent={percent} status={run.jobState === 'failed' ? 'exception' : run.jobState === 'succeeded' ? 'success' : 'active'} aria-label={t('run.progress')} />
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
                    <Typography.Text type="secondary">{t(`jobState.${s.state}`, { defaultValue: s.state })}</Typography.Text>
                    {err && <Typography.Text type="danger">{err.code} {pick(err)}{err.nodeId ? ` (${err.nodeId})` : ''}</Typography.Text>}
                  </Space>
                </List.Item>
              );
            }}
          />
        </>
      )}
      {run.jobState === 'failed' && <Alert type="warning" showIcon message={t('run.failedHelp')} />}
      {run.resultError && <Alert type="error" showIcon message={`${run.resultError.code} ${run.resultError.message}`} />}
      {run.result?.tables.map((tb) => (
        <ResultTable key={tb.stageId} table={tb.table} title={titleOf(tb.stageId)} geography={geography.data?.units} catalog={catalog.data?.datasets ?? []} />
      ))}
    </div>
  );
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
