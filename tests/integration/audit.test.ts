import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import postgres from 'postgres';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DOMAIN_IDS, type DomainId } from '../../sandbox/domains/domain-ids.ts';
import { seedCity } from '../../sandbox/domains/generator/index.ts';
import { InlineQueue } from '../../sandbox/runtime/queue/inline.queue.ts';
import { startDomainWorker, type DomainWorker } from '../../sandbox/runtime/worker/domain-worker.ts';
import type { Database } from '../../sandbox/store/database.ts';
import { pgDatabaseName } from '../../sandbox/store/topology.ts';
import { buildApp } from '../../server/app.ts';
import { createLogger } from '../../server/lab/logger.ts';
import { auditRepository, type AuditEntryRow } from '../../server/repositories/audit.repository.ts';
import { entryHash } from '../../server/services/audit-chain.ts';
import { auditKeyPath, loadOrCreateAuditKey, type AuditKey } from '../../server/services/audit-key.ts';
import { SYSTEM_ACTOR, auditTrailOf, createAuditTrail, recordOf, userActor, type AuditTrail, type AuditVerifyReport } from '../../server/services/audit.service.ts';
import { listenForResults } from '../../server/services/job.service.ts';
import { createUser } from '../../server/services/user.service.ts';
import { createPgTestLab, type TestLab } from '../support/pg-lab.ts';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from '../support/test-env.ts';
import { createServerHarness, jsonPost, signIn, type ServerHarness } from './server/server-harness.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * The audit trail on real Postgres: the chain under concurrency, what the application role may
 * not do, and tampering by a superuser (who can switch the trigger off) caught by verify — by the
 * service, by `npm run lab -- audit verify` and through the API.
 */
