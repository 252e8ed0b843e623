import { setFlagsFromString } from 'node:v8';

/**
 * V8 flags of the lab's processes, set before anything is compiled by the optimiser (imported
 * first by server/main.ts).
 *
 * `--no-turbo-inline-js-wasm-calls`: Node 20's V8 (11.3) aborts the process ("Fatal error … unreachable
 * code", Deoptimizer::DoComputeBuiltinContinuation) when optimised code that inlined a JS→Wasm call
 * is lazily deoptimised while that call runs. The policy engine calls Cedar's WebAssembly on every
 * request (policies/engine.ts `ask`); under 100 concurrent sessions the server died within two
 * minutes, every time (`npm run bench -- load`, the trace showed `ask` lazily deoptimised just
 * before). With the calls not inlined it did not; the cost is a call through the generic wrapper.
 */
setFlagsFromString('--no-turbo-inline-js-wasm-calls');
