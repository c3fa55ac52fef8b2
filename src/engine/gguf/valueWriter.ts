/**
 * Encoding GGUF metadata values, with a check that each value fits its declared type
 * (the writer's mirror of valueReader.ts).
 */
import { GgufFormatError } from "./errors.js";
import { GgufValueType, type GgufArray, type GgufValue } from "./types.js";
import { ggufValueTypeName, isGgufValueType, MAX_ARRAY_NESTING } from "./valueReader.js";

const utf8 = new TextEncoder();

/** A growable little-endian byte buffer. */
export class ByteSink {
  private buffer = new Uint8Array(4096);
  private view = new DataView(this.buffer.buffer);
  /** bytes written so far */
  length = 0;

  /** Grows the buffer if needed and returns where `nBytes` new bytes start (call before reading this.view). */
  private reserve(nBytes: number): number {
    const at = this.length;
    const needed = at + nBytes;
    if (needed > this.buffer.length) {
      let capacity = this.buffer.length * 2;
      while (capacity < needed) capacity *= 2;
      const grown = new Uint8Array(capacity);
      grown.set(this.buffer.subarray(0, at));
      this.buffer = grown;
      this.view = new DataView(grown.buffer);
    }
    this.length = needed;
    return at;
  }

  u8(value: number): void {
    const at = this.reserve(1);
    this.view.setUint8(at, value);
  }
  i8(value: number): void {
    const at = this.reserve(1);
    this.view.setInt8(at, value);
  }
  u16(value: number): void {
    const at = this.reserve(2);
    this.view.setUint16(at, value, true);
  }
  i16(value: number): void {
    const at = this.reserve(2);
    this.view.setInt16(at, value, true);
  }
  u32(value: number): void {
    const at = this.reserve(4);
    this.view.setUint32(at, value, true);
  }
  i32(value: number): void {
    const at = this.reserve(4);
    this.view.setInt32(at, value, true);
  }
  f32(value: number): void {
    const at = this.reserve(4);
    this.view.setFloat32(at, value, true);
  }
  f64(value: number): void {
    const at = this.reserve(8);
    this.view.setFloat64(at, value, true);
  }
  u64(value: bigint | number): void {
    const at = this.reserve(8);
    this.view.setBigUint64(at, BigInt(value), true);
  }
  i64(value: bigint | number): void {
    const at = this.reserve(8);
    this.view.setBigInt64(at, BigInt(value), true);
  }
  raw(bytes: Uint8Array): void {
    const at = this.reserve(bytes.length);
    this.buffer.set(bytes, at);
  }
  /** gguf_string: u64 byte length + UTF-8 bytes */
  string(text: string): void {
    const lengthAt = this.reserve(8);
    const maxBytes = text.length * 3; // UTF-16 code unit → at most 3 UTF-8 bytes
    const textAt = this.reserve(maxBytes);
    const { written } = utf8.encodeInto(text, this.buffer.subarray(textAt, textAt + maxBytes));
    this.length = textAt + written;
    this.view.setBigUint64(lengthAt, BigInt(written), true);
  }
  /** Zero bytes up to the next multiple of `alignment`. */
  padTo(alignment: number): void {
    const nPad = (alignment - (this.length % alignment)) % alignment;
    const at = this.reserve(nPad);
    this.buffer.fill(0, at, at + nPad); // string() may have left bytes past its end
  }

  toBytes(): Uint8Array {
    return this.buffer.slice(0, this.length);
  }
}

interface ValueCodec {
  /** true when `value` can be written as this type */
  accepts(value: GgufValue): boolean;
  write(sink: ByteSink, value: GgufValue): void;
}

function integerCodec(min: number, max: number, write: (sink: ByteSink, value: number) => void): ValueCodec {
  return {
    accepts: (v) => typeof v === "number" && Number.isInteger(v) && v >= min && v <= max,
    write: (sink, v) => write(sink, v as number),
  };
}

function int64Codec(min: bigint, max: bigint, write: (sink: ByteSink, value: bigint) => void): ValueCodec {
  return {
    accepts: (v) =>
      (typeof v === "bigint" && v >= min && v <= max) ||
      (typeof v === "number" && Number.isSafeInteger(v) && BigInt(v) >= min && BigInt(v) <= max),
    write: (sink, v) => write(sink, BigInt(v as bigint | number)),
  };
}

