/**
 * The release ledger's view for the guard. Each domain keeps, in its own database, every cell of
 * every table it released — released and suppressed cells alike: which keys and values (`keyset`,
 * `cell`), its exact person count, the fingerprint of its contributor set (`__fp`, a keyed hash
 * sum) and whether it was suppressed. None of it leaves the domain. The guard compares a new
 * table's cells with the earlier cells of the same keys and values, and with earlier suppressed
 * cells of the same contributors under any keys (staff-guard.ts).
 */
export interface LedgerEntry {
  /** The grouped key names, sorted, comma-separated. */
  readonly keyset: string;
  /** The values of those keys, in that order, as a JSON array. */
  readonly cell: string;
  readonly units: number;
  readonly fingerprint: string;
  /** The cell was suppressed (its value never left the domain). Absent: released. */
  readonly suppressed?: boolean;
}

export interface PriorCell { readonly units: number; readonly fingerprint: string; readonly suppressed: boolean }

export interface PriorReleases {
  cellsLike(keyset: string, cell: string): readonly PriorCell[];
  /** Whether a cell with exactly these contributors was suppressed before, under any keys. */
  suppressedBefore(fingerprint: string): boolean;
}

/** A cell's identity across tables: its grouped keys by name, whatever their order or the table's other keys. */
export function cellIdentity(keyNames: readonly string[], grouping: number, keys: readonly (string | null)[]): { keyset: string; cell: string } {
  const K = keyNames.length;
  const grouped: [string, string | null][] = [];
  keyNames.forEach((name, i) => { if (!(grouping & (1 << (K - 1 - i)))) grouped.push([name, keys[i] ?? null]); });
  grouped.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return { keyset: grouped.map((g) => g[0]).join(','), cell: JSON.stringify(grouped.map((g) => g[1])) };
}

/** The keysets a table's grouping sets give (to load only the ledger rows that can matter). */
export function keysetsOf(groupingSets: readonly (readonly string[])[]): string[] {
  return [...new Set(groupingSets.map((set) => [...set].sort().join(',')))];
}

export const EMPTY_LEDGER: PriorReleases = { cellsLike: () => [], suppressedBefore: () => false };

/** The guard's view of earlier releases, from the ledger's rows. */
export function priorReleasesFrom(entries: readonly LedgerEntry[]): PriorReleases {
  const byCell = new Map<string, PriorCell[]>();
  const suppressed = new Set<string>();
  for (const e of entries) {
    const id = `${e.keyset}\u0001${e.cell}`;
    let list = byCell.get(id);
    if (!list) { list = []; byCell.set(id, list); }
    list.push({ units: e.units, fingerprint: e.fingerprint, suppressed: e.suppressed === true });
    if (e.suppressed) suppressed.add(e.fingerprint);
  }
  return { cellsLike: (keyset, cell) => byCell.get(`${keyset}\u0001${cell}`) ?? [], suppressedBefore: (fp) => suppressed.has(fp) };
}
