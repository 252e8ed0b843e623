import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { TEST_REDIS_URL } from '../../../tests/support/test-env.ts';
import { BullQueue } from './bullmq.queue.ts';
import { InlineQueue } from './inline.queue.ts';
import { CANCELLED, type QueueDriver, type StageMessage } from './queue-driver.ts';

const drivers: Record<string, () => QueueDriver> = {
  inline: () => new InlineQueue(),
  bullmq: () => new BullQueue(TEST_REDIS_URL, `tq${randomBytes(4).toString('hex')}`),
};

const waitFor = async (cond: () => boolean, ms = 10_000) => {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > ms) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
};

for (const [name, make] of Object.entries(drivers)) {
  describe(`queue driver contract: ${name}`, () => {
    let q: QueueDriver | undefined;
    afterEach(async () => {
      if (q instanceof BullQueue) await q.obliterateAll();
      await q?.close();
    });

    it('delivers to the consumer of the right domain only, in order', async () => {
      q = make();
      const seen: string[] = [];
      const other: string[] = [];
      q.consume('registry', async (m) => { seen.push(m.key); });
      q.consume('social', async (m) => { other.push(m.key); });
      for (const k of ['j1.s1', 'j1.s2', 'j1.s3']) await q.enqueue({ key: k, domain: 'registry', payload: { k } });
      await waitFor(() => seen.length === 3);
      expect(seen).toEqual(['j1.s1', 'j1.s2', 'j1.s3']);
      expect(other).toEqual([]);
    });

    it('an idempotency key enqueued twice while pending is delivered once', async () => {
      q = make();
      const msg: StageMessage = { key: 'j2.s1', domain: 'health', payload: { n: 1 } };
      await q.enqueue(msg);
      await q.enqueue(msg);
      expect(await q.depth('health')).toBe(1);
      const seen: unknown[] = [];
      q.consume('health', async (m) => { seen.push(m.payload); });
      await waitFor(() => seen.length === 1);
      await new Promise((r) => setTimeout(r, 300));
      expect(seen).toEqual([{ n: 1 }]);
    });

    it('retries a failing delivery with backoff up to the attempt limit', async () => {
      q = make();
      const attempts: number[] = [];
      q.consume('civil', async (_m, ctx) => {
        attempts.push(ctx.attempt);
        if (ctx.attempt < 3) throw new Error('transient');
      });
      await q.enqueue({ key: 'j3.s1', domain: 'civil', payload: null }, { attempts: 3, backoffMs: 10 });
      await waitFor(() => attempts.length === 3);
      expect(attempts).toEqual([1, 2, 3]);
    });

    it('cancel stops a running delivery (signal aborted with CANCELLED, not retried) and drops a waiting one', async () => {
      q = make();
      const queue = q;
      const starts: string[] = [];
      const reasons: unknown[] = [];
      queue.consume('grid', async (m, ctx) => {
        starts.push(m.key);
        if (m.key === 'j6.run') {
          await new Promise<void>((resolve) => { ctx.signal.addEventListener('abort', () => resolve(), { once: true }); });
          reasons.push(ctx.signal.reason);
          throw new Error('stopped');
        }
      });
      await queue.enqueue({ key: 'j6.run', domain: 'grid', payload: null }, { attempts: 3, backoffMs: 10 });
      await queue.enqueue({ key: 'j6.wait', domain: 'grid', payload: null });
      await waitFor(() => starts.length === 1);
      await queue.cancel('grid', 'j6.wait');
      // The cancel reaches the running delivery wherever its worker runs (BullMQ: over Redis).
      const deadline = Date.now() + 10_000;
      while (reasons.length === 0 && Date.now() < deadline) {
        await queue.cancel('grid', 'j6.run');
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(reasons).toEqual([CANCELLED]);
      await new Promise((r) => setTimeout(r, 500));
      expect(starts).toEqual(['j6.run']); // neither retried nor the dropped one delivered
      expect(await queue.depth('grid')).toBe(0);
    });

    it('reports results: the handler value, and a failure only after the last attempt', async () => {
      q = make();
      const results: unknown[] = [];
      await q.onResult(['housing'], (r) => { results.push(r.ok ? { key: r.key, value: r.value } : { key: r.key, error: r.error }); });
      q.consume('housing', async (m, ctx) => {
        if (m.key === 'j4.bad') throw new Error(`broken ${ctx.attempt}`);
        return { rows: 3 };
      });
      await q.enqueue({ key: 'j4.good', domain: 'housing', payload: null });
      await q.enqueue({ key: 'j4.bad', domain: 'housing', payload: null }, { attempts: 2, backoffMs: 10 });
      await waitFor(() => results.length === 2);
      await new Promise((r) => setTimeout(r, 200));
      expect(results).toEqual(expect.arrayContaining([{ key: 'j4.good', value: { rows: 3 } }, { key: 'j4.bad', error: 'broken 2' }]));
      expect(results).toHaveLength(2);
    });

    it('resume leaves a pending delivery alone, enqueues one the queue does not know, and gets a finished one heard again', async () => {
      q = make();
      const seen: string[] = [];
      const results: string[] = [];
      await q.onResult(['social'], (r) => { results.push(`${r.key}:${r.ok ? JSON.stringify(r.value) : r.error}`); });
      await q.enqueue({ key: 'j7.a', domain: 'social', payload: 'a' });
      expect(await q.resume({ key: 'j7.a', domain: 'social', payload: 'a' })).toBe('pending');
      expect(await q.resume({ key: 'j7.b', domain: 'social', payload: 'b' })).toBe('enqueued');
      expect(await q.resume({ key: 'j7.b', domain: 'social', payload: 'b' })).toBe('pending');
      expect(await q.depth('social')).toBe(2);
      q.consume('social', async (m) => { seen.push(m.key); return { got: m.payload }; });
      await waitFor(() => results.length === 2);
      expect(seen).toEqual(['j7.a', 'j7.b']);
      // Finished: BullMQ keeps the outcome and tells it again; the in-process queue forgot it and runs it again.
      const again = await q.resume({ key: 'j7.a', domain: 'social', payload: 'a' });
      expect(again).toBe(name === 'bullmq' ? 'redelivered' : 'enqueued');
      await waitFor(() => results.length === 3);
      expect(results[2]).toBe('j7.a:{"got":"a"}');
      expect(seen).toHaveLength(name === 'bullmq' ? 2 : 3);
    });

    it('keeps worker heartbeats per domain until they expire', async () => {
      q = make();
      await q.reportHeartbeat({ domain: 'grid', workerId: 'w1', databaseOk: true, at: new Date().toISOString() }, 10_000);
      await q.reportHeartbeat({ domain: 'grid', workerId: 'w2', databaseOk: false, at: new Date().toISOString(), error: 'x' }, 50);
      await new Promise((r) => setTimeout(r, 120));
      const beats = await q.heartbeats('grid');
      expect(beats.map((b) => b.workerId)).toEqual(['w1']);
      expect(await q.heartbeats('housing')).toEqual([]);
      await expect(q.ping()).resolves.toBeUndefined();
    });
  });
}

describe('bullmq driver with Redis unreachable', () => {
  it('ping fails with LAB-E021', async () => {
    const q = new BullQueue('redis://127.0.0.1:1', 'tqdown');
    await expect(q.ping()).rejects.toMatchObject({ code: 'LAB-E021' });
    await q.close();
  });
});
