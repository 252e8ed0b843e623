import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFaultLab, TWO_TABLES, until, type FaultLab } from './fault-lab.ts';

interface SseEvent { id: number; event: string; data: unknown }

/**
 * Follows an SSE response as a browser's EventSource does: an event counts once its blank line has
 * arrived; `ended` says whether the server closed the stream cleanly (true) or it broke (false).
 */
function follow(res: Response): { events: SseEvent[]; done: Promise<{ ended: boolean }> } {
  const events: SseEvent[] = [];
  const body = res.body;
  if (!body) throw new Error('no body');
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  const done = (async () => {
    try {
      for (;;) {
        const { value, done: end } = await reader.read();
        if (end) return { ended: true };
        buffer += decoder.decode(value, { stream: true });
        for (let cut = buffer.indexOf('\n\n'); cut >= 0; cut = buffer.indexOf('\n\n')) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const fields = new Map<string, string>();
          for (const line of block.split('\n')) {
            const colon = line.indexOf(':');
            if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 1).trimStart());
          }
          const id = fields.get('id');
          if (id !== undefined) events.push({ id: Number(id), event: fields.get('event') ?? 'message', data: JSON.parse(fields.get('data') ?? 'null') as unknown });
        }
      }
    } catch {
      return { ended: false };
    }
  })();
  return { events, done };
}

/**
 * The HTTP server dies while a client follows a job's progress over SSE (the coordinator, the
 * worker and the control database go on). A new server starts on the same port with a control
 * handle of its own; the client reconnects with Last-Event-ID and must get exactly the events
 * after that id: those recorded while no server ran, then the live ones, no duplicate, no gap.
 */
describe('the server killed while a client follows SSE', () => {
  let lab: FaultLab | undefined;
  beforeAll(async () => { lab = await startFaultLab(); });
  afterAll(async () => { await lab?.close(); });

  it('reconnecting with Last-Event-ID resumes right after that event, across events made while no server ran', async () => {
    if (!lab) throw new Error('set-up failed');
    const fl = lab;
    // `out_h` (household) waits on one lock, `out_p` (person) on another.
    const households = await fl.holdTable('household');
    const persons = await fl.holdTable('person');
    const jobId = await fl.run(TWO_TABLES);
    await fl.waitForBlockedStage();

    const first = follow(await fl.api.get(`/api/jobs/${jobId}/events`));
    await until('the first event', async () => (first.events.length >= 1 ? true : undefined));
    await fl.killServer();
    expect(await first.done).toEqual({ ended: false }); // broken, not finished
    expect(first.events.map((e) => e.event)).toEqual(['state']);
    const lastSeen = first.events[first.events.length - 1]?.id ?? 0;

    // While no server runs, `out_h` finishes: two events the client has not seen.
    await households.release();
    await until('out_h recorded', async () => ((await fl.events(jobId)).length >= 3 ? true : undefined));
    await fl.startServer();

    const second = follow(await fl.api.get(`/api/jobs/${jobId}/events`, { 'last-event-id': String(lastSeen) }));
    await until('the events made while the server was down', async () => (second.events.length >= 2 ? true : undefined));
    // Then the live ones: `out_p` finishes and the job with it; the server ends the stream.
    await persons.release();
    expect(await second.done).toEqual({ ended: true });

    const recorded = await fl.events(jobId);
    expect(recorded).toHaveLength(5);
    const seen = [...first.events, ...second.events];
    expect(seen.map((e) => e.id)).toEqual(recorded.map((e) => e.id)); // every event once, in order
    expect(seen.map((e) => e.data)).toEqual(recorded.map((e) => e.data));
    expect(second.events[0]?.id).toBeGreaterThan(lastSeen);
    expect(second.events.map((e) => [e.event, (e.data as { state?: string; stage?: string }).stage ?? (e.data as { state?: string }).state]))
      .toEqual([['stage', 'out_h'], ['state', 'running'], ['stage', 'out_p'], ['state', 'succeeded']]);

    // Reconnecting from any earlier id gives exactly the rest; a finished job's stream ends at once.
    const middle = recorded[2]?.id ?? 0;
    const third = follow(await fl.api.get(`/api/jobs/${jobId}/events`, { 'last-event-id': String(middle) }));
    expect(await third.done).toEqual({ ended: true });
    expect(third.events.map((e) => e.id)).toEqual(recorded.slice(3).map((e) => e.id));
    const last = recorded[recorded.length - 1]?.id ?? 0;
    const fourth = follow(await fl.api.get(`/api/jobs/${jobId}/events`, { 'last-event-id': String(last) }));
    expect(await fourth.done).toEqual({ ended: true });
    expect(fourth.events).toEqual([]);

    const audit = await fl.verifyAudit();
    expect(audit.firstBad).toBeNull();
    expect(audit.ok).toBe(true);
  });
});
