import type { DomainId } from '../../domains/domain-ids.ts';
import { CANCELLED, type Consumer, type DeliveryResult, type EnqueueOptions, type QueueDriver, type ResumeOutcome, type StageHandler, type StageMessage, type WorkerHeartbeat } from './queue-driver.ts';

interface Pending { msg: StageMessage; options: EnqueueOptions; attempt: number }

/**
 * In-process driver for embedded mode: the same semantics as the BullMQ driver (per-domain FIFO,
 * idempotent keys, retries with backoff, concurrency per consumer), no Redis.
 */
export class InlineQueue implements QueueDriver {
  readonly kind = 'inline' as const;
  private readonly waiting = new Map<DomainId, Pending[]>();
  private readonly keys = new Set<string>();
  private readonly running = new Map<DomainId, number>();
  private readonly handlers = new Map<DomainId, { handler: StageHandler; concurrency: number }>();
  private readonly beats = new Map<string, { beat: WorkerHeartbeat; expires: number }>();
  private readonly aborter = new AbortController();
  /** Per running delivery key: aborts it with reason CANCELLED. */
  private readonly cancellers = new Map<string, AbortController>();
  private readonly cancelled = new Set<string>();
  private closed = false;
  private readonly listeners: { domains: readonly DomainId[]; handler: (r: DeliveryResult) => void }[] = [];

  async onResult(domains: readonly DomainId[], handler: (r: DeliveryResult) => void): Promise<void> {
    this.listeners.push({ domains, handler });
  }

  private emit(r: DeliveryResult): void {
    for (const l of this.listeners) if (l.domains.includes(r.domain)) l.handler(r);
  }

  async enqueue(msg: StageMessage, options: EnqueueOptions = {}): Promise<void> {
    if (this.closed) throw new Error('queue closed');
    if (this.keys.has(msg.key)) return;
    this.keys.add(msg.key);
    const list = this.waiting.get(msg.domain) ?? [];
    list.push({ msg, options, attempt: 1 });
    this.waiting.set(msg.domain, list);
    this.pump(msg.domain);
  }

  /** In-process: a key still known is pending; a finished one is forgotten, so it runs again. */
  async resume(msg: StageMessage, options: EnqueueOptions = {}): Promise<ResumeOutcome> {
    if (this.keys.has(msg.key)) return 'pending';
    await this.enqueue(msg, options);
    return 'enqueued';
  }

  /** The in-process queue has no broker to lose. */
  onReconnect(): void {}

  consume(domain: DomainId, handler: StageHandler, options: { concurrency?: number } = {}): Consumer {
    this.handlers.set(domain, { handler, concurrency: options.concurrency ?? 1 });
    this.pump(domain);
    return { close: async () => { this.handlers.delete(domain); } };
  }

  async cancel(domain: DomainId, key: string): Promise<void> {
    const list = this.waiting.get(domain);
    const i = list?.findIndex((p) => p.msg.key === key) ?? -1;
    if (list && i >= 0) { list.splice(i, 1); this.keys.delete(key); return; }
    const running = this.cancellers.get(key);
    if (running) { this.cancelled.add(key); running.abort(CANCELLED); }
  }

  async depth(domain: DomainId): Promise<number> {
    return (this.waiting.get(domain)?.length ?? 0) + (this.running.get(domain) ?? 0);
  }

  async reportHeartbeat(beat: WorkerHeartbeat, ttlMs: number): Promise<void> {
    this.beats.set(`${beat.domain}/${beat.workerId}`, { beat, expires: Date.now() + ttlMs });
  }

  async heartbeats(domain: DomainId): Promise<WorkerHeartbeat[]> {
    const now = Date.now();
    return [...this.beats.values()].filter((b) => b.beat.domain === domain && b.expires > now).map((b) => b.beat);
  }

  async ping(): Promise<void> {
    if (this.closed) throw new Error('queue closed');
  }

  async close(): Promise<void> {
    this.closed = true;
    this.aborter.abort();
    this.handlers.clear();
  }

  private pump(domain: DomainId): void {
    const h = this.handlers.get(domain);
    const list = this.waiting.get(domain);
    if (!h || !list) return;
    while ((this.running.get(domain) ?? 0) < h.concurrency && list.length > 0) {
      const item = list.shift();
      if (!item) break;
      this.running.set(domain, (this.running.get(domain) ?? 0) + 1);
      void this.deliver(domain, h.handler, item);
    }
  }

  private async deliver(domain: DomainId, handler: StageHandler, item: Pending): Promise<void> {
    let retry = false;
    let outcome: DeliveryResult | undefined;
    const own = new AbortController();
    this.cancellers.set(item.msg.key, own);
    try {
      const value = await handler(item.msg, { attempt: item.attempt, progress: async () => {}, signal: AbortSignal.any([this.aborter.signal, own.signal]) });
      outcome = { key: item.msg.key, domain, ok: true, value };
    } catch (e) {
      retry = item.attempt < (item.options.attempts ?? 1) && !this.closed && !this.cancelled.has(item.msg.key);
      if (!retry) outcome = { key: item.msg.key, domain, ok: false, error: e instanceof Error ? e.message : String(e) };
    } finally {
      this.cancellers.delete(item.msg.key);
      this.cancelled.delete(item.msg.key);
      this.running.set(domain, (this.running.get(domain) ?? 1) - 1);
    }
    if (outcome) this.emit(outcome);
    if (retry) {
      const delay = (item.options.backoffMs ?? 500) * 2 ** (item.attempt - 1);
      setTimeout(() => {
        if (this.closed) return;
        const list = this.waiting.get(domain) ?? [];
        list.push({ ...item, attempt: item.attempt + 1 });
        this.waiting.set(domain, list);
        this.pump(domain);
      }, delay).unref();
    } else {
      this.keys.delete(item.msg.key);
    }
    this.pump(domain);
  }
}
