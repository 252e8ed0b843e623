import { CheckCircleOutlined, EyeOutlined, FileTextOutlined, HistoryOutlined, ReloadOutlined, SaveOutlined, WarningOutlined } from '@ant-design/icons';
import { Alert, App, Badge, Button, Card, Drawer, Input, List, Space, Spin, Tag, Tooltip, Typography } from 'antd';
import { lazy, Suspense, useCallback, useEffect, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError, get, post } from '../api/client.ts';
import type { PolicyCheckOk, PolicyProblem, PolicyVersion, PolicyVersionInfo } from '../api/types.ts';
import { useFetch } from '../api/useFetch.ts';
import { errorText } from '../app/errors.ts';
import { formatTime } from '../app/format.ts';
import { useLang } from '../i18n/index.ts';
import { paramProblemPath } from '../policy/markers.ts';
import { changedPaths, isTree, type ParamTree } from '../policy/params.ts';
import { ParamsForm } from '../policy/ParamsForm.tsx';

// Monaco (shared with the expression editor's chunk) loads with this page.
const CedarEditor = lazy(() => import('../policy/CedarEditor.tsx'));

type Check = { state: 'unchecked' } | { state: 'checking' } | { state: 'valid'; policyIds: readonly string[] } | { state: 'invalid' };

interface Conflict { readonly message: string }

function problemsOf(e: unknown): PolicyProblem[] | undefined {
  if (!(e instanceof ApiError) || e.status !== 422) return undefined;
  const raw = (e.body as { problems?: unknown }).problems;
  return Array.isArray(raw) ? (raw as PolicyProblem[]) : undefined;
}

function EditorFallback({ value }: { value: string }) {
  return <Input.TextArea value={value} readOnly className="lab-cedar-loading" rows={20} />;
}

/**
 * Policy editing (officers): the Cedar text in force in Monaco, the disclosure parameters as a
 * form, "check" (POST /api/policies/check: the server runs Cedar and the parameter checks; each
 * problem becomes a marker on its line and column, or an error on its field), "save" as a new
 * version based on the one loaded (409 LAB-E131 when another officer saved first), and the list of
 * versions.
 */
