import { createRequire } from 'node:module';
import type { SEALLibrary } from 'node-seal/implementation/seal.js';
import { LabError, t } from '../../errors/index.ts';

/**
 * Microsoft SEAL 4.1 compiled to WebAssembly (`node-seal` 6.0.3; 7.x does not load on Node 20).
 * Loading compiles the WASM module (≈ 30–70 ms), so it happens once per process and is shared:
 * the module holds no key material, only code and memory pools.
 *
 * The build used is `throws_wasm_node_umd` (the package's Node entry): it refuses to produce a
 * transparent ciphertext (one that would carry its plaintext in the clear), which is what we want.
 */
type SealFactory = () => Promise<SEALLibrary>;

let loading: Promise<SEALLibrary> | undefined;

export function loadSeal(): Promise<SEALLibrary> {
  loading ??= (async () => {
    const require = createRequire(import.meta.url);
    const factory = require('node-seal') as unknown;
    if (typeof factory !== 'function') throw new Error('node-seal did not export its loader');
    return (factory as SealFactory)();
  })().catch((cause: unknown) => {
    loading = undefined; // a failed load may be retried
    throw new LabError('LAB-E110', { detail: t('无法加载 SEAL 同态加密库', 'could not load the SEAL library'), cause });
  });
  return loading;
}

/** Runs a SEAL call and turns its exception (a plain Error from WASM) into the given LabError. */
export function sealCall<T>(code: 'LAB-E110' | 'LAB-E114' | 'LAB-E118', what: { zh: string; en: string }, f: () => T): T {
  try {
    return f();
  } catch (cause) {
    if (cause instanceof LabError) throw cause;
    throw new LabError(code, { detail: what, cause });
  }
}
