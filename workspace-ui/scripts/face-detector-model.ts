/**
 * The browser's face-quality gate runs @mediapipe/tasks-vision's FaceDetector on
 * `face_detection_short_range.tflite` from the @mediapipe/face_detection package. That file carries
 * no TFLite metadata, and tasks-vision refuses a float input tensor without NormalizationOptions
 * ("Input tensor has type kTfLiteFloat32: it requires specifying NormalizationOptions metadata to
 * preprocess input images"). This script completes it at build time, offline: a `ModelMetadata`
 * flatbuffer (identifier M001: RGB image input normalised with mean 127.5 and std 127.5, i.e. to
 * [-1, 1], what BlazeFace was trained on) is stored in a new model buffer named `TFLITE_METADATA`.
 *
 * No flatbuffers library: the model is rewritten by putting a new root table in front of the
 * original bytes. Flatbuffer offsets are relative and point forward, so the original file, moved
 * as a block by a multiple of 16 bytes, stays valid, and the new root (with new `buffers` and
 * `metadata` vectors that list the old entries plus one) points into it.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

/** A small forward flatbuffer writer: a parent is written first and its offsets patched when its children land after it. */
class Writer {
  private buf = new Uint8Array(1024);
  private view = new DataView(this.buf.buffer);
  length = 0;

