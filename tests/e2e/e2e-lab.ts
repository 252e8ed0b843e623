import { serve, type ServerType } from '@hono/node-server';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';
import { DOMAIN_IDS, type DomainId } from '../../sandbox/domains/domain-ids.ts';
import { InlineQueue } from '../../sandbox/runtime/queue/inline.queue.ts';
import { startDomainWorker, type DomainWorker } from '../../sandbox/runtime/worker/domain-worker.ts';
import type { Database } from '../../sandbox/store/database.ts';
import { buildApp } from '../../server/app.ts';
import { ensureDemoUsers } from '../../server/lab/demo-users.ts';
import { seedLab } from '../../server/lab/lab-services.ts';
import { createLogger } from '../../server/lab/logger.ts';
import { syncCatalog } from '../../server/services/catalog.service.ts';
import { listenForResults } from '../../server/services/job.service.ts';
import { ensureUiBuilt } from '../../workspace-ui/scripts/build-if-stale.ts';
import { createPgTestLab, type TestLab } from '../support/pg-lab.ts';

/**
 * The whole lab for browser tests, as `npm start` runs it but on a throwaway lab on the real local
 * Postgres (tests/support/pg-lab.ts): catalog synced, a 10 000-person city seeded, the six domain
 * workers on the in-process queue, the demo accounts, the real HTTP app (buildApp) listening on a
 * free port, and the workspace UI built if it is missing or stale.
 */
export interface E2ELab {
  readonly url: string;
  readonly password: string;
  stop(): Promise<void>;
}

export const E2E_PASSWORD = 'e2e-demo-password-2026';

export async function startE2ELab(): Promise<E2ELab> {
  await ensureUiBuilt();
  const logger = createLogger('silent');
  const lab: TestLab = await createPgTestLab();
  const domains = {} as Record<DomainId, Database>;
  for (const d of DOMAIN_IDS) domains[d] = await lab.domain(d);
  await syncCatalog(lab.control);
  await seedLab(lab.control, domains, { persons: 10_000, seed: 'e2e-browser' }, logger);
  await ensureDemoUsers(lab.control, E2E_PASSWORD);

  const queue = new InlineQueue();
  await listenForResults(lab.control, queue, logger);
  const workers: DomainWorker[] = [];
  for (const d of DOMAIN_IDS) workers.push(await startDomainWorker({ domain: d, db: domains[d], queue, logger }));
  const app = buildApp({ control: lab.control, logger, queue, health: () => Promise.resolve({ status: 'ok', mode: 'postgres', checks: {} }), config: { secureCookies: false } });
  const server = await new Promise<ServerType>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    password: E2E_PASSWORD,
    async stop() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      for (const w of workers) await w.stop();
      await queue.close();
      await lab.drop();
    },
  };
}

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/**
 * Debian's Chromium, headless, nothing downloaded, a fresh profile; `close()` removes the profile.
 * `extraArgs` adds switches (e.g. a fake camera for the capture page).
 */
export async function launchChromium(extraArgs: readonly string[] = []): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const profile = mkdtempSync(join(tmpdir(), 'lab-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium',
    headless: true,
    args: [...CHROMIUM_ARGS, ...extraArgs],
    viewport: { width: 1600, height: 1000 },
    locale: 'zh-CN',
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Debian's Chromium with several independent sessions at once (one browser, a fresh incognito-like
 * context per user, as two people at two desks): for tests where one user waits while another acts.
 */
export async function launchChromiumSessions(): Promise<{ newSession(): Promise<BrowserContext>; close(): Promise<void> }> {
  const browser: Browser = await chromium.launch({ executablePath: process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS });
  return {
    newSession: () => browser.newContext({ viewport: { width: 1600, height: 1000 }, locale: 'zh-CN' }),
    close: () => browser.close(),
  };
}
