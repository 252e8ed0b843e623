import { CopyOutlined, DeleteOutlined, EditOutlined, EyeOutlined, FormOutlined, ReloadOutlined } from '@ant-design/icons';
import { Alert, App, Button, Input, Modal, Popconfirm, Space, Table, Tabs, Tag, Tooltip, Typography } from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { useState, type HTMLAttributes } from 'react';
import { useTranslation } from 'react-i18next';
import { get, post, request } from '../api/client.ts';
import type { JobListItem, PipelineListItem, SavedPipeline } from '../api/types.ts';
import { useFetch } from '../api/useFetch.ts';
import { useAuth } from '../app/auth.tsx';
import { errorText } from '../app/errors.ts';
import { formatTime, shortId } from '../app/format.ts';
import { navigate, usePath } from '../app/router.ts';
import { LevelTag } from '../catalog/LevelTag.tsx';
import { useLang } from '../i18n/index.ts';
import { JobDetailDrawer } from '../jobs/JobDetailDrawer.tsx';
import { jobIdOfPath, jobStateColor, keepsPipelines } from '../jobs/job-list.ts';
import { levelOf } from '../officer/inbox.ts';

/**
 * Pipelines and jobs: your saved pipelines (GET /api/pipelines: open in the editor, duplicate, rename, delete) and
 * the jobs you may read (GET /api/jobs: yours; officers everyone's). `/jobs/{id}` opens a job.
 */
export default function JobsPage() {
  const { t } = useTranslation();
  const { user } = useAuth();
  const path = usePath();
  const jobId = jobIdOfPath(path);
  const withPipelines = user ? keepsPipelines(user.role) : false;
  const [tab, setTab] = useState<string>('jobs');
  return (
    <div className="lab-page" data-testid="jobs-page">
      <div className="lab-page-head">
        <Typography.Title level={4}>{t('jobs.title')}</Typography.Title>
        <Typography.Text type="secondary">{user?.role === 'officer' ? t('jobs.introOfficer') : t('jobs.intro')}</Typography.Text>
      </div>
      <Tabs
        activeKey={tab} onChange={setTab}
        items={[
          { key: 'jobs', label: <span data-testid="tab-jobs">{t('jobs.jobsTab')}</span>, children: <JobList officer={user?.role === 'officer'} /> },
          ...(withPipelines ? [{ key: 'pipelines', label: <span data-testid="tab-pipelines">{t('jobs.pipelinesTab')}</span>, children: <PipelineList /> }] : []),
        ]}
      />
      <JobDetailDrawer jobId={jobId} onClose={() => { navigate('/jobs'); }} />
    </div>
  );
}

function JobList({ officer }: { officer: boolean }) {
  const { t } = useTranslation();
  const { lang } = useLang();
  const jobs = useFetch<{ jobs: JobListItem[] }>('/api/jobs');
  const columns: ColumnsType<JobListItem> = [
    {
      title: t('jobs.pipeline'), key: 'pipeline',
      render: (_: unknown, j) => <Space size={4} direction="vertical"><Typography.Text strong>{j.pipelineName ?? shortId(j.pipelineId)}</Typography.Text><Typography.Text type="secondary" code>{shortId(j.id)}</Typography.Text></Space>,
    },
    ...(officer ? [{ title: t('jobs.owner'), key: 'owner', render: (_: unknown, j: JobListItem) => <Space size={4}>{j.owner}{j.requesterRole && <Tag>{t(`role.${j.requesterRole}`)}</Tag>}</Space> }] : []),
    {
      title: t('jobs.state'), key: 'state',
      render: (_: unknown, j) => (
        <Space size={4} wrap>
          <Tag color={jobStateColor(j.state)} data-testid="job-state" data-state={j.state}>{t(`jobState.${j.state}`)}</Tag>
          {j.reviewState && <Tag>{t(`reviewState.${j.reviewState}`)}</Tag>}
        </Space>
      ),
    },
    { title: t('jobs.level'), key: 'level', render: (_: unknown, j) => (j.maxLevel !== null ? <LevelTag level={levelOf(j.maxLevel)} /> : '—') },
    { title: t('jobs.domains'), key: 'domains', render: (_: unknown, j) => <Space size={[4, 4]} wrap>{j.domains.map((d) => <Tag key={d} color="cyan">{t(`domain.${d}`, { defaultValue: d })}</Tag>)}</Space> },
    { title: t('jobs.submitted'), key: 'created', render: (_: unknown, j) => formatTime(j.createdAt, lang) },
    { title: t('jobs.finished'), key: 'finished', render: (_: unknown, j) => formatTime(j.finishedAt, lang) || '—' },
    {
      title: t('jobs.actions'), key: 'actions',
      render: (_: unknown, j) => <Button size="small" icon={<EyeOutlined />} onClick={() => { navigate(`/jobs/${j.id}`); }} data-testid="open-job">{t('jobs.open')}</Button>,
    },
  ];
  return (
    <div>
      <div className="lab-list-toolbar">
        <Button icon={<ReloadOutlined />} onClick={jobs.reload} loading={jobs.loading}>{t('common.refresh')}</Button>
      </div>
      {jobs.error !== undefined && <Alert type="error" showIcon message={errorText(jobs.error, t)} />}
      <Table<JobListItem>
        size="small" rowKey="id" columns={columns} dataSource={jobs.data?.jobs ?? []} loading={jobs.loading && !jobs.data}
        data-testid="job-list" onRow={(j) => ({ 'data-job': j.id } as HTMLAttributes<HTMLElement>)}
        locale={{ emptyText: t('jobs.noJobs') }} pagination={{ defaultPageSize: 20, showTotal: (n) => t('jobs.count', { count: n }) }}
      />
    </div>
  );
}

