import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { DEFAULT_SUITE, packItems, type HashSuite } from '../../sandbox/crypto/psi/hash-to-curve.ts';
import { runPsiLocally } from '../../sandbox/crypto/psi/psi-local.ts';
import { PsiPool } from '../../sandbox/crypto/psi/psi-pool.ts';

/**
 * ECDH-PSI benchmark (docs/protocols.md "ECDH-PSI", figures in docs/benchmarks.md). In one run:
 *
 *  1. the lab's PSI, cardinality mode, both parties in this process on one pool of `--threads`
 *     threads (default: one per core), at each size n × n (half the items common);
 *  2. the limit on this machine, measured just before and just after each PSI run on the same
 *     threads: X25519 scalar multiplications per second and hash-to-curve (the same suite) per
 *     second; the protocol needs 4n multiplications (each side blinds its n items and re-blinds
 *     the other's n) and 2n hashes, so limitSeconds = 4n / x25519Rate + 2n / hashRate. The part
 *     the limit leaves out: shuffles, deduplication, point checks, message framing, comparison;
 *  3. @openmined/psi.js (its Node WebAssembly build, loaded from node_modules, offline) at
 *     `--psijs-n` × `--psijs-n`, cardinality with its default Golomb-compressed set, one thread.
 *
 *   npm run bench -- psi [--n N | --sizes 100000,1000000] [--skip-psijs] [--psijs-n 100000]
 *                        [--threads T] [--suite NU|RO]   (default: the library's default suite, NU)
 *
 * Peak RSS: the process (all threads) sampled every 50 ms and its VmHWM, read before psi.js runs.
 * The last line is JSON: n, seconds, limitSeconds, fractionOfLimit, psijsSpeedup, heSpeedup (null:
 * the HE benchmark is `he-sum`), peakRssMiB, and the details.
 */
interface PsiJs {
  server: { createWithNewKey(reveal: boolean): PsiJsServer };
  client: { createWithNewKey(reveal: boolean): PsiJsClient };
  serverSetup: { deserializeBinary(b: Uint8Array): unknown };
  request: { deserializeBinary(b: Uint8Array): unknown };
  response: { deserializeBinary(b: Uint8Array): unknown };
}
interface Serializable { serializeBinary(): Uint8Array }
interface PsiJsServer { createSetupMessage(fpr: number, numClientInputs: number, inputs: string[]): Serializable; processRequest(req: unknown): Serializable; delete(): void }
interface PsiJsClient { createRequest(inputs: string[]): Serializable; getIntersectionSize(setup: unknown, response: unknown): number; delete(): void }

interface SizeRun {
  n: number;
  seconds: number;
  expected: number;
  found: number;
  x25519PerSecond: number;
  hashPerSecond: number;
  limitSeconds: number;
  x25519LimitSeconds: number;
  fractionOfLimit: number;
  fractionOfX25519Limit: number;
  messages: number;
  megabytes: number;
  load: [number, number];
  /** Process CPU-seconds (all threads) of the PSI, and of its 4n X25519 + 2n hashes at the probes' CPU cost. */
  cpuSeconds: number;
  cpuLimitSeconds: number;
}

