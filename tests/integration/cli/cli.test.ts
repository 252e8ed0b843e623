import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyPassword } from '../../../server/services/auth.service.ts';
import { createPgTestLab, type TestLab } from '../../support/pg-lab.ts';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from '../../support/test-env.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** Runs `npm run lab -- …` the way a person does (node + tsx, no npm wrapper noise). */
function lab(args: string[], env: Record<string, string> = {}, input?: string) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'server/main.ts', ...args], {
    cwd: ROOT, encoding: 'utf8', input: input ?? '', timeout: 60_000,
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', LAB_LOG_LEVEL: 'silent', ...env },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('lab CLI: bad input gets a clear message and a non-zero exit', () => {
  it.each([
    [['frobnicate'], 'unknown command: frobnicate'],
    [['seed', '--persons', 'many', '--seed', 'x'], '--persons must be a whole number from 10000 to 25000000'],
    [['seed', '--persons', '5', '--seed', 'x'], '--persons must be a whole number'],
    [['seed', '--persons', '10000'], '--seed is required'],
    [['seed', '--persons', '10000', '--seed', 'x', '--colour', 'red'], "Unknown option '--colour'"],
    [['user', 'add', '--username', 'x', '--role', 'emperor'], '--role must be one of'],
    [['worker', '--domain', 'tax'], '--domain must be one of'],
    [['reset'], 'confirm with --yes'],
  ])('%j', (args, message) => {
    const r = lab(args);
    expect(r.code).toBe(2);
    expect(r.err).toContain('LAB-E030');
    expect(r.err).toContain(message);
  });

  it('half-configured services are refused before anything starts', () => {
    const r = lab(['migrate'], { DATABASE_URL: TEST_DATABASE_URL });
    expect(r.code).toBe(2);
    expect(r.err).toContain('LAB-E031');
    expect(r.err).toContain('REDIS_URL');
  });

  it('an unreachable database is named without its password', () => {
    const r = lab(['migrate'], { DATABASE_URL: 'postgres://admin:hunter2-secret@127.0.0.1:1/postgres', REDIS_URL: TEST_REDIS_URL, LAB_DATA_DIR: '/tmp/lab-cli-unreachable' });
    expect(r.code).toBe(1);
    expect(r.err).toContain('LAB-E020');
    expect(r.err).toContain('127.0.0.1:1');
    expect(r.err).not.toContain('hunter2');
  });

  it('an unreachable Redis stops the start before any database is provisioned', async () => {
    const r = lab(['start'], { DATABASE_URL: TEST_DATABASE_URL, REDIS_URL: 'redis://127.0.0.1:1', LAB_DB_PREFIX: 'never_made', LAB_DATA_DIR: '/tmp/lab-cli-noredis', PORT: '0' });
    expect(r.code).toBe(1);
    expect(r.err).toContain('LAB-E021');
    const admin = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
    const made = await admin`SELECT datname FROM pg_database WHERE datname LIKE 'never_made%'`;
    await admin.end();
    expect(made).toHaveLength(0);
  });

  it('help lists the commands', () => {
    const r = lab(['help']);
    expect(r.code).toBe(0);
    for (const c of ['start', 'migrate', 'seed', 'user add', 'worker', 'reset']) expect(r.out).toContain(c);
  });
});

describe('lab CLI: user add against real Postgres', () => {
  let t: TestLab;
  let env: Record<string, string>;
  beforeAll(async () => {
    t = await createPgTestLab();
    env = { DATABASE_URL: TEST_DATABASE_URL, REDIS_URL: TEST_REDIS_URL, LAB_DB_PREFIX: t.cfg.dbPrefix, LAB_DATA_DIR: t.cfg.dataDir };
  });
  afterAll(async () => { await t?.drop(); });

  it('creates a steward with the password from standard input, never echoing it', async () => {
    const r = lab(['user', 'add', '--username', 'chen.jing', '--role', 'steward', '--domain', 'housing', '--display-name', '陈静'], env, 'a-long-enough-password\n');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('chen.jing');
    expect(r.out + r.err).not.toContain('a-long-enough-password');
    const u = await t.control.kysely.selectFrom('app_user').selectAll().where('username', '=', 'chen.jing').executeTakeFirstOrThrow();
    expect(u).toMatchObject({ role: 'steward', domain: 'housing', display_name: '陈静' });
    expect(u.password_hash).toMatch(/^\$argon2id\$/);
    expect(await verifyPassword(u.password_hash, 'a-long-enough-password')).toBe(true);
  });

  it('refuses a duplicate, a short password and a steward without a domain', () => {
    expect(lab(['user', 'add', '--username', 'chen.jing', '--role', 'analyst'], env, 'another-long-password\n')).toMatchObject({ code: 2 });
    const short = lab(['user', 'add', '--username', 'li.lei', '--role', 'analyst'], env, 'short\n');
    expect(short.code).toBe(2);
    expect(short.err).toContain('LAB-E003');
    const noDomain = lab(['user', 'add', '--username', 'li.lei', '--role', 'steward'], env, 'a-long-enough-password\n');
    expect(noDomain.code).toBe(2);
  });
});
