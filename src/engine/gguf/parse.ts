/**
 * GGUF v2/v3 parser over bytes already in memory (or memory-mapped).
 *
 * Layout (all little-endian, gguf.md):
 *   magic "GGUF" (4) | version u32 | tensor_count u64 | kv_count u64
 *   kv_count × { key: gguf_string, type: u32, value }
 *   tensor_count × { name: gguf_string, n_dims: u32, dims: u64[n_dims], type: u32, offset: u64 }
 *   padding to `alignment` | tensor data (each tensor at data start + offset)
 * A gguf_string is a u64 byte length then UTF-8 bytes.
 *
 * Every field is checked; the only error that escapes is `GgufFormatError`.
 */
import { GGML_TYPE_TRAITS, ggmlTypeName, type GgmlType } from "../ggml/types.js";
import { ByteCursor, toSafeNumber } from "./cursor.js";
import { GgufFormatError } from "./errors.js";
import { GgufValueType, type GgufFile, type GgufMetadataEntry, type GgufTensorInfo } from "./types.js";
import { ggufValueTypeName, readValue, readValueType } from "./valueReader.js";

export const GGUF_MAGIC = "GGUF";
export const GGUF_DEFAULT_ALIGNMENT = 32;
/** ggml's GGML_MAX_DIMS */
export const GGUF_MAX_DIMS = 4;
export const GGUF_ALIGNMENT_KEY = "general.alignment";

/** Smallest kv entry: empty key (8) + type (4) + a 1-byte value. */
const MIN_KV_BYTES = 13;
/** Smallest tensor info: empty name (8) + n_dims (4) + one dim (8) + type (4) + offset (8). */
const MIN_TENSOR_INFO_BYTES = 32;
const MAX_SAFE_BIGINT = BigInt(Number.MAX_SAFE_INTEGER);

export interface ParseOptions {
  /**
   * Size of the whole file when `bytes` holds only its first part (the header): tensor
   * bounds are checked against it. Default: `bytes.length`.
   */
  readonly fileBytes?: number;
}

export function parseGguf(bytes: Uint8Array, options: ParseOptions = {}): GgufFile {
  const fileBytes = options.fileBytes ?? bytes.length;
  const cursor = new ByteCursor(bytes);
  const version = readMagicAndVersion(cursor);

  const tensorCountAt = cursor.pos;
  const tensorCount = cursor.u64("tensor count");
  const kvCountAt = cursor.pos;
  const kvCount = cursor.u64("metadata kv count");
  checkCount(kvCount, MIN_KV_BYTES, BigInt(cursor.nRemaining), "metadata kv count", kvCountAt);
  const bytesLeftForTensors = BigInt(cursor.nRemaining) - kvCount * BigInt(MIN_KV_BYTES);
  checkCount(tensorCount, MIN_TENSOR_INFO_BYTES, bytesLeftForTensors, "tensor count", tensorCountAt);

  const metadata = readMetadata(cursor, Number(kvCount));
  const alignment = readAlignment(metadata);
  const infos = readTensorInfos(cursor, Number(tensorCount), alignment);
  const dataOffset = alignUp(cursor.pos, alignment);

  const tensors: GgufTensorInfo[] = [];
  const tensorsByName = new Map<string, GgufTensorInfo>();
  for (const info of infos) {
    const fileOffset = dataOffset + info.relativeOffset;
    if (fileOffset + info.nBytes > fileBytes) {
      throw new GgufFormatError(
        "TENSOR_OUT_OF_BOUNDS",
        `tensor "${info.name}" data [${fileOffset}, ${fileOffset + info.nBytes}) ends past the end of the ${fileBytes}-byte file`,
        { offset: fileOffset },
      );
    }
    const tensor: GgufTensorInfo = { ...info, fileOffset };
    tensors.push(tensor);
    tensorsByName.set(tensor.name, tensor);
  }
  checkNoOverlap(tensors);

  return { version, alignment, metadata, tensors, tensorsByName, dataOffset, fileBytes, bytes };
}

/** Two tensors whose data ranges share a byte would alias each other's weights: refused (llama.cpp's loader assumes disjoint tensors too). */
function checkNoOverlap(tensors: readonly GgufTensorInfo[]): void {
  const sorted = tensors.filter((t) => t.nBytes > 0).sort((a, b) => a.fileOffset - b.fileOffset);
  for (let i = 1; i < sorted.length; i++) {
    const [previous, tensor] = [sorted[i - 1], sorted[i]];
    if (tensor.fileOffset < previous.fileOffset + previous.nBytes) {
      throw new GgufFormatError(
        "OVERLAPPING_TENSORS",
        `tensor "${tensor.name}" data [${tensor.fileOffset}, ${tensor.fileOffset + tensor.nBytes}) overlaps tensor "${previous.name}" [${previous.fileOffset}, ${previous.fileOffset + previous.nBytes})`,
        { offset: tensor.fileOffset },
      );
    }
  }
}

