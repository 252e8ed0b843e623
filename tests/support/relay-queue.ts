import type { DomainId } from '../../sandbox/domains/domain-ids.ts';
import type {
  Consumer, DeliveryResult, EnqueueOptions, QueueDriver, ResumeOutcome, StageHandler, StageMessage, WorkerHeartbeat,
} from '../../sandbox/runtime/queue/queue-driver.ts';

/**
 * A queue driver in front of another, for tests of what crosses the coordinator: every message the
 * coordinator sends and every answer it hears is recorded, and `tamper` may change (replay, drop,
 * reorder, swap) or withhold (return undefined) a message before it reaches the domains — a
 * compromised coordinator in miniature. Workers consume from the inner driver directly.
 */
export class RelayQueue implements QueueDriver {
  readonly sent: StageMessage[] = [];
  readonly heard: DeliveryResult[] = [];
  tamper: ((msg: StageMessage) => StageMessage | undefined) | undefined;

  constructor(readonly inner: QueueDriver) {}

  get kind() { return this.inner.kind; }

  async onResult(domains: readonly DomainId[], handler: (r: DeliveryResult) => void): Promise<void> {
    await this.inner.onResult(domains, (r) => { this.heard.push(r); handler(r); });
  }

  async enqueue(msg: StageMessage, options?: EnqueueOptions): Promise<void> {
    const out = this.tamper ? this.tamper(msg) : msg;
    if (!out) return;
    this.sent.push(out);
    await this.inner.enqueue(out, options);
  }

  resume(msg: StageMessage, options?: EnqueueOptions): Promise<ResumeOutcome> { return this.inner.resume(msg, options); }
  onReconnect(listener: () => void): void { this.inner.onReconnect(listener); }
  consume(domain: DomainId, handler: StageHandler, options?: { concurrency?: number }): Consumer { return this.inner.consume(domain, handler, options); }
  depth(domain: DomainId): Promise<number> { return this.inner.depth(domain); }
  cancel(domain: DomainId, key: string): Promise<void> { return this.inner.cancel(domain, key); }
  reportHeartbeat(beat: WorkerHeartbeat, ttlMs: number): Promise<void> { return this.inner.reportHeartbeat(beat, ttlMs); }
  heartbeats(domain: DomainId): Promise<WorkerHeartbeat[]> { return this.inner.heartbeats(domain); }
  ping(): Promise<void> { return this.inner.ping(); }
  close(): Promise<void> { return this.inner.close(); }
}
