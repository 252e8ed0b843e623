import { serve, type ServerType } from '@hono/node-server';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { expect } from 'vitest';
import { DOMAIN_IDS, type DomainId } from '../../sandbox/domains/domain-ids.ts';
import { seedCity } from '../../sandbox/domains/generator/index.ts';
import type { GroundTruth } from '../../sandbox/domains/generator/ground-truth.ts';
import type { QueueDriver } from '../../sandbox/runtime/queue/queue-driver.ts';
import { startDomainWorker, type DomainWorker } from '../../sandbox/runtime/worker/domain-worker.ts';
import type { Database } from '../../sandbox/store/database.ts';
import { buildApp } from '../../server/app.ts';
import { ensureDemoUsers } from '../../server/lab/demo-users.ts';
import { createLogger } from '../../server/lab/logger.ts';
import { listenForResults } from '../../server/services/job.service.ts';
import { signIn, type ApiClient } from './api-client.ts';
import { createPgTestLab, type TestLab } from './pg-lab.ts';
import { RelayQueue } from './relay-queue.ts';

/**
 * A served lab for tests of protocol steps: like served-lab.ts, but the coordinator talks to the
 * domains through a RelayQueue (every message recorded, tamperable), the server logs at debug
 * level into `log`, and one session per user is kept (the login rate limit counts sign-ins).
 */
export interface PsiLab {
  readonly lab: TestLab;
  readonly domains: Record<DomainId, Database>;
  readonly truth: GroundTruth;
  readonly relay: RelayQueue;
  readonly log: string[];
  signIn(u: string): Promise<ApiClient>;
  close(): Promise<void>;
}

export async function startPsiLab(inner: QueueDriver, seed: string, persons = 10_000): Promise<PsiLab> {
  const lab = await createPgTestLab();
  const domains = {} as Record<DomainId, Database>;
  for (const d of DOMAIN_IDS) domains[d] = await lab.domain(d);
  const truthFile = join(lab.cfg.dataDir, 'truth.json');
  await seedCity({ persons, seed, domains, truthFile });
  const truth = JSON.parse(readFileSync(truthFile, 'utf8')) as GroundTruth;
  const relay = new RelayQueue(inner);
  const workers: DomainWorker[] = [];
  for (const d of DOMAIN_IDS) workers.push(await startDomainWorker({ domain: d, db: domains[d], queue: inner, logger: createLogger('silent') }));
  // The server's log, at debug level, kept in memory.
  const log: string[] = [];
  const sink = new Writable({ write(chunk: Buffer, _enc, cb) { log.push(chunk.toString('utf8')); cb(); } });
  const logger = createLogger('debug', sink);
  const password = `${seed}-password-0`;
  await ensureDemoUsers(lab.control, password);
  await listenForResults(lab.control, relay, logger);
  const app = buildApp({ control: lab.control, logger, queue: relay, health: async () => ({ status: 'ok', mode: 'postgres', checks: {} }), config: { secureCookies: false } });
  const server = await new Promise<ServerType>((resolve) => { const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s)); });
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // One session per user (the login rate limit counts sign-ins).
  const sessions = new Map<string, Promise<ApiClient>>();
  return {
    lab, domains, truth, relay, log,
    signIn: (u) => { let c = sessions.get(u); if (!c) { c = signIn(baseUrl, u, password); sessions.set(u, c); } return c; },
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      for (const w of workers) await w.stop();
      await inner.close();
      await lab.drop();
    },
  };
}

/** Saves and runs a pipeline as the analyst (approving when the policy asks), returns the job id. */
export async function runAsAnalyst(l: PsiLab, doc: unknown): Promise<string> {
  const analyst = await l.signIn('analyst');
  const saved = await analyst.post('/api/pipelines', doc);
  expect(saved.status).toBe(201);
  const { id } = await saved.json() as { id: string };
  const res = await analyst.post(`/api/pipelines/${id}/runs`);
  expect(res.status).toBe(202);
  const body = await res.json() as { jobId: string; state: string; approvalsRequired: number };
  if (body.state === 'awaiting_approval') {
    for (const o of ['officer', 'officer2'].slice(0, body.approvalsRequired)) expect((await (await l.signIn(o)).post(`/api/jobs/${body.jobId}/approve`, { note: 'psi' })).status).toBe(200);
  }
  return body.jobId;
}