function PipelineList() {
  const { t } = useTranslation();
  const { lang } = useLang();
  const { message } = App.useApp();
  const pipelines = useFetch<{ pipelines: PipelineListItem[] }>('/api/pipelines');
  const [busy, setBusy] = useState<string | undefined>();
  const duplicate = async (p: PipelineListItem) => {
    setBusy(p.id);
    try {
      const saved = await get<SavedPipeline>(`/api/pipelines/${encodeURIComponent(p.id)}`);
      const name = t('jobs.copyName', { name: saved.name }).slice(0, 200);
      await post<{ id: string }>('/api/pipelines', { ...saved.spec, name });
      void message.success(t('jobs.duplicated', { name }));
      pipelines.reload();
    } catch (e) {
      void message.error(errorText(e, t));
    } finally {
      setBusy(undefined);
    }
  };
  const [renaming, setRenaming] = useState<{ item: PipelineListItem; name: string } | undefined>();
  const rename = async () => {
    if (!renaming) return;
    const name = renaming.name.trim();
    if (!name || name.length > 200) { void message.error(t('jobs.nameRequired')); return; }
    setBusy(renaming.item.id);
    try {
      const r = await request<PipelineListItem>('PATCH', `/api/pipelines/${encodeURIComponent(renaming.item.id)}`, { name });
      void message.success(t('jobs.renamed', { name: r.name }));
      setRenaming(undefined);
      pipelines.reload();
    } catch (e) {
      void message.error(errorText(e, t));
    } finally {
      setBusy(undefined);
    }
  };
  const remove = async (p: PipelineListItem) => {
    setBusy(p.id);
    try {
      const r = await request<{ kept: boolean }>('DELETE', `/api/pipelines/${encodeURIComponent(p.id)}`);
      void message.success(t(r.kept ? 'jobs.deletedKept' : 'jobs.deleted', { name: p.name }));
      pipelines.reload();
    } catch (e) {
      void message.error(errorText(e, t));
    } finally {
      setBusy(undefined);
    }
  };
  const columns: ColumnsType<PipelineListItem> = [
    { title: t('jobs.name'), key: 'name', render: (_: unknown, p) => <Typography.Link onClick={() => { navigate(`/editor/${p.id}`); }}>{p.name}</Typography.Link> },
    { title: t('jobs.updated'), key: 'updated', render: (_: unknown, p) => formatTime(p.updatedAt, lang) },
    { title: t('jobs.runs'), key: 'runs', align: 'right', render: (_: unknown, p) => p.jobs },
    { title: t('jobs.lastRun'), key: 'lastRun', render: (_: unknown, p) => formatTime(p.lastRunAt, lang) || '—' },
    {
      title: t('jobs.actions'), key: 'actions',
      render: (_: unknown, p) => (
        <Space size={4}>
          <Button size="small" icon={<EditOutlined />} onClick={() => { navigate(`/editor/${p.id}`); }} data-testid="open-pipeline">{t('jobs.openInEditor')}</Button>
          <Tooltip title={t('jobs.duplicateHelp')}>
            <Button size="small" icon={<CopyOutlined />} loading={busy === p.id} onClick={() => { void duplicate(p); }} data-testid="duplicate-pipeline">{t('jobs.duplicate')}</Button>
          </Tooltip>
          <Button size="small" icon={<FormOutlined />} disabled={busy === p.id} onClick={() => { setRenaming({ item: p, name: p.name }); }} data-testid="rename-pipeline">{t('jobs.rename')}</Button>
          <Popconfirm
            title={t('jobs.deleteConfirm', { name: p.name })} description={<div style={{ maxWidth: 320 }}>{t('jobs.deleteHelp')}</div>}
            okText={t('jobs.delete')} okButtonProps={{ danger: true, ...{ 'data-testid': 'confirm-delete-pipeline' } }} onConfirm={() => remove(p)}
          >
            <Button size="small" danger icon={<DeleteOutlined />} disabled={busy === p.id} data-testid="delete-pipeline">{t('jobs.delete')}</Button>
          </Popconfirm>
        </Space>
      ),
    },
  ];
  return (
    <div>
      <div className="lab-list-toolbar">
        <Button icon={<ReloadOutlined />} onClick={pipelines.reload} loading={pipelines.loading}>{t('common.refresh')}</Button>
        <Typography.Text type="secondary">{t('jobs.pipelinesHelp')}</Typography.Text>
      </div>
      {pipelines.error !== undefined && <Alert type="error" showIcon message={errorText(pipelines.error, t)} />}
      <Table<PipelineListItem>
        size="small" rowKey="id" columns={columns} dataSource={pipelines.data?.pipelines ?? []} loading={pipelines.loading && !pipelines.data}
        data-testid="pipeline-list" onRow={(p) => ({ 'data-pipeline': p.id } as HTMLAttributes<HTMLElement>)}
        locale={{ emptyText: t('jobs.noPipelines') }} pagination={{ defaultPageSize: 20, showTotal: (n) => t('jobs.count', { count: n }) }}
      />
      <Modal
        open={renaming !== undefined} title={t('jobs.renameTitle')} okText={t('jobs.rename')} confirmLoading={renaming !== undefined && busy === renaming.item.id}
        onOk={() => { void rename(); }} onCancel={() => { setRenaming(undefined); }} destroyOnHidden
        okButtonProps={{ ...{ 'data-testid': 'confirm-rename-pipeline' } }}
      >
        <Input
          aria-label={t('jobs.newName')} placeholder={t('jobs.newName')} maxLength={200} value={renaming?.name ?? ''} autoFocus data-testid="rename-input"
          onChange={(e) => { setRenaming((r) => (r ? { ...r, name: e.target.value } : r)); }} onPressEnter={() => { void rename(); }}
        />
      </Modal>
    </div>
  );
}