export default function PolicyPage() {
  const { t } = useTranslation();
  const { lang } = useLang();
  const { message, modal } = App.useApp();
  const versions = useFetch<{ versions: PolicyVersionInfo[] }>('/api/policies');
  const [current, setCurrent] = useState<PolicyVersion | undefined>();
  const [loadError, setLoadError] = useState<unknown>();
  const [cedar, setCedar] = useState('');
  const [params, setParams] = useState<ParamTree>({});
  const [base, setBase] = useState<number | undefined>();
  const [problems, setProblems] = useState<readonly PolicyProblem[]>([]);
  const [check, setCheck] = useState<Check>({ state: 'unchecked' });
  const [reveal, setReveal] = useState<{ line: number; column: number } | undefined>();
  const [conflict, setConflict] = useState<Conflict | undefined>();
  const [saving, setSaving] = useState(false);
  const [comment, setComment] = useState('');
  const [viewing, setViewing] = useState<number | undefined>();
  const [schemaOpen, setSchemaOpen] = useState(false);

  const load = useCallback(async () => {
    setLoadError(undefined);
    try {
      const p = await get<PolicyVersion>('/api/policies/current');
      setCurrent(p);
      setCedar(p.cedar);
      setParams(isTree(p.params) ? p.params : {});
      setBase(p.version);
      setProblems([]);
      setCheck({ state: 'unchecked' });
      setConflict(undefined);
    } catch (e) {
      setLoadError(e);
    }
  }, []);
  useEffect(() => { void load(); }, [load]);

  const textChanged = current !== undefined && cedar !== current.cedar;
  const changed = useMemo(() => new Set(current ? changedPaths(current.params, params) : []), [current, params]);
  const dirty = textChanged || changed.size > 0;

  const paramErrors = useMemo(() => {
    const m = new Map<string, string>();
    for (const p of problems) {
      const at = p.line === null ? paramProblemPath(p.message) : undefined;
      if (at) m.set(at.path.join('.'), at.text);
    }
    return m;
  }, [problems]);

  const onCedar = useCallback((v: string) => { setCedar(v); setCheck({ state: 'unchecked' }); }, []);
  const onParams = useCallback((v: ParamTree) => { setParams(v); setCheck({ state: 'unchecked' }); }, []);

  const runCheck = async () => {
    setCheck({ state: 'checking' });
    try {
      const r = await post<PolicyCheckOk>('/api/policies/check', { cedar, params });
      setProblems([]);
      setCheck({ state: 'valid', policyIds: r.policyIds });
    } catch (e) {
      const found = problemsOf(e);
      if (found) {
        setProblems(found);
        setCheck({ state: 'invalid' });
        const first = found.find((p) => p.line !== null);
        if (first?.line) setReveal({ line: first.line, column: first.column ?? 1 });
      } else {
        setCheck({ state: 'unchecked' });
        void message.error(errorText(e, t));
      }
    }
  };

  const save = async () => {
    if (base === undefined) return;
    setSaving(true);
    try {
      const r = await post<{ version: number; hash: string; cedar: string }>('/api/policies', { cedar, params, baseVersion: base, comment });
      void message.success(t('policy.saved', { version: r.version }));
      setComment('');
      await load();
      versions.reload();
    } catch (e) {
      const found = problemsOf(e);
      if (found) {
        setProblems(found);
        setCheck({ state: 'invalid' });
        const first = found.find((p) => p.line !== null);
        if (first?.line) setReveal({ line: first.line, column: first.column ?? 1 });
        void message.error(t('policy.notSavedInvalid'));
      } else if (e instanceof ApiError && e.status === 409) {
        setConflict({ message: errorText(e, t) });
        versions.reload();
      } else {
        void message.error(errorText(e, t));
      }
    } finally {
      setSaving(false);
    }
  };

  // Another officer saved first: keep these edits and base them on the newest version (the officer saves again knowingly).
  const rebase = async () => {
    try {
      const p = await get<PolicyVersion>('/api/policies/current');
      setCurrent(p);
      setBase(p.version);
      setConflict(undefined);
      void message.info(t('policy.rebased', { version: p.version }));
    } catch (e) {
      void message.error(errorText(e, t));
    }
  };

  const discard = () => {
    if (!dirty) { void load(); return; }
    void modal.confirm({ title: t('policy.discardTitle'), content: t('policy.discardHelp'), okText: t('policy.discard'), cancelText: t('common.cancel'), okButtonProps: { danger: true }, onOk: () => load() });
  };

  if (loadError !== undefined) return <Alert type="error" showIcon message={t('policy.loadFailed')} description={errorText(loadError, t)} action={<Button onClick={() => { void load(); }}>{t('common.retry')}</Button>} />;
  if (!current) return <div className="lab-center"><Spin /></div>;

  const cedarProblems = problems.filter((p) => p.line !== null);
  const otherProblems = problems.filter((p) => p.line === null && !paramProblemPath(p.message));
  const paramProblemCount = problems.length - cedarProblems.length - otherProblems.length;

  return (
    <div className="lab-page lab-policy" data-testid="policy-page" data-base-version={base}>
      <div className="lab-page-head">
        <Typography.Title level={4}>{t('policy.title')}</Typography.Title>
        <Tag color="blue" data-testid="policy-version">{t('policy.inForce', { version: current.version })}</Tag>
        <Typography.Text type="secondary">{t('policy.savedAt', { at: formatTime(current.createdAt, lang) })}{current.comment ? ` · ${current.comment}` : ''}</Typography.Text>
        {dirty && <Badge status="warning" text={t('policy.unsaved')} data-testid="policy-dirty" />}
        <span className="lab-toolbar-spacer" />
        <Button icon={<ReloadOutlined />} onClick={discard}>{t('policy.reload')}</Button>
        <Button icon={<CheckCircleOutlined />} onClick={() => { void runCheck(); }} loading={check.state === 'checking'} data-testid="policy-check">{t('policy.check')}</Button>
      </div>

      {conflict && (
        <Alert
          type="warning" showIcon data-testid="policy-conflict" message={t('policy.conflict', { version: base })}
          description={<Space direction="vertical" size={4}><span>{t('policy.conflictHelp')}</span><Typography.Text type="secondary">{conflict.message}</Typography.Text></Space>}
          action={
            <Space direction="vertical">
              <Button size="small" onClick={() => { void rebase(); }}>{t('policy.rebase')}</Button>
              <Button size="small" danger onClick={() => { void load(); }}>{t('policy.takeTheirs')}</Button>
            </Space>
          }
        />
      )}

      <div className="lab-policy-main">
        <Card
          size="small" className="lab-policy-cedar"
          title={<Space><FileTextOutlined /><span>{t('policy.cedar')}</span>{textChanged && <Tag color="gold">{t('policy.changed')}</Tag>}</Space>}
          extra={<Button size="small" type="link" onClick={() => { setSchemaOpen(true); }}>{t('policy.schema')}</Button>}
        >
          <div className="lab-cedar">
            <Suspense fallback={<EditorFallback value={cedar} />}>
              <CedarEditor value={cedar} onChange={onCedar} problems={cedarProblems} ariaLabel={t('policy.cedar')} {...(reveal ? { reveal } : {})} />
            </Suspense>
          </div>
          <div className="lab-policy-status" data-testid="policy-check-status" data-state={check.state}>
            {check.state === 'valid' && <Alert type="success" showIcon message={t('policy.valid', { count: check.policyIds.length })} />}
            {check.state === 'invalid' && <Alert type="error" showIcon icon={<WarningOutlined />} message={t('policy.invalid', { count: problems.length })} />}
            {check.state === 'unchecked' && dirty && <Typography.Text type="secondary">{t('policy.uncheckedHelp')}</Typography.Text>}
          </div>
          {(cedarProblems.length > 0 || otherProblems.length > 0) && (
            <List
              size="small" className="lab-policy-problems" dataSource={[...cedarProblems, ...otherProblems]}
              renderItem={(p) => (
                <List.Item data-testid="policy-problem" data-line={p.line ?? ''} data-column={p.column ?? ''}>
                  <Space direction="vertical" size={0}>
                    <Space wrap size={4}>
                      {p.line !== null
                        ? <Button size="small" type="link" className="lab-link" onClick={() => { setReveal({ line: p.line ?? 1, column: p.column ?? 1 }); }}>{t('policy.at', { line: p.line, column: p.column ?? 1 })}</Button>
                        : <Tag>{t('policy.general')}</Tag>}
                      {p.policyId && <Tag color="geekblue" className="lab-policy-id">{p.policyId}</Tag>}
                      <Typography.Text>{p.message}</Typography.Text>
                    </Space>
                    {p.help && <Typography.Text type="secondary">{p.help}</Typography.Text>}
                  </Space>
                </List.Item>
              )}
            />
          )}
          {paramProblemCount > 0 && <Typography.Text type="danger">{t('policy.paramProblems', { count: paramProblemCount })}</Typography.Text>}
        </Card>

        <div className="lab-policy-side">
          <Card size="small" title={<Space><span>{t('policy.params')}</span>{changed.size > 0 && <Tag color="gold">{t('policy.changedCount', { count: changed.size })}</Tag>}</Space>}>
            <ParamsForm value={params} onChange={onParams} errors={paramErrors} changed={changed} />
          </Card>
          <Card size="small" title={t('policy.saveTitle')}>
            <Space direction="vertical" className="lab-full">
              <Input.TextArea value={comment} onChange={(e) => { setComment(e.target.value); }} maxLength={2000} rows={2} placeholder={t('policy.commentPlaceholder')} aria-label={t('policy.comment')} />
              <Tooltip title={dirty ? '' : t('policy.nothingToSave')}>
                <Button type="primary" icon={<SaveOutlined />} onClick={() => { void save(); }} loading={saving} disabled={!dirty} block data-testid="policy-save">
                  {t('policy.save', { version: base })}
                </Button>
              </Tooltip>
              <Typography.Text type="secondary" className="lab-small">{t('policy.saveHelp')}</Typography.Text>
            </Space>
          </Card>
          <Card size="small" title={<Space><HistoryOutlined /><span>{t('policy.versions')}</span></Space>}>
            {versions.error !== undefined && <Alert type="error" showIcon message={errorText(versions.error, t)} />}
            <List
              size="small" dataSource={[...(versions.data?.versions ?? [])]} loading={versions.loading && !versions.data} data-testid="policy-versions"
              renderItem={(v) => (
                <List.Item
                  data-version={v.version}
                  actions={[<Button key="view" size="small" type="link" icon={<EyeOutlined />} onClick={() => { setViewing(v.version); }}>{t('policy.view')}</Button>]}
                >
                  <List.Item.Meta
                    title={<Space size={4}><span>v{v.version}</span>{v.version === current.version && <Tag color="blue">{t('policy.inForceShort')}</Tag>}</Space>}
                    description={<span className="lab-small">{formatTime(v.createdAt, lang)}{v.comment ? ` · ${v.comment}` : ''}</span>}
                  />
                </List.Item>
              )}
            />
          </Card>
        </div>
      </div>

      <VersionDrawer version={viewing} onClose={() => { setViewing(undefined); }} />
      <Drawer open={schemaOpen} onClose={() => { setSchemaOpen(false); }} width={720} title={t('policy.schemaTitle')}>
        <Typography.Paragraph type="secondary">{t('policy.schemaHelp')}</Typography.Paragraph>
        <pre className="lab-json lab-schema">{current.schema}</pre>
      </Drawer>
    </div>
  );
}

