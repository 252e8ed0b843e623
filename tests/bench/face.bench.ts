/**
 * `npm run bench -- face [--repeat N]`: the face engine on 2 cores.
 * - faces/s for decode + detect + align + embed (`analyseMany`, embedder batched) over the capture set of
 *   tests/support/face-eval.ts (labelled faces of the @vladmandic/face-api demo photos × capture variants);
 * - FMR / FNMR at the model's match threshold on the same set, and the ROC.
 * - encrypted comparisons/s (CKKS, sandbox/crypto/face-match, `compareBatch`: both parties in this
 *   process, frames relayed in memory, keys made per session) over the engine's own templates of
 *   the capture set (int8-quantised; probe = a capture, reference = the first usable capture of the
 *   same identity), batched, and over synthetic-128 templates (the S5 model), with the share of
 *   encrypted outcomes equal to the plaintext decision.
 * Last line: one JSON object.
 */
import { availableParallelism, loadavg } from 'node:os';
import { compareBatch, cosineInt8, quantizeTemplate, type Probe, type ReferenceTemplate } from '../../sandbox/crypto/face-match/index.ts';
import { openFaceEngine } from '../../sandbox/face/index.ts';
import { CAPTURE_VARIANTS, captureAll, captureOf, pairScores, ratesAt, readFaceLabels, rocTable } from '../support/face-eval.ts';

export async function run(argv: string[]): Promise<void> {
  const repeatArg = argv.indexOf('--repeat');
  const repeat = repeatArg >= 0 ? Math.max(1, Number(argv[repeatArg + 1] ?? 3)) : 3;
  const t0 = performance.now();
  const threads = Number(process.env.LAB_FACE_THREADS ?? 1);
  const engine = await openFaceEngine({ threads });
  const openMs = performance.now() - t0;
  const labels = readFaceLabels();
  try {
    // Accuracy
    const captures = await captureAll(engine, labels);
    const usable = captures.filter((c) => c.template !== undefined).length;
    const reasons: Record<string, number> = {};
    for (const c of captures) if (!c.template) reasons[c.reason ?? '?'] = (reasons[c.reason ?? '?'] ?? 0) + 1;
    const scores = pairScores(captures);
    const threshold = engine.model.matchThreshold;
    const { fmr, fnmr } = ratesAt(scores, threshold);
    const samePhoto = ratesAt({ genuine: scores.genuineSamePhoto, impostor: scores.impostor }, threshold).fnmr;
    const crossPhoto = ratesAt({ genuine: scores.genuineCrossPhoto, impostor: scores.impostor }, threshold).fnmr;
    // Speed: the usable capture JPEGs (one face that passes the gates) made once, analysed `repeat` times.
    const images: Uint8Array[] = [];
    for (const c of captures) {
      const f = labels.faces[c.face];
      const v = CAPTURE_VARIANTS.find((x) => x.name === c.variant);
      if (c.template && f && v) images.push(await captureOf(f, v));
    }
    await engine.analyseMany(images.slice(0, 8)); // warm-up
    let faces = 0;
    const t1 = performance.now();
    for (let r = 0; r < repeat; r++) {
      const out = await engine.analyseMany(images);
      faces += out.filter((o) => o.kind === 'face').length;
    }
    const seconds = (performance.now() - t1) / 1000;
    const facesPerSecond = faces / seconds;
    const imagesPerSecond = (images.length * repeat) / seconds;

    process.stdout.write(`face engine ${engine.model.id}, ${availableParallelism()} cores, ORT intra-op threads ${threads} per session (detector and embedder overlap), open (convert + load) ${openMs.toFixed(0)} ms\n`);
    process.stdout.write(`captures: ${captures.length} (${labels.faces.length} labelled faces × ${CAPTURE_VARIANTS.length} variants), usable ${usable}, unusable ${JSON.stringify(reasons)}\n`);
    process.stdout.write(`pairs: genuine ${scores.genuine.length} (${scores.genuineSamePhoto.length} same photo under capture changes, ${scores.genuineCrossPhoto.length} two photos of one person), impostor ${scores.impostor.length}\n`);
    process.stdout.write(`threshold ${threshold}: FMR ${(fmr * 100).toFixed(2)} %, FNMR ${(fnmr * 100).toFixed(2)} % (same photo ${(samePhoto * 100).toFixed(2)} %, two photos ${(crossPhoto * 100).toFixed(2)} %)\n`);
    process.stdout.write('ROC: threshold | FMR % | FNMR % all | same photo | two photos\n');
    const grid = [0.5, 0.55, 0.58, 0.6, 0.62, 0.64, 0.66, 0.68, 0.7, 0.75, 0.8, 0.85, 0.9];
    const same = rocTable({ genuine: scores.genuineSamePhoto, impostor: scores.impostor }, grid);
    const cross = rocTable({ genuine: scores.genuineCrossPhoto, impostor: scores.impostor }, grid);
    rocTable(scores, grid).forEach((r, i) => {
      process.stdout.write(`| ${r.threshold.toFixed(2)} | ${(r.fmr * 100).toFixed(2)} | ${(r.fnmr * 100).toFixed(2)} | ${((same[i]?.fnmr ?? 0) * 100).toFixed(2)} | ${((cross[i]?.fnmr ?? 0) * 100).toFixed(2)} |\n`);
    });
    process.stdout.write(`load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}\n`);
    process.stdout.write(`speed: ${images.length} images × ${repeat}: ${faces} faces in ${seconds.toFixed(2)} s → ${facesPerSecond.toFixed(1)} faces/s (${imagesPerSecond.toFixed(1)} images/s; decode + detect + gates + align + embed)\n`);
    // Encrypted comparisons, batched: the engine's templates, then synthetic-128.
    const enc = await encryptedComparisons(captures, threshold, repeat);
    process.stdout.write(`encrypted comparisons (CKKS, batch ${enc.engine.batch}, ${enc.engine.dimension}-d engine templates): ${enc.engine.perSecond.toFixed(1)} comparisons/s, ${enc.engine.agree}/${enc.engine.batch} equal to the plaintext decision; synthetic-128 (batch ${enc.synthetic.batch}): ${enc.synthetic.perSecond.toFixed(1)} comparisons/s, ${enc.synthetic.agree}/${enc.synthetic.batch} equal (best of ${repeat})\n`);
    process.stdout.write(`${JSON.stringify({
      bench: 'face',
      facesPerSecond: Number(facesPerSecond.toFixed(1)),
      comparisonsPerSecond: Number(enc.engine.perSecond.toFixed(1)),
      comparisonsPerSecondSynthetic128: Number(enc.synthetic.perSecond.toFixed(1)),
      comparisonBatch: enc.engine.batch,
      fmr: Number(fmr.toFixed(4)),
      fnmr: Number(fnmr.toFixed(4)),
      fnmrSamePhoto: Number(samePhoto.toFixed(4)),
      fnmrTwoPhotos: Number(crossPhoto.toFixed(4)),
      threshold,
      genuinePairs: scores.genuine.length,
      impostorPairs: scores.impostor.length,
    })}\n`);
  } finally {
    await engine.close();
  }
}

