import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureAll, pairScores, ratesAt, readFaceLabels, type PairScores } from '../../tests/support/face-eval.ts';
import { DEFAULT_MATCH_THRESHOLD, openFaceEngine, type FaceEngine } from './index.ts';

/**
 * The accuracy figures of docs/face.md, on the labelled faces of the @vladmandic/face-api demo photos
 * (tests/fixtures/face-labels.json) under capture changes: at the default threshold the rates stay at or
 * below the documented ones. Any change to the converter, the alignment, the gates or the threshold that
 * makes the pipeline worse fails here.
 */
let engine: FaceEngine;
let scores: PairScores;
let usable = 0;
let total = 0;

beforeAll(async () => {
  engine = await openFaceEngine();
  const captures = await captureAll(engine, readFaceLabels());
  total = captures.length;
  usable = captures.filter((c) => c.template !== undefined).length;
  scores = pairScores(captures);
}, 60_000);
afterAll(async () => {
  await engine.close();
});

describe('face accuracy on package-shipped photos (docs/face.md)', () => {
  it('the default model uses the documented threshold', () => {
    expect(engine.model.matchThreshold).toBe(DEFAULT_MATCH_THRESHOLD);
    expect(DEFAULT_MATCH_THRESHOLD).toBe(0.6);
  });

  it('the gates keep the documented share of captures and the pair counts match', () => {
    expect(total).toBe(84);
    expect(usable).toBeGreaterThanOrEqual(58); // documented: 61 of 84
    expect(scores.genuineCrossPhoto.length).toBeGreaterThanOrEqual(9);
    expect(scores.genuine.length).toBeGreaterThanOrEqual(90);
    expect(scores.impostor.length).toBeGreaterThanOrEqual(1500);
  });

  it('at the threshold: FMR ≤ 1.5 %, FNMR ≤ 3 %, no same-photo capture pair rejected', () => {
    const all = ratesAt(scores, DEFAULT_MATCH_THRESHOLD);
    expect(all.fmr).toBeLessThanOrEqual(0.015); // documented: 1.21 %
    expect(all.fnmr).toBeLessThanOrEqual(0.03); // documented: 2.04 %
    expect(ratesAt({ genuine: scores.genuineSamePhoto, impostor: scores.impostor }, DEFAULT_MATCH_THRESHOLD).fnmr).toBe(0);
  });

  it('the genuine and impostor distributions are apart: medians differ by more than 0.3', () => {
    const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)] ?? 0;
    expect(median(scores.genuine) - median(scores.impostor)).toBeGreaterThan(0.3);
  });
});
