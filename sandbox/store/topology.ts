import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import postgres from 'postgres';
import { DOMAIN_IDS, type DomainId } from '../domains/domain-ids.ts';
import { LabError, t } from '../errors/index.ts';
import type { Database } from './database.ts';
import type { LabConfig } from './lab-config.ts';
import { redactUrl } from './lab-config.ts';
import { openPGlite } from './pglite.database.ts';
import { openPostgres, type PostgresOptions } from './postgres.database.ts';

/**
 * Which databases the lab has and who may open them.
 *
 * Postgres mode: database `<prefix>_control` owned by role `<prefix>_control`; per domain a database
 * `<prefix>_<domain>` owned by role `<prefix>_<domain>`. CONNECT is revoked from PUBLIC, so a role can
 * connect only to its own database (I1, I2). Each role's URL is written to its own file
 * `<dataDir>/secrets/<name>.json` (mode 0600): the server process reads only `control.json`, the
 * worker of a domain only its own file.
 *
 * Embedded mode: one PGlite folder per database under `<dataDir>/pglite/<name>`; everything runs in
 * one process, so the separation is by code path only (documented in docs/architecture.md).
 */
export type DbName = 'control' | DomainId;
export const DB_NAMES: readonly DbName[] = ['control', ...DOMAIN_IDS];

export const pgDatabaseName = (cfg: LabConfig, name: DbName) => `${cfg.dbPrefix}_${name}`;
export const pgRoleName = (cfg: LabConfig, name: DbName) => `${cfg.dbPrefix}_${name}`;
export const secretPath = (cfg: LabConfig, name: DbName) => join(cfg.dataDir, 'secrets', `${name}.json`);

interface Secret { url: string }

function readSecret(cfg: LabConfig, name: DbName): Secret | undefined {
  const p = secretPath(cfg, name);
  if (!existsSync(p)) return undefined;
  const parsed: unknown = JSON.parse(readFileSync(p, 'utf8'));
  if (typeof parsed === 'object' && parsed !== null && 'url' in parsed && typeof parsed.url === 'string') return { url: parsed.url };
  throw new LabError('LAB-E031', { detail: t(`凭据文件格式错误：${p}`, `credential file is malformed: ${p}`) });
}

function writeSecret(cfg: LabConfig, name: DbName, secret: Secret): void {
  const dir = join(cfg.dataDir, 'secrets');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const p = secretPath(cfg, name);
  writeFileSync(p, JSON.stringify(secret) + '\n', { mode: 0o600 });
  chmodSync(p, 0o600);
}

/** Creates (idempotently) every database and role. Needs the admin URL. Postgres mode only. */
export async function provisionPostgres(cfg: LabConfig): Promise<void> {
  if (!cfg.adminUrl) throw new Error('provisionPostgres needs DATABASE_URL');
  const admin = postgres(cfg.adminUrl, { max: 1, onnotice: () => {} });
  try {
    try {
      await admin`SELECT 1`;
    } catch (cause) {
      throw new LabError('LAB-E020', {
        detail: t(`无法连接 Postgres（${redactUrl(cfg.adminUrl)}）`, `cannot connect to Postgres at ${redactUrl(cfg.adminUrl)}`),
        hint: t('检查 DATABASE_URL 与数据库是否已启动', 'Check DATABASE_URL and that the server is running'),
        cause,
      });
    }
    const adminUrl = new URL(cfg.adminUrl);
    for (const name of DB_NAMES) {
      const role = pgRoleName(cfg, name);
      const dbName = pgDatabaseName(cfg, name);
      let secret = readSecret(cfg, name);
      const password = secret ? new URL(secret.url).password || randomBytes(24).toString('base64url') : randomBytes(24).toString('base64url');
      // Identifiers come from validated config (prefix) and fixed names; the password is generated
      // here from [A-Za-z0-9_-] only, so no user text reaches this SQL.
      const [roleRow] = await admin`SELECT 1 AS x FROM pg_roles WHERE rolname = ${role}`;
      if (!roleRow) {
        await admin.unsafe(`CREATE ROLE "${role}" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT PASSWORD '${password}'`);
      } else {
        await admin.unsafe(`ALTER ROLE "${role}" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT PASSWORD '${password}'`);
      }
      const [dbRow] = await admin`SELECT 1 AS x FROM pg_database WHERE datname = ${dbName}`;
      if (!dbRow) await admin.unsafe(`CREATE DATABASE "${dbName}" OWNER "${role}" TEMPLATE template0 ENCODING 'UTF8'`);
      await admin.unsafe(`REVOKE ALL ON DATABASE "${dbName}" FROM PUBLIC`);
      await admin.unsafe(`GRANT CONNECT, TEMPORARY ON DATABASE "${dbName}" TO "${role}"`);
      // Inside the database: the public schema belongs to the owner role; PUBLIC gets nothing.
      const inDb = new URL(cfg.adminUrl);
      inDb.pathname = `/${dbName}`;
      const adminInDb = postgres(inDb.toString(), { max: 1, onnotice: () => {} });
      try {
        await adminInDb.unsafe(`ALTER SCHEMA public OWNER TO "${role}"`);
        await adminInDb.unsafe(`REVOKE ALL ON SCHEMA public FROM PUBLIC`);
      } finally {
        await adminInDb.end();
      }
      const url = new URL(adminUrl.toString());
      url.username = role;
      url.password = password;
      url.pathname = `/${dbName}`;
      secret = { url: url.toString() };
      writeSecret(cfg, name, secret);
    }
  } finally {
    await admin.end();
  }
}

/** Removes every database and role of this prefix (tests and `lab reset`). */
export async function dropPostgres(cfg: LabConfig): Promise<void> {
  if (!cfg.adminUrl) throw new Error('dropPostgres needs DATABASE_URL');
  const admin = postgres(cfg.adminUrl, { max: 1, onnotice: () => {} });
  try {
    for (const name of DB_NAMES) {
      await admin.unsafe(`DROP DATABASE IF EXISTS "${pgDatabaseName(cfg, name)}" WITH (FORCE)`);
      await admin.unsafe(`DROP ROLE IF EXISTS "${pgRoleName(cfg, name)}"`);
    }
  } finally {
    await admin.end();
  }
}

/** The connection URL of one database's own role (postgres mode). Reads only that role's file. */
export function roleUrl(cfg: LabConfig, name: DbName): string {
  const secret = readSecret(cfg, name);
  if (!secret) {
    throw new LabError('LAB-E031', {
      detail: t(`缺少 ${name} 的数据库凭据（${secretPath(cfg, name)}）`, `no database credentials for ${name} (${secretPath(cfg, name)})`),
      hint: t('先运行 npm run lab -- migrate 完成初始化', 'Run `npm run lab -- migrate` first to provision the databases'),
    });
  }
  return secret.url;
}

/** Opens one database as its own role (postgres mode) or its PGlite folder (embedded mode). */
export async function openDatabase<Schema>(cfg: LabConfig, name: DbName, options: PostgresOptions = {}): Promise<Database<Schema>> {
  if (cfg.mode === 'embedded') return openPGlite<Schema>(name, join(cfg.dataDir, 'pglite', name));
  const url = roleUrl(cfg, name);
  try {
    return await openPostgres<Schema>(name, url, options);
  } catch (cause) {
    throw new LabError('LAB-E020', {
      detail: t(`无法打开数据库 ${name}（${redactUrl(url)}）`, `cannot open database ${name} (${redactUrl(url)})`),
      cause,
    });
  }
}