interface EncryptedFigure { readonly dimension: number; readonly batch: number; readonly perSecond: number; readonly agree: number }

/** Best of `repeat` runs of `compareBatch` over `probes` against `refs`, and how many outcomes equal the plaintext decision. */
async function measure(probes: readonly Probe[], refs: ReadonlyMap<string, Int8Array>, modelId: string, dimension: number, threshold: number, repeat: number): Promise<EncryptedFigure> {
  const lookup = (keys: readonly string[]): (ReferenceTemplate | undefined)[] => keys.map((k) => {
    const template = refs.get(k);
    return template ? { modelId, template } : undefined;
  });
  await compareBatch({ jobId: 'warm-up', modelId, dimension, threshold, probes: probes.slice(0, 1), lookup });
  let best = 0, agree = 0;
  for (let r = 0; r < repeat; r++) {
    const { outcomes, timing } = await compareBatch({ jobId: `bench-${r}`, modelId, dimension, threshold, probes, lookup });
    best = Math.max(best, timing.comparisonsPerSecond);
    agree = outcomes.filter((o, i) => {
      const p = probes[i];
      const ref = p && refs.get(p.key);
      return p && ref && o === (cosineInt8(p.template, ref) >= threshold ? 'pass' : 'fail');
    }).length;
  }
  return { dimension, batch: probes.length, perSecond: best, agree };
}

async function encryptedComparisons(captures: readonly { identity: string; template: Float32Array | undefined }[], threshold: number, repeat: number): Promise<{ engine: EncryptedFigure; synthetic: EncryptedFigure }> {
  const usable = captures.filter((c): c is { identity: string; template: Float32Array } => c.template !== undefined);
  const first = usable[0];
  if (!first) throw new Error('no usable capture');
  const dimension = first.template.length;
  const refs = new Map<string, Int8Array>();
  for (const c of usable) if (!refs.has(c.identity)) refs.set(c.identity, quantizeTemplate(Array.from(c.template)));
  const probes: Probe[] = [];
  for (let i = 0; probes.length < 256; i++) {
    const c = usable[i % usable.length];
    if (c) probes.push({ key: c.identity, template: quantizeTemplate(Array.from(c.template)) });
  }
  const engine = await measure(probes, refs, 'engine', dimension, threshold, repeat);
  // synthetic-128: identities with near (good capture) and far (another person) probes.
  const sRefs = new Map<string, Int8Array>();
  const sProbes: Probe[] = [];
  for (let i = 0; i < 1024; i++) {
    const id = Array.from({ length: 128 }, () => Math.random() * 2 - 1);
    sRefs.set(`p${i}`, quantizeTemplate(id.map((x) => x + (Math.random() * 2 - 1) * 0.25)));
    sProbes.push({ key: `p${i}`, template: quantizeTemplate(id.map((x) => x + (Math.random() * 2 - 1) * (i % 5 === 0 ? 3 : 0.6))) });
  }
  const synthetic = await measure(sProbes, sRefs, 'synthetic-128', 128, 0.5, repeat);
  return { engine, synthetic };
}
