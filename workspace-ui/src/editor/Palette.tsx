import { PlusOutlined } from '@ant-design/icons';
import { Button, Input, Tooltip, Typography } from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { OperatorCategory, OperatorInfo } from '../api/types.ts';
import { useLang } from '../i18n/index.ts';

export const DRAG_TYPE = 'application/x-lab-operator';
const CATEGORIES: readonly OperatorCategory[] = ['source', 'transform', 'statistics', 'output'];

/** The operators, grouped by category, generated from GET /api/operators. Drag one onto the canvas, or press + to add it. */
export function Palette({ operators, onAdd }: { operators: readonly OperatorInfo[]; onAdd: (op: OperatorInfo) => void }) {
  const { t } = useTranslation();
  const { pick } = useLang();
  const [query, setQuery] = useState('');
  const q = query.trim().toLowerCase();
  const visible = operators.filter((op) => !q || [op.id, op.label.zh, op.label.en].some((s) => s.toLowerCase().includes(q)));
  return (
    <div className="lab-palette" aria-label={t('palette.title')}>
      <Typography.Text strong className="lab-panel-title">{t('palette.title')}</Typography.Text>
      <Input.Search size="small" allowClear placeholder={t('palette.search')} value={query} onChange={(e) => { setQuery(e.target.value); }} aria-label={t('palette.search')} />
      {CATEGORIES.map((cat) => {
        const ops = visible.filter((op) => op.category === cat);
        if (!ops.length) return null;
        return (
          <section key={cat} className="lab-palette-group">
            <div className="lab-palette-cat">{t(`category.${cat}`)}</div>
            {ops.map((op) => (
              <Tooltip key={op.ref} title={pick(op.help)} placement="right" mouseEnterDelay={0.6}>
                <div
                  className={`lab-palette-item lab-node-${op.category}`}
                  draggable
                  data-testid={`palette-${op.ref}`}
                  onDragStart={(e) => { e.dataTransfer.setData(DRAG_TYPE, op.ref); e.dataTransfer.effectAllowed = 'move'; }}
                >
                  <span className="lab-node-cat" aria-hidden />
                  <span className="lab-palette-label">{pick(op.label)}</span>
                  <Button size="small" type="text" icon={<PlusOutlined />} aria-label={t('palette.add', { name: pick(op.label) })} onClick={() => { onAdd(op); }} />
                </div>
              </Tooltip>
            ))}
          </section>
        );
      })}
      <Typography.Paragraph type="secondary" className="lab-palette-hint">{t('palette.hint')}</Typography.Paragraph>
    </div>
  );
}
