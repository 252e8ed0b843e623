import { parentPort, workerData } from 'node:worker_threads';
import { replyFor, runGuard, type GuardReply, type GuardTask } from './guard-thread.ts';

/** Entry of the guard thread (guard-thread.ts): one task in, one reply out. */
let reply: GuardReply;
try {
  reply = { ok: true, outcome: runGuard(workerData as GuardTask) };
} catch (e) {
  reply = replyFor(e);
}
parentPort?.postMessage(reply);
