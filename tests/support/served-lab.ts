import { serve, type ServerType } from '@hono/node-server';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { DOMAIN_IDS, type DomainId } from '../../sandbox/domains/domain-ids.ts';
import { seedCity } from '../../sandbox/domains/generator/index.ts';
import type { GroundTruth } from '../../sandbox/domains/generator/ground-truth.ts';
import { InlineQueue } from '../../sandbox/runtime/queue/inline.queue.ts';
import { startDomainWorker, type DomainWorker } from '../../sandbox/runtime/worker/domain-worker.ts';
import type { Database } from '../../sandbox/store/database.ts';
import { buildApp } from '../../server/app.ts';
import { ensureDemoUsers } from '../../server/lab/demo-users.ts';
import { createLogger } from '../../server/lab/logger.ts';
import { listenForResults } from '../../server/services/job.service.ts';
import { signIn, type ApiClient } from './api-client.ts';
import { createPgTestLab, type TestLab } from './pg-lab.ts';

/**
 * A whole lab for API tests: a throwaway Postgres lab with a seeded city (and its ground truth),
 * the six domain workers on the in-process queue, the demo users, and the server on a loopback
 * port. `signIn(username)` gives a client with the session cookie and CSRF token.
 */
export interface ServedLab {
  readonly lab: TestLab;
  readonly domains: Record<DomainId, Database>;
  readonly truth: GroundTruth;
  readonly baseUrl: string;
  readonly password: string;
  signIn(username: string): Promise<ApiClient>;
  close(): Promise<void>;
}

export async function startServedLab(opts: { persons: number; seed: string; password: string }): Promise<ServedLab> {
  const lab = await createPgTestLab();
  const domains = {} as Record<DomainId, Database>;
  for (const d of DOMAIN_IDS) domains[d] = await lab.domain(d);
  const truthFile = join(lab.cfg.dataDir, 'truth.json');
  await seedCity({ persons: opts.persons, seed: opts.seed, domains, truthFile });
  const truth = JSON.parse(readFileSync(truthFile, 'utf8')) as GroundTruth;
  const logger = createLogger('silent');
  const queue = new InlineQueue();
  const workers: DomainWorker[] = [];
  for (const d of DOMAIN_IDS) workers.push(await startDomainWorker({ domain: d, db: domains[d], queue, logger }));
  await ensureDemoUsers(lab.control, opts.password);
  await listenForResults(lab.control, queue, logger);
  const app = buildApp({ control: lab.control, logger, queue, health: async () => ({ status: 'ok', mode: 'postgres', checks: {} }), config: { secureCookies: false } });
  const server = await new Promise<ServerType>((resolve) => { const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s)); });
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    lab, domains, truth, baseUrl, password: opts.password,
    signIn: (username) => signIn(baseUrl, username, opts.password),
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      for (const w of workers) await w.stop();
      await queue.close();
      await lab.drop();
    },
  };
}
