/**
 * Writing GGUF files (v3 by default; v2 differs only in the version number).
 *
 * Metadata keeps insertion order (setting a key again replaces its value in place).
 * Tensors are laid out in the order added, each at a multiple of the alignment (32, or
 * `general.alignment` when set), padded with zeros; the file ends padded too, as llama.cpp
 * writes it. Tensor bytes may be given up front or as a producer called at write time, so
 * `writeFile` holds one tensor in memory at a time.
 */
import fs from "node:fs/promises";
import { GGML_TYPE_TRAITS, ggmlTypeName, type GgmlType } from "../ggml/types.js";
import { GgufFormatError } from "./errors.js";
import { alignUp, GGUF_ALIGNMENT_KEY, GGUF_DEFAULT_ALIGNMENT, GGUF_MAGIC, GGUF_MAX_DIMS } from "./parse.js";
import { GgufValueType, type GgufArray, type GgufMetadataEntry, type GgufValue } from "./types.js";
import { ByteSink, checkValue, writeValue } from "./valueWriter.js";

/** Tensor bytes, or a function producing them when the file is written. */
export type GgufTensorBytes = Uint8Array | (() => Uint8Array);

export interface GgufWriterOptions {
  /** GGUF version to write (default 3). */
  readonly version?: 2 | 3;
}

interface PendingTensor {
  readonly name: string;
  readonly dims: readonly number[];
  readonly type: GgmlType;
  readonly nBytes: number;
  readonly data: GgufTensorBytes;
}

export interface GgufLayout {
  /** bytes before the tensor data section (header, metadata, tensor infos, padding) */
  readonly dataOffset: number;
  /** tensor data offsets relative to the data section, in the order added */
  readonly relativeOffsets: readonly number[];
  readonly totalBytes: number;
}

export class GgufWriter {
  readonly version: 2 | 3;
  private readonly entries = new Map<string, GgufMetadataEntry>();
  private readonly tensors: PendingTensor[] = [];
  private readonly tensorNames = new Set<string>();

  constructor(options: GgufWriterOptions = {}) {
    this.version = options.version ?? 3;
  }

  /** `general.alignment` if set, else 32. */
  get alignment(): number {
    const entry = this.entries.get(GGUF_ALIGNMENT_KEY);
    return entry === undefined ? GGUF_DEFAULT_ALIGNMENT : (entry.value as number);
  }

  get nTensors(): number {
    return this.tensors.length;
  }

  /** Sets `key` to `value` of the explicit GGUF `type`. Throws BAD_VALUE if the value does not fit. */
  set(key: string, type: GgufValueType, value: GgufValue): this {
    checkValue(key, type, value);
    if (key === GGUF_ALIGNMENT_KEY) checkAlignment(type, value);
    this.entries.set(key, { key, type, value });
    return this;
  }

  /** Copies an entry as read by the parser. */
  setEntry(entry: GgufMetadataEntry): this {
    return this.set(entry.key, entry.type, entry.value);
  }

  delete(key: string): this {
    this.entries.delete(key);
    return this;
  }

  setString(key: string, value: string): this {
    return this.set(key, GgufValueType.STRING, value);
  }
  setBool(key: string, value: boolean): this {
    return this.set(key, GgufValueType.BOOL, value);
  }
  setUint8(key: string, value: number): this {
    return this.set(key, GgufValueType.UINT8, value);
  }
  setInt8(key: string, value: number): this {
    return this.set(key, GgufValueType.INT8, value);
  }
  setUint16(key: string, value: number): this {
    return this.set(key, GgufValueType.UINT16, value);
  }
  setInt16(key: string, value: number): this {
    return this.set(key, GgufValueType.INT16, value);
  }
  setUint32(key: string, value: number): this {
    return this.set(key, GgufValueType.UINT32, value);
  }
  setInt32(key: string, value: number): this {
    return this.set(key, GgufValueType.INT32, value);
  }
  setFloat32(key: string, value: number): this {
    return this.set(key, GgufValueType.FLOAT32, value);
  }
  setFloat64(key: string, value: number): this {
    return this.set(key, GgufValueType.FLOAT64, value);
  }
  setUint64(key: string, value: bigint | number): this {
    return this.set(key, GgufValueType.UINT64, value);
  }
  setInt64(key: string, value: bigint | number): this {
    return this.set(key, GgufValueType.INT64, value);
  }
  /** An array of `itemType`; for arrays of arrays pass `GgufArray` items and itemType ARRAY. */
  setArray(key: string, itemType: GgufValueType, items: readonly GgufValue[]): this {
    const array: GgufArray = { itemType, items };
    return this.set(key, GgufValueType.ARRAY, array);
  }

  /**
   * Adds a tensor. `dims` in ggml order (dims[0] = row length); `data` must be exactly
   * the tensor's byte size (checked now for bytes, at write time for a producer).
   */
  addTensor(name: string, dims: readonly number[], type: GgmlType, data: GgufTensorBytes): this {
    if (this.tensorNames.has(name)) throw new GgufFormatError("DUPLICATE_TENSOR", `tensor "${name}" was already added`);
    const nBytes = tensorBytes(name, dims, type);
    if (data instanceof Uint8Array) checkTensorSize(name, nBytes, data);
    this.tensorNames.add(name);
    this.tensors.push({ name, dims: [...dims], type, nBytes, data });
    return this;
  }

