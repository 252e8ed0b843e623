import type { Server } from 'node:http';
import type { ServerType } from '@hono/node-server';
import { LabError, t } from '../../sandbox/errors/index.ts';

/** How long in-flight requests get to finish after SIGTERM before their connections are cut. */
export const DEFAULT_SERVER_DRAIN_MS = 10_000;
/** How long a worker's running stage may finish after SIGTERM before it is handed back to the queue. */
export const DEFAULT_WORKER_DRAIN_MS = 8_000;

/** A drain time from the environment (milliseconds, 0 to 600 000), else LAB-E031. */
export function drainMsFromEnv(name: 'LAB_SHUTDOWN_DRAIN_MS' | 'LAB_WORKER_DRAIN_MS', fallback: number, env: NodeJS.ProcessEnv = process.env): number {
  const text = env[name]?.trim();
  if (!text) return fallback;
  const ms = Number(text);
  if (!Number.isInteger(ms) || ms < 0 || ms > 600_000) {
    throw new LabError('LAB-E031', { detail: t(`${name} 须为 0 到 600000 之间的整数毫秒：${text}`, `${name} must be a whole number of milliseconds from 0 to 600000: ${text}`), field: name });
  }
  return ms;
}

/**
 * Stops an HTTP server gracefully: no new connections, idle kept-alive connections closed, requests
 * in flight finish (SSE streams end by themselves once the app's shutdown signal is aborted, and
 * clients resume with Last-Event-ID); whatever is still open after `graceMs` is cut.
 * Resolves with how many connections had to be cut.
 */
export async function drainServer(server: ServerType, graceMs: number): Promise<{ cut: boolean }> {
  const s = server as Server;
  let closed = false;
  const done = new Promise<void>((resolve) => s.close(() => { closed = true; resolve(); }));
  s.closeIdleConnections();
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([done, new Promise<void>((resolve) => { timer = setTimeout(resolve, graceMs); })]);
  clearTimeout(timer);
  if (closed) return { cut: false };
  s.closeAllConnections();
  await done;
  return { cut: true };
}
