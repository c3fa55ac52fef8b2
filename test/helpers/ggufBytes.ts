/**
 * Hand-built GGUF bytes for reader tests, including files the writer refuses to make
 * (bad magic, wrong counts, huge lengths, negative dims, misaligned offsets, …).
 *
 * `rawGguf` writes exactly the fields it is given, in file order; every count and offset
 * can be overridden. Values are written by small callbacks on a `RawBytes` builder.
 */
import { expect } from "vitest";
import { GgufFormatError, type GgufErrorCode } from "../../src/engine/gguf/errors.js";
import { GgufValueType } from "../../src/engine/gguf/types.js";

const utf8 = new TextEncoder();

/** Little-endian byte builder that writes whatever it is told. */
export class RawBytes {
  private readonly chunks: number[] = [];
  private readonly scratch = new DataView(new ArrayBuffer(8));

  get length(): number {
    return this.chunks.length;
  }
  private pushScratch(nBytes: number): this {
    for (let i = 0; i < nBytes; i++) this.chunks.push(this.scratch.getUint8(i));
    return this;
  }
  u8(v: number): this {
    this.chunks.push(v & 0xff);
    return this;
  }
  i8(v: number): this {
    this.scratch.setInt8(0, v);
    return this.pushScratch(1);
  }
  u16(v: number): this {
    this.scratch.setUint16(0, v, true);
    return this.pushScratch(2);
  }
  i16(v: number): this {
    this.scratch.setInt16(0, v, true);
    return this.pushScratch(2);
  }
  u32(v: number): this {
    this.scratch.setUint32(0, v, true);
    return this.pushScratch(4);
  }
  i32(v: number): this {
    this.scratch.setInt32(0, v, true);
    return this.pushScratch(4);
  }
  f32(v: number): this {
    this.scratch.setFloat32(0, v, true);
    return this.pushScratch(4);
  }
  f64(v: number): this {
    this.scratch.setFloat64(0, v, true);
    return this.pushScratch(8);
  }
  u64(v: bigint | number): this {
    this.scratch.setBigUint64(0, BigInt.asUintN(64, BigInt(v)), true);
    return this.pushScratch(8);
  }
  i64(v: bigint | number): this {
    this.scratch.setBigInt64(0, BigInt.asIntN(64, BigInt(v)), true);
    return this.pushScratch(8);
  }
  ascii(text: string): this {
    for (let i = 0; i < text.length; i++) this.chunks.push(text.charCodeAt(i) & 0xff);
    return this;
  }
  /** gguf_string with its true length, or a claimed length that may lie. */
  str(text: string, claimedLength?: bigint | number): this {
    const encoded = utf8.encode(text);
    this.u64(claimedLength ?? encoded.length);
    for (const b of encoded) this.chunks.push(b);
    return this;
  }
  zeros(nBytes: number): this {
    for (let i = 0; i < nBytes; i++) this.chunks.push(0);
    return this;
  }
  padTo(alignment: number): this {
    return this.zeros((alignment - (this.length % alignment)) % alignment);
  }
  toBytes(): Uint8Array {
    return Uint8Array.from(this.chunks);
  }
}

export interface RawKv {
  readonly key: string;
  /** value type as written (may be invalid) */
  readonly type: number;
  readonly write: (b: RawBytes) => void;
}

export interface RawTensor {
  readonly name: string;
  readonly dims: readonly (number | bigint)[];
  readonly type: number;
  /** relative offset in the data section */
  readonly offset: number | bigint;
  /** n_dims as written (defaults to dims.length) */
  readonly nDims?: number;
}

export interface RawGgufSpec {
  readonly magic?: string;
  readonly version?: number;
  /** tensor count as written (defaults to tensors.length) */
  readonly tensorCount?: number | bigint;
  /** kv count as written (defaults to kvs.length) */
  readonly kvCount?: number | bigint;
  readonly kvs?: readonly RawKv[];
  readonly tensors?: readonly RawTensor[];
  /** padding applied before the data section (default 32) */
  readonly alignment?: number;
  /** bytes of tensor data written after the padding (default 0) */
  readonly nDataBytes?: number;
}

export function rawGguf(spec: RawGgufSpec): Uint8Array {
  const kvs = spec.kvs ?? [];
  const tensors = spec.tensors ?? [];
  const b = new RawBytes()
    .ascii(spec.magic ?? "GGUF")
    .u32(spec.version ?? 3)
    .u64(spec.tensorCount ?? tensors.length)
    .u64(spec.kvCount ?? kvs.length);
  for (const kv of kvs) {
    b.str(kv.key).u32(kv.type);
    kv.write(b);
  }
  for (const t of tensors) {
    b.str(t.name).u32(t.nDims ?? t.dims.length);
    for (const dim of t.dims) b.i64(dim);
    b.u32(t.type).u64(t.offset);
  }
  b.padTo(spec.alignment ?? 32);
  b.zeros(spec.nDataBytes ?? 0);
  return b.toBytes();
}

export const kvU32 = (key: string, value: number): RawKv => ({ key, type: GgufValueType.UINT32, write: (b) => b.u32(value) });
export const kvString = (key: string, value: string): RawKv => ({ key, type: GgufValueType.STRING, write: (b) => b.str(value) });
export const kvF32 = (key: string, value: number): RawKv => ({ key, type: GgufValueType.FLOAT32, write: (b) => b.f32(value) });

/** A copy of `bytes` changed by `patch(view)`. */
export function patched(bytes: Uint8Array, patch: (view: DataView) => void): Uint8Array {
  const copy = bytes.slice();
  patch(new DataView(copy.buffer, copy.byteOffset, copy.byteLength));
  return copy;
}

export { seededRandom } from "./random.js";

/** Runs `action`, asserts it throws a GgufFormatError with `code`, and returns the error. */
export function expectGgufError(action: () => unknown, code: GgufErrorCode): GgufFormatError {
  let thrown: unknown;
  try {
    action();
  } catch (error) {
    thrown = error;
  }
  expect(thrown, `expected GgufFormatError ${code}`).toBeInstanceOf(GgufFormatError);
  const error = thrown as GgufFormatError;
  expect(error.code, error.message).toBe(code);
  expect(error.message).not.toContain("\n");
  return error;
}
