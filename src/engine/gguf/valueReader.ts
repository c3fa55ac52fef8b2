/**
 * Reading GGUF metadata values (the 13 `gguf_type`s, arrays possibly nested).
 *
 * Array counts are checked against the bytes left before anything is allocated: every
 * item takes at least `minItemBytes(itemType)` bytes, so `count * minItemBytes` must fit.
 */
import { ByteCursor } from "./cursor.js";
import { GgufFormatError } from "./errors.js";
import { GgufValueType, type GgufArray, type GgufScalar, type GgufValue } from "./types.js";

/** Arrays of arrays deeper than this are rejected (llama.cpp accepts none; the spec allows them). */
export const MAX_ARRAY_NESTING = 16;

/** Bytes of each fixed-size value type. */
const GGUF_SCALAR_BYTES: ReadonlyMap<GgufValueType, number> = new Map([
  [GgufValueType.UINT8, 1],
  [GgufValueType.INT8, 1],
  [GgufValueType.UINT16, 2],
  [GgufValueType.INT16, 2],
  [GgufValueType.UINT32, 4],
  [GgufValueType.INT32, 4],
  [GgufValueType.FLOAT32, 4],
  [GgufValueType.BOOL, 1],
  [GgufValueType.UINT64, 8],
  [GgufValueType.INT64, 8],
  [GgufValueType.FLOAT64, 8],
]);

/** Smallest encoding of one value: a string is at least its u64 length; an array its u32 type + u64 count. */
function minValueBytes(type: GgufValueType): number {
  if (type === GgufValueType.STRING) return 8;
  if (type === GgufValueType.ARRAY) return 12;
  return GGUF_SCALAR_BYTES.get(type)!;
}

const GGUF_VALUE_TYPE_NAMES: readonly string[] = [
  "u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "string", "array", "u64", "i64", "f64",
];

export function isGgufValueType(type: number): type is GgufValueType {
  return Number.isInteger(type) && type >= 0 && type < GGUF_VALUE_TYPE_NAMES.length;
}

export function ggufValueTypeName(type: GgufValueType): string {
  return GGUF_VALUE_TYPE_NAMES[type] ?? `type#${type}`;
}

type ScalarReader = (cursor: ByteCursor) => GgufScalar;

/** One reader per non-array type. */
const SCALAR_READERS: ReadonlyMap<GgufValueType, ScalarReader> = new Map<GgufValueType, ScalarReader>([
  [GgufValueType.UINT8, (c) => c.u8("u8 value")],
  [GgufValueType.INT8, (c) => c.i8("i8 value")],
  [GgufValueType.UINT16, (c) => c.u16("u16 value")],
  [GgufValueType.INT16, (c) => c.i16("i16 value")],
  [GgufValueType.UINT32, (c) => c.u32("u32 value")],
  [GgufValueType.INT32, (c) => c.i32("i32 value")],
  [GgufValueType.FLOAT32, (c) => c.f32("f32 value")],
  [GgufValueType.BOOL, (c) => c.u8("bool value") !== 0],
  [GgufValueType.STRING, (c) => c.string("string value")],
  [GgufValueType.UINT64, (c) => c.u64("u64 value")],
  [GgufValueType.INT64, (c) => c.i64("i64 value")],
  [GgufValueType.FLOAT64, (c) => c.f64("f64 value")],
]);

/** Reads a u32 value type at the cursor and checks it is one of the 13 GGUF types. */
export function readValueType(cursor: ByteCursor, what: string): GgufValueType {
  const at = cursor.pos;
  const type = cursor.u32(what);
  if (!isGgufValueType(type)) {
    throw new GgufFormatError("BAD_VALUE_TYPE", `${what} at offset ${at} is ${type}, expected 0..12`, { offset: at });
  }
  return type;
}

/** Reads one value of `type`; `depth` counts enclosing arrays. */
export function readValue(cursor: ByteCursor, type: GgufValueType, depth = 0): GgufValue {
  if (type === GgufValueType.ARRAY) return readArray(cursor, depth + 1);
  return SCALAR_READERS.get(type)!(cursor);
}

function readArray(cursor: ByteCursor, depth: number): GgufArray {
  const at = cursor.pos;
  if (depth > MAX_ARRAY_NESTING) {
    throw new GgufFormatError(
      "NESTING_TOO_DEEP",
      `array at offset ${at} is nested ${depth} deep, at most ${MAX_ARRAY_NESTING} allowed`,
      { offset: at },
    );
  }
  const itemType = readValueType(cursor, "array item type");
  const countAt = cursor.pos;
  const count = cursor.u64("array length");
  const minBytes = minValueBytes(itemType);
  if (count * BigInt(minBytes) > BigInt(cursor.nRemaining)) {
    throw new GgufFormatError(
      "COUNT_TOO_LARGE",
      `array length at offset ${countAt} is ${count} (${ggufValueTypeName(itemType)} items of >= ${minBytes} bytes), ` +
        `only ${cursor.nRemaining} bytes left`,
      { offset: countAt },
    );
  }
  const nItems = Number(count);
  const items = new Array<GgufValue>(nItems);
  if (itemType === GgufValueType.ARRAY) {
    for (let i = 0; i < nItems; i++) items[i] = readArray(cursor, depth + 1);
  } else {
    const readItem = SCALAR_READERS.get(itemType)!;
    for (let i = 0; i < nItems; i++) items[i] = readItem(cursor);
  }
  return { itemType, items };
}
