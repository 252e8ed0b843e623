import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SUITE, HashToCurve, POINT_BYTES, PSI_HEADER_BYTES, packItems } from '../../sandbox/crypto/psi/index.ts';
import { BullQueue } from '../../sandbox/runtime/queue/bullmq.queue.ts';
import { InlineQueue } from '../../sandbox/runtime/queue/inline.queue.ts';
import type { StageMessage } from '../../sandbox/runtime/queue/queue-driver.ts';
import { heldPsiSessions, type PsiOutcome, type PsiPayload } from '../../sandbox/runtime/worker/psi-step.ts';
import { waitForJob } from '../support/api-client.ts';
import { runAsAnalyst, startPsiLab, type PsiLab } from '../support/psi-lab.ts';
import { TEST_REDIS_URL } from '../support/test-env.ts';

/**
 * What crosses the coordinator in a pipeline with PSI steps (issue 5): the social branch of S4a
 * (employment anti-joined with the registry on ID numbers, by district, and a follow-up list).
 *  - Transport canary: with BullMQ on Redis, an ID number in both domains and one only in social
 *    never appear — as text, UTF-16, hex, base64 at any alignment, a plain hash (MD5, SHA-1, SHA-256),
 *    or its unblinded hash-to-curve point — in any queue message or answer, any Redis key or value,
 *    any control-database row, or the server's log; no 18-character ID number appears at all.
 *  - A compromised coordinator that replays, drops, reorders, swaps or flips a byte of a relayed
 *    message gets a clear failure (LAB-E164 naming the domain's PSI error) or the right answer,
 *    never a wrong one; the receiver's key is wiped after success, failure and cancel.
 */
const s4a = JSON.parse(readFileSync(new URL('../../examples/pipelines/s4-suspected-unregistered.json', import.meta.url), 'utf8')) as { nodes: { id: string }[] } & Record<string, unknown>;
const SOCIAL_NODES = new Set(['registry', 'employment', 'emp_w', 'emp_unreg', 'emp_by_district', 'out_social', 'list_social']);
const socialOnly = { ...s4a, name: 'S4a social only', nodes: s4a.nodes.filter((n) => SOCIAL_NODES.has(n.id)) };
/** Two steps side by side (social and grid against the registry), for swapping messages between sessions. */
const GRID_NODES = new Set([...SOCIAL_NODES, 'visits', 'vis_w', 'vis_unreg', 'vis_by_district', 'out_grid']);
const socialAndGrid = { ...s4a, name: 'S4a social and grid', nodes: s4a.nodes.filter((n) => GRID_NODES.has(n.id)) };

const psiOf = (m: StageMessage): PsiPayload | undefined => {
  const p = m.payload as Partial<PsiPayload> | null;
  return p && p.type === 'psi' ? p as PsiPayload : undefined;
};

/** Every form of an ID number a careless transport could carry. */
function needles(id: string): { name: string; bytes: Buffer }[] {
  const out: { name: string; bytes: Buffer }[] = [];
  const add = (name: string, v: string | Buffer) => out.push({ name, bytes: typeof v === 'string' ? Buffer.from(v, 'utf8') : v });
  add('utf8', id);
  add('lower', id.toLowerCase());
  add('utf16le', Buffer.from(id, 'utf16le'));
  add('hex', Buffer.from(id).toString('hex'));
  add('HEX', Buffer.from(id).toString('hex').toUpperCase());
  // Base64 of the ID inside a longer text, at each of the three alignments: the stable middle part.
  for (let shift = 0; shift < 3; shift++) {
    const b = Buffer.concat([Buffer.alloc(shift, 0x20), Buffer.from(id)]).toString('base64');
    const start = Math.ceil(shift * 4 / 3) + 4;
    add(`base64@${shift}`, b.slice(start, start + 16));
  }
  for (const alg of ['md5', 'sha1', 'sha256', 'sha512'] as const) {
    const h = createHash(alg).update(id).digest();
    add(`${alg}-hex`, h.toString('hex'));
    add(`${alg}-base64`, h.toString('base64').slice(0, 20));
    add(`${alg}-raw`, h);
  }
  // The unblinded hash-to-curve point H(id): a dictionary could be run against it.
  const point = Buffer.alloc(32);
  new HashToCurve(DEFAULT_SUITE).hashPacked(packItems([id]), 0, 1, point, 0);
  add('h2c-raw', point);
  add('h2c-base64', point.toString('base64').slice(0, 40));
  add('h2c-hex', point.toString('hex'));
  return out;
}