/** Zero-copy view of a tensor's bytes inside `file.bytes`. */
export function tensorData(file: GgufFile, info: GgufTensorInfo): Uint8Array {
  const end = info.fileOffset + info.nBytes;
  if (info.fileOffset < 0 || end > file.bytes.length) {
    throw new GgufFormatError(
      "TENSOR_OUT_OF_BOUNDS",
      `tensor "${info.name}" data [${info.fileOffset}, ${end}) is outside the ${file.bytes.length}-byte file`,
      { offset: info.fileOffset },
    );
  }
  return file.bytes.subarray(info.fileOffset, end);
}

export function alignUp(offset: number, alignment: number): number {
  return Math.ceil(offset / alignment) * alignment;
}

function readMagicAndVersion(cursor: ByteCursor): 2 | 3 {
  cursor.need(4, "magic");
  const magicBytes = cursor.bytes.subarray(0, 4);
  const magic = String.fromCharCode(...magicBytes);
  if (magic !== GGUF_MAGIC) {
    throw new GgufFormatError("BAD_MAGIC", `bad magic at offset 0: expected "${GGUF_MAGIC}", got ${describeMagic(magicBytes)}`, {
      offset: 0,
    });
  }
  cursor.pos = 4;
  const version = cursor.u32("version");
  if (version !== 2 && version !== 3) {
    const hint = version !== 0 && (version & 0xffff) === 0 ? " (byte-swapped: a big-endian file?)" : "";
    throw new GgufFormatError("UNSUPPORTED_VERSION", `unsupported GGUF version at offset 4: expected 2 or 3, got ${version}${hint}`, {
      offset: 4,
    });
  }
  return version;
}

