/**
 * Seeded mutations of GGUF files, dumb and structure-aware: bit flips, boundary integers and
 * truncation anywhere in the header; numeric metadata values (hyper-parameters, token ids) set
 * to 0, NaN, ±Inf, 2^32 − 1 …; tensor-table fields (n_dims, dims, type, offset) bent; NaN and
 * Inf written into tensor data; junk appended. The layout of a seed file (where each value and
 * each tensor field sits) is found once with the engine's own cursor.
 */
import { ByteCursor } from "../../src/engine/gguf/cursor.js";
import { readValue, readValueType } from "../../src/engine/gguf/valueReader.js";
import { GgufValueType } from "../../src/engine/gguf/types.js";

/** Where things are in a valid GGUF file. */
export interface GgufLayout {
  readonly headerEnd: number;
  /** offsets of scalar numeric metadata values, with their type */
  readonly numericValues: readonly { readonly at: number; readonly type: GgufValueType; readonly key: string }[];
  /** per tensor: offsets of n_dims, each dim, type and data offset */
  readonly tensorFields: readonly { readonly nDims: number; readonly dims: readonly number[]; readonly type: number; readonly offset: number }[];
  /** start of the tensor data section */
  readonly dataOffset: number;
}

export type Random = () => number;
export type GgufMutation = (bytes: Uint8Array, random: Random, layout: GgufLayout) => Uint8Array;

const U64_EDGES = [0n, 1n, 2n, 3n, 31n, 32n, 33n, 255n, 4096n, 65535n, 2n ** 31n - 1n, 2n ** 31n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 53n, 2n ** 53n + 1n, 2n ** 63n, 2n ** 64n - 1n];
const U32_EDGES = [0, 1, 2, 3, 4, 7, 8, 15, 16, 31, 32, 255, 256, 4096, 65535, 65536, 2 ** 24, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1];
const F32_EDGES = [0, -0, -1, 1e-45, 1e-38, 0.5, 3e38, NaN, Infinity, -Infinity, 65504, 1e10];

export const randomInt = (random: Random, n: number): number => Math.floor(random() * n);
const pick = <T>(random: Random, items: readonly T[]): T => items[randomInt(random, items.length)];

