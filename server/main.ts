/**
 * The lab's command line: `npm run lab -- <command>` (and `npm start`, `npm run worker`).
 * Every failure prints a clear message with its LAB-E code and exits non-zero; never a secret.
 */
// First: V8 flags must be set before the optimiser compiles anything (see the module).
import './lab/v8-flags.ts';
import { rmSync } from 'node:fs';
import { text } from 'node:stream/consumers';
import { LabError, isLabError, t } from '../sandbox/errors/index.ts';
import { DOMAIN_IDS, isDomainId } from '../sandbox/domains/domain-ids.ts';
import { BullQueue } from '../sandbox/runtime/queue/bullmq.queue.ts';
import { stageTimeoutFromEnv, startDomainWorker } from '../sandbox/runtime/worker/domain-worker.ts';
import { readConfig, type LabConfig } from '../sandbox/store/lab-config.ts';
import { openPostgres } from '../sandbox/store/postgres.database.ts';
import { dropPostgres, roleUrl } from '../sandbox/store/topology.ts';
import { parseCommandArgs, requireInt } from './cli/args.ts';
import { runAuditCommand } from './cli/audit.command.ts';
import { runFaceCommand } from './cli/face.command.ts';
import { USAGE } from './cli/usage.ts';
import { USER_ROLES, type UserRole } from './db/control.schema.ts';
import { createLogger } from './lab/logger.ts';
import { openControl, openDomains, seedLab } from './lab/lab-services.ts';
import { DEFAULT_WORKER_DRAIN_MS, drainMsFromEnv } from './lab/shutdown.ts';
import { startLab } from './lab/start.ts';
import { createUser } from './services/user.service.ts';

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const cfg = readConfig();
  const logger = createLogger(cfg.logLevel);
  switch (command) {
    case 'start': {
      parseCommandArgs('start', rest, {});
      const lab = await startLab(cfg, logger, {
        seedPersons: requireInt('start', 'LAB_SEED_PERSONS', process.env['LAB_SEED_PERSONS'], 10_000, 25_000_000, 20_000),
        seedName: process.env['LAB_SEED'] ?? 'guangzhou-demo',
        banner: true,
      });
      await new Promise<void>((resolve) => {
        const shutdown = (signal: string) => {
          logger.info({ signal }, 'signal received');
          lab.stop().then(resolve, (e: unknown) => { logger.error({ err: e }, 'shutdown failed'); resolve(); });
        };
        process.once('SIGINT', () => shutdown('SIGINT'));
        process.once('SIGTERM', () => shutdown('SIGTERM'));
      });
      return 0;
    }
    case 'coordinator': {
      // The coordinator alone: the control role's URL only (never the admin URL, never a domain's).
      parseCommandArgs('coordinator', rest, {});
      const controlUrl = process.env['LAB_CONTROL_DATABASE_URL'];
      if (!controlUrl) throw new LabError('LAB-E031', { detail: t('coordinator 需要 LAB_CONTROL_DATABASE_URL', 'the coordinator needs LAB_CONTROL_DATABASE_URL'), field: 'LAB_CONTROL_DATABASE_URL' });
      if (!cfg.redisUrl) throw new LabError('LAB-E031', { detail: t('coordinator 需要 REDIS_URL', 'the coordinator needs REDIS_URL'), field: 'REDIS_URL' });
      const lab = await startLab({ ...cfg, mode: 'postgres' }, logger, { seedPersons: 10_000, seedName: 'unused', banner: true, controlUrl });
      await new Promise<void>((resolve) => {
        const shutdown = (signal: string) => {
          logger.info({ signal }, 'signal received');
          lab.stop().then(resolve, (e: unknown) => { logger.error({ err: e }, 'shutdown failed'); resolve(); });
        };
        process.once('SIGINT', () => shutdown('SIGINT'));
        process.once('SIGTERM', () => shutdown('SIGTERM'));
      });
      return 0;
    }
    case 'migrate': {
      parseCommandArgs('migrate', rest, {});
      const control = await openControl(cfg, logger);
      const domains = await openDomains(cfg);
      for (const d of DOMAIN_IDS) await domains[d].close();
      await control.close();
      process.stdout.write(`migrated: control, ${DOMAIN_IDS.join(', ')} (${cfg.mode} mode)\n`);
      return 0;
    }
    case 'seed': {
      const a = parseCommandArgs('seed', rest, {
        persons: { type: 'string' }, seed: { type: 'string' }, truth: { type: 'string' }, 'as-of': { type: 'string' },
      });
      const persons = requireInt('seed', 'persons', a.persons, 10_000, 25_000_000);
      if (!a.seed) throw new LabError('LAB-E030', { detail: t('seed：缺少 --seed', 'seed: --seed is required'), field: 'seed' });
      const control = await openControl(cfg, logger);
      const domains = await openDomains(cfg);
      try {
        const report = await seedLab(control, domains, { persons, seed: a.seed, ...(a.truth ? { truthFile: a.truth } : {}), ...(a['as-of'] ? { asOf: a['as-of'] } : {}) }, logger);
        process.stdout.write(`seeded ${report.persons} persons in ${report.seconds.toFixed(1)} s; content hash ${report.contentHash}${a.truth ? `; ground truth in ${a.truth}` : ''}\n`);
      } finally {
        for (const d of DOMAIN_IDS) await domains[d].close();
        await control.close();
      }
      return 0;
    }
    case 'user': {
      const [sub, ...more] = rest;
      if (sub !== 'add') throw new LabError('LAB-E030', { detail: t('user 只支持 add', 'user: only `user add` is supported') });
      const a = parseCommandArgs('user add', more, {
        username: { type: 'string' }, role: { type: 'string' }, domain: { type: 'string' }, 'display-name': { type: 'string' },
      });
      if (!a.username) throw new LabError('LAB-E030', { detail: t('缺少 --username', '--username is required'), field: 'username' });
      if (!a.role || !(USER_ROLES as readonly string[]).includes(a.role)) {
        throw new LabError('LAB-E030', { detail: t(`--role 须为 ${USER_ROLES.join('/')}`, `--role must be one of ${USER_ROLES.join(', ')}`), field: 'role' });
      }
      if (a.domain !== undefined && !isDomainId(a.domain)) {
        throw new LabError('LAB-E030', { detail: t(`--domain 须为 ${DOMAIN_IDS.join('/')}`, `--domain must be one of ${DOMAIN_IDS.join(', ')}`), field: 'domain' });
      }
      if (process.stdin.isTTY) process.stderr.write('Password (input is read from standard input; end with Enter and Ctrl-D): ');
      const password = (await text(process.stdin)).replace(/\r?\n$/, '');
      const control = await openControl(cfg, logger);
      try {
        await createUser(control, {
          username: a.username, role: a.role as UserRole, displayName: a['display-name'] ?? a.username, password,
          ...(a.domain ? { domain: a.domain } : {}),
        });
      } finally {
        await control.close();
      }
      process.stdout.write(`user ${a.username} (${a.role}${a.domain ? `, ${a.domain}` : ''}) created\n`);
      return 0;
    }
    case 'worker': {
      const a = parseCommandArgs('worker', rest, { domain: { type: 'string' } });
      if (!a.domain || !isDomainId(a.domain)) {
        throw new LabError('LAB-E030', { detail: t(`--domain 须为 ${DOMAIN_IDS.join('/')}`, `--domain must be one of ${DOMAIN_IDS.join(', ')}`), field: 'domain' });
      }
      const domain = a.domain;
      const redisUrl = process.env['REDIS_URL'];
      if (!redisUrl) throw new LabError('LAB-E031', { detail: t('worker 需要 REDIS_URL', 'the worker needs REDIS_URL'), field: 'REDIS_URL' });
      const url = process.env['LAB_DOMAIN_DATABASE_URL'] ?? roleUrl(workerConfig(cfg), domain);
      const statementTimeoutMs = stageTimeoutFromEnv();
      const db = await openPostgres(domain, url);
      // SIGTERM: nothing new is taken; a running stage finishes within LAB_WORKER_DRAIN_MS or is
      // handed back to the queue (another worker, or this one restarted, runs it); exit 0.
      const queue = new BullQueue(redisUrl, cfg.dbPrefix, { drainMs: drainMsFromEnv('LAB_WORKER_DRAIN_MS', DEFAULT_WORKER_DRAIN_MS) });
      const worker = await startDomainWorker({ domain, db, queue, logger, statementTimeoutMs });
      await new Promise<void>((resolve) => {
        const stop = (signal: string) => {
          logger.info({ domain, signal }, 'signal received: draining the worker');
          void worker.stop().then(() => queue.close()).then(() => db.close()).then(resolve, resolve);
        };
        process.once('SIGINT', () => stop('SIGINT'));
        process.once('SIGTERM', () => stop('SIGTERM'));
      });
      return 0;
    }
    case 'audit':
      return runAuditCommand(rest, cfg, logger);
    case 'face':
      return runFaceCommand(rest, cfg);
    case 'reset': {
      const a = parseCommandArgs('reset', rest, { yes: { type: 'boolean' } });
      if (!a.yes) throw new LabError('LAB-E030', { detail: t('reset 会删除全部数据，请加 --yes 确认', 'reset deletes every database of this lab; confirm with --yes'), field: 'yes' });
      if (cfg.mode === 'postgres') await dropPostgres(cfg);
      rmSync(cfg.dataDir, { recursive: true, force: true });
      process.stdout.write(`reset: removed ${cfg.mode === 'postgres' ? `databases ${cfg.dbPrefix}_* and ` : ''}${cfg.dataDir}\n`);
      return 0;
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return 0;
    default:
      throw new LabError('LAB-E030', { detail: t(`未知命令：${command}`, `unknown command: ${command}`), hint: t('运行 npm run lab -- help', 'Run `npm run lab -- help`') });
  }
}

/** A worker started by hand reads its own secret file even without DATABASE_URL in its environment. */
function workerConfig(cfg: LabConfig): LabConfig {
  return { ...cfg, mode: 'postgres' };
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (e: unknown) => {
    if (isLabError(e)) {
      process.stderr.write(`${e.code} ${e.messageIn('zh-CN')}\n${e.code} ${e.messageIn('en')}\n`);
      if (e.hint) process.stderr.write(`hint: ${e.hint.en}\n`);
      if (e.kind === 'unexpected' && e.cause) process.stderr.write(`${String(e.cause)}\n`);
      process.exitCode = e.kind === 'user' ? 2 : 1;
    } else {
      process.stderr.write(`LAB-E001 unexpected error: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
      process.exitCode = 1;
    }
  },
);
