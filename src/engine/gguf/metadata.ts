/**
 * Typed access to GGUF metadata.
 *
 * `get*` throw GgufFormatError MISSING_KEY when the key is absent and WRONG_TYPE when it
 * holds another type; `optional*` return undefined when absent (and still throw WRONG_TYPE).
 * Numbers accept every integer and float type; 64-bit integers must be safe JS integers
 * (OVERFLOW otherwise). Arrays are returned as fresh copies the caller may keep or change.
 */
import { GgufFormatError } from "./errors.js";
import { GgufValueType, type GgufArray, type GgufFile, type GgufMetadataEntry, type GgufValue } from "./types.js";
import { ggufValueTypeName } from "./valueReader.js";

const NUMERIC_TYPES: ReadonlySet<GgufValueType> = new Set([
  GgufValueType.UINT8,
  GgufValueType.INT8,
  GgufValueType.UINT16,
  GgufValueType.INT16,
  GgufValueType.UINT32,
  GgufValueType.INT32,
  GgufValueType.FLOAT32,
  GgufValueType.UINT64,
  GgufValueType.INT64,
  GgufValueType.FLOAT64,
]);

export function hasKey(file: GgufFile, key: string): boolean {
  return file.metadata.has(key);
}

export function getString(file: GgufFile, key: string): string {
  return asString(required(file, key));
}
export function optionalString(file: GgufFile, key: string): string | undefined {
  const entry = file.metadata.get(key);
  return entry === undefined ? undefined : asString(entry);
}

export function getNumber(file: GgufFile, key: string): number {
  return asNumber(required(file, key));
}
export function optionalNumber(file: GgufFile, key: string): number | undefined {
  const entry = file.metadata.get(key);
  return entry === undefined ? undefined : asNumber(entry);
}

export function optionalBool(file: GgufFile, key: string): boolean | undefined {
  const entry = file.metadata.get(key);
  return entry === undefined ? undefined : asBool(entry);
}

export function getStringArray(file: GgufFile, key: string): string[] {
  return asStringArray(required(file, key));
}
export function optionalStringArray(file: GgufFile, key: string): string[] | undefined {
  const entry = file.metadata.get(key);
  return entry === undefined ? undefined : asStringArray(entry);
}

export function optionalNumberArray(file: GgufFile, key: string): number[] | undefined {
  const entry = file.metadata.get(key);
  return entry === undefined ? undefined : asNumberArray(entry);
}

/** Length of an array value without converting its items (e.g. token count, merges count). */
export function optionalArrayLength(file: GgufFile, key: string): number | undefined {
  const entry = file.metadata.get(key);
  if (entry === undefined) return undefined;
  if (entry.type !== GgufValueType.ARRAY) throw wrongType(entry, "an array");
  return (entry.value as GgufArray).items.length;
}

/** `general.architecture`, e.g. "llama" or "qwen2". */
export function architecture(file: GgufFile): string {
  return getString(file, "general.architecture");
}

/** Converts a decoded numeric value (number or bigint) to a number; OVERFLOW if a bigint is unsafe. */
function numericValueToNumber(value: number | bigint, key: string): number {
  if (typeof value === "number") return value;
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < -BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new GgufFormatError("OVERFLOW", `metadata "${key}" is ${value}, beyond Number.MAX_SAFE_INTEGER`);
  }
  return Number(value);
}

function required(file: GgufFile, key: string): GgufMetadataEntry {
  const entry = file.metadata.get(key);
  if (entry === undefined) throw new GgufFormatError("MISSING_KEY", `metadata key "${key}" is missing`);
  return entry;
}

function wrongType(entry: GgufMetadataEntry, expected: string): GgufFormatError {
  const actual =
    entry.type === GgufValueType.ARRAY
      ? `an array of ${ggufValueTypeName((entry.value as GgufArray).itemType)}`
      : `a ${ggufValueTypeName(entry.type)}`;
  return new GgufFormatError("WRONG_TYPE", `metadata "${entry.key}" is ${actual}, expected ${expected}`);
}

function asString(entry: GgufMetadataEntry): string {
  if (entry.type !== GgufValueType.STRING) throw wrongType(entry, "a string");
  return entry.value as string;
}

function asNumber(entry: GgufMetadataEntry): number {
  if (!NUMERIC_TYPES.has(entry.type)) throw wrongType(entry, "a number");
  return numericValueToNumber(entry.value as number | bigint, entry.key);
}

function asBool(entry: GgufMetadataEntry): boolean {
  if (entry.type !== GgufValueType.BOOL) throw wrongType(entry, "a bool");
  return entry.value as boolean;
}

function arrayOf(entry: GgufMetadataEntry, accepts: (itemType: GgufValueType) => boolean, expected: string): readonly GgufValue[] {
  if (entry.type !== GgufValueType.ARRAY) throw wrongType(entry, expected);
  const array = entry.value as GgufArray;
  if (!accepts(array.itemType)) throw wrongType(entry, expected);
  return array.items;
}

function asStringArray(entry: GgufMetadataEntry): string[] {
  return arrayOf(entry, (t) => t === GgufValueType.STRING, "an array of string").slice() as string[];
}

function asNumberArray(entry: GgufMetadataEntry): number[] {
  const items = arrayOf(entry, (t) => NUMERIC_TYPES.has(t), "an array of numbers");
  if (items.length === 0 || typeof items[0] === "number") return items.slice() as number[];
  return items.map((item) => numericValueToNumber(item as bigint, entry.key));
}
