import { describe, expect, it } from 'vitest';
import { cosineInt8 } from '../../crypto/face-match/templates.ts';
import { buildPlan } from './city-plan.ts';
import { byteaCopyText, FACE_RATES, referenceTemplate, SYNTHETIC_MARGIN, SYNTHETIC_THRESHOLD, visitCapture } from './face-synth.ts';

const plan = buildPlan(10_000, 'faces-test', '2026-06-30');

describe('synthetic face templates', () => {
  it('are a function of (seed, N, person / visit) only', () => {
    const again = buildPlan(10_000, 'faces-test', '2026-06-30');
    expect(referenceTemplate(again, 17)).toEqual(referenceTemplate(plan, 17));
    const ref = referenceTemplate(plan, 17);
    expect(visitCapture(again, 1234, 17, true, ref)).toEqual(visitCapture(plan, 1234, 17, true, ref));
    const other = buildPlan(10_000, 'another-seed', '2026-06-30');
    expect(referenceTemplate(other, 17)).not.toEqual(ref);
    expect(ref).toHaveLength(128);
  });

  it('give the same person nearby vectors, another person far ones, and keep every pair off the threshold', () => {
    let pass = 0, fail = 0, unusable = 0, far = 0;
    const n = 4000;
    for (let v = 0; v < n; v++) {
      const person = v % 2000;
      const ref = referenceTemplate(plan, person);
      const cap = visitCapture(plan, 8 * (v + 1), person, true, ref);
      if (!cap.template) { unusable++; continue; }
      const c = cosineInt8(cap.template, ref);
      expect(Math.abs(c - SYNTHETIC_THRESHOLD)).toBeGreaterThanOrEqual(SYNTHETIC_MARGIN);
      if (c >= SYNTHETIC_THRESHOLD) pass++; else fail++;
      if (Math.abs(cosineInt8(cap.template, referenceTemplate(plan, (person + 1000) % 10_000))) < 0.4) far++;
    }
    // shares: unusable ≈ 4 %, fail ≈ impostors 1.5 % + poor captures ≈ 4 % (most of them below τ)
    expect(unusable / n).toBeGreaterThan(FACE_RATES.unusable / 2);
    expect(unusable / n).toBeLessThan(FACE_RATES.unusable * 2);
    expect(fail / n).toBeGreaterThan(0.02);
    expect(fail / n).toBeLessThan(0.1);
    expect(pass / n).toBeGreaterThan(0.85);
    expect(far / (pass + fail)).toBeGreaterThan(0.99);
  });

  it('marks a visit without a photo unusable and writes templates as COPY bytea hex', () => {
    expect(visitCapture(plan, 8, 0, false, null)).toEqual({ template: null, unusable: 'no-photo' });
    expect(byteaCopyText(Int8Array.from([0, 1, -1, 127, -128]))).toBe('\\\\x0001ff7f80');
  });
});
