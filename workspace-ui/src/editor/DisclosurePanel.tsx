import { SafetyCertificateOutlined } from '@ant-design/icons';
import { Card, Space, Tag, Typography } from 'antd';
import { useTranslation } from 'react-i18next';
import type { DisclosurePreview } from '../api/types.ts';

/**
 * For the selected node that makes (or outputs) a table: what the disclosure guard will do with it,
 * before anything runs — from the policy in force and the pipeline, never from data.
 */
export function DisclosurePanel({ preview, nodeId }: { preview: DisclosurePreview | undefined; nodeId: string }) {
  const { t } = useTranslation();
  const table = preview?.tables.find((x) => x.nodeId === nodeId);
  if (!preview || !table) return null;
  const keyName = (k: { name: string; geoLevel: string | null }) => (k.geoLevel ? `${t(`geo.${k.geoLevel}`, { defaultValue: k.geoLevel })} (${k.name})` : k.name);
  return (
    <Card
      size="small" className="lab-disclosure" data-testid="disclosure-preview" data-threshold={preview.threshold} data-rounding={preview.rounding} data-rule={preview.rule}
      title={<Space size={6}><SafetyCertificateOutlined />{t('disclosure.title')}</Space>}
      extra={<Tag>{t('inbox.version', { version: preview.policyVersion })}</Tag>}
    >
      <Space direction="vertical" size={4}>
        <Typography.Text type="secondary">{t('disclosure.noData')}</Typography.Text>
        {preview.rule === 'researcher-dp' && <Tag color="purple">{t('result.ruleResearcherDp')}</Tag>}
        <Typography.Text data-testid="disclosure-threshold">{t('disclosure.threshold', { k: preview.threshold })}</Typography.Text>
        <Typography.Text>{t('disclosure.rounding', { r: preview.rounding })}</Typography.Text>
        {preview.cellKeyNoise !== null && <Typography.Text>{t('result.noise', { d: preview.cellKeyNoise })}</Typography.Text>}
        {preview.dp && <Typography.Text>{t('disclosure.dp', { epsilon: preview.dp.epsilon })}</Typography.Text>}
        {preview.review && <Typography.Text>{t('disclosure.review')}</Typography.Text>}
        <Typography.Text strong>{t('disclosure.keys')}</Typography.Text>
        <div className="lab-disclosure-keys" data-testid="disclosure-keys">
          {table.keys.map((k) => (
            <div key={k.name} className="lab-disclosure-key" data-key={k.name} data-margin={k.margin}>
              <Typography.Text code>{keyName(k)}</Typography.Text>
              {k.margin ? <Tag color="geekblue">{t('disclosure.margin')}</Tag> : <Tag>{t('disclosure.noMargin')}</Tag>}
            </div>
          ))}
          {table.keys.length === 0 && <Typography.Text type="secondary">{t('disclosure.noKeys')}</Typography.Text>}
        </div>
        {table.keys.some((k) => k.margin) && <Typography.Text type="secondary">{t('disclosure.secondary')}</Typography.Text>}
        {table.measures.some((m) => m.dominance) && <Typography.Text type="secondary">{t('disclosure.dominance')}</Typography.Text>}
        <Typography.Text type="secondary">{t('disclosure.levels', { n: preview.maxLevels })}</Typography.Text>
      </Space>
    </Card>
  );
}
