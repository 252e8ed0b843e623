import { parseArgs } from 'node:util';
import { compareBatch, planComparison, quantizeTemplate, type Probe, type ReferenceTemplate } from '../../sandbox/crypto/face-match/index.ts';

/**
 * Encrypted face comparison benchmark (sandbox/crypto/face-match): both parties in this process,
 * messages relayed in memory, per batch size the whole protocol — keys and Galois keys made per
 * session, probes encrypted, the reference side's multiply / rotate / mask / flood, decryption —
 * over random int8 templates. Prints comparisons/s per batch size; the last line is JSON.
 *
 *   npm run bench -- face-match [--dimension 128] [--repeat 3]
 */
export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { dimension: { type: 'string', default: '128' }, repeat: { type: 'string', default: '3' } } });
  const dimension = Number(values.dimension);
  const repeat = Math.max(1, Number(values.repeat));
  const log = (s: string) => process.stdout.write(`${s}\n`);
  const plan = planComparison(dimension);
  log(`face-match: ${dimension}-d int8 templates, groups of ${plan.probesPerGroup} probes in ${plan.ciphertextsPerGroup} ciphertexts, ${plan.rotationSteps.length} rotations per group, flood 2^${plan.floodBits}, decision margin ${plan.decisionMargin.toFixed(4)}`);
  const refs = new Map<string, Int8Array>();
  const probes: Probe[] = [];
  for (let i = 0; i < 256; i++) {
    const id = Array.from({ length: dimension }, () => Math.random() * 2 - 1);
    refs.set(`k${i}`, quantizeTemplate(id));
    probes.push({ key: `k${i}`, template: quantizeTemplate(id.map((x) => x + (Math.random() * 2 - 1) * (i % 2 ? 0.5 : 2))) });
  }
  const lookup = (keys: readonly string[]): (ReferenceTemplate | undefined)[] => keys.map((k) => {
    const template = refs.get(k);
    return template ? { modelId: 'bench', template } : undefined;
  });
  await compareBatch({ jobId: 'warm-up', modelId: 'bench', dimension, threshold: 0.5, probes: probes.slice(0, 1), lookup });
  const result: Record<string, number> = {};
  for (const batch of [1, 32, 256]) {
    let best = 0, bytes = 0;
    for (let r = 0; r < repeat; r++) {
      const { timing } = await compareBatch({ jobId: `bench-${batch}-${r}`, modelId: 'bench', dimension, threshold: 0.5, probes: probes.slice(0, batch), lookup });
      if (timing.comparisonsPerSecond > best) { best = timing.comparisonsPerSecond; bytes = timing.bytes; }
    }
    result[String(batch)] = Math.round(best * 10) / 10;
    log(`batch ${String(batch).padStart(3)}: ${best.toFixed(1)} comparisons/s (best of ${repeat}), ${(bytes / 2 ** 20).toFixed(1)} MiB relayed`);
  }
  log(JSON.stringify({ dimension, comparisonsPerSecond: result['256'], byBatch: result, decisionMargin: plan.decisionMargin, floodBits: plan.floodBits }));
}