/** One stored version, read-only. */
function VersionDrawer({ version, onClose }: { version: number | undefined; onClose: () => void }) {
  const { t } = useTranslation();
  const { lang } = useLang();
  const v = useFetch<PolicyVersion>(version !== undefined ? `/api/policies/${version}` : undefined);
  return (
    <Drawer open={version !== undefined} onClose={onClose} width={760} title={t('policy.versionTitle', { version })} destroyOnHidden>
      {v.error !== undefined && <Alert type="error" showIcon message={errorText(v.error, t)} />}
      {!v.data && v.error === undefined && <Spin />}
      {v.data && (
        <Space direction="vertical" className="lab-full">
          <Typography.Text type="secondary">{formatTime(v.data.createdAt, lang)}{v.data.comment ? ` · ${v.data.comment}` : ''} · {v.data.hash.slice(0, 16)}</Typography.Text>
          <div className="lab-cedar lab-cedar-readonly">
            <Suspense fallback={<EditorFallback value={v.data.cedar} />}>
              <CedarEditor value={v.data.cedar} readOnly ariaLabel={t('policy.versionTitle', { version })} />
            </Suspense>
          </div>
          <pre className="lab-json">{JSON.stringify(v.data.params, null, 2)}</pre>
        </Space>
      )}
    </Drawer>
  );
}
