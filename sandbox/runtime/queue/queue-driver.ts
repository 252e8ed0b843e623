import type { DomainId } from '../../domains/domain-ids.ts';

/**
 * The only way work reaches a domain: one logical queue per domain, `domain:<id>`.
 * Postgres is the source of truth for job state; a queue only delivers. Two drivers share this
 * interface: `inline` (embedded mode, in-process) and `bullmq` (Redis).
 */
export interface StageMessage {
  /** Idempotency key of the delivery: `<jobId>.<stageId>`; a second enqueue of the same key is a no-op while the first is pending. */
  readonly key: string;
  readonly domain: DomainId;
  /** JSON-serialisable payload. Never raw rows, never credentials. */
  readonly payload: unknown;
}

export interface DeliveryContext {
  readonly attempt: number;
  progress(fraction: number): Promise<void>;
  /**
   * Aborted when the delivery is cancelled (`reason` = CANCELLED: the job was cancelled, answer and
   * stop) or the consumer closes (any other reason: the worker is stopping, the queue retries).
   */
  readonly signal: AbortSignal;
}

/** The abort reason of a cancelled delivery. */
export const CANCELLED = 'cancelled';

export type StageHandler = (msg: StageMessage, ctx: DeliveryContext) => Promise<unknown>;

export interface EnqueueOptions {
  readonly attempts?: number;
  readonly backoffMs?: number;
}

export interface Consumer {
  close(): Promise<void>;
}

export interface WorkerHeartbeat {
  readonly domain: DomainId;
  readonly workerId: string;
  /** Did the worker's last ping of its own database succeed? */
  readonly databaseOk: boolean;
  readonly at: string; // ISO time
  readonly error?: string;
}

/** The outcome of a delivery, as the coordinator hears it. `value` is what the handler returned. */
export type DeliveryResult =
  | { readonly key: string; readonly domain: DomainId; readonly ok: true; readonly value: unknown }
  | { readonly key: string; readonly domain: DomainId; readonly ok: false; readonly error: string };

/**
 * What `resume` did with a delivery the control database still counts as open: left it (`pending`:
 * waiting, delayed or running), enqueued it again (`enqueued`: the queue no longer knew it, e.g.
 * Redis restarted empty), or told the result listeners its outcome again (`redelivered`: it had
 * finished but its result may not have been recorded, e.g. the coordinator or its database was down).
 */
export type ResumeOutcome = 'pending' | 'enqueued' | 'redelivered';

export interface QueueDriver {
  readonly kind: 'inline' | 'bullmq';
  /** Hears every finished delivery (success, or failure after the last attempt) of these domains. */
  onResult(domains: readonly DomainId[], handler: (r: DeliveryResult) => void): Promise<void>;
  enqueue(msg: StageMessage, options?: EnqueueOptions): Promise<void>;
  /**
   * Makes sure a delivery reaches an end that `onResult` listeners hear (ResumeOutcome). Safe to
   * call any number of times: a pending delivery is never doubled (the key is the job id).
   */
  resume(msg: StageMessage, options?: EnqueueOptions): Promise<ResumeOutcome>;
  /**
   * Calls `listener` whenever the connection to the broker comes back after it was lost: the broker
   * may have lost everything it held (a Redis restarted without persistence). Never for `inline`.
   */
  onReconnect(listener: () => void): void;
  consume(domain: DomainId, handler: StageHandler, options?: { concurrency?: number }): Consumer;
  /** Number of deliveries waiting or running for a domain. */
  depth(domain: DomainId): Promise<number>;
  /**
   * Cancels a delivery: dropped if it is still waiting; if a worker is running it, that worker's
   * handler sees its signal aborted with reason CANCELLED (in whichever process it runs).
   */
  cancel(domain: DomainId, key: string): Promise<void>;
  reportHeartbeat(beat: WorkerHeartbeat, ttlMs: number): Promise<void>;
  /** Latest unexpired heartbeat per worker, per domain. */
  heartbeats(domain: DomainId): Promise<WorkerHeartbeat[]>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** The logical queue name of a domain (a contract: `domain:<id>`). */
export const queueName = (domain: DomainId) => `domain:${domain}`;
