import type { DomainId } from '../domain-ids.ts';
import { civilDatasets } from './civil.catalog.ts';
import { gridDatasets } from './grid.catalog.ts';
import { healthDatasets } from './health.catalog.ts';
import { housingDatasets } from './housing.catalog.ts';
import { registryDatasets } from './registry.catalog.ts';
import { socialDatasets } from './social.catalog.ts';
import type { DatasetSpec } from './types.ts';

export * from './types.ts';
export { CHRONIC_CONDITIONS } from './health.catalog.ts';
export { SEX, HOUSEHOLD_TYPE } from './columns.ts';

/** The catalog: every dataset of every domain. Metadata only, never rows. */
export const CATALOG: readonly DatasetSpec[] = [
  ...registryDatasets, ...socialDatasets, ...healthDatasets, ...civilDatasets, ...housingDatasets, ...gridDatasets,
];

export const datasetsOf = (domain: DomainId): DatasetSpec[] => CATALOG.filter((d) => d.domain === domain);
export const findDataset = (id: string): DatasetSpec | undefined => CATALOG.find((d) => d.id === id);
