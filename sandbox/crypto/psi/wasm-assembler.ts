/**
 * A small WebAssembly assembler: enough to emit straight-line i64 field arithmetic, loops and calls
 * from TypeScript, so the curve code (curve25519.wasm.ts) is generated at load time from readable
 * source instead of shipped as an opaque binary or compiled by a toolchain at install time.
 */

export const I32 = 0x7f;
export const I64 = 0x7e;
export type ValType = typeof I32 | typeof I64;

/** Opcodes used by the generator (WebAssembly core spec 1.0 numbering). */
export const Op = {
  block: 0x02, loop: 0x03, if: 0x04, else: 0x05, end: 0x0b, br: 0x0c, brIf: 0x0d, return: 0x0f, call: 0x10,
  drop: 0x1a, localGet: 0x20, localSet: 0x21, localTee: 0x22,
  i64Load: 0x29, i64Load8U: 0x31, i64Store: 0x37, i32Store8: 0x3a,
  i32Const: 0x41, i64Const: 0x42,
  i32Eqz: 0x45, i32GeU: 0x4f, i32LtU: 0x49,
  i64Eqz: 0x50, i64Eq: 0x51, i64GeU: 0x5a,
  i32Add: 0x6a, i32Sub: 0x6b, i32Mul: 0x6c, i32And: 0x71, i32Or: 0x72, i32Xor: 0x73,
  i64Add: 0x7c, i64Sub: 0x7d, i64Mul: 0x7e, i64And: 0x83, i64Or: 0x84, i64Xor: 0x85,
  i64Shl: 0x86, i64ShrS: 0x87, i64ShrU: 0x88,
  i32WrapI64: 0xa7, i64ExtendI32U: 0xad,
} as const;

const BLOCK_VOID = 0x40;

export function uleb(n: number): number[] {
  if (!Number.isInteger(n) || n < 0) throw new Error(`uleb: ${n}`);
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return out;
}

export function sleb(value: bigint): number[] {
  const out: number[] = [];
  let v = value;
  for (;;) {
    const b = Number(v & 0x7fn);
    v >>= 7n;
    const done = (v === 0n && (b & 0x40) === 0) || (v === -1n && (b & 0x40) !== 0);
    out.push(done ? b : b | 0x80);
    if (done) return out;
  }
}

const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const name = (s: string): number[] => { const b = [...Buffer.from(s, 'utf8')]; return [...uleb(b.length), ...b]; };
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];

/** An argument of a generated call: a constant address, or the value of a local. */
export type Arg = number | { readonly local: number };
export const L = (local: number): Arg => ({ local });

export class WasmFunction {
  readonly code: number[] = [];
  readonly locals: ValType[] = [];
  index = -1;

  constructor(
    private readonly module: WasmModuleBuilder,
    readonly name: string,
    readonly params: readonly ValType[],
    readonly results: readonly ValType[],
    readonly exported: boolean,
  ) {}

  /** A new local of the given type; returns its index. */
  local(type: ValType = I64): number {
    this.locals.push(type);
    return this.params.length + this.locals.length - 1;
  }

  op(...bytes: readonly (number | readonly number[])[]): this {
    for (const b of bytes) {
      if (typeof b === 'number') this.code.push(b);
      else this.code.push(...b);
    }
    return this;
  }

  get(i: number): this { return this.op(Op.localGet, uleb(i)); }
  set(i: number): this { return this.op(Op.localSet, uleb(i)); }
  tee(i: number): this { return this.op(Op.localTee, uleb(i)); }
  i32(v: number): this { return this.op(Op.i32Const, sleb(BigInt(v))); }
  i64(v: bigint | number): this { return this.op(Op.i64Const, sleb(BigInt.asIntN(64, BigInt(v)))); }
  /** i64.load at (address on the stack) + offset. */
  load(offset = 0): this { return this.op(Op.i64Load, 3, uleb(offset)); }
  load8(offset = 0): this { return this.op(Op.i64Load8U, 0, uleb(offset)); }
  /** i64.store: stack [address, value]. */
  store(offset = 0): this { return this.op(Op.i64Store, 3, uleb(offset)); }
  store8i32(offset = 0): this { return this.op(Op.i32Store8, 0, uleb(offset)); }
  arg(a: Arg): this { return typeof a === 'number' ? this.i32(a) : this.get(a.local); }

  /** Call another function of the module by name, pushing the given arguments. */
  call(fn: string, ...args: readonly Arg[]): this {
    for (const a of args) this.arg(a);
    return this.op(Op.call, uleb(this.module.indexOf(fn)));
  }

  /** for (i = from; i < to; i++) body — i and to are i32 locals or constants. */
  forRange(i: number, from: Arg, to: Arg, body: () => void): this {
    this.arg(from).set(i);
    this.op(Op.block, BLOCK_VOID, Op.loop, BLOCK_VOID);
    this.get(i).arg(to).op(Op.i32GeU, Op.brIf, 1);
    body();
    this.get(i).i32(1).op(Op.i32Add).set(i);
    this.op(Op.br, 0, Op.end, Op.end);
    return this;
  }

  /** if (i32 on the stack) then */
  ifThen(then: () => void): this {
    this.op(Op.if, BLOCK_VOID);
    then();
    return this.op(Op.end);
  }
}

export class WasmModuleBuilder {
  private readonly fns: WasmFunction[] = [];

  constructor(private readonly memoryPages: number) {}

  fn(name: string, params: readonly ValType[], results: readonly ValType[] = [], exported = true): WasmFunction {
    if (this.fns.some((f) => f.name === name)) throw new Error(`duplicate function ${name}`);
    const f = new WasmFunction(this, name, params, results, exported);
    f.index = this.fns.length;
    this.fns.push(f);
    return f;
  }

  indexOf(fn: string): number {
    const f = this.fns.find((x) => x.name === fn);
    if (!f) throw new Error(`unknown function ${fn} (declare it before calling it)`);
    return f.index;
  }

  build(): Uint8Array {
    const types = this.fns.map((f) => [0x60, ...vec(f.params.map((p) => [p])), ...vec(f.results.map((r) => [r]))]);
    const funcs = this.fns.map((f) => f.index).map((i) => uleb(i));
    const exports = [
      ...this.fns.filter((f) => f.exported).map((f) => [...name(f.name), 0x00, ...uleb(f.index)]),
      [...name('memory'), 0x02, 0x00],
    ];
    const bodies = this.fns.map((f) => {
      const body = [...vec(f.locals.map((t) => [1, t])), ...f.code, Op.end];
      return [...uleb(body.length), ...body];
    });
    return new Uint8Array([
      0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
      ...section(1, vec(types)),
      ...section(3, vec(funcs)),
      ...section(5, vec([[0x00, ...uleb(this.memoryPages)]])),
      ...section(7, vec(exports)),
      ...section(10, vec(bodies)),
    ]);
  }
}
