import { sql } from 'kysely';
import { priorReleasesFrom, type LedgerEntry, type PriorReleases } from '../../disclosure/release-ledger.ts';
import { LabError, t } from '../../errors/index.ts';
import type { Database } from '../../store/database.ts';

/** The domain's secret key for contributor-set fingerprints (created by migration 0002). */
export async function guardKey(db: Database): Promise<string> {
  const r = await sql<{ key: string }>`SELECT key::text AS key FROM lab_guard_key`.execute(db.kysely);
  const key = r.rows[0]?.key;
  if (key === undefined) throw new LabError('LAB-E020', { detail: t('本域缺少发布台账密钥', 'this domain has no release-ledger key') });
  return key;
}

/**
 * Earlier cells (released or suppressed) with the given keysets, and earlier suppressed cells with
 * one of the given fingerprints under any keys, other than those of `excludeRelease`; a cell
 * recorded several times with the same contributors comes once, as released if any release
 * released it (its value is known then).
 */
export async function loadLedgerEntries(db: Database, keysets: readonly string[], excludeRelease: string, fingerprints: readonly string[] = []): Promise<LedgerEntry[]> {
  const r = await sql<{ keyset: string; cell: string; units: string; fingerprint: string; suppressed: string }>`
    SELECT keyset, cell, units::text AS units, fingerprint, bool_and(suppressed)::text AS suppressed FROM lab_release_cell
    WHERE (keyset = ANY(${[...keysets]}::text[]) OR (suppressed AND fingerprint = ANY(${[...fingerprints]}::text[])))
      AND release_id <> ${excludeRelease}
    GROUP BY keyset, cell, units, fingerprint`.execute(db.kysely);
  return r.rows.map((row) => ({ keyset: row.keyset, cell: row.cell, units: Number(row.units), fingerprint: row.fingerprint, ...(row.suppressed === 'true' ? { suppressed: true } : {}) }));
}

/** The same, as the guard's view. */
export async function loadLedger(db: Database, keysets: readonly string[], excludeRelease: string, fingerprints: readonly string[] = []): Promise<PriorReleases> {
  return priorReleasesFrom(await loadLedgerEntries(db, keysets, excludeRelease, fingerprints));
}

const copyText = (v: string) => v.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');

/** Replaces the ledger entries of one release, released and suppressed cells (idempotent for a retried stage). */
export async function recordRelease(db: Database, releaseId: string, entries: readonly LedgerEntry[]): Promise<void> {
  await sql`DELETE FROM lab_release WHERE release_id = ${releaseId}`.execute(db.kysely);
  await sql`INSERT INTO lab_release (release_id) VALUES (${releaseId})`.execute(db.kysely);
  if (entries.length === 0) return;
  async function* chunks(): AsyncIterable<string> {
    let buf = '';
    for (const e of entries) {
      buf += `${copyText(releaseId)}\t${copyText(e.keyset)}\t${copyText(e.cell)}\t${e.units}\t${copyText(e.fingerprint)}\t${e.suppressed ? 't' : 'f'}\n`;
      if (buf.length > 1 << 20) { yield buf; buf = ''; }
    }
    if (buf) yield buf;
  }
  await db.copyIn('lab_release_cell', ['release_id', 'keyset', 'cell', 'units', 'fingerprint', 'suppressed'], chunks());
}