/** Every byte the coordinator side holds or saw: messages (and the PSI bytes inside), Redis, control DB, log. */
async function haystacks(l: PsiLab, redisPrefix: string | undefined): Promise<{ name: string; bytes: Buffer }[]> {
  const out: { name: string; bytes: Buffer }[] = [];
  const json = (name: string, v: unknown) => out.push({ name, bytes: Buffer.from(JSON.stringify(v), 'utf8') });
  const psiBytes = (name: string, msgs: readonly string[] | undefined) => { for (const [i, m] of (msgs ?? []).entries()) out.push({ name: `${name}#${i}`, bytes: Buffer.from(m, 'base64') }); };
  for (const m of l.relay.sent) {
    json(`sent ${m.key}`, m);
    psiBytes(`sent ${m.key}`, psiOf(m)?.messages);
  }
  for (const r of l.relay.heard) {
    json(`heard ${r.key}`, r);
    if (r.ok) psiBytes(`heard ${r.key}`, (r.value as Partial<{ messages: string[] }> | null)?.messages);
  }
  if (redisPrefix) {
    const redis = new Redis(TEST_REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect();
    try {
      const keys = await redis.keys(`${redisPrefix}:*`);
      for (const k of keys) {
        const type = await redis.type(k);
        let v: unknown;
        if (type === 'string') v = await redis.getBuffer(k);
        else if (type === 'hash') v = await redis.hgetall(k);
        else if (type === 'list') v = await redis.lrange(k, 0, -1);
        else if (type === 'set') v = await redis.smembers(k);
        else if (type === 'zset') v = await redis.zrange(k, '0', '-1');
        else if (type === 'stream') v = await redis.xrange(k, '-', '+');
        out.push({ name: `redis key ${k}`, bytes: Buffer.from(k) });
        out.push({ name: `redis ${type} ${k}`, bytes: Buffer.isBuffer(v) ? v : Buffer.from(JSON.stringify(v)) });
        // Values that are job data or return values hold base64 PSI messages: their bytes too.
        const text = Buffer.isBuffer(v) ? v.toString('utf8') : JSON.stringify(v);
        for (const b64 of text.match(/[A-Za-z0-9+/]{64,}={0,2}/g) ?? []) out.push({ name: `redis b64 ${k}`, bytes: Buffer.from(b64, 'base64') });
      }
      expect(keys.length).toBeGreaterThan(5);
    } finally {
      redis.disconnect();
    }
  }
  const tables = await l.lab.control.readOnlyQuery<{ table_name: string }>("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'", [], { timeoutMs: 10_000 });
  expect(tables.length).toBeGreaterThan(5);
  for (const t of tables) {
    if (!/^[a-z_][a-z0-9_]*$/.test(t.table_name)) throw new Error(t.table_name);
    const rows = await l.lab.control.readOnlyQuery<{ v: string | null }>(`SELECT string_agg(t::text, E'\\n') AS v FROM "${t.table_name}" t`, [], { timeoutMs: 30_000 });
    out.push({ name: `control ${t.table_name}`, bytes: Buffer.from(rows[0]?.v ?? '', 'utf8') });
  }
  out.push({ name: 'server log', bytes: Buffer.from(l.log.join(''), 'utf8') });
  return out;
}

describe('transport canary: a run with PSI steps over BullMQ leaves no ID number in anything the coordinator holds', () => {
  let l: PsiLab;
  const prefix = `labpsi${randomBytes(3).toString('hex')}`;
  let registered = '';
  let unregistered = '';

  beforeAll(async () => {
    l = await startPsiLab(new BullQueue(TEST_REDIS_URL, prefix), 'psi-canary');
    // The canaries: one ID number in both domains (a match), one in social only (a follow-up row).
    const emp = new Set((await l.domains.social.readOnlyQuery<{ id: string }>('SELECT DISTINCT id_number AS id FROM employment WHERE end_date IS NULL', [], { timeoutMs: 30_000 })).map((r) => r.id));
    const reg = await l.domains.registry.readOnlyQuery<{ id: string }>('SELECT id_number AS id FROM person ORDER BY id_number', [], { timeoutMs: 30_000 });
    registered = reg.map((r) => r.id).find((id) => emp.has(id)) ?? '';
    unregistered = l.truth.s4a.idNumbers.find((id) => emp.has(id)) ?? '';
    expect(registered).toMatch(/^\d{17}[\dX]$/);
    expect(unregistered).toMatch(/^\d{17}[\dX]$/);
    const jobId = await runAsAnalyst(l, socialOnly);
    const analyst = await l.signIn('analyst');
    expect(await waitForJob(analyst, jobId, 180_000)).toMatchObject({ state: 'succeeded' });
    const steward = await l.signIn('steward.social');
    const rows = await (await steward.get(`/api/domains/social/follow-ups/${jobId}~list_social`)).json() as { rows: string[] };
    // The canary is on the list the steward reads (in the domain) — and nowhere on the coordinator's side.
    expect(rows.rows).toContain(unregistered);
    expect(rows.rows).not.toContain(registered);
  }, 400_000);
  afterAll(async () => {
    const b = l?.relay.inner as BullQueue | undefined;
    await b?.obliterateAll().catch(() => undefined);
    await l?.close();
  });

  it('the run relayed real PSI traffic through Redis (the check has something to look at)', () => {
    const phases = l.relay.sent.map(psiOf).filter((p) => p !== undefined).map((p) => p.phase);
    expect(phases).toEqual(expect.arrayContaining(['receiver-start', 'sender', 'receiver-finish', 'end']));
    const relayed = l.relay.sent.flatMap((m) => psiOf(m)?.messages ?? []);
    expect(relayed.reduce((a, m) => a + Buffer.from(m, 'base64').length, 0)).toBeGreaterThan(32 * 1000);
  });

  it('no planted ID number in any encoding, in messages, Redis, the control database or the log; no ID number at all', async () => {
    const hay = await haystacks(l, prefix);
    const found: string[] = [];
    for (const id of [registered, unregistered]) {
      for (const n of needles(id)) for (const h of hay) if (h.bytes.includes(n.bytes)) found.push(`${n.name} of ${id === registered ? 'registered' : 'unregistered'} in ${h.name}`);
    }
    expect(found).toEqual([]);
    const anyId = hay.filter((h) => /(?<!\d)\d{17}[\dX](?!\d)/.test(h.bytes.toString('latin1')) && !h.name.startsWith('redis b64') && !h.name.includes('#')).map((h) => h.name);
    expect(anyId).toEqual([]);
  });

  it('the check finds a planted value when it is there (self-test)', async () => {
    const hay = [{ name: 'x', bytes: Buffer.from(JSON.stringify({ m: Buffer.from(`ab${registered}cd`).toString('base64') })) }];
    const hit = needles(registered).filter((n) => hay.some((h) => h.bytes.includes(n.bytes))).map((n) => n.name);
    expect(hit.some((n) => n.startsWith('base64@'))).toBe(true);
    const point = needles(registered).find((n) => n.name === 'h2c-raw')?.bytes;
    expect(point?.length).toBe(32);
  });
});

describe('a compromised coordinator: replayed, dropped, reordered, swapped or altered messages fail clearly, never answer wrongly', () => {
  let l: PsiLab;
  let honest: string[] | null = null;

  const outcome = async (doc: unknown) => {
    const jobId = await runAsAnalyst(l, doc);
    const analyst = await l.signIn('analyst');
    const job = await waitForJob(analyst, jobId, 180_000) as { state: string; error: { code?: string; en?: string } | null };
    const res = await analyst.get(`/api/jobs/${jobId}/result`);
    const tables = res.status === 200 ? (await res.json() as { tables: unknown[] }).tables : null;
    // The exact membership: the follow-up list the social steward reads (the guarded counts could hide a change).
    const steward = await l.signIn('steward.social');
    const list = job.state === 'succeeded' ? (await (await steward.get(`/api/domains/social/follow-ups/${jobId}~list_social`)).json() as { rows: string[] }).rows : null;
    return { jobId, job, tables, list };
  };
  /** The answers the receiver gave for one job's PSI phases (their wipe reports). */
  const answers = (jobId: string) => l.relay.heard.filter((r) => r.key.startsWith(`${jobId}.psi~`)).map((r) => ({ key: r.key, value: (r.ok ? r.value : undefined) as PsiOutcome | undefined }));
  const membersLeft = async () => Number((await l.domains.social.readOnlyQuery<{ n: string }>('SELECT count(*)::text AS n FROM lab_psi_member', [], { timeoutMs: 10_000 }))[0]?.n);
  const waitMembersGone = async () => { for (let i = 0; i < 100 && (await membersLeft()) > 0; i++) await new Promise((r) => setTimeout(r, 100)); return membersLeft(); };

  beforeAll(async () => {
    l = await startPsiLab(new InlineQueue(), 'psi-tamper');
    const h = await outcome(socialOnly);
    expect(h.job.state).toBe('succeeded');
    honest = h.list;
    expect(honest?.length).toBeGreaterThan(50);
    expect(answers(h.jobId).find((a) => a.key.endsWith('-receiver-finish'))?.value?.wiped).toEqual({ keyZeroed: true, threadCopiesZeroed: true });
    expect(answers(h.jobId).find((a) => a.key.endsWith('-sender'))?.value?.wiped).toEqual({ keyZeroed: true, threadCopiesZeroed: true });
  }, 400_000);
  afterAll(async () => { l.relay.tamper = undefined; await l?.close(); });

  const tamperPhase = (phase: PsiPayload['phase'], change: (messages: string[]) => string[]) => {
    let done = false;
    l.relay.tamper = (m) => {
      const p = psiOf(m);
      if (done || !p || p.phase !== phase) return m;
      done = true;
      return { ...m, payload: { ...p, messages: change([...p.messages]) } };
    };
  };
  const expectClearFailure = async (doc: unknown, code: RegExp) => {
    const o = await outcome(doc);
    l.relay.tamper = undefined;
    expect(o.job.state).toBe('failed');
    expect(o.job.error?.code).toBe('LAB-E164');
    expect(o.job.error?.en).toMatch(code);
    expect(o.tables).toBeNull();
    // The failing party wiped its key; nothing was written; no session is left.
    const failedAnswer = answers(o.jobId).find((a) => a.value && !a.value.ok);
    expect(failedAnswer?.value?.wiped).toEqual({ keyZeroed: true, threadCopiesZeroed: true });
    expect(await waitMembersGone()).toBe(0);
    expect(heldPsiSessions()).toBe(0);
    return o;
  };
  
  it('replayed: a message of the sender relayed twice → LAB-E164 (out of sequence), nothing released', async () => {
    tamperPhase('receiver-finish', (ms) => [...ms, ms[0] ?? '']);
    await expectClearFailure(socialOnly, /LAB-E10[03]/);
  });

  it('dropped: the receiver never gets the re-blinded list → LAB-E164 (incomplete)', async () => {
    tamperPhase('receiver-finish', (ms) => ms.slice(0, -1));
    await expectClearFailure(socialOnly, /LAB-E164|incomplete/);
  });

  it('dropped before the sender: the receiver\u2019s list withheld → LAB-E164', async () => {
    tamperPhase('sender', () => []);
    await expectClearFailure(socialOnly, /incomplete/);
  });

  /** Reverses the order of the points inside every re-blinded batch (kind 2): all still valid points. */
  const permuteReblinded = (b64: string) => {
    const b = Buffer.from(b64, 'base64');
    if (b[5] !== 2) return b64;
    const count = (b.length - PSI_HEADER_BYTES) / POINT_BYTES;
    const out = Buffer.from(b);
    for (let k = 0; k < count; k++) b.copy(out, PSI_HEADER_BYTES + (count - 1 - k) * POINT_BYTES, PSI_HEADER_BYTES + k * POINT_BYTES, PSI_HEADER_BYTES + (k + 1) * POINT_BYTES);
    return out.toString('base64');
  };

  // Open (docs/protocols.md, "What a compromised coordinator can do"): the messages carry no
  // authentication between the two domains, so a coordinator that permutes valid points of the
  // re-blinded list moves matches between the receiver's items and the answer is wrong. Closing it
  // needs domain identity keys (signed messages); until then this test documents the gap.
  it.fails('permuted: the points of the re-blinded list reordered inside their batch → a clear failure or the same members (open: no integrity between domains yet)', async () => {
    tamperPhase('receiver-finish', (ms) => ms.map(permuteReblinded));
    const o = await outcome(socialOnly);
    l.relay.tamper = undefined;
    if (o.job.state === 'succeeded') expect(o.list).toEqual(honest);
    else expect(o.job.error?.code).toBe('LAB-E164');
  });

  it('reordered: the sender\u2019s messages relayed in the other order → exactly the same members (the protocol does not depend on order)', async () => {
    tamperPhase('receiver-finish', (ms) => [...ms].reverse());
    const o = await outcome(socialOnly);
    l.relay.tamper = undefined;
    expect(o.job.state).toBe('succeeded');
    expect(o.list).toEqual(honest);
  });

  it('swapped: messages of one step relayed into another step\u2019s session → LAB-E164 (another session, LAB-E101)', async () => {
    // Hold the social sender's answer and give it to the grid receiver instead (and vice versa).
    const held = new Map<string, string[]>();
    l.relay.tamper = (m) => {
      const p = psiOf(m);
      if (!p || p.phase !== 'receiver-finish') return m;
      held.set(p.stepId, p.messages);
      const other = [...held.keys()].find((k) => k !== p.stepId);
      if (other) return { ...m, payload: { ...p, messages: held.get(other) ?? [] } };
      return { ...m, payload: { ...p, messages: [] } };
    };
    const o = await outcome(socialAndGrid);
    l.relay.tamper = undefined;
    expect(o.job.state).toBe('failed');
    expect(o.job.error?.code).toBe('LAB-E164');
    expect(o.tables).toBeNull();
    expect(await waitMembersGone()).toBe(0);
    expect(heldPsiSessions()).toBe(0);
  });

  it('replayed from an earlier job: an old run\u2019s messages into a new session → LAB-E101, nothing released', async () => {
    const old = l.relay.sent.map(psiOf).find((p) => p?.phase === 'receiver-finish' && p.messages.length > 0);
    expect(old).toBeDefined();
    tamperPhase('receiver-finish', () => [...(old?.messages ?? [])]);
    await expectClearFailure(socialOnly, /LAB-E101/);
  });

  it('a condition on the sender\u2019s side that singles out one person is refused there before any item is read (LAB-E125, as LAB-E164)', async () => {
    const [one] = await l.domains.registry.readOnlyQuery<{ id: string }>('SELECT id_number AS id FROM person ORDER BY person_id LIMIT 1', [], { timeoutMs: 10_000 });
    const doc = {
      ...socialOnly, name: 'one person on the sender side',
      nodes: [...socialOnly.nodes.map((n) => (n.id === 'emp_unreg' ? { ...n, inputs: { left: 'emp_w', right: 'one' } } : n)),
        { id: 'one', op: 'filter@1', inputs: { rows: 'registry' }, params: { condition: `id_number = '${one?.id ?? ''}'` } }],
    };
    const o = await outcome(doc);
    expect(o.job.state).toBe('failed');
    expect(o.job.error?.code).toBe('LAB-E164');
    expect(o.job.error?.en).toMatch(/LAB-E125/);
    expect(o.tables).toBeNull();
    expect(l.relay.sent.some((m) => m.key.startsWith(`${o.jobId}.`) && m.key.endsWith('-receiver-finish'))).toBe(false);
    expect(await waitMembersGone()).toBe(0);
    for (let i = 0; i < 100 && heldPsiSessions() > 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(heldPsiSessions()).toBe(0);
  });

  it('cancelled while the receiver holds its key: the job\u2019s end wipes it (the receiver reports it)', async () => {
    // Withhold the sender phase, so the receiver's session waits; then cancel.
    let withheld = false;
    l.relay.tamper = (m) => {
      const p = psiOf(m);
      if (p?.phase === 'sender') { withheld = true; return undefined; }
      return m;
    };
    const jobId = await runAsAnalyst(l, socialOnly);
    for (let i = 0; i < 300 && !withheld; i++) await new Promise((r) => setTimeout(r, 100));
    expect(withheld).toBe(true);
    expect(heldPsiSessions()).toBe(1);
    const analyst = await l.signIn('analyst');
    expect((await analyst.post(`/api/jobs/${jobId}/cancel`)).status).toBe(200);
    l.relay.tamper = undefined;
    for (let i = 0; i < 100 && heldPsiSessions() > 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(heldPsiSessions()).toBe(0);
    for (let i = 0; i < 100 && !answers(jobId).some((a) => a.key.endsWith('-end')); i++) await new Promise((r) => setTimeout(r, 100));
    const end = answers(jobId).find((a) => a.key.endsWith('-end'));
    expect(end?.value).toMatchObject({ ok: true, wiped: { keyZeroed: true, threadCopiesZeroed: true } });
    expect((await analyst.get(`/api/jobs/${jobId}`)).status).toBe(200);
    expect((await (await analyst.get(`/api/jobs/${jobId}`)).json() as { state: string }).state).toBe('cancelled');
  });
});
