import { parentPort } from 'node:worker_threads';
import { PsiEngine, answerFor, type EngineAnswer, type EngineRequest } from './psi-engine.ts';

/** Entry of a PSI pool thread (psi-pool.ts): one request at a time, one answer each, points transferred back. */
const engine = new PsiEngine();
parentPort?.on('message', (m: { id: number; req: EngineRequest }) => {
  let answer: EngineAnswer;
  try {
    answer = { ok: true, reply: engine.run(m.req) };
  } catch (e) {
    answer = answerFor(e);
  }
  const transfer = answer.ok && answer.reply.op === 'points' ? [answer.reply.points.buffer as ArrayBuffer] : [];
  parentPort?.postMessage({ id: m.id, answer }, transfer);
});
parentPort?.on('close', () => engine.wipeAll());