  layout(): GgufLayout {
    return this.buildHeader().layout;
  }

  /** The whole file in memory. */
  toBytes(): Uint8Array {
    const { header, layout } = this.buildHeader();
    const bytes = new Uint8Array(layout.totalBytes);
    bytes.set(header, 0);
    this.tensors.forEach((tensor, i) => {
      bytes.set(resolveTensorData(tensor), layout.dataOffset + layout.relativeOffsets[i]);
    });
    return bytes;
  }

  /** Streams the file to `path`, one tensor at a time. A partial file is removed on failure. */
  async writeFile(path: string): Promise<void> {
    const { header, layout } = this.buildHeader();
    let handle: fs.FileHandle;
    try {
      handle = await fs.open(path, "w");
    } catch (error) {
      throw new GgufFormatError("IO", `cannot create ${path}: ${(error as Error).message}`, { path, cause: error });
    }
    try {
      await handle.write(header, 0, header.length, 0);
      const padding = new Uint8Array(this.alignment);
      for (let i = 0; i < this.tensors.length; i++) {
        const tensor = this.tensors[i];
        const position = layout.dataOffset + layout.relativeOffsets[i];
        const data = resolveTensorData(tensor);
        await handle.write(data, 0, data.length, position);
        const nPad = alignUp(tensor.nBytes, this.alignment) - tensor.nBytes;
        if (nPad > 0) await handle.write(padding, 0, nPad, position + tensor.nBytes);
      }
      await handle.close();
    } catch (error) {
      await handle.close().catch(() => undefined);
      await fs.rm(path, { force: true }).catch(() => undefined);
      if (error instanceof GgufFormatError) throw error;
      throw new GgufFormatError("IO", `cannot write ${path}: ${(error as Error).message}`, { path, cause: error });
    }
  }

  private buildHeader(): { header: Uint8Array; layout: GgufLayout } {
    const alignment = this.alignment;
    const sink = new ByteSink();
    for (let i = 0; i < GGUF_MAGIC.length; i++) sink.u8(GGUF_MAGIC.charCodeAt(i));
    sink.u32(this.version);
    sink.u64(this.tensors.length);
    sink.u64(this.entries.size);
    for (const entry of this.entries.values()) {
      sink.string(entry.key);
      sink.u32(entry.type);
      writeValue(sink, entry.type, entry.value);
    }
    const relativeOffsets: number[] = [];
    let nDataBytes = 0;
    for (const tensor of this.tensors) {
      sink.string(tensor.name);
      sink.u32(tensor.dims.length);
      for (const dim of tensor.dims) sink.i64(dim);
      sink.u32(tensor.type);
      sink.u64(nDataBytes);
      relativeOffsets.push(nDataBytes);
      nDataBytes += alignUp(tensor.nBytes, alignment);
    }
    sink.padTo(alignment);
    const header = sink.toBytes();
    return { header, layout: { dataOffset: header.length, relativeOffsets, totalBytes: header.length + nDataBytes } };
  }
}

function checkAlignment(type: GgufValueType, value: GgufValue): void {
  const alignment = value as number;
  if (type !== GgufValueType.UINT32 || alignment === 0 || (alignment & (alignment - 1)) !== 0) {
    throw new GgufFormatError("BAD_ALIGNMENT", `${GGUF_ALIGNMENT_KEY} must be a u32 non-zero power of 2, got ${String(value)}`);
  }
}

/** Byte size of a tensor, checking its dims and type the way the reader will. */
function tensorBytes(name: string, dims: readonly number[], type: GgmlType): number {
  const traits = GGML_TYPE_TRAITS.get(type);
  if (traits === undefined) throw new GgufFormatError("UNKNOWN_TENSOR_TYPE", `tensor "${name}": unknown ggml type ${type}`);
  if (dims.length > GGUF_MAX_DIMS) {
    throw new GgufFormatError("TOO_MANY_DIMS", `tensor "${name}" has ${dims.length} dimensions, at most ${GGUF_MAX_DIMS} allowed`);
  }
  if (dims.length === 0) throw new GgufFormatError("BAD_DIM", `tensor "${name}" has no dimensions`);
  let nElements = 1;
  for (const dim of dims) {
    if (!Number.isSafeInteger(dim) || dim < 0) throw new GgufFormatError("BAD_DIM", `tensor "${name}" has dimension ${dim}`);
    nElements *= dim;
  }
  if (!Number.isSafeInteger(nElements)) throw new GgufFormatError("OVERFLOW", `tensor "${name}" has too many elements`);
  if (dims[0] % traits.blockSize !== 0) {
    throw new GgufFormatError(
      "BAD_BLOCK_MULTIPLE",
      `tensor "${name}" row length ${dims[0]} is not a multiple of the ${ggmlTypeName(type)} block size ${traits.blockSize}`,
    );
  }
  return (nElements / traits.blockSize) * traits.typeSize;
}

function checkTensorSize(name: string, nBytes: number, data: Uint8Array): void {
  if (data.length !== nBytes) {
    throw new GgufFormatError("TENSOR_SIZE_MISMATCH", `tensor "${name}" needs ${nBytes} bytes, got ${data.length}`);
  }
}

function resolveTensorData(tensor: PendingTensor): Uint8Array {
  const data = typeof tensor.data === "function" ? tensor.data() : tensor.data;
  checkTensorSize(tensor.name, tensor.nBytes, data);
  return data;
}
