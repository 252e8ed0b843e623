import { ReloadOutlined, SafetyCertificateOutlined } from '@ant-design/icons';
import { Alert, Button, Card, Space, Table, Tag, Tooltip, Typography } from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { useCallback, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { get } from '../api/client.ts';
import type { AuditEntry, AuditPage as AuditPageBody, AuditVerification } from '../api/types.ts';
import { errorText } from '../app/errors.ts';
import { formatTime, shortId } from '../app/format.ts';
import { pageOfSeq, windowOf } from '../audit/paging.ts';
import { useLang } from '../i18n/index.ts';

const DECISION_COLOR: Readonly<Record<string, string>> = { allow: 'success', 'needs-approval': 'warning', deny: 'error' };

interface Loaded { readonly head: number; readonly page: number; readonly size: number; readonly entries: readonly AuditEntry[] }

/** Entries of page `page` (1 = newest) under the head snapshot `head` (unknown at first: the first read tells it). */
async function fetchPage(head: number | undefined, page: number, size: number): Promise<Loaded> {
  let h = head;
  if (h === undefined) {
    const first = await get<AuditPageBody>(`/api/audit?limit=${size}`);
    h = first.headSeq;
    if (h <= size) return { head: h, page: 1, size, entries: [...first.entries].filter((e) => e.seq <= (h ?? 0)).reverse() };
  }
  const w = windowOf(h, page, size);
  if (!w) return { head: h, page, size, entries: [] };
  const r = await get<AuditPageBody>(`/api/audit?from=${w.from}&limit=${w.limit}`);
  return { head: h, page, size, entries: [...r.entries].reverse() };
}

function detailText(detail: unknown): string {
  if (detail === null || detail === undefined) return '';
  return JSON.stringify(detail);
}

/**
 * The audit trail (officers, admins): every decision and action, newest first, with who did it,
 * on what, the decision and the policy version that made it; "verify chain" recomputes every hash
 * and checks the signed checkpoints on the server (GET /api/audit/verify), naming the first bad
 * entry and why. Reading and verifying are themselves recorded.
 */
export default function AuditPage() {
  const { t } = useTranslation();
  const { lang } = useLang();
  const [loaded, setLoaded] = useState<Loaded | undefined>();
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<unknown>();
  const [verify, setVerify] = useState<AuditVerification | undefined>();
  const [verifying, setVerifying] = useState(false);
  const [verifyError, setVerifyError] = useState<unknown>();
  const [highlight, setHighlight] = useState<number | undefined>();

  const load = useCallback(async (head: number | undefined, page: number, size: number) => {
    setLoading(true);
    setError(undefined);
    try {
      setLoaded(await fetchPage(head, page, size));
    } catch (e) {
      setError(e);
    } finally {
      setLoading(false);
    }
  }, []);

  useEffect(() => { void load(undefined, 1, 50); }, [load]);

  const runVerify = async () => {
    setVerifying(true);
    setVerifyError(undefined);
    try {
      setVerify(await get<AuditVerification>('/api/audit/verify'));
    } catch (e) {
      setVerify(undefined);
      setVerifyError(e);
    } finally {
      setVerifying(false);
    }
  };

  const showSeq = (seq: number) => {
    if (!loaded) return;
    setHighlight(seq);
    void load(loaded.head, pageOfSeq(loaded.head, seq, loaded.size), loaded.size);
  };

  const columns: ColumnsType<AuditEntry> = [
    { title: t('audit.seq'), dataIndex: 'seq', width: 70, align: 'right', render: (v: number) => <span className="lab-num">{v}</span> },
    { title: t('audit.time'), dataIndex: 'at', width: 170, render: (v: string) => <Tooltip title={v}>{formatTime(v, lang)}</Tooltip> },
    {
      title: t('audit.actor'), key: 'actor', width: 190, render: (_, e) => {
        if (e.actor.kind !== 'user') return <Tag>{t(`audit.actorKind.${e.actor.kind}`)}</Tag>;
        return <Space size={4}><span>{e.actor.username ?? `#${e.actor.userId ?? '?'}`}</span>{e.actor.role && <Tag bordered={false}>{t(`role.${e.actor.role}`, { defaultValue: e.actor.role })}</Tag>}</Space>;
      },
    },
    {
      title: t('audit.action'), dataIndex: 'action', width: 210, render: (a: string) => (
        <Space direction="vertical" size={0}>
          <span>{t(`auditAction.${a.replace(/\./g, '_')}`, { defaultValue: a })}</span>
          <Typography.Text type="secondary" code className="lab-small">{a}</Typography.Text>
        </Space>
      ),
    },
    { title: t('audit.resource'), key: 'resource', width: 170, render: (_, e) => <span>{e.resource.type}{e.resource.id && <Tooltip title={e.resource.id}> <Typography.Text code>{shortId(e.resource.id)}</Typography.Text></Tooltip>}</span> },
    { title: t('audit.decision'), dataIndex: 'decision', width: 110, render: (d: AuditEntry['decision']) => (d ? <Tag color={DECISION_COLOR[d]}>{t(`audit.decisions.${d}`)}</Tag> : '—') },
    { title: t('audit.policyVersion'), dataIndex: 'policyVersion', width: 90, render: (v: string | null) => (v ? `v${v}` : '—') },
    { title: t('audit.detail'), dataIndex: 'detail', render: (d: unknown) => <Typography.Text className="lab-audit-detail" ellipsis={{ tooltip: false }}>{detailText(d)}</Typography.Text> },
  ];

  return (
    <div className="lab-page" data-testid="audit-page">
      <div className="lab-page-head">
        <Typography.Title level={4}>{t('audit.title')}</Typography.Title>
        <Typography.Text type="secondary">{t('audit.intro')}</Typography.Text>
        <span className="lab-toolbar-spacer" />
        <Button icon={<ReloadOutlined />} onClick={() => { setHighlight(undefined); void load(undefined, 1, loaded?.size ?? 50); }} loading={loading}>{t('common.refresh')}</Button>
        <Button type="primary" icon={<SafetyCertificateOutlined />} onClick={() => { void runVerify(); }} loading={verifying} data-testid="verify-button">{t('audit.verify')}</Button>
      </div>
      {verifyError !== undefined && <Alert type="error" showIcon message={errorText(verifyError, t)} />}
      {verify && (verify.ok
        ? <Alert type="success" showIcon data-testid="verify-result" data-ok="true"
            message={t('audit.intact')}
            description={t('audit.intactDetail', { entries: verify.entries, checkpoints: verify.checkpoints, seq: verify.head.seq, hash: verify.head.hash.slice(0, 16) })} />
        : <Alert type="error" showIcon data-testid="verify-result" data-ok="false"
            message={verify.firstBad ? t('audit.broken', { seq: verify.firstBad.seq, reason: t(`auditBreak.${verify.firstBad.reason}`, { defaultValue: verify.firstBad.reason }) }) : t('audit.brokenUnknown')}
            description={verify.firstBad && (
              <Space direction="vertical" size={4}>
                <span data-testid="verify-message">{verify.firstBad.message}</span>
                <Button size="small" onClick={() => { if (verify.firstBad) showSeq(verify.firstBad.seq); }}>{t('audit.showEntry', { seq: verify.firstBad.seq })}</Button>
              </Space>
            )} />)}
      {error !== undefined && <Alert type="error" showIcon message={errorText(error, t)} />}
      <Card size="small">
        <div data-testid="audit-table">
          <Table<AuditEntry>
            size="small" rowKey="seq" columns={columns} dataSource={[...(loaded?.entries ?? [])]} loading={loading}
            rowClassName={(e) => (e.seq === highlight ? 'lab-row-highlight' : '')}
            expandable={{
              expandedRowRender: (e) => (
                <Space direction="vertical" size={2} className="lab-audit-expanded">
                  <span><Typography.Text type="secondary">{t('audit.hash')}</Typography.Text> <Typography.Text code>{e.hash}</Typography.Text></span>
                  {e.pipelineHash && <span><Typography.Text type="secondary">{t('audit.pipelineHash')}</Typography.Text> <Typography.Text code>{e.pipelineHash}</Typography.Text></span>}
                  <pre className="lab-json">{JSON.stringify(e.detail ?? null, null, 2)}</pre>
                </Space>
              ),
            }}
            pagination={{
              current: loaded?.page ?? 1, pageSize: loaded?.size ?? 50, total: loaded?.head ?? 0, showSizeChanger: true, pageSizeOptions: [20, 50, 100, 200],
              showTotal: (n) => t('audit.total', { count: n }),
              onChange: (page, size) => { if (loaded) void load(loaded.head, size === loaded.size ? page : 1, size); },
            }}
            scroll={{ x: 'max-content' }}
          />
        </div>
      </Card>
    </div>
  );
}