function describeMagic(magicBytes: Uint8Array): string {
  const printable = magicBytes.every((b) => b >= 0x20 && b < 0x7f);
  if (printable) return JSON.stringify(String.fromCharCode(...magicBytes));
  return `0x${Array.from(magicBytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

function checkCount(count: bigint, minItemBytes: number, nBytesLeft: bigint, what: string, offset: number): void {
  if (count * BigInt(minItemBytes) > nBytesLeft) {
    throw new GgufFormatError(
      "COUNT_TOO_LARGE",
      `${what} at offset ${offset} is ${count} (>= ${minItemBytes} bytes each), only ${nBytesLeft < 0n ? 0n : nBytesLeft} bytes left`,
      { offset },
    );
  }
}

function readMetadata(cursor: ByteCursor, kvCount: number): Map<string, GgufMetadataEntry> {
  const metadata = new Map<string, GgufMetadataEntry>();
  for (let i = 0; i < kvCount; i++) {
    const keyAt = cursor.pos;
    const key = cursor.string(`key of metadata entry ${i}`);
    if (metadata.has(key)) {
      throw new GgufFormatError("DUPLICATE_KEY", `duplicate metadata key "${key}" at offset ${keyAt} (entry ${i})`, {
        offset: keyAt,
      });
    }
    const type = readValueType(cursor, `value type of "${key}"`);
    const value = readValue(cursor, type);
    metadata.set(key, { key, type, value });
  }
  return metadata;
}

/** `general.alignment`: a u32, non-zero power of 2; 32 when absent. */
function readAlignment(metadata: ReadonlyMap<string, GgufMetadataEntry>): number {
  const entry = metadata.get(GGUF_ALIGNMENT_KEY);
  if (entry === undefined) return GGUF_DEFAULT_ALIGNMENT;
  if (entry.type !== GgufValueType.UINT32) {
    throw new GgufFormatError(
      "BAD_ALIGNMENT",
      `${GGUF_ALIGNMENT_KEY} must be a u32, got a ${ggufValueTypeName(entry.type)}`,
    );
  }
  const alignment = entry.value as number;
  if (alignment === 0 || (alignment & (alignment - 1)) !== 0) {
    throw new GgufFormatError("BAD_ALIGNMENT", `${GGUF_ALIGNMENT_KEY} is ${alignment}, expected a non-zero power of 2`);
  }
  return alignment;
}

type TensorInfoWithoutFileOffset = Omit<GgufTensorInfo, "fileOffset">;

function readTensorInfos(cursor: ByteCursor, tensorCount: number, alignment: number): TensorInfoWithoutFileOffset[] {
  const infos: TensorInfoWithoutFileOffset[] = [];
  const names = new Set<string>();
  for (let i = 0; i < tensorCount; i++) {
    const nameAt = cursor.pos;
    const name = cursor.string(`name of tensor ${i}`);
    if (names.has(name)) {
      throw new GgufFormatError("DUPLICATE_TENSOR", `duplicate tensor name "${name}" at offset ${nameAt} (tensor ${i})`, {
        offset: nameAt,
      });
    }
    names.add(name);
    infos.push(readTensorInfoAfterName(cursor, name, alignment));
  }
  return infos;
}

function readTensorInfoAfterName(cursor: ByteCursor, name: string, alignment: number): TensorInfoWithoutFileOffset {
  const nDimsAt = cursor.pos;
  const { dims, nElementsBig } = readDims(cursor, name);
  const type = readTensorType(cursor, name);
  const offsetAt = cursor.pos;
  const relativeOffset = cursor.u64Number(`data offset of tensor "${name}"`);
  const { nElements, nBytes } = tensorSize(name, dims, type, nElementsBig, nDimsAt);
  if (relativeOffset % alignment !== 0) {
    throw new GgufFormatError(
      "MISALIGNED_TENSOR",
      `tensor "${name}" data offset ${relativeOffset} (at offset ${offsetAt}) is not a multiple of the alignment ${alignment}`,
      { offset: offsetAt },
    );
  }
  return { name, dims, type, relativeOffset, nElements, nBytes };
}

/** n_dims (1..GGUF_MAX_DIMS) and the dims, each 0..2^53-1; also their product as a bigint. */
function readDims(cursor: ByteCursor, name: string): { dims: number[]; nElementsBig: bigint } {
  const nDimsAt = cursor.pos;
  const nDims = cursor.u32(`n_dims of tensor "${name}"`);
  if (nDims > GGUF_MAX_DIMS) {
    throw new GgufFormatError(
      "TOO_MANY_DIMS",
      `tensor "${name}" has ${nDims} dimensions at offset ${nDimsAt}, at most ${GGUF_MAX_DIMS} allowed`,
      { offset: nDimsAt },
    );
  }
  if (nDims === 0) {
    throw new GgufFormatError("BAD_DIM", `tensor "${name}" has 0 dimensions at offset ${nDimsAt}, expected 1..${GGUF_MAX_DIMS}`, {
      offset: nDimsAt,
    });
  }
  const dims: number[] = [];
  let nElementsBig = 1n;
  for (let d = 0; d < nDims; d++) {
    const dimAt = cursor.pos;
    const dim = cursor.i64(`dimension ${d} of tensor "${name}"`);
    if (dim < 0n || dim > MAX_SAFE_BIGINT) {
      throw new GgufFormatError("BAD_DIM", `dimension ${d} of tensor "${name}" at offset ${dimAt} is ${dim}, expected 0..2^53-1`, {
        offset: dimAt,
      });
    }
    dims.push(Number(dim));
    nElementsBig *= dim;
  }
  return { dims, nElementsBig };
}

/** A u32 ggml type that GGML_TYPE_TRAITS knows. */
function readTensorType(cursor: ByteCursor, name: string): GgmlType {
  const typeAt = cursor.pos;
  const type = cursor.u32(`type of tensor "${name}"`) as GgmlType;
  if (!GGML_TYPE_TRAITS.has(type)) {
    throw new GgufFormatError("UNKNOWN_TENSOR_TYPE", `tensor "${name}" has unknown ggml type ${type} at offset ${typeAt}`, {
      offset: typeAt,
    });
  }
  return type;
}

/** Element and byte counts of a tensor whose rows are whole blocks of its type; errors point at its n_dims (`at`). */
function tensorSize(name: string, dims: readonly number[], type: GgmlType, nElementsBig: bigint, at: number): { nElements: number; nBytes: number } {
  const traits = GGML_TYPE_TRAITS.get(type)!;
  if (dims[0] % traits.blockSize !== 0) {
    throw new GgufFormatError(
      "BAD_BLOCK_MULTIPLE",
      `tensor "${name}" row length ${dims[0]} is not a multiple of the ${traits.name} block size ${traits.blockSize}`,
      { offset: at },
    );
  }
  const nElements = toSafeNumber(nElementsBig, `element count of tensor "${name}"`, at);
  const nBytesBig = (nElementsBig / BigInt(traits.blockSize)) * BigInt(traits.typeSize);
  const nBytes = toSafeNumber(nBytesBig, `byte size of tensor "${name}" (${ggmlTypeName(type)})`, at);
  return { nElements, nBytes };
}
