import { Queue, QueueEvents, UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { DOMAIN_IDS, type DomainId } from '../../domains/domain-ids.ts';
import { LabError, t } from '../../errors/index.ts';
import { CANCELLED, type Consumer, type DeliveryResult, type EnqueueOptions, type QueueDriver, type ResumeOutcome, type StageHandler, type StageMessage, type WorkerHeartbeat } from './queue-driver.ts';

/**
 * How long a worker holds a stage before BullMQ may give it to another worker; BullMQ renews it
 * from the worker's event loop every half period. Large tables are guarded on a thread of their own
 * (disclosure/guard-thread.ts), so the loop stays free; only small tables (under 20 000 cells,
 * well under a few seconds) are guarded inline. A stage of a worker that dies is run elsewhere
 * after at most this long.
 */
export const STAGE_LOCK_MS = 60_000;

/**
 * BullMQ driver. BullMQ forbids ':' in queue names, so the logical queue `domain:<id>` is the
 * BullMQ queue `<id>` under the key prefix `<labPrefix>:domain`: its Redis keys are
 * `<labPrefix>:domain:<id>:*`. Job ids are the idempotency keys (`<jobId>.<stageId>`).
 */
export class BullQueue implements QueueDriver {
  readonly kind = 'bullmq' as const;
  private readonly queues = new Map<DomainId, Queue>();
  private readonly workers = new Set<Worker>();
  private readonly events = new Set<QueueEvents>();
  private readonly connection: Redis;
  /** Connections made for workers and event listeners: BullMQ does not close a connection it is handed. */
  private readonly ownConnections = new Set<Redis>();
  private readonly resultListeners: { domains: readonly DomainId[]; handler: (r: DeliveryResult) => void }[] = [];
  private readonly reconnectListeners: (() => void)[] = [];

  /**
   * `drainMs`: when a consumer closes (the worker got SIGTERM), how long a running stage may still
   * finish before it is stopped and handed back to the queue (waiting again, for any worker, without
   * spending one of its attempts). Default 0: handed back at once.
   */
  constructor(private readonly redisUrl: string, private readonly labPrefix: string, private readonly options: { drainMs?: number } = {}) {
    this.connection = new Redis(redisUrl, { maxRetriesPerRequest: null, lazyConnect: true, enableOfflineQueue: true });
    this.connection.on('error', () => { /* surfaced through ping() and health */ });
    // 'ready' comes on the first connection and again after every reconnection; only the later
    // ones mean Redis was lost for a while (and may have come back empty).
    let connectedBefore = false;
    this.connection.on('ready', () => {
      if (!connectedBefore) { connectedBefore = true; return; }
      for (const l of this.reconnectListeners) l();
    });
  }

  onReconnect(listener: () => void): void {
    this.reconnectListeners.push(listener);
  }

  private emit(r: DeliveryResult): void {
    for (const l of this.resultListeners) if (l.domains.includes(r.domain)) l.handler(r);
  }

  private get keyPrefix() { return `${this.labPrefix}:domain`; }

  private connect(): Redis {
    const c = new Redis(this.redisUrl, { maxRetriesPerRequest: null });
    // While Redis is away every connection reports each failed reconnect; they come back by themselves.
    c.on('error', () => {});
    this.ownConnections.add(c);
    return c;
  }

  private disconnect(c: Redis): void {
    this.ownConnections.delete(c);
    c.disconnect();
  }

  private queue(domain: DomainId): Queue {
    let q = this.queues.get(domain);
    if (!q) {
      q = new Queue(domain, { connection: this.connection, prefix: this.keyPrefix });
      q.on('error', () => {});
      this.queues.set(domain, q);
    }
    return q;
  }

  async enqueue(msg: StageMessage, options: EnqueueOptions = {}): Promise<void> {
    if (msg.key.includes(':')) throw new Error(`queue keys may not contain ':' (${msg.key})`);
    await this.queue(msg.domain).add('stage', { key: msg.key, domain: msg.domain, payload: msg.payload }, {
      jobId: msg.key,
      attempts: options.attempts ?? 1,
      backoff: { type: 'exponential', delay: options.backoffMs ?? 500 },
      removeOnComplete: { age: 3600, count: 1000 },
      removeOnFail: { age: 24 * 3600 },
    });
  }

  /**
   * The BullMQ job of a key: waiting, delayed or running → pending; finished (kept an hour) → its
   * outcome told again to this process's result listeners; unknown to Redis → enqueued again.
   */
  async resume(msg: StageMessage, options: EnqueueOptions = {}): Promise<ResumeOutcome> {
    const job = await this.queue(msg.domain).getJob(msg.key);
    if (job) {
      const state = await job.getState();
      if (state === 'completed') {
        this.emit({ key: msg.key, domain: msg.domain, ok: true, value: parseReturnValue(job.returnvalue) });
        return 'redelivered';
      }
      if (state === 'failed') {
        this.emit({ key: msg.key, domain: msg.domain, ok: false, error: job.failedReason });
        return 'redelivered';
      }
      if (state !== 'unknown') return 'pending';
      // Its data without a place in any list (part of Redis lost): start it again.
      await job.remove().catch(() => undefined);
    }
    await this.enqueue(msg, options);
    return 'enqueued';
  }

  /** Pub/sub channel on which cancels reach the workers, wherever they run. */
  private get cancelChannel() { return `${this.labPrefix}:cancel`; }

  async cancel(domain: DomainId, key: string): Promise<void> {
    // A waiting or delayed delivery is simply removed; a running one (locked) is not, so every
    // worker of the domain hears the key and the one running it aborts the handler.
    try { await this.queue(domain).remove(key); } catch { /* locked by a worker: cancelled below */ }
    await this.connection.publish(this.cancelChannel, JSON.stringify({ domain, key }));
  }

  consume(domain: DomainId, handler: StageHandler, options: { concurrency?: number } = {}): Consumer {
    const aborter = new AbortController();
    const connection = this.connect();
    const running = new Map<string, AbortController>();
    const cancelled = new Set<string>();
    const subscriber = this.connect();
    subscriber.on('message', (_channel: string, text: string) => {
      try {
        const m = JSON.parse(text) as { domain?: unknown; key?: unknown };
        if (m.domain !== domain || typeof m.key !== 'string') return;
        const own = running.get(m.key);
        if (own) { cancelled.add(m.key); own.abort(CANCELLED); }
      } catch { /* not ours */ }
    });
    void subscriber.subscribe(this.cancelChannel).catch(() => undefined);
    const worker = new Worker(domain, async (job: Job, token?: string) => {
      const data = job.data as { key: string; domain: DomainId; payload: unknown };
      const own = new AbortController();
      running.set(data.key, own);
      try {
        return await handler(data, {
          attempt: job.attemptsMade + 1,
          progress: async (f) => { await job.updateProgress(Math.round(f * 1000) / 10); },
          signal: AbortSignal.any([aborter.signal, own.signal]),
        });
      } catch (e) {
        // A cancelled delivery is not retried.
        if (cancelled.has(data.key)) throw new UnrecoverableError(e instanceof Error ? e.message : String(e));
        // Stopped because this worker is shutting down: handed back (waiting again), not a failed attempt.
        if (aborter.signal.aborted && token !== undefined) {
          await job.moveToWait(token);
          throw new WaitingError();
        }
        throw e;
      } finally {
        running.delete(data.key);
        cancelled.delete(data.key);
      }
    }, {
      connection,
      prefix: this.keyPrefix,
      concurrency: options.concurrency ?? 1,
      lockDuration: STAGE_LOCK_MS,
    });
    worker.on('error', () => {});
    this.workers.add(worker);
    return {
      close: async () => {
        this.workers.delete(worker);
        // Take nothing new; let a running stage finish within the drain time, then stop it (handed back).
        const closing = worker.close();
        const drainMs = this.options.drainMs ?? 0;
        if (running.size > 0 && drainMs > 0) {
          let timer: NodeJS.Timeout | undefined;
          await Promise.race([closing, new Promise<void>((resolve) => { timer = setTimeout(resolve, drainMs); })]);
          clearTimeout(timer);
        }
        aborter.abort();
        await closing;
        this.disconnect(connection);
        this.disconnect(subscriber);
      },
    };
  }

  async onResult(domains: readonly DomainId[], handler: (r: DeliveryResult) => void): Promise<void> {
    this.resultListeners.push({ domains, handler });
    for (const domain of domains) {
      const ev = new QueueEvents(domain, { connection: this.connect(), prefix: this.keyPrefix });
      ev.on('error', () => {});
      ev.on('completed', ({ jobId, returnvalue }) => {
        handler({ key: jobId, domain, ok: true, value: parseReturnValue(returnvalue) });
      });
      ev.on('failed', ({ jobId, failedReason }) => {
        // 'failed' is also emitted for attempts that will be retried: report only the final one.
        void this.queue(domain).getJob(jobId).then(async (job) => {
          if (job && (await job.isFailed())) handler({ key: jobId, domain, ok: false, error: failedReason });
        }, () => {});
      });
      await ev.waitUntilReady();
      this.events.add(ev);
    }
  }

  async depth(domain: DomainId): Promise<number> {
    const c = await this.queue(domain).getJobCounts('waiting', 'active', 'delayed', 'prioritized');
    return Object.values(c).reduce((a, b) => a + b, 0);
  }

  async reportHeartbeat(beat: WorkerHeartbeat, ttlMs: number): Promise<void> {
    await this.connection.set(`${this.labPrefix}:heartbeat:${beat.domain}:${beat.workerId}`, JSON.stringify(beat), 'PX', ttlMs);
  }

  async heartbeats(domain: DomainId): Promise<WorkerHeartbeat[]> {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, found] = await this.connection.scan(cursor, 'MATCH', `${this.labPrefix}:heartbeat:${domain}:*`, 'COUNT', 100);
      cursor = next;
      keys.push(...found);
    } while (cursor !== '0');
    if (keys.length === 0) return [];
    const values = await this.connection.mget(...keys);
    return values.filter((v): v is string => v !== null).map((v) => JSON.parse(v) as WorkerHeartbeat);
  }

  async ping(): Promise<void> {
    try {
      if (this.connection.status === 'wait') await this.connection.connect();
      await this.connection.ping();
    } catch (cause) {
      throw new LabError('LAB-E021', { detail: t('无法连接 Redis', 'cannot reach Redis'), cause });
    }
  }

  async close(): Promise<void> {
    for (const e of this.events) await e.close();
    this.events.clear();
    for (const w of this.workers) await w.close();
    this.workers.clear();
    for (const q of this.queues.values()) await q.close();
    this.queues.clear();
    for (const c of [...this.ownConnections]) this.disconnect(c);
    this.connection.disconnect();
  }

  /** Removes every key of this lab prefix (tests only). */
  async obliterateAll(): Promise<void> {
    for (const d of DOMAIN_IDS) await this.queue(d).obliterate({ force: true });
    const keys = await this.connection.keys(`${this.labPrefix}:heartbeat:*`);
    if (keys.length) await this.connection.del(...keys);
  }
}

/** A handler's value as BullMQ gives it back: JSON text from events, parsed on a fetched job. */
function parseReturnValue(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  try { return JSON.parse(v) as unknown; } catch { return v; }
}