const CODECS: ReadonlyMap<GgufValueType, ValueCodec> = new Map<GgufValueType, ValueCodec>([
  [GgufValueType.UINT8, integerCodec(0, 0xff, (s, v) => s.u8(v))],
  [GgufValueType.INT8, integerCodec(-0x80, 0x7f, (s, v) => s.i8(v))],
  [GgufValueType.UINT16, integerCodec(0, 0xffff, (s, v) => s.u16(v))],
  [GgufValueType.INT16, integerCodec(-0x8000, 0x7fff, (s, v) => s.i16(v))],
  [GgufValueType.UINT32, integerCodec(0, 0xffffffff, (s, v) => s.u32(v))],
  [GgufValueType.INT32, integerCodec(-0x80000000, 0x7fffffff, (s, v) => s.i32(v))],
  [GgufValueType.FLOAT32, { accepts: (v) => typeof v === "number", write: (s, v) => s.f32(v as number) }],
  [GgufValueType.FLOAT64, { accepts: (v) => typeof v === "number", write: (s, v) => s.f64(v as number) }],
  [GgufValueType.BOOL, { accepts: (v) => typeof v === "boolean", write: (s, v) => s.u8(v ? 1 : 0) }],
  [GgufValueType.STRING, { accepts: (v) => typeof v === "string", write: (s, v) => s.string(v as string) }],
  [GgufValueType.UINT64, int64Codec(0n, (1n << 64n) - 1n, (s, v) => s.u64(v))],
  [GgufValueType.INT64, int64Codec(-(1n << 63n), (1n << 63n) - 1n, (s, v) => s.i64(v))],
]);

function isGgufArray(value: GgufValue): value is GgufArray {
  return typeof value === "object" && value !== null && "itemType" in value && Array.isArray(value.items);
}

/** Throws BAD_VALUE unless `value` fits `type` (recursively for arrays). */
export function checkValue(key: string, type: GgufValueType, value: GgufValue, depth = 0): void {
  if (!isGgufValueType(type)) throw new GgufFormatError("BAD_VALUE_TYPE", `metadata "${key}": ${type} is not a GGUF value type`);
  if (type !== GgufValueType.ARRAY) {
    if (!CODECS.get(type)!.accepts(value)) {
      throw new GgufFormatError("BAD_VALUE", `metadata "${key}": ${String(value)} does not fit a ${ggufValueTypeName(type)}`);
    }
    return;
  }
  if (!isGgufArray(value)) throw new GgufFormatError("BAD_VALUE", `metadata "${key}": an array value needs { itemType, items }`);
  if (depth >= MAX_ARRAY_NESTING) {
    throw new GgufFormatError("NESTING_TOO_DEEP", `metadata "${key}": arrays nested deeper than ${MAX_ARRAY_NESTING}`);
  }
  if (!isGgufValueType(value.itemType)) {
    throw new GgufFormatError("BAD_VALUE_TYPE", `metadata "${key}": array item type ${value.itemType} is not a GGUF value type`);
  }
  if (value.itemType === GgufValueType.ARRAY) {
    for (const item of value.items) checkValue(key, value.itemType, item, depth + 1);
    return;
  }
  const codec = CODECS.get(value.itemType)!;
  for (const item of value.items) {
    if (!codec.accepts(item)) {
      throw new GgufFormatError(
        "BAD_VALUE",
        `metadata "${key}": array item ${String(item)} does not fit a ${ggufValueTypeName(value.itemType)}`,
      );
    }
  }
}

/** Writes a value already accepted by `checkValue`. */
export function writeValue(sink: ByteSink, type: GgufValueType, value: GgufValue): void {
  if (type !== GgufValueType.ARRAY) {
    CODECS.get(type)!.write(sink, value);
    return;
  }
  const array = value as GgufArray;
  sink.u32(array.itemType);
  sink.u64(array.items.length);
  if (array.itemType === GgufValueType.ARRAY) {
    for (const item of array.items) writeValue(sink, array.itemType, item);
    return;
  }
  const codec = CODECS.get(array.itemType)!;
  for (const item of array.items) codec.write(sink, item);
}