  private ensure(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
    next.set(this.buf);
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  align(n: number): void {
    while (this.length % n !== 0) this.u8(0);
  }

  u8(v: number): number { this.ensure(1); const at = this.length; this.view.setUint8(at, v); this.length += 1; return at; }
  u16(v: number): number { this.ensure(2); const at = this.length; this.view.setUint16(at, v, true); this.length += 2; return at; }
  u32(v: number): number { this.ensure(4); const at = this.length; this.view.setUint32(at, v, true); this.length += 4; return at; }
  i32(v: number): number { this.ensure(4); const at = this.length; this.view.setInt32(at, v, true); this.length += 4; return at; }
  f32(v: number): number { this.ensure(4); const at = this.length; this.view.setFloat32(at, v, true); this.length += 4; return at; }
  setI32(at: number, v: number): void { this.view.setInt32(at, v, true); }
  bytes(b: Uint8Array): number { this.ensure(b.length); const at = this.length; this.buf.set(b, at); this.length += b.length; return at; }

  /** Makes the uoffset at `at` point to `target` (which must lie after it). */
  patch(at: number, target: number): void {
    if (target <= at) throw new Error('flatbuffer offsets must point forward');
    this.view.setUint32(at, target - at, true);
  }

  result(): Uint8Array { return this.buf.slice(0, this.length); }
}

/** A table field: a scalar written inline, or a reference to something written after the table. */
type Field =
  | { readonly kind: 'u8'; readonly value: number }
  | { readonly kind: 'u32'; readonly value: number }
  | { readonly kind: 'ref'; readonly write: (w: Writer) => number }
  | { readonly kind: 'abs'; readonly target: number };

/** Writes a table (its vtable just before it), then the referenced children; returns the table's position. */
function table(w: Writer, fields: readonly (Field | undefined)[]): number {
  const present = fields.map((f, i) => ({ f, i })).filter((x): x is { f: Field; i: number } => x.f !== undefined);
  // Four-byte fields first, then bytes: every field naturally aligned.
  const wide = present.filter((x) => x.f.kind !== 'u8');
  const narrow = present.filter((x) => x.f.kind === 'u8');
  const slots = new Map<number, number>();
  let size = 4;
  for (const x of wide) { slots.set(x.i, size); size += 4; }
  for (const x of narrow) { slots.set(x.i, size); size += 1; }
  while (size % 4 !== 0) size += 1;
  const vtableBytes = 4 + 2 * fields.length;
  // The table starts 4-aligned, right after its vtable.
  while ((w.length + vtableBytes) % 4 !== 0) w.u8(0);
  const vtable = w.u16(vtableBytes);
  w.u16(size);
  for (let i = 0; i < fields.length; i++) w.u16(slots.get(i) ?? 0);
  const start = w.i32(0);
  const refs: { at: number; f: Field }[] = [];
  for (const x of [...wide, ...narrow]) {
    if (x.f.kind === 'u8') w.u8(x.f.value);
    else if (x.f.kind === 'u32') w.u32(x.f.value);
    else refs.push({ at: w.u32(0), f: x.f });
  }
  while (w.length - start < size) w.u8(0);
  w.setI32(start, start - vtable);
  for (const r of refs) w.patch(r.at, r.f.kind === 'ref' ? r.f.write(w) : r.f.kind === 'abs' ? r.f.target : 0);
  return start;
}

const str = (s: string): Field => ({ kind: 'ref', write: (w) => { w.align(4); const at = w.u32(Buffer.byteLength(s)); w.bytes(Buffer.from(s, 'utf8')); w.u8(0); return at; } });
const floats = (xs: readonly number[]): Field => ({ kind: 'ref', write: (w) => { w.align(4); const at = w.u32(xs.length); for (const x of xs) w.f32(x); return at; } });
const sub = (fields: readonly (Field | undefined)[]): Field => ({ kind: 'ref', write: (w) => table(w, fields) });
/** A vector of tables (or of absolute positions of tables already in the file). */
const vec = (items: readonly (readonly (Field | undefined)[] | number)[]): Field => ({
  kind: 'ref',
  write: (w) => {
    w.align(4);
    const at = w.u32(items.length);
    const slots = items.map(() => w.u32(0));
    items.forEach((item, i) => {
      const slot = slots[i] ?? 0;
      w.patch(slot, typeof item === 'number' ? item : table(w, item));
    });
    return at;
  },
});

/** The metadata_schema.fbs ModelMetadata for BlazeFace short range: RGB input normalised to [-1, 1]. */
export function blazeFaceMetadata(): Uint8Array {
  const w = new Writer();
  const rootAt = w.u32(0);
  w.bytes(Buffer.from('M001'));
  const tensor = (name: string, description: string): (Field | undefined)[] => [str(name), str(description)];
  const input: (Field | undefined)[] = [
    str('image'), str('Input image, RGB, 128×128, values normalised to [-1, 1]'), undefined,
    // Content { content_properties_type: ImageProperties (2), content_properties: ImageProperties { color_space: RGB (1) } }
    sub([{ kind: 'u8', value: 2 }, sub([{ kind: 'u8', value: 1 }])]),
    // [ProcessUnit { options_type: NormalizationOptions (1), options: { mean: [127.5], std: [127.5] } }]
    vec([[{ kind: 'u8', value: 1 }, sub([floats([127.5]), floats([127.5])])]]),
    // Stats { max: [1], min: [-1] }
    sub([floats([1]), floats([-1])]),
  ];
  const root = table(w, [
    str('BlazeFace short range'),
    str('Face detection (MediaPipe face_detection_short_range.tflite from @mediapipe/face_detection), metadata completed at build time by Data Lab'),
    str('1'),
    vec([[str('BlazeFace'), undefined, vec([input]), vec([tensor('regressors', 'box and keypoint regressions per anchor'), tensor('classificators', 'face score per anchor')])]]),
    undefined, str('Apache-2.0'), undefined,
    str('1.0.0'),
  ]);
  w.patch(rootAt, root);
  return w.result();
}

/** Reads a table's field `slot` (a uoffset) and returns the absolute position it points to, if present. */
function refField(b: DataView, tablePos: number, slot: number): number | undefined {
  const vt = tablePos - b.getInt32(tablePos, true);
  const vtSize = b.getUint16(vt, true);
  if (4 + slot * 2 >= vtSize) return undefined;
  const off = b.getUint16(vt + 4 + slot * 2, true);
  if (off === 0) return undefined;
  return tablePos + off + b.getUint32(tablePos + off, true);
}

function u32Field(b: DataView, tablePos: number, slot: number): number | undefined {
  const vt = tablePos - b.getInt32(tablePos, true);
  if (4 + slot * 2 >= b.getUint16(vt, true)) return undefined;
  const off = b.getUint16(vt + 4 + slot * 2, true);
  return off === 0 ? undefined : b.getUint32(tablePos + off, true);
}

/** Positions of the tables a vector of tables points to. */
function tablesOf(b: DataView, vector: number | undefined): number[] {
  if (vector === undefined) return [];
  const n = b.getUint32(vector, true);
  return Array.from({ length: n }, (_, i) => { const slot = vector + 4 + 4 * i; return slot + b.getUint32(slot, true); });
}

const METADATA_NAME = 'TFLITE_METADATA';
/** The original model moves by a multiple of this (its buffers are 16-aligned). */
const BLOCK_ALIGN = 64;

/** The model with `metadata` stored as its TFLITE_METADATA buffer (one already there is replaced). */
export function withTfliteMetadata(model: Uint8Array, metadata: Uint8Array): Uint8Array {
  const b = new DataView(model.buffer, model.byteOffset, model.byteLength);
  if (Buffer.from(model.subarray(4, 8)).toString('latin1') !== 'TFL3') throw new Error('not a TFLite model (no TFL3 identifier)');
  const oldRoot = b.getUint32(0, true);
  // Model: 0 version, 1 operator_codes, 2 subgraphs, 3 description, 4 buffers, 5 metadata_buffer, 6 metadata, 7 signature_defs.
  const oldBuffers = tablesOf(b, refField(b, oldRoot, 4));
  const oldMetadata = tablesOf(b, refField(b, oldRoot, 6)).filter((m) => {
    const name = refField(b, m, 0);
    return name === undefined || Buffer.from(model.subarray(name + 4, name + 4 + b.getUint32(name, true))).toString('utf8') !== METADATA_NAME;
  });
  const keep = (slot: number): Field | undefined => { const at = refField(b, oldRoot, slot); return at === undefined ? undefined : { kind: 'abs', target: at }; };

  const build = (shift: number): Uint8Array => {
    const moved = (pos: number) => pos + shift;
    const w = new Writer();
    const rootAt = w.u32(0);
    w.bytes(Buffer.from('TFL3'));
    const metadataBuffer: Field = {
      kind: 'ref',
      write: (x) => table(x, [{
        kind: 'ref',
        write: (y) => {
          // [ubyte] (force_align: 16): the bytes start 16-aligned.
          while ((y.length + 4) % 16 !== 0) y.u8(0);
          const at = y.u32(metadata.length);
          y.bytes(metadata);
          return at;
        },
      }]),
    };
    const shiftAbs = (f: Field | undefined): Field | undefined => (f?.kind === 'abs' ? { kind: 'abs', target: moved(f.target) } : f);
    const root = table(w, [
      { kind: 'u32', value: u32Field(b, oldRoot, 0) ?? 3 },
      shiftAbs(keep(1)), shiftAbs(keep(2)), shiftAbs(keep(3)),
      {
        kind: 'ref',
        write: (x) => {
          x.align(4);
          const at = x.u32(oldBuffers.length + 1);
          const slots = [...oldBuffers, -1].map(() => x.u32(0));
          oldBuffers.forEach((pos, i) => x.patch(slots[i] ?? 0, moved(pos)));
          const last = slots[slots.length - 1] ?? 0;
          x.patch(last, (metadataBuffer as { write: (y: Writer) => number }).write(x));
          return at;
        },
      },
      shiftAbs(keep(5)),
      vec([...oldMetadata.map(moved), [str(METADATA_NAME), { kind: 'u32', value: oldBuffers.length }]]),
      shiftAbs(keep(7)),
    ]);
    w.patch(rootAt, root);
    while (w.length % BLOCK_ALIGN !== 0) w.u8(0);
    return w.result();
  };
  // The prefix's length does not depend on the shift (offsets are fixed-size): measure, then build.
  const measured = build(1 << 30).length;
  const again = build(measured);
  if (again.length !== measured) throw new Error('metadata prefix did not settle');
  const out = new Uint8Array(again.length + model.length);
  out.set(again, 0);
  out.set(model, again.length);
  return out;
}

/** face_detection_short_range.tflite from the installed @mediapipe/face_detection, with its metadata completed. */
export function faceDetectorModel(): Uint8Array {
  const require = createRequire(import.meta.url);
  const file = require.resolve('@mediapipe/face_detection/face_detection_short_range.tflite');
  return withTfliteMetadata(readFileSync(file), blazeFaceMetadata());
}