/** Reads the seed's layout (the seed must be a valid GGUF file). */
export function ggufLayout(bytes: Uint8Array): GgufLayout {
  const cursor = new ByteCursor(bytes);
  cursor.pos = 8;
  const nTensors = Number(cursor.u64("tensor count"));
  const nKv = Number(cursor.u64("kv count"));
  const numericValues: { at: number; type: GgufValueType; key: string }[] = [];
  let alignment = 32;
  for (let i = 0; i < nKv; i++) {
    const key = cursor.string("key");
    const type = readValueType(cursor, key);
    const at = cursor.pos;
    const value = readValue(cursor, type);
    if (type !== GgufValueType.STRING && type !== GgufValueType.ARRAY && type !== GgufValueType.BOOL) numericValues.push({ at, type, key });
    if (key === "general.alignment") alignment = value as number;
  }
  const tensorFields = [];
  for (let i = 0; i < nTensors; i++) {
    cursor.string("name");
    const nDims = cursor.pos;
    const dims = Array.from({ length: cursor.u32("n_dims") }, () => {
      const at = cursor.pos;
      cursor.u64("dim");
      return at;
    });
    const type = cursor.pos;
    cursor.u32("type");
    const offset = cursor.pos;
    cursor.u64("offset");
    tensorFields.push({ nDims, dims, type, offset });
  }
  const headerEnd = cursor.pos;
  return { headerEnd, numericValues, tensorFields, dataOffset: Math.ceil(headerEnd / alignment) * alignment };
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function setNumeric(bytes: Uint8Array, at: number, type: GgufValueType, random: Random): void {
  const v = view(bytes);
  switch (type) {
    case GgufValueType.FLOAT32:
      return v.setFloat32(at, pick(random, F32_EDGES), true);
    case GgufValueType.FLOAT64:
      return v.setFloat64(at, pick(random, F32_EDGES), true);
    case GgufValueType.UINT64:
    case GgufValueType.INT64:
      return v.setBigUint64(at, pick(random, U64_EDGES), true);
    case GgufValueType.UINT32:
    case GgufValueType.INT32:
      return v.setUint32(at, pick(random, U32_EDGES), true);
    default:
      bytes[at] = randomInt(random, 256);
  }
}

/** The mutations, each picked with equal chance. */
export const GGUF_MUTATIONS: readonly (readonly [string, GgufMutation])[] = [
  ["header bit flips", (bytes, random, layout) => {
    for (let i = 1 + randomInt(random, 4); i > 0; i--) bytes[randomInt(random, layout.headerEnd)] ^= 1 << randomInt(random, 8);
    return bytes;
  }],
  ["header byte", (bytes, random, layout) => {
    bytes[randomInt(random, layout.headerEnd)] = randomInt(random, 256);
    return bytes;
  }],
  ["header u64 edge", (bytes, random, layout) => {
    view(bytes).setBigUint64(randomInt(random, Math.max(1, layout.headerEnd - 8)), pick(random, U64_EDGES), true);
    return bytes;
  }],
  ["truncate", (bytes, random) => bytes.subarray(0, randomInt(random, bytes.length))],
  ["metadata number", (bytes, random, layout) => {
    for (let i = 1 + randomInt(random, 2); i > 0 && layout.numericValues.length > 0; i--) {
      const target = pick(random, layout.numericValues);
      setNumeric(bytes, target.at, target.type, random);
    }
    return bytes;
  }],
  ["tensor field", (bytes, random, layout) => {
    const tensor = pick(random, layout.tensorFields);
    const v = view(bytes);
    const field = randomInt(random, 4);
    if (field === 0) v.setUint32(tensor.nDims, pick(random, U32_EDGES), true);
    else if (field === 1) v.setBigUint64(pick(random, tensor.dims), pick(random, U64_EDGES), true);
    else if (field === 2) v.setUint32(tensor.type, randomInt(random, 4) === 0 ? pick(random, U32_EDGES) : randomInt(random, 42), true);
    else v.setBigUint64(tensor.offset, randomInt(random, 2) === 0 ? pick(random, U64_EDGES) : v.getBigUint64(pick(random, layout.tensorFields).offset, true), true);
    return bytes;
  }],
  ["tensor data NaN/Inf", (bytes, random, layout) => {
    const span = bytes.length - layout.dataOffset;
    for (let i = 1 + randomInt(random, 8); i > 0 && span > 4; i--) {
      const at = layout.dataOffset + randomInt(random, span - 4);
      if (randomInt(random, 2) === 0) view(bytes).setFloat32(at, pick(random, [NaN, Infinity, -Infinity]), true);
      else view(bytes).setUint16(at, pick(random, [0x7c00, 0xfc00, 0x7e00, 0x7f80]), true); // f16 / bf16 Inf and NaN
    }
    return bytes;
  }],
  ["append junk", (bytes, random) => {
    const out = new Uint8Array(bytes.length + 1 + randomInt(random, 4096));
    out.set(bytes);
    for (let i = bytes.length; i < out.length; i++) out[i] = randomInt(random, 256);
    return out;
  }],
  ["splice header", (bytes, random, layout) => {
    const n = 1 + randomInt(random, 64);
    const from = randomInt(random, Math.max(1, layout.headerEnd - n));
    const to = randomInt(random, Math.max(1, layout.headerEnd - n));
    bytes.copyWithin(to, from, from + n);
    return bytes;
  }],
];

/** One mutated copy of `seed` (1–3 mutations stacked); `names` receives what was applied. */
export function mutateGguf(seed: Uint8Array, layout: GgufLayout, random: Random, names: string[] = []): Uint8Array {
  let bytes: Uint8Array = Uint8Array.from(seed);
  for (let n = randomInt(random, 3) === 0 ? 2 + randomInt(random, 2) : 1; n > 0; n--) {
    const [name, mutate] = pick(random, GGUF_MUTATIONS);
    try {
      bytes = mutate(bytes, random, layout);
      names.push(name);
    } catch {
      // a field past the end of a file truncated by an earlier mutation: nothing to mutate
    }
  }
  return bytes;
}
