import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../sandbox/store/database.ts';
import { migrate } from '../../sandbox/store/migrate.ts';
import { openPGlite } from '../../sandbox/store/pglite.database.ts';
import { CONTROL_MIGRATIONS } from '../db/control.migrations.ts';
import type { ControlSchema } from '../db/control.schema.ts';
import { GENESIS_HASH, canonicalEntry, canonicalJson, entryHash, type AuditRecord } from './audit-chain.ts';
import { auditKeyPath, loadOrCreateAuditKey, publicPath, readAuditKey } from './audit-key.ts';
import { SYSTEM_ACTOR, auditTrailOf, createAuditTrail, userActor } from './audit.service.ts';

describe('canonical JSON (RFC 8785 for the values an entry holds)', () => {
  it('sorts keys by UTF-16 code units at every depth, writes no white space', () => {
    expect(canonicalJson({ b: 1, a: [{ z: null, y: true }], A: 'x', é: 1, '\u{1F600}': 2, '\uFFFD': 3 }))
      .toBe('{"A":"x","a":[{"y":true,"z":null}],"b":1,"é":1,"\u{1F600}":2,"\uFFFD":3}');
  });
  it('writes numbers and strings as ECMAScript does', () => {
    expect(canonicalJson([1e21, 0.1, -0, 100, 1.5e-7, 'a"\\\n\u0001'])).toBe('[1e+21,0.1,0,100,1.5e-7,"a\\"\\\\\\n\\u0001"]');
  });
  it.each([[Number.NaN], [Infinity], ['a\u0000b'], [new Date(0)], [undefined], [{ f: () => 1 }]])('refuses %s', (v) => {
    expect(() => canonicalJson(v)).toThrow(expect.objectContaining({ code: 'LAB-E091' }) as Error);
  });
});

describe('entry hash', () => {
  const record: AuditRecord = {
    seq: 1, at: '2025-01-02T03:04:05.006000Z', actor: { kind: 'user', id: 7, username: 'ana', role: 'analyst' },
    action: 'job.run', resource: { type: 'job', id: 'j-1' }, decision: 'allow', policyVersion: '3', pipelineHash: null, detail: { state: 'queued' },
  };
  it('covers the previous hash and the canonical entry with every field, absent ones as null', () => {
    const canonical = '{"action":"job.run","actor":{"id":7,"kind":"user","role":"analyst","username":"ana"},"at":"2025-01-02T03:04:05.006000Z",'
      + '"decision":"allow","detail":{"state":"queued"},"pipelineHash":null,"policyVersion":"3","resource":{"id":"j-1","type":"job"},"seq":1,"v":1}';
    expect(canonicalEntry(record)).toBe(canonical);
    expect(entryHash(GENESIS_HASH, record)).toBe(createHash('sha256').update(GENESIS_HASH + canonical).digest('hex'));
  });
  it('changes with any field and with the previous hash', () => {
    const h = entryHash(GENESIS_HASH, record);
    expect(entryHash('1'.repeat(64), record)).not.toBe(h);
    expect(entryHash(GENESIS_HASH, { ...record, seq: 2 })).not.toBe(h);
    expect(entryHash(GENESIS_HASH, { ...record, at: '2025-01-02T03:04:05.006001Z' })).not.toBe(h);
    expect(entryHash(GENESIS_HASH, { ...record, decision: 'deny' })).not.toBe(h);
    expect(entryHash(GENESIS_HASH, { ...record, detail: { state: 'queued', n: 1 } })).not.toBe(h);
    expect(entryHash(GENESIS_HASH, { ...record, actor: { kind: 'system' } })).not.toBe(h);
  });
});

describe('audit signing key', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lab-audit-key-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('lives in the data folder unless LAB_AUDIT_SIGNING_KEY_FILE says otherwise', () => {
    expect(auditKeyPath('/data', {})).toBe('/data/secrets/audit-signing-key.pem');
    expect(auditKeyPath('/data', { LAB_AUDIT_SIGNING_KEY_FILE: '/keys/a.pem' })).toBe('/keys/a.pem');
  });

  it('is created once (mode 0600) and read back with the same id; its public half only verifies', () => {
    const path = join(dir, 'secrets', 'k.pem');
    const first = loadOrCreateAuditKey(path);
    expect(first.created).toBe(true);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const again = loadOrCreateAuditKey(path);
    expect(again.created).toBe(false);
    expect(again.key.keyId).toBe(first.key.keyId);
    const message = Buffer.from('head');
    const sig = first.key.sign?.(message) ?? '';
    expect(again.key.verify(message, sig)).toBe(true);
    expect(again.key.verify(Buffer.from('head!'), sig)).toBe(false);
    const pub = readAuditKey(publicPath(path));
    expect(pub?.sign).toBeUndefined();
    expect(pub?.keyId).toBe(first.key.keyId);
    expect(pub?.verify(message, sig)).toBe(true);
  });
});

