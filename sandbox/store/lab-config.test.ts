import { describe, expect, it } from 'vitest';
import { readConfig, redactUrl } from './lab-config.ts';

describe('readConfig', () => {
  it('defaults to embedded mode on port 8080 with .lab-data', () => {
    const c = readConfig({});
    expect(c.mode).toBe('embedded');
    expect(c.port).toBe(8080);
    expect(c.dataDir.endsWith('.lab-data')).toBe(true);
    expect(c.dbPrefix).toBe('lab');
  });

  it('uses Postgres and BullMQ when both URLs are set', () => {
    const c = readConfig({ DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/postgres', REDIS_URL: 'redis://127.0.0.1:6379', PORT: '9001', LAB_DATA_DIR: '/tmp/x' });
    expect(c).toMatchObject({ mode: 'postgres', port: 9001, dataDir: '/tmp/x', redisUrl: 'redis://127.0.0.1:6379' });
  });

  it.each([
    [{ DATABASE_URL: 'postgres://a@b/c' }, 'REDIS_URL'],
    [{ DATABASE_URL: 'mysql://a@b/c', REDIS_URL: 'redis://x' }, 'DATABASE_URL'],
    [{ DATABASE_URL: 'postgres://a@b/c', REDIS_URL: 'http://x' }, 'REDIS_URL'],
    [{ PORT: 'eighty' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ LAB_DB_PREFIX: 'Lab; DROP' }, 'LAB_DB_PREFIX'],
  ])('refuses %j naming %s', (env, field) => {
    expect(() => readConfig(env)).toThrow(expect.objectContaining({ code: 'LAB-E031', field }));
  });

  it('never shows a password in a redacted URL', () => {
    expect(redactUrl('postgres://lab_control:s3cret@127.0.0.1:5432/lab_control')).not.toContain('s3cret');
  });
});
