import type { OpenAPIHono } from '@hono/zod-openapi';
import { sql } from 'kysely';
import { DOMAIN_IDS } from '../../sandbox/domains/domain-ids.ts';
import { InlineQueue } from '../../sandbox/runtime/queue/inline.queue.ts';
import { startDomainWorker, type DomainWorker } from '../../sandbox/runtime/worker/domain-worker.ts';
import type { Database } from '../../sandbox/store/database.ts';
import type { AppEnv } from '../../server/app-env.ts';
import { buildApp } from '../../server/app.ts';
import { createLogger } from '../../server/lab/logger.ts';
import { listenForResults } from '../../server/services/job.service.ts';
import { createUser } from '../../server/services/user.service.ts';
import { signIn } from '../integration/server/server-harness.ts';
import { createPgTestLab, type TestLab } from '../support/pg-lab.ts';

/** What must not change when a bad input is refused: saved, queued, executed. */
export interface Footprint {
  pipelines: number;
  jobs: number;
  stages: number;
  events: number;
  /** Deliveries waiting or running, over every domain queue. */
  queued: number;
  /** Stages a domain worker has run or refused. */
  executed: number;
}

export interface BadInputLab {
  lab: TestLab;
  app: OpenAPIHono<AppEnv>;
  registry: Database;
  /** POST as the signed-in analyst; `body` is sent as is when it is a string, else as JSON. */
  post(path: string, body?: unknown, headers?: Record<string, string>): Promise<Response>;
  get(path: string): Promise<Response>;
  footprint(): Promise<Footprint>;
  close(): Promise<void>;
}

const PASSWORD = 'bad-input-analyst-pw-42';

/**
 * The real HTTP app on a throwaway control database, with the in-process queue and a registry
 * worker holding a tiny registry (60 persons, birth years 1940–1999, snapshot 2026-06-30; every
 * fifth deregistered, so that S1's `status = 'active'` holds and fails for more than 7 persons and
 * passes the condition audit), and an analyst signed in. Other domains have no worker: a stage sent to one would stay queued.
 */
export async function createBadInputLab(): Promise<BadInputLab> {
  const lab = await createPgTestLab();
  const logs: string[] = [];
  const logger = createLogger('debug', { write: (line: string) => { logs.push(line); } });
  const registry = await lab.domain('registry');
  for (let i = 0; i < 60; i++) {
    const year = 1940 + i;
    const id = `440104${year}0101${String(100 + i).padStart(3, '0')}X`;
    await sql`INSERT INTO person (person_id, id_number, name, sex, birth_date, household_id, household_type, native_region_code,
      district_code, street_code, community_code, grid_code, address, registered_on, status)
      VALUES (${i + 1}, ${id}, '测试', ${i % 2 ? 'F' : 'M'}, ${`${year}-01-01`}, ${i + 1}, 'local', '440104',
        '440104', '440104001', '440104001001', '440104001001001', '地址', '2020-01-01', ${i % 5 === 0 ? 'deregistered' : 'active'})`.execute(registry.kysely);
  }
  await sql`INSERT INTO lab_meta (key, value) VALUES ('as_of', '2026-06-30')`.execute(registry.kysely);

  const queue = new InlineQueue();
  await listenForResults(lab.control, queue, logger);
  const worker: DomainWorker = await startDomainWorker({ domain: 'registry', db: registry, queue, logger });
  const app = buildApp({ control: lab.control, logger, queue, health: () => Promise.resolve({ status: 'ok', mode: 'postgres', checks: {} }), config: { secureCookies: false } });
  await createUser(lab.control, { username: 'ana', displayName: 'Ana', role: 'analyst', password: PASSWORD });
  const session = await signIn(app, 'ana', PASSWORD);
  const auth = { cookie: session.cookie, 'x-csrf-token': session.csrfToken };

  const count = async (table: 'pipeline' | 'job' | 'job_stage' | 'job_event') =>
    Number((await sql<{ n: number }>`SELECT count(*)::int AS n FROM ${sql.table(table)}`.execute(lab.control.kysely)).rows[0]?.n ?? -1);

  return {
    lab, app, registry,
    post: (path, body, headers = { 'content-type': 'application/json' }) => Promise.resolve(app.request(path, {
      method: 'POST', headers: { ...auth, ...headers },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    })),
    get: (path) => Promise.resolve(app.request(path, { headers: auth })),
    async footprint() {
      let queued = 0;
      for (const d of DOMAIN_IDS) queued += await queue.depth(d);
      return {
        pipelines: await count('pipeline'), jobs: await count('job'), stages: await count('job_stage'), events: await count('job_event'),
        queued,
        executed: logs.filter((l) => /"msg":"stage (done|refused|failed)"/.test(l)).length,
      };
    },
    async close() {
      await worker.stop();
      await queue.close();
      await lab.drop();
    },
  };
}