describe('audit trail on PGlite (embedded mode)', () => {
  let dir: string;
  let db: Database<ControlSchema>;
  let t0 = Date.UTC(2025, 5, 1);
  const clock = () => new Date(t0 += 1234);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lab-audit-pglite-'));
    db = await openPGlite<ControlSchema>('control', join(dir, 'control'));
    await migrate(db, CONTROL_MIGRATIONS);
  });
  afterAll(async () => {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('appends, signs a checkpoint every N entries, verifies; a rolled-back append leaves no gap; a tampered row is named', async () => {
    const { key } = loadOrCreateAuditKey(join(dir, 'key.pem'));
    const trail = createAuditTrail(db, { key, checkpointEvery: 3, clock });
    expect(auditTrailOf(db)).toBe(trail);
    const ana = userActor({ id: 1, username: 'ana', role: 'analyst' });
    for (let i = 0; i < 5; i++) {
      const e = await trail.append({ actor: ana, action: 'pipeline.save', resource: { type: 'pipeline', id: `p${i}` }, detail: { n: i, skip: undefined } });
      expect(e.seq).toBe(i + 1);
    }
    // An append inside a transaction that rolls back takes its entry with it: no gap afterwards.
    await expect(db.kysely.transaction().execute(async (trx) => {
      await trail.append({ actor: SYSTEM_ACTOR, action: 'job.run', resource: { type: 'job', id: 'x' } }, trx);
      throw new Error('the action failed');
    })).rejects.toThrow('the action failed');
    const sixth = await trail.append({ actor: SYSTEM_ACTOR, action: 'job.run', resource: { type: 'job', id: 'y' }, decision: 'allow', policyVersion: 2 });
    expect(sixth.seq).toBe(6);

    const ok = await trail.verify();
    expect(ok).toMatchObject({ ok: true, entries: 6, checkpoints: 2, head: { seq: 6, hash: sixth.hash }, firstBad: null });
    const page = await trail.list({ from: 2, limit: 2 });
    expect(page.headSeq).toBe(6);
    expect(page.entries.map((e) => [e.seq, e.action, e.resource.id, e.detail])).toEqual([[2, 'pipeline.save', 'p1', { n: 1 }], [3, 'pipeline.save', 'p2', { n: 2 }]]);
    expect(page.entries[0]?.at).toBe(new Date(Date.UTC(2025, 5, 1) + 2 * 1234).toISOString());

    // The trigger refuses even the superuser PGlite runs as…
    await expect(sql`UPDATE audit_entry SET action = 'x' WHERE seq = 4`.execute(db.kysely)).rejects.toThrow(/append-only/);
    await expect(sql`DELETE FROM audit_checkpoint`.execute(db.kysely)).rejects.toThrow(/append-only/);
    // …until it is switched off, which verify then catches.
    await db.exec(`ALTER TABLE audit_entry DISABLE TRIGGER audit_entry_append_only;
      UPDATE audit_entry SET detail = '{"n": 30}' WHERE seq = 4;
      ALTER TABLE audit_entry ENABLE TRIGGER audit_entry_append_only;`);
    expect((await trail.verify()).firstBad).toMatchObject({ seq: 4, reason: 'hash-mismatch' });
  });

  it('refuses malformed entries before writing anything', async () => {
    const trail = auditTrailOf(db);
    const before = (await trail.list({ limit: 1 })).headSeq;
    await expect(trail.append({ actor: SYSTEM_ACTOR, action: 'Job Run', resource: { type: 'job' } })).rejects.toMatchObject({ code: 'LAB-E091' });
    await expect(trail.append({ actor: SYSTEM_ACTOR, action: 'job.run', resource: { type: 'job' }, detail: { rows: 'x'.repeat(3000) } })).rejects.toMatchObject({ code: 'LAB-E091' });
    expect((await trail.list({ limit: 1 })).headSeq).toBe(before);
  });
});
