/** How a key value reads in the workspace: geography code → name, coded value → label, NULL → "none". */
import { useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import type { Bilingual, CatalogDataset, GeoUnit, ReleasedColumn } from '../api/types.ts';
import { useLang } from '../i18n/index.ts';

export function useKeyLabel(geography: readonly GeoUnit[] | undefined, catalog: readonly CatalogDataset[]): (c: ReleasedColumn, v: string | null) => string {
  const { t } = useTranslation();
  const { pick } = useLang();
  const geoNames = useMemo(() => new Map((geography ?? []).map((u) => [u.code, u.name])), [geography]);
  const valueLabels = useMemo(() => {
    const out = new Map<string, Readonly<Record<string, Bilingual>>>();
    for (const d of catalog) for (const c of d.columns) if (c.values && !out.has(c.name)) out.set(c.name, c.values);
    return out;
  }, [catalog]);
  return (c, v) => {
    if (v === null) return t('result.null');
    const geo = geoNames.get(v);
    if (c.geoLevel && geo) return pick(geo);
    const label = valueLabels.get(c.name)?.[v];
    return label ? pick(label) : v;
  };
}