const log = (s: string) => process.stdout.write(`${s}\n`);
const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;
const ids = (from: number, count: number): string[] => Array.from({ length: count }, (_, k) => `4401061990${String(from + k).padStart(8, '0')}`);

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      n: { type: 'string' }, sizes: { type: 'string', default: '100000,1000000' }, 'skip-psijs': { type: 'boolean', default: false },
      'psijs-n': { type: 'string', default: '100000' }, threads: { type: 'string', default: String(availableParallelism()) },
      suite: { type: 'string', default: DEFAULT_SUITE },
    },
  });
  const sizes = (values.n ?? values.sizes).split(',').map(Number);
  const psijsN = Number(values['psijs-n']);
  const threads = Number(values.threads);
  const suite = values.suite as HashSuite;
  if (sizes.some((n) => !Number.isInteger(n) || n < 2 || n % 2 !== 0)) throw new Error('--n / --sizes: even whole numbers ≥ 2');
  if (!Number.isInteger(psijsN) || psijsN < 2 || psijsN % 2 !== 0) throw new Error('--psijs-n: an even whole number ≥ 2');
  if (!Number.isInteger(threads) || threads < 1) throw new Error('--threads: a whole number ≥ 1');
  if (suite !== 'RO' && suite !== 'NU') throw new Error('--suite: RO or NU');

  log(`ECDH-PSI benchmark: sizes ${sizes.join(', ')} (n × n, half common), ${threads} threads on ${availableParallelism()} cores, hash-to-curve ${suite}; code ${codeVersion()}; load ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  const pool = new PsiPool(threads);
  let peak = 0;
  const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 50);
  sampler.unref();
  const runs: SizeRun[] = [];
  try {
    // thread start-up (module load) is paid once per process, not per job: not measured
    await pool.x25519Rate(100);
    await pool.hash(suite, packItems(['warm-up']));

    const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };
    const limits = async () => {
      const c0 = cpu();
      const x = await pool.x25519Rate(40_000);
      const c1 = cpu();
      const items = packItems(ids(50_000_000, 60_000 * threads));
      const t0 = performance.now();
      await pool.hash(suite, items);
      const c2 = cpu();
      return { x25519: x, hash: (60_000 * threads) / ((performance.now() - t0) / 1000), cpuPerX25519: (c1 - c0) / (40_000 * threads), cpuPerHash: (c2 - c1) / (60_000 * threads) };
    };

    for (const n of sizes) {
      const X = ids(0, n), Y = ids(n / 2, n);
      const before = await limits();
      const load0 = loadavg()[0] ?? 0;
      const t0 = performance.now();
      const cpu0 = cpu();
      const r = await runPsiLocally(X, Y, { session: `bench-${n}`, mode: 'cardinality', pool, suite });
      const cpuSeconds = cpu() - cpu0;
      const seconds = (performance.now() - t0) / 1000;
      const load1 = loadavg()[0] ?? 0;
      const after = await limits();
      const x25519PerSecond = (before.x25519 + after.x25519) / 2;
      const hashPerSecond = (before.hash + after.hash) / 2;
      const x25519LimitSeconds = (4 * n) / x25519PerSecond;
      const limitSeconds = x25519LimitSeconds + (2 * n) / hashPerSecond;
      const found = r.receiver.intersectionSize;
      if (found !== n / 2) throw new Error(`wrong intersection size: ${found}, expected ${n / 2}`);
      const row: SizeRun = {
        n, seconds, expected: n / 2, found, x25519PerSecond, hashPerSecond, limitSeconds, x25519LimitSeconds,
        fractionOfLimit: limitSeconds / seconds, fractionOfX25519Limit: x25519LimitSeconds / seconds,
        messages: r.messages, megabytes: r.bytes / 2 ** 20, load: [load0, load1], cpuSeconds,
        cpuLimitSeconds: 4 * n * (before.cpuPerX25519 + after.cpuPerX25519) / 2 + 2 * n * (before.cpuPerHash + after.cpuPerHash) / 2,
      };
      runs.push(row);
      log(`lab PSI ${n} × ${n}: ${seconds.toFixed(1)} s, |X ∩ Y| = ${found} (right); ${r.messages} messages, ${row.megabytes.toFixed(1)} MiB relayed; keys wiped: ${r.wiped.receiver.keyZeroed && r.wiped.receiver.threadCopiesZeroed && r.wiped.sender.keyZeroed && r.wiped.sender.threadCopiesZeroed}`);
      log(`  limit on ${threads} threads (before/after): X25519 ${Math.round(before.x25519)}/${Math.round(after.x25519)} per s, hash-to-curve ${Math.round(before.hash)}/${Math.round(after.hash)} per s`);
      log(`  limit = 4n/X25519 + 2n/hash = ${x25519LimitSeconds.toFixed(1)} + ${(limitSeconds - x25519LimitSeconds).toFixed(1)} = ${limitSeconds.toFixed(1)} s → ${(100 * row.fractionOfLimit).toFixed(0)} % of the limit (${(100 * row.fractionOfX25519Limit).toFixed(0)} % of X25519 alone); load ${load0.toFixed(2)} → ${load1.toFixed(2)}`);
      log(`  CPU time (less disturbed by other work on the machine): ${cpuSeconds.toFixed(1)} CPU-s, the same X25519 and hashes alone ${row.cpuLimitSeconds.toFixed(1)} CPU-s → ${(100 * row.cpuLimitSeconds / cpuSeconds).toFixed(0)} %`);
    }
  } finally {
    await pool.close();
  }
  const hwm = Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0) * 1024;
  clearInterval(sampler);
  const peakRssMiB = Math.round(Math.max(peak, hwm) / 2 ** 20);
  log(`peak RSS of the lab's runs: ${peakRssMiB} MiB (process, all threads)`);

  let psijsSeconds: number | null = null;
  if (!values['skip-psijs']) {
    const t0 = performance.now();
    const load0 = loadavg()[0] ?? 0;
    const size = await runPsiJs(psijsN);
    psijsSeconds = (performance.now() - t0) / 1000;
    if (size !== psijsN / 2) log(`warning: psi.js found ${size}, expected ${psijsN / 2} (its Golomb-compressed set has false positives, rate 1e-6)`);
    log(`psi.js ${psijsN} × ${psijsN} (1 thread, WebAssembly): ${psijsSeconds.toFixed(1)} s, |X ∩ Y| = ${size}; load ${load0.toFixed(2)} → ${(loadavg()[0] ?? 0).toFixed(2)}`);
  }
  const ours = runs.find((r) => r.n === psijsN);
  const psijsSpeedup = psijsSeconds !== null && ours ? psijsSeconds / ours.seconds : null;
  if (psijsSpeedup !== null) log(`lab PSI vs psi.js at ${psijsN}: ${psijsSpeedup.toFixed(1)}× faster (${threads} threads against 1; ${(psijsSpeedup / threads).toFixed(1)}× per thread)`);

  const last = runs[runs.length - 1]!;
  log(JSON.stringify({
    n: last.n, seconds: round(last.seconds), limitSeconds: round(last.limitSeconds), fractionOfLimit: round(last.fractionOfLimit),
    psijsSpeedup: psijsSpeedup === null ? null : round(psijsSpeedup, 1), heSpeedup: null, peakRssMiB,
    fractionOfX25519Limit: round(last.fractionOfX25519Limit), threads, suite,
    runs: runs.map((r) => ({ n: r.n, seconds: round(r.seconds), limitSeconds: round(r.limitSeconds), fractionOfLimit: round(r.fractionOfLimit), fractionOfX25519Limit: round(r.fractionOfX25519Limit), cpuSeconds: round(r.cpuSeconds, 1), cpuFractionOfLimit: round(r.cpuLimitSeconds / r.cpuSeconds), x25519PerSecond: Math.round(r.x25519PerSecond), hashPerSecond: Math.round(r.hashPerSecond), load: r.load.map((x) => round(x)) })),
    psijs: psijsSeconds === null ? null : { n: psijsN, seconds: round(psijsSeconds) },
  }));
}

/** psi.js (OpenMined) as its README shows it: server setup, client request, server response, client count. */
async function runPsiJs(n: number): Promise<number> {
  const load = createRequire(import.meta.url)('@openmined/psi.js') as () => Promise<PsiJs>;
  const psi = await load();
  const server = psi.server.createWithNewKey(false);
  const client = psi.client.createWithNewKey(false);
  try {
    // fpr 1e-6 for the whole client set: at 1e-9 and 100 000 items psi.js's Golomb parameters overflow its int64 field
    const setup = server.createSetupMessage(1e-6, n, ids(n / 2, n)).serializeBinary();
    const request = client.createRequest(ids(0, n)).serializeBinary();
    const response = server.processRequest(psi.request.deserializeBinary(request)).serializeBinary();
    return client.getIntersectionSize(psi.serverSetup.deserializeBinary(setup), psi.response.deserializeBinary(response));
  } finally {
    server.delete();
    client.delete();
  }
}

function codeVersion(): string {
  try {
    const rev = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'sandbox/crypto/psi'], { encoding: 'utf8' }).trim();
    return dirty ? `${rev} + uncommitted changes under sandbox/crypto/psi` : rev;
  } catch {
    return 'unknown';
  }
}
