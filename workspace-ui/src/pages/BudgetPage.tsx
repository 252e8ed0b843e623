import { FundOutlined, ReloadOutlined } from '@ant-design/icons';
import { Alert, Button, Card, Empty, Progress, Space, Statistic, Table, Typography } from 'antd';
import { useTranslation } from 'react-i18next';
import type { BudgetCharge, PrivacyBudget } from '../api/types.ts';
import { useFetch } from '../api/useFetch.ts';
import { errorText } from '../app/errors.ts';
import { formatDecimal, formatTime, spentPercent } from '../app/format.ts';
import { useLang } from '../i18n/index.ts';

/**
 * A researcher's privacy budgets (GET /api/budgets): per project the ε granted, spent and left,
 * and what each job was charged. ε is charged when a job is sent to its domains, once per job.
 */
export default function BudgetPage() {
  const { t } = useTranslation();
  const { lang } = useLang();
  const budgets = useFetch<{ budgets: PrivacyBudget[] }>('/api/budgets');
  const list = budgets.data?.budgets ?? [];

  return (
    <div className="lab-page" data-testid="budget-page">
      <div className="lab-page-head">
        <Typography.Title level={4}>{t('budget.title')}</Typography.Title>
        <Typography.Text type="secondary">{t('budget.intro')}</Typography.Text>
        <span className="lab-toolbar-spacer" />
        <Button icon={<ReloadOutlined />} onClick={budgets.reload} loading={budgets.loading}>{t('common.refresh')}</Button>
      </div>
      {budgets.error !== undefined && <Alert type="error" showIcon message={errorText(budgets.error, t)} />}
      {budgets.data && list.length === 0 && <Card><Empty description={t('budget.none')} /></Card>}
      <Space direction="vertical" size="middle" className="lab-budgets">
        {list.map((b) => {
          const percent = spentPercent(b);
          const exhausted = Number(b.remaining) <= 0;
          return (
            <Card
              key={b.projectId} size="small" data-testid="budget-card" data-project={b.projectId} data-spent={formatDecimal(b.spent)} data-total={formatDecimal(b.total)}
              title={<Space><FundOutlined /><span>{t('budget.project')}</span><Typography.Text code>{b.projectId}</Typography.Text></Space>}
            >
              <div className="lab-budget-figures">
                <Statistic title={t('budget.total')} value={formatDecimal(b.total)} prefix="ε" />
                <Statistic title={t('budget.spent')} value={formatDecimal(b.spent)} prefix="ε" />
                <Statistic title={t('budget.remaining')} value={formatDecimal(b.remaining)} prefix="ε" valueStyle={exhausted ? { color: '#cf222e' } : undefined} />
              </div>
              <div className="lab-budget-bar">
                <Typography.Text data-testid="budget-summary">{t('budget.summary', { spent: formatDecimal(b.spent), total: formatDecimal(b.total) })}</Typography.Text>
                <Progress percent={percent} status={exhausted ? 'exception' : 'normal'} strokeColor={!exhausted && percent >= 80 ? '#fa8c16' : undefined} aria-label={t('budget.summary', { spent: formatDecimal(b.spent), total: formatDecimal(b.total) })} />
                {exhausted && <Alert type="warning" showIcon message={t('budget.exhausted')} />}
              </div>
              <Typography.Title level={5}>{t('budget.charges')}</Typography.Title>
              <Table<BudgetCharge>
                size="small" rowKey="jobId" dataSource={[...b.charges]} pagination={{ pageSize: 10, hideOnSinglePage: true }}
                locale={{ emptyText: t('budget.noCharges') }}
                columns={[
                  { title: t('budget.chargedAt'), dataIndex: 'at', render: (v: string) => formatTime(v, lang) },
                  { title: t('budget.job'), dataIndex: 'jobId', render: (v: string) => <Typography.Text code copyable>{v}</Typography.Text> },
                  { title: t('budget.epsilon'), dataIndex: 'epsilon', align: 'right', render: (v: string) => `ε ${formatDecimal(v)}` },
                ]}
              />
            </Card>
          );
        })}
      </Space>
    </div>
  );
}
