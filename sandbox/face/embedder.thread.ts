import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';

/**
 * The embedder's own thread (embedder-thread.ts): one ONNX session, one batch at a time, so that the
 * embedder runs on one core while the engine's thread decodes, detects and aligns on the other
 * (onnxruntime-node runs a session synchronously on the calling thread).
 */
interface Init { readonly model: Uint8Array; readonly threads: number; readonly inputName: string | undefined; readonly output: string }
interface Request { readonly id: number; readonly input: Float32Array; readonly dims: readonly number[] }

const init = workerData as Init;
const ready = ort.InferenceSession.create(init.model, {
  intraOpNumThreads: init.threads,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
  logSeverityLevel: 3,
  extra: { session: { intra_op: { allow_spinning: '0' } } },
});
ready.then(
  () => parentPort?.postMessage({ id: 0, ok: true }),
  (e: unknown) => parentPort?.postMessage({ id: 0, ok: false, error: e instanceof Error ? e.message : String(e) }),
);
parentPort?.on('message', (m: Request) => {
  void (async () => {
    try {
      const session = await ready;
      const name = init.inputName ?? session.inputNames[0] ?? 'input';
      const res = await session.run({ [name]: new ort.Tensor('float32', m.input, m.dims) });
      const out = res[init.output];
      if (!out || !(out.data instanceof Float32Array)) throw new Error(`no float output ${init.output}`);
      const data = out.data.slice();
      parentPort?.postMessage({ id: m.id, ok: true, data }, [data.buffer]);
    } catch (e) {
      parentPort?.postMessage({ id: m.id, ok: false, error: e instanceof Error ? e.message : String(e) });
    }
  })();
});
