import { createHash } from 'node:crypto';
import { LabError, t } from '../../sandbox/errors/index.ts';
import { canonicalJson as sharedCanonicalJson } from '../../sandbox/json/canonical-json.ts';
import type { AuditDecision } from '../db/control.schema.ts';

/**
 * The audit chain's arithmetic, free of any database: the canonical form of an entry and of a
 * checkpoint, and the hashes over them. The service stores exactly what it hashed; verify reads the
 * rows back and recomputes.
 *
 *   hash(entry n) = SHA-256( hash(entry n-1) ‖ canonical JSON of entry n )   (hex; UTF-8 bytes)
 *   hash(entry 0) = 64 zeros (the genesis)
 *
 * Canonical JSON follows RFC 8785 (JCS) for the values an entry can hold: object keys sorted by
 * UTF-16 code units, no white space, strings and numbers as ECMAScript's JSON.stringify writes them.
 * Non-finite numbers, `undefined`, functions and strings with U+0000 (which Postgres jsonb cannot
 * store) are refused.
 */

export const GENESIS_HASH = '0'.repeat(64);
/** Format version inside every hashed entry and checkpoint; bump it when the canonical form changes. */
export const AUDIT_FORMAT = 1;

export type JsonValue = string | number | boolean | null | readonly JsonValue[] | { readonly [key: string]: JsonValue };

/** RFC 8785 canonical JSON of a JSON value (sandbox/json/canonical-json.ts); refusals are LAB-E091. */
export function canonicalJson(value: unknown): string {
  return sharedCanonicalJson(value, { invalid: (path, problem) => malformed(`${path} ${problem}`) });
}

const malformed = (en: string) => new LabError('LAB-E091', { detail: t(en, en) });

/** Who did it. A failed sign-in is `anonymous` (the account it named is the resource). */
export type AuditActor =
  | { readonly kind: 'user'; readonly id: number; readonly username: string; readonly role: string }
  | { readonly kind: 'system' }
  | { readonly kind: 'anonymous' };

/** One entry as it is hashed and stored (seq and time assigned by the service). */
export interface AuditRecord {
  readonly seq: number;
  /**
   * ISO 8601 in UTC with six fraction digits, exactly as Postgres stores a timestamptz
   * (microseconds). The service takes whole milliseconds from its clock, so the last three digits
   * are 000; an edit below the millisecond still changes this text and so the hash.
   */
  readonly at: string;
  readonly actor: AuditActor;
  readonly action: string;
  readonly resource: { readonly type: string; readonly id: string | null };
  readonly decision: AuditDecision | null;
  readonly policyVersion: string | null;
  readonly pipelineHash: string | null;
  readonly detail: { readonly [key: string]: JsonValue };
}

/** The object whose canonical JSON is hashed: every field present, absent ones as null. */
export function canonicalEntry(r: AuditRecord): string {
  const actor = r.actor.kind === 'user'
    ? { kind: 'user', id: r.actor.id, username: r.actor.username, role: r.actor.role }
    : { kind: r.actor.kind, id: null, username: null, role: null };
  return canonicalJson({
    v: AUDIT_FORMAT,
    seq: r.seq,
    at: r.at,
    actor,
    action: r.action,
    resource: { type: r.resource.type, id: r.resource.id },
    decision: r.decision,
    policyVersion: r.policyVersion,
    pipelineHash: r.pipelineHash,
    detail: r.detail,
  });
}

export function entryHash(prevHash: string, r: AuditRecord): string {
  return createHash('sha256').update(prevHash, 'utf8').update(canonicalEntry(r), 'utf8').digest('hex');
}

/** ISO 8601 in UTC with exactly three fraction digits (`2025-01-02T03:04:05.678Z`). */
export function isoMillis(d: Date): string {
  if (Number.isNaN(d.getTime())) throw malformed('the time is not a valid date');
  return d.toISOString();
}

/** A JavaScript time as Postgres renders a timestamptz to microseconds (`2025-01-02T03:04:05.678000Z`). */
export function isoMicros(d: Date): string {
  return isoMillis(d).replace(/Z$/, '000Z');
}

/** What a checkpoint signs: the head at a moment and the previous checkpoint's signature. */
export interface CheckpointClaim {
  readonly id: number;
  readonly seq: number;
  readonly headHash: string;
  readonly at: Date;
  readonly keyId: string;
  /** Base64 signature of checkpoint id - 1; empty for the first. */
  readonly prevSignature: string;
}

export function checkpointMessage(c: CheckpointClaim): Buffer {
  return Buffer.from(canonicalJson({
    v: AUDIT_FORMAT, kind: 'data-lab-audit-checkpoint',
    id: c.id, seq: c.seq, headHash: c.headHash, at: isoMillis(c.at), keyId: c.keyId, prevSignature: c.prevSignature,
  }), 'utf8');
}
