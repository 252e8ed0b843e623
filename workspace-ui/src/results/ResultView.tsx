import type { CatalogDataset, GeoUnit, ReleasedTable } from '../api/types.ts';
import { ResultTable } from './ResultTable.tsx';

export interface ResultViewProps {
  readonly table: ReleasedTable;
  readonly title: string;
  readonly geography: readonly GeoUnit[] | undefined;
  readonly catalog: readonly CatalogDataset[];
}

/** A released table as the workspace shows it. */
export function ResultView(props: ResultViewProps) {
  return <ResultTable {...props} />;
}
