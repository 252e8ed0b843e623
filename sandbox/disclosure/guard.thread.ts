import { parentPort } from 'node:worker_threads';
import { replyFor, runGuard, type GuardReply, type GuardTask } from './guard-thread.ts';

/** Entry of the guard thread (guard-thread.ts): tasks in, one reply per task out, in order. */
parentPort?.on('message', (m: { id: number; task: GuardTask }) => {
  let reply: GuardReply;
  try {
    reply = { ok: true, outcome: runGuard(m.task) };
  } catch (e) {
    reply = replyFor(e);
  }
  parentPort?.postMessage({ id: m.id, reply });
});