describe('audit trail on Postgres', () => {
  let lab: TestLab;
  let trail: AuditTrail;
  let key: AuditKey;
  /** The database superuser, connected to this lab's control database. */
  let su: postgres.Sql;
  const EVERY = 5;

  beforeAll(async () => {
    lab = await createPgTestLab();
    key = loadOrCreateAuditKey(auditKeyPath(lab.cfg.dataDir, {})).key;
    trail = createAuditTrail(lab.control, { key, checkpointEvery: EVERY });
    const url = new URL(TEST_DATABASE_URL);
    url.pathname = `/${pgDatabaseName(lab.cfg, 'control')}`;
    su = postgres(url.toString(), { max: 1, onnotice: () => {} });
  });
  afterAll(async () => {
    await su?.end();
    await lab?.drop();
  });

  const ana = userActor({ id: 1, username: 'ana', role: 'analyst' });
  const verify = () => trail.verify();

  it('appends one after another and verifies, a checkpoint every 5 entries', async () => {
    for (let i = 1; i <= 20; i++) {
      const e = await trail.append({ actor: ana, action: 'pipeline.save', resource: { type: 'pipeline', id: `p${i}` }, pipelineHash: 'ab'.repeat(32), detail: { i } });
      expect(e.seq).toBe(i);
    }
    expect(await verify()).toMatchObject({ ok: true, entries: 20, checkpoints: 4, firstBad: null });
  });

  it('50 appends in parallel still form one chain (no fork, no gap, no duplicate)', async () => {
    const made = await Promise.all(Array.from({ length: 50 }, (_, i) =>
      trail.append({ actor: SYSTEM_ACTOR, action: 'job.run', resource: { type: 'job', id: `j${i}` }, decision: i % 2 ? 'allow' : 'needs-approval', policyVersion: 1 })));
    expect(made.map((e) => e.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => 21 + i));
    const report = await verify();
    expect(report).toMatchObject({ ok: true, entries: 70, checkpoints: 14, head: { seq: 70 } });
    const [distinct] = await su<{ n: number }[]>`SELECT count(DISTINCT prev_hash)::int AS n FROM audit_entry`;
    expect(distinct?.n).toBe(70);
  });

  it('an append inside the caller\'s transaction commits or rolls back with it', async () => {
    await expect(lab.control.kysely.transaction().execute(async (trx) => {
      await trail.append({ actor: ana, action: 'approval.grant', resource: { type: 'job', id: 'j-rolled-back' } }, trx);
      throw new Error('the approval failed');
    })).rejects.toThrow('the approval failed');
    expect((await verify()).entries).toBe(70);
    const [left] = await su<{ n: number }[]>`SELECT count(*)::int AS n FROM audit_entry WHERE resource_id = 'j-rolled-back'`;
    expect(left?.n).toBe(0);
  });

  it('the application role cannot UPDATE, DELETE or TRUNCATE the trail (grants), nor can the superuser while the trigger is on', async () => {
    const app = lab.control.kysely;
    for (const statement of ['UPDATE audit_entry SET action = \'x\' WHERE seq = 3', 'DELETE FROM audit_entry WHERE seq = 3', 'TRUNCATE audit_entry',
      'UPDATE audit_checkpoint SET seq = 1', 'DELETE FROM audit_checkpoint', 'TRUNCATE audit_checkpoint']) {
      await expect(sql.raw(statement).execute(app), statement).rejects.toThrow(/permission denied for table audit_(entry|checkpoint)/);
      await expect(su.unsafe(statement), statement).rejects.toThrow(/audit trail is append-only/);
    }
    expect(await verify()).toMatchObject({ ok: true, entries: 70 });
  });

  describe('tampering by the superuser is named at the first bad entry', () => {
    beforeAll(async () => {
      await su.unsafe(`CREATE TABLE backup_entry AS SELECT * FROM audit_entry;
        CREATE TABLE backup_checkpoint AS SELECT * FROM audit_checkpoint;
        CREATE TABLE backup_head AS SELECT * FROM audit_head;`);
    });
    /** Puts the trail back as it was (triggers off for this transaction only) and checks it verifies again. */
    const restore = async () => {
      await su.begin(async (tx) => {
        await tx.unsafe(`SET LOCAL session_replication_role = replica;
          DELETE FROM audit_entry; INSERT INTO audit_entry SELECT * FROM backup_entry;
          DELETE FROM audit_checkpoint; INSERT INTO audit_checkpoint SELECT * FROM backup_checkpoint;
          DELETE FROM audit_head; INSERT INTO audit_head SELECT * FROM backup_head;`);
      });
      expect(await verify()).toMatchObject({ ok: true, entries: 70, checkpoints: 14 });
    };
    afterEach(async () => { await restore(); }); // also after a failed test, so the next one starts intact
    /** Runs statements as the superuser with the triggers off (for this transaction only). */
    const tamper = (statements: string) => su.begin(async (tx) => { await tx.unsafe(`SET LOCAL session_replication_role = replica; ${statements}`); });
    const firstBad = async (): Promise<AuditVerifyReport['firstBad']> => {
      const r = await verify();
      expect(r.ok).toBe(false);
      return r.firstBad;
    };

    it('an edited entry: hash mismatch at that entry', async () => {
      // The way an intruder would: switch the trigger off, edit, switch it back on.
      await su.unsafe(`ALTER TABLE audit_entry DISABLE TRIGGER audit_entry_append_only;
        UPDATE audit_entry SET decision = 'allow', actor_username = 'someone-else' WHERE seq = 7;
        ALTER TABLE audit_entry ENABLE TRIGGER audit_entry_append_only;`);
      expect(await firstBad()).toMatchObject({ seq: 7, reason: 'hash-mismatch' });
      await restore();
      await tamper(`UPDATE audit_entry SET detail = '{"i": 700}' WHERE seq = 7`);
      expect(await firstBad()).toMatchObject({ seq: 7, reason: 'hash-mismatch' });
      await restore();
      await tamper(`UPDATE audit_entry SET at = at + interval '1 microsecond' WHERE seq = 33`);
      expect(await firstBad()).toMatchObject({ seq: 33, reason: 'hash-mismatch' });
      await restore();
    });

    it('a deleted entry: a gap at its seq', async () => {
      await tamper('DELETE FROM audit_entry WHERE seq = 7');
      const bad = await firstBad();
      expect(bad).toMatchObject({ seq: 7, reason: 'gap' });
      expect(bad?.message.en).toBe('entry 7 is missing (the next one is 8)');
      await restore();
    });

    it('deleted entries renumbered to close the gap: a broken link at the first moved entry', async () => {
      await tamper('DELETE FROM audit_entry WHERE seq = 7; UPDATE audit_entry SET seq = seq + 100000 WHERE seq > 7; UPDATE audit_entry SET seq = seq - 100001 WHERE seq > 100000');
      expect(await firstBad()).toMatchObject({ seq: 7, reason: 'broken-link' });
      await restore();
    });

    it('two entries swapped: reordered at the first of them', async () => {
      await tamper('UPDATE audit_entry SET seq = 1000 WHERE seq = 5; UPDATE audit_entry SET seq = 5 WHERE seq = 6; UPDATE audit_entry SET seq = 6 WHERE seq = 1000');
      const bad = await firstBad();
      expect(bad).toMatchObject({ seq: 5, reason: 'reordered' });
      expect(bad?.message.en).toBe('entry 5 follows entry 6: the order was changed');
      await restore();
    });

    it('the tail cut off and rewritten with recomputed hashes: caught by the signed checkpoint after the rewrite', async () => {
      const rows = await auditRepository.entriesFrom(lab.control.kysely, 12, 1000);
      let prev = (await lab.control.kysely.selectFrom('audit_entry').select('hash').where('seq', '=', 11).executeTakeFirstOrThrow()).hash;
      const forged: AuditEntryRow[] = [];
      for (const row of rows) {
        // A quieter history: every decision after entry 11 becomes 'allow', hashes recomputed so the chain holds.
        const f = { ...row, decision: 'allow' as const, prev_hash: prev };
        f.hash = entryHash(prev, recordOf(f));
        forged.push(f);
        prev = f.hash;
      }
      await su.begin(async (tx) => {
        await tx.unsafe('SET LOCAL session_replication_role = replica');
        await tx`DELETE FROM audit_entry WHERE seq >= 12`;
        for (const f of forged) {
          await tx`INSERT INTO audit_entry (seq, at, actor_kind, actor_user_id, actor_username, actor_role, action, resource_type, resource_id, decision, policy_version, pipeline_hash, detail, prev_hash, hash)
            VALUES (${f.seq}, ${f.at}, ${f.actor_kind}, ${f.actor_user_id}, ${f.actor_username}, ${f.actor_role}, ${f.action}, ${f.resource_type}, ${f.resource_id}, ${f.decision}, ${f.policy_version}, ${f.pipeline_hash}, ${tx.json(f.detail as postgres.JSONValue)}, ${f.prev_hash}, ${f.hash})`;
        }
        await tx`UPDATE audit_head SET hash = ${prev}`;
      });
      // The chain itself is consistent again; only the checkpoint signed at entry 15 knows better.
      const bad = await firstBad();
      expect(bad).toMatchObject({ seq: 15, reason: 'checkpoint-head-mismatch', checkpointId: 3 });
      expect(bad?.message.en).toBe('checkpoint 3 signed a different hash for entry 15: entries 11–15 were rewritten');
      await restore();
    });

    it('a checkpoint edited, re-signed with another key, or deleted', async () => {
      await tamper('UPDATE audit_checkpoint SET head_hash = (SELECT hash FROM audit_entry WHERE seq = 11), seq = 11 WHERE id = 2');
      expect(await firstBad()).toMatchObject({ seq: 11, reason: 'checkpoint-signature', checkpointId: 2 });
      await restore();
      await tamper('UPDATE audit_checkpoint SET signature = (SELECT signature FROM audit_checkpoint WHERE id = 3) WHERE id = 2');
      expect(await firstBad()).toMatchObject({ seq: 10, reason: 'checkpoint-signature', checkpointId: 2 });
      await restore();
      await tamper('DELETE FROM audit_checkpoint WHERE id = 2');
      expect(await firstBad()).toMatchObject({ seq: 15, reason: 'checkpoint-gap', checkpointId: 2 });
      await restore();
      await tamper('DELETE FROM audit_checkpoint WHERE id = 14');
      // Entries 66–70 are no longer vouched for by a signature.
      expect(await firstBad()).toMatchObject({ seq: 66, reason: 'checkpoint-gap', checkpointId: 14 });
      await restore();
      const stranger = loadOrCreateAuditKey(join(lab.cfg.dataDir, 'stranger.pem')).key;
      const r = await createAuditTrail(lab.control, { key: stranger }).verify();
      expect(r.firstBad).toMatchObject({ seq: 5, reason: 'checkpoint-key-unknown', checkpointId: 1 });
      trail = createAuditTrail(lab.control, { key, checkpointEvery: EVERY });
    });

    it('the newest entries deleted: a gap where the trail now ends', async () => {
      await tamper('DELETE FROM audit_entry WHERE seq >= 69');
      expect(await firstBad()).toMatchObject({ seq: 69, reason: 'gap' });
      await restore();
    });

    it('npm run lab -- audit verify: exit 0 when intact, 1 naming the first bad entry (zh-CN and en)', async () => {
      const env = {
        PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', LAB_LOG_LEVEL: 'silent',
        DATABASE_URL: TEST_DATABASE_URL, REDIS_URL: TEST_REDIS_URL, LAB_DB_PREFIX: lab.cfg.dbPrefix, LAB_DATA_DIR: lab.cfg.dataDir,
      };
      const run = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'server/main.ts', 'audit', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000, env });
      const intact = run('verify');
      expect(intact.stderr).toBe('');
      expect(intact.status).toBe(0);
      expect(intact.stdout).toContain('审计日志完好：70 条记录，14 个签名检查点');
      expect(intact.stdout).toContain('audit trail intact: 70 entries, 14 signed checkpoints, head #70');

      await tamper('DELETE FROM audit_entry WHERE seq = 40');
      const broken = run('verify');
      expect(broken.status).toBe(1);
      expect(broken.stdout).toContain('LAB-E090 审计日志校验失败：记录被改动、删除或重排：第 40 条记录缺失（下一条是 41）');
      expect(broken.stdout).toContain('LAB-E090 Audit trail verification failed: entries were changed, deleted or reordered: entry 40 is missing (the next one is 41)');
      expect(broken.stdout).toContain('first bad entry: 40 (gap)');
      const json = run('verify', '--json');
      expect(json.status).toBe(1);
      expect((JSON.parse(json.stdout) as AuditVerifyReport).firstBad).toMatchObject({ seq: 40, reason: 'gap' });
      await restore();

      const cp = run('checkpoint');
      expect(cp.status).toBe(0);
      expect(cp.stdout).toContain('checkpoint 14: entry 70'); // the head is already signed: nothing new
    });
  });
});

