import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LabError } from '../errors/index.ts';
import { captureOf, readFaceLabels, type LabelledFace } from '../../tests/support/face-eval.ts';
import {
  BLAZEFACE_SPEC, defaultFaceModel, FACERES_SPEC, faceSimilarity, openFaceEngine, openFaceEngineWith, parseFaceEngineConfig, type FaceAnalysis, type FaceEngine,
} from './index.ts';

const demo = (n: number) => readFileSync(new URL(`../../node_modules/@vladmandic/face-api/demo/sample${n}.jpg`, import.meta.url));

let engine: FaceEngine;
beforeAll(async () => {
  engine = await openFaceEngine();
});
afterAll(async () => {
  await engine.close();
});

const face = (a: FaceAnalysis): Extract<FaceAnalysis, { kind: 'face' }> => {
  if (a.kind !== 'face') throw new Error(`expected a face, got ${a.reason}`);
  return a;
};
const codeOf = async (p: Promise<unknown>): Promise<string> => {
  try {
    await p;
    return 'no error';
  } catch (e) {
    return e instanceof LabError ? e.code : String(e);
  }
};

describe('face engine (converted BlazeFace + HSE FaceRes)', () => {
  const labels = readFaceLabels();
  const byId = (id: string): LabelledFace => {
    const f = labels.faces.find((x) => x.identity === id);
    if (!f) throw new Error(id);
    return f;
  };

  it('finds every labelled face in the group photos, landmarks inside the boxes, eyes above the mouth', async () => {
    for (const n of [1, 3, 5, 6]) {
      const faces = await engine.alignedCrops(demo(n));
      const labelled = labels.faces.filter((f) => f.file.endsWith(`sample${n}.jpg`));
      expect(faces.length).toBeGreaterThanOrEqual(labelled.length);
      for (const l of labelled) {
        const [x, y, w] = l.box;
        expect(faces.some((f) => Math.abs(f.box.x - x) < w / 4 && Math.abs(f.box.y - y) < w / 4)).toBe(true);
      }
    }
    const all = await engine.analyseEveryFace(demo(6));
    for (const a of all) {
      if (a.kind !== 'face') continue;
      const [re, le, nose, mouth] = a.landmarks;
      expect(re && le && nose && mouth).toBeTruthy();
      if (!re || !le || !nose || !mouth) continue;
      expect(re[0]).toBeLessThan(le[0]); // the subject's right eye is on the image's left
      expect(Math.max(re[1], le[1])).toBeLessThan(mouth[1]);
      for (const [px, py] of [re, le, nose, mouth]) {
        expect(px).toBeGreaterThan(a.box.x - a.box.w * 0.1);
        expect(px).toBeLessThan(a.box.x + a.box.w * 1.1);
        expect(py).toBeGreaterThan(a.box.y - a.box.h * 0.1);
        expect(py).toBeLessThan(a.box.y + a.box.h * 1.1);
      }
    }
  });

  it('a group photo is unusable (several faces); one face cut out of it gives a unit-length 1024-d template', async () => {
    const group = await engine.analyse(demo(6));
    expect(group).toMatchObject({ kind: 'unusable', reason: 'several-faces' });
    const one = face(await engine.analyse(await captureOf(byId('s6-right'), { name: 't', context: 2.2, shift: [0, 0], side: 480, rotate: 0, brightness: 1, jpegQuality: 90 })));
    expect(one.template.length).toBe(1024);
    expect(engine.model.embeddingDim).toBe(1024);
    expect(engine.model.id).toMatch(/^human-\d+\.\d+\.\d+-blazeface-faceres$/); // the form the comparison library takes: stored and compared as it is
    expect(faceSimilarity(one.template, one.template)).toBeCloseTo(1, 5);
    expect(one.quality.score).toBeGreaterThan(0.75);
  });

  it('a face and its shifted, resized, re-compressed capture are closer than two people', async () => {
    const v1 = { name: 'a', context: 2.2, shift: [0, 0] as const, side: 480, rotate: 0, brightness: 1, jpegQuality: 92 };
    const v2 = { name: 'b', context: 2.6, shift: [0.1, -0.08] as const, side: 330, rotate: 5, brightness: 0.8, jpegQuality: 60 };
    for (const [a, b] of [['s6-right', 's6-third'], ['s3-right', 's4-right'], ['s2-right', 's5-bottom']] as const) {
      const a1 = face(await engine.analyse(await captureOf(byId(a), v1)));
      const a2 = face(await engine.analyse(await captureOf(byId(a), v2)));
      const b1 = face(await engine.analyse(await captureOf(byId(b), v1)));
      const same = faceSimilarity(a1.template, a2.template);
      const other = faceSimilarity(a1.template, b1.template);
      expect(same).toBeGreaterThan(other + 0.15);
      expect(same).toBeGreaterThanOrEqual(engine.model.matchThreshold);
      expect(other).toBeLessThan(engine.model.matchThreshold);
    }
  });

  it('analyseMany batches the embedder and answers per image in order, errors included', async () => {
    const a = await captureOf(byId('s6-left'), { name: 'a', context: 2.2, shift: [0, 0], side: 480, rotate: 0, brightness: 1, jpegQuality: 90 });
    const single = face(await engine.analyse(a));
    const many = await engine.analyseMany([a, new Uint8Array([1, 2, 3]), demo(5), a]);
    expect(many.map((m) => m.kind)).toEqual(['face', 'rejected', 'unusable', 'face']);
    const first = many[0];
    if (first?.kind !== 'face') throw new Error('expected a face');
    expect(faceSimilarity(first.template, single.template)).toBeGreaterThan(0.9999);
    const bad = many[1];
    expect(bad?.kind === 'rejected' ? bad.error.code : '').toBe('LAB-E140');
  });

  it('quality gates: no face, too small, not frontal, blurred — each with a zh-CN and English reason', async () => {
    const grey = new Uint8Array(await sharp({ create: { width: 400, height: 300, channels: 3, background: '#808080' } }).jpeg().toBuffer());
    expect(await engine.analyse(grey)).toMatchObject({ kind: 'unusable', reason: 'no-face', faces: 0 });

    const tiny = await sharp(await captureOf(byId('s6-right'), { name: 't', context: 2.2, shift: [0, 0], side: 480, rotate: 0, brightness: 1, jpegQuality: 92 })).resize(120).jpeg().toBuffer();
    const small = await engine.analyse(new Uint8Array(tiny));
    expect(small, JSON.stringify(small)).toMatchObject({ kind: 'unusable', reason: 'too-small' });

    // sample2's left woman is in profile
    const profile = await captureOf({ file: 'node_modules/@vladmandic/face-api/demo/sample2.jpg', box: [354, 185, 207, 207], identity: 'x' }, { name: 'p', context: 2, shift: [0, 0], side: 480, rotate: 0, brightness: 1, jpegQuality: 92 });
    expect(await engine.analyse(profile)).toMatchObject({ kind: 'unusable', reason: 'not-frontal' });

    const sharpOne = await captureOf(byId('s6-third'), { name: 'b', context: 2.2, shift: [0, 0], side: 480, rotate: 0, brightness: 1, jpegQuality: 92 });
    expect((await engine.analyse(sharpOne)).kind).toBe('face');
    const blurred = await engine.analyse(new Uint8Array(await sharp(sharpOne).blur(5).jpeg().toBuffer()));
    expect(blurred).toMatchObject({ kind: 'unusable', reason: 'blurred' });
    if (blurred.kind === 'unusable') {
      expect(blurred.detail.zh).toMatch(/模糊/);
      expect(blurred.detail.en).toMatch(/blurred/);
    }
  });

  it('EXIF orientation is applied before detection', async () => {
    const upright = await captureOf(byId('s6-third'), { name: 'o', context: 2.2, shift: [0, 0], side: 480, rotate: 0, brightness: 1, jpegQuality: 92 });
    // Store the pixels turned 90° with an EXIF tag (6) saying "rotate 90° clockwise to view": the same face upright.
    const turned = new Uint8Array(await sharp(upright).rotate(-90).withMetadata({ orientation: 6 }).jpeg({ quality: 92 }).toBuffer());
    const a = face(await engine.analyse(upright));
    const b = face(await engine.analyse(turned));
    expect(faceSimilarity(a.template, b.template)).toBeGreaterThan(0.9);
  });

  it('bad input: not an image, truncated JPEG, too many bytes, too many pixels → LabError, nothing analysed', async () => {
    expect(await codeOf(engine.analyse(new TextEncoder().encode('GIF89a this is not an image')))).toBe('LAB-E140');
    expect(await codeOf(engine.analyse(new Uint8Array(0)))).toBe('LAB-E140');
    const jpeg = demo(1);
    expect(await codeOf(engine.analyse(new Uint8Array(jpeg.subarray(0, Math.floor(jpeg.length / 2)))))).toBe('LAB-E140');
    const strict = await openFaceEngine({ limits: { maxBytes: 100_000, maxPixels: 1_000_000 } });
    try {
      expect(jpeg.length).toBeGreaterThan(100_000);
      expect(await codeOf(strict.analyse(jpeg))).toBe('LAB-E141');
      const wide = new Uint8Array(await sharp({ create: { width: 2000, height: 1000, channels: 3, background: '#000' } }).png().toBuffer());
      expect(wide.length).toBeLessThan(100_000);
      expect(await codeOf(strict.analyse(wide))).toBe('LAB-E141');
    } finally {
      await strict.close();
    }
    expect(await codeOf(openFaceEngine({ threads: 0 }))).toBe('LAB-E142');
    expect(await codeOf(openFaceEngine({ modelDir: '/nonexistent' }))).toBe('LAB-E142');
  });

  it('a model directory (LAB_FACE_MODEL_DIR) replaces the default pair: same ONNX files, same templates', async () => {
    const src = await defaultFaceModel();
    const dir = mkdtempSync(join(tmpdir(), 'lab-face-model-'));
    try {
      writeFileSync(join(dir, 'det.onnx'), src.detectorBytes);
      writeFileSync(join(dir, 'emb.onnx'), src.embedderBytes);
      writeFileSync(join(dir, 'face-model.json'), JSON.stringify({
        id: 'test-copy', matchThreshold: 0.5,
        detector: { ...BLAZEFACE_SPEC, file: 'det.onnx' },
        embedder: { ...FACERES_SPEC, file: 'emb.onnx' },
      }));
      const before = process.env.LAB_FACE_MODEL_DIR;
      process.env.LAB_FACE_MODEL_DIR = dir;
      let copy: FaceEngine;
      try {
        copy = await openFaceEngine();
      } finally {
        if (before === undefined) delete process.env.LAB_FACE_MODEL_DIR;
        else process.env.LAB_FACE_MODEL_DIR = before;
      }
      try {
        expect(copy.model).toEqual({ id: 'test-copy', embeddingDim: 1024, matchThreshold: 0.5 });
        const photo = await captureOf(byId('s6-left'), { name: 'm', context: 2.2, shift: [0, 0], side: 480, rotate: 0, brightness: 1, jpegQuality: 90 });
        const a = face(await engine.analyse(photo));
        const b = face(await copy.analyse(photo));
        expect(faceSimilarity(a.template, b.template)).toBeGreaterThan(0.9999);
      } finally {
        await copy.close();
      }
      writeFileSync(join(dir, 'face-model.json'), JSON.stringify({ id: 'broken', matchThreshold: 0.5, detector: { file: 'det.onnx' }, embedder: {} }));
      expect(await codeOf(openFaceEngine({ modelDir: dir }))).toBe('LAB-E142');
      // A model id the comparison library would refuse (upper case, '/', '+') is refused when the engine opens.
      writeFileSync(join(dir, 'face-model.json'), JSON.stringify({
        id: 'Test/copy+v2', matchThreshold: 0.5, detector: { ...BLAZEFACE_SPEC, file: 'det.onnx' }, embedder: { ...FACERES_SPEC, file: 'emb.onnx' },
      }));
      expect(await codeOf(openFaceEngine({ modelDir: dir }))).toBe('LAB-E142');
      expect(await codeOf(openFaceEngineWith({ ...src, id: 'human-3.3.6/blazeface+faceres' }, parseFaceEngineConfig({})))).toBe('LAB-E142');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a closed engine refuses work', async () => {
    const e = await openFaceEngine();
    await e.close();
    expect(await codeOf(e.analyse(demo(1)))).toBe('LAB-E145');
  });
});
