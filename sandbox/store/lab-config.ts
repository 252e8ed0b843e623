import { resolve } from 'node:path';
import { LabError, t } from '../errors/index.ts';

/**
 * Run configuration, read from the environment. These names are contracts:
 * PORT, LAB_DATA_DIR, DATABASE_URL, REDIS_URL, LAB_DEMO_PASSWORD, LAB_DB_PREFIX, LAB_LOG_LEVEL.
 */
export interface LabConfig {
  /** `embedded`: PGlite + in-process queue. `postgres`: Postgres + BullMQ. */
  readonly mode: 'embedded' | 'postgres';
  readonly port: number;
  /** Embedded databases and per-process secrets live here. */
  readonly dataDir: string;
  /** Postgres admin URL (postgres mode only); used to provision, never handed to the server or workers. */
  readonly adminUrl: string | undefined;
  readonly redisUrl: string | undefined;
  /** Prefix of database and role names (postgres mode), so several labs can share a server. */
  readonly dbPrefix: string;
  readonly demoPassword: string | undefined;
  readonly logLevel: string;
}

export function readConfig(env: NodeJS.ProcessEnv = process.env): LabConfig {
  const adminUrl = nonEmpty(env['DATABASE_URL']);
  const redisUrl = nonEmpty(env['REDIS_URL']);
  if (adminUrl && !redisUrl) {
    throw new LabError('LAB-E031', {
      detail: t('设置了 DATABASE_URL 但未设置 REDIS_URL', 'DATABASE_URL is set but REDIS_URL is not'),
      hint: t('两者都设置（Postgres + BullMQ），或都不设置（内置模式）', 'Set both (Postgres + BullMQ) or neither (embedded mode)'),
      field: 'REDIS_URL',
    });
  }
  if (adminUrl && !/^postgres(ql)?:\/\//.test(adminUrl)) {
    throw new LabError('LAB-E031', { detail: t('DATABASE_URL 必须是 postgres:// 地址', 'DATABASE_URL must be a postgres:// URL'), field: 'DATABASE_URL' });
  }
  if (redisUrl && !/^rediss?:\/\//.test(redisUrl)) {
    throw new LabError('LAB-E031', { detail: t('REDIS_URL 必须是 redis:// 地址', 'REDIS_URL must be a redis:// URL'), field: 'REDIS_URL' });
  }
  const portText = env['PORT'] ?? '8080';
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new LabError('LAB-E031', { detail: t(`PORT 不是有效端口：${portText}`, `PORT is not a valid port: ${portText}`), field: 'PORT' });
  }
  const dbPrefix = env['LAB_DB_PREFIX'] ?? 'lab';
  if (!/^[a-z][a-z0-9_]{0,30}$/.test(dbPrefix)) {
    throw new LabError('LAB-E031', { detail: t('LAB_DB_PREFIX 只能含小写字母、数字、下划线', 'LAB_DB_PREFIX may hold only lower-case letters, digits and underscores'), field: 'LAB_DB_PREFIX' });
  }
  return {
    mode: adminUrl ? 'postgres' : 'embedded',
    port,
    dataDir: resolve(env['LAB_DATA_DIR'] ?? '.lab-data'),
    adminUrl,
    redisUrl,
    dbPrefix,
    demoPassword: nonEmpty(env['LAB_DEMO_PASSWORD']),
    logLevel: env['LAB_LOG_LEVEL'] ?? 'info',
  };
}

const nonEmpty = (s: string | undefined) => (s && s.trim() !== '' ? s.trim() : undefined);

/** The URL with any password removed, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}
