import { Tag, Tooltip } from 'antd';
import { useTranslation } from 'react-i18next';
import type { Level } from '../api/types.ts';
import { LEVEL_COLOR } from './labels.ts';

/** A classification level as a coloured tag with its name in the tooltip. */
export function LevelTag({ level }: { level: Level }) {
  const { t } = useTranslation();
  return (
    <Tooltip title={t(`level.${level}.help`)}>
      <Tag color={LEVEL_COLOR[level]} className="lab-level" data-level={level}>{level} {t(`level.${level}.name`)}</Tag>
    </Tooltip>
  );
}