describe('audit routes and what the server records', () => {
  let h: ServerHarness;
  let dir: string;
  const PASSWORD = 'audit-pass-1234-xyz';

  beforeAll(async () => {
    h = await createServerHarness();
    dir = mkdtempSync(join(tmpdir(), 'lab-audit-route-'));
    await createUser(h.lab.control, { username: 'ana', displayName: 'Ana', role: 'analyst', password: PASSWORD });
    await createUser(h.lab.control, { username: 'olga', displayName: 'Olga', role: 'officer', password: PASSWORD });
  });
  afterAll(async () => {
    await h?.lab.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  interface Page { entries: { seq: number; action: string; actor: { kind: string; username: string | null }; resource: { type: string; id: string | null }; decision: string | null; detail: Record<string, unknown> }[]; headSeq: number; next: number | null }

  it('an analyst gets 403 (and the refusal is recorded); an officer gets the verification and the entries', async () => {
    const anaSession = await signIn(h.app, 'ana', PASSWORD);
    const refused = await h.app.request('/api/audit/verify', { headers: { cookie: anaSession.cookie } });
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ code: 'LAB-E137' });
    expect((await h.app.request('/api/audit', { headers: { cookie: anaSession.cookie } })).status).toBe(403);
    expect((await h.app.request('/api/audit/verify')).status).toBe(401);

    // A refused sign-in, by a known user and by a name nobody has.
    expect((await h.app.request('/api/auth/login', jsonPost({ username: 'ana', password: 'wrong-password-000' }))).status).toBe(401);
    expect((await h.app.request('/api/auth/login', jsonPost({ username: 'typo-user-name', password: 'wrong-password-000' }))).status).toBe(401);
    const logout = await h.app.request('/api/auth/logout', { method: 'POST', headers: { cookie: anaSession.cookie, 'x-csrf-token': anaSession.csrfToken } });
    expect(logout.status).toBe(204);

    const olga = await signIn(h.app, 'olga', PASSWORD);
    const verified = await h.app.request('/api/audit/verify', { headers: { cookie: olga.cookie, 'accept-language': 'en' } });
    expect(verified.status).toBe(200);
    expect(await verified.json()).toMatchObject({ ok: true, firstBad: null, checkpoints: 0 });

    const res = await h.app.request('/api/audit?limit=3', { headers: { cookie: olga.cookie } });
    expect(res.status).toBe(200);
    const first = await res.json() as Page;
    expect(first.entries.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(first.next).toBe(4);
    const rest = await (await h.app.request(`/api/audit?from=${first.next}&limit=500`, { headers: { cookie: olga.cookie } })).json() as Page;
    expect(rest.next).toBeNull();
    const everything = [...first.entries, ...rest.entries];
    expect(everything.map((e) => e.seq)).toEqual(everything.map((_, i) => i + 1));
    // Other parts of the server write entries too (policy installation …): look at sign-ins and audit reads.
    const all = everything.filter((e) => e.action.startsWith('auth.') || e.action.startsWith('audit.'));
    expect(all.map((e) => [e.action, e.actor.kind, e.actor.username, e.resource.type, e.decision, e.detail['reason'] ?? null])).toEqual([
      ['auth.login', 'user', 'ana', 'user', null, null],
      ['audit.verify', 'user', 'ana', 'audit-trail', 'deny', null],
      ['audit.read', 'user', 'ana', 'audit-trail', 'deny', null],
      ['auth.login-refused', 'anonymous', null, 'user', null, 'bad-password'],
      ['auth.login-refused', 'anonymous', null, 'user', null, 'unknown-user'],
      ['auth.logout', 'user', 'ana', 'user', null, null],
      ['auth.login', 'user', 'olga', 'user', null, null],
      ['audit.verify', 'user', 'olga', 'audit-trail', 'allow', null],
      ['audit.read', 'user', 'olga', 'audit-trail', 'allow', null],
    ]);
    // The name typed at a failed sign-in is never recorded.
    expect(JSON.stringify(all)).not.toContain('typo-user-name');
    expect(all.find((e) => e.detail['reason'] === 'unknown-user')?.resource.id).toBeNull();
  });

  it('a lockout is recorded once, when it happens', async () => {
    await createUser(h.lab.control, { username: 'locky', displayName: 'Locky', role: 'analyst', password: PASSWORD });
    const from = (await auditTrailOf(h.lab.control).list({ limit: 1 })).headSeq + 1;
    for (let i = 0; i < 6; i++) await h.app.request('/api/auth/login', jsonPost({ username: 'locky', password: 'wrong-password-000' }));
    const olga = await signIn(h.app, 'olga', PASSWORD);
    const page = await (await h.app.request(`/api/audit?from=${from}&limit=500`, { headers: { cookie: olga.cookie } })).json() as Page;
    const mine = page.entries.filter((e) => e.action.startsWith('auth.lock') || e.action === 'auth.login-refused');
    expect(mine.map((e) => [e.action, e.detail['reason'] ?? null])).toEqual([
      ['auth.login-refused', 'bad-password'], ['auth.login-refused', 'bad-password'], ['auth.login-refused', 'bad-password'], ['auth.login-refused', 'bad-password'],
      ['auth.login-refused', 'locked-now'], ['auth.lockout', null],
      ['auth.login-refused', 'locked'],
    ]);
  });
});

describe('the job path is recorded: save, run (with the policy decision), release, result read, cancel', () => {
  const queue = new InlineQueue();
  const workers: DomainWorker[] = [];
  const PASSWORD = 'audit-jobs-pass-5678';
  const s1 = JSON.parse(readFileSync(new URL('../../examples/pipelines/s1-population-rollup.json', import.meta.url), 'utf8')) as { name: string; nodes: { id: string; params: Record<string, unknown> }[] };
  /** S1 reading the ID number (core-sensitive, L4): the default policy wants two officers' approval. */
  const s1L4 = structuredClone(s1);
  s1L4.name = 'S1 with an L4 filter';
  const active = s1L4.nodes.find((n) => n.id === 'active');
  if (active) active.params['condition'] = "status = 'active' AND NOT ends_with(id_number, 'X')";
  let lab: TestLab;
  let app: ReturnType<typeof buildApp>;

  beforeAll(async () => {
    lab = await createPgTestLab();
    const domains = {} as Record<DomainId, Database>;
    for (const d of DOMAIN_IDS) domains[d] = await lab.domain(d);
    await seedCity({ persons: 10_000, seed: 'audit', domains });
    const logger = createLogger('silent');
    for (const d of DOMAIN_IDS) workers.push(await startDomainWorker({ domain: d, db: domains[d], queue, logger }));
    await listenForResults(lab.control, queue, logger);
    app = buildApp({ control: lab.control, logger, queue, health: async () => ({ status: 'ok', mode: 'postgres', checks: {} }), config: { secureCookies: false } });
    await createUser(lab.control, { username: 'ana', displayName: 'Ana', role: 'analyst', password: PASSWORD });
  }, 240_000);
  afterAll(async () => {
    for (const w of workers) await w.stop();
    await queue.close();
    await lab?.drop();
  });

  it('writes one entry per step, each naming actor, resource, decision, policy version and pipeline hash', async () => {
    const ana = await signIn(app, 'ana', PASSWORD);
    const post = (path: string, body?: unknown) => app.request(path, { method: 'POST', headers: { cookie: ana.cookie, 'x-csrf-token': ana.csrfToken, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    const get = (path: string) => app.request(path, { headers: { cookie: ana.cookie } });
    const saved = await post('/api/pipelines', s1);
    expect(saved.status).toBe(201);
    const { id } = await saved.json() as { id: string };
    const run = await post(`/api/pipelines/${id}/runs`);
    expect(run.status).toBe(202);
    const { jobId } = await run.json() as { jobId: string };
    const trail = auditTrailOf(lab.control);
    const entries = async () => (await trail.list({ limit: 500 })).entries;
    // The job finishes and the coordinator records the stage's release.
    for (let i = 0; ; i++) {
      if ((await entries()).some((e) => e.action === 'job.stage.release')) break;
      if (i > 600) throw new Error('no release recorded');
      await new Promise((r) => setTimeout(r, 100));
    }
    expect((await get(`/api/jobs/${jobId}/result`)).status).toBe(200);
    // A run that waits for approval (so it never reaches a domain), then cancelled by its owner.
    const l4 = await (await post('/api/pipelines', s1L4)).json() as { id: string };
    const waiting = await (await post(`/api/pipelines/${l4.id}/runs`)).json() as { jobId: string; state: string };
    expect(waiting.state).toBe('awaiting_approval');
    expect((await post(`/api/jobs/${waiting.jobId}/cancel`)).status).toBe(200);

    const mine = new Set(['pipeline.save', 'job.run', 'job.stage.release', 'job.result.read', 'job.cancel']);
    const all = (await entries()).filter((e) => mine.has(e.action));
    const [hash, l4Hash] = all.filter((e) => e.action === 'pipeline.save').map((e) => e.pipelineHash);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(l4Hash).toMatch(/^[0-9a-f]{64}$/);
    expect(l4Hash).not.toBe(hash);
    const shape = all.map((e) => [e.action, e.actor.kind === 'user' ? e.actor.username : e.actor.kind, e.resource.type, e.resource.id, e.decision, e.policyVersion, e.pipelineHash]);
    expect(shape).toEqual([
      ['pipeline.save', 'ana', 'pipeline', id, null, null, hash],
      ['job.run', 'ana', 'job', jobId, 'allow', '1', hash],
      ['job.stage.release', 'system', 'job', jobId, null, null, null],
      ['job.result.read', 'ana', 'job', jobId, 'allow', '1', hash],
      ['pipeline.save', 'ana', 'pipeline', l4.id, null, null, l4Hash],
      ['job.run', 'ana', 'job', waiting.jobId, 'needs-approval', '1', l4Hash],
      ['job.cancel', 'ana', 'job', waiting.jobId, 'allow', '1', l4Hash],
    ]);
    expect(all[1]?.detail).toMatchObject({ pipelineId: id, state: 'queued', approvalsRequired: 0, maxLevel: 3, policies: ['staff-run'] });
    expect(all[5]?.detail).toMatchObject({ state: 'awaiting_approval', approvalsRequired: 2, maxLevel: 4 });
    expect(all[6]?.detail).toEqual({ from: 'awaiting_approval', to: 'cancelled' });
    expect(all.find((e) => e.action === 'job.result.read')?.detail).toEqual({ tables: 1 });
    // Nothing of the released table itself goes into the trail.
    expect(JSON.stringify(all)).not.toContain('"rows"');
    expect(await trail.verify()).toMatchObject({ ok: true });
  });
});
