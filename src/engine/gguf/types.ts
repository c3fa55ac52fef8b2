import type { GgmlType } from "../ggml/types.js";

/** GGUF metadata value types (gguf.md, `gguf_type`). */
export enum GgufValueType {
  UINT8 = 0,
  INT8 = 1,
  UINT16 = 2,
  INT16 = 3,
  UINT32 = 4,
  INT32 = 5,
  FLOAT32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
  UINT64 = 10,
  INT64 = 11,
  FLOAT64 = 12,
}

/**
 * A decoded metadata value. 64-bit integers are `bigint`; arrays of numbers are plain
 * arrays (token scores and types are read once at load, not on a hot path).
 */
export type GgufScalar = number | bigint | boolean | string;
export type GgufValue = GgufScalar | GgufArray;
export interface GgufArray {
  readonly itemType: GgufValueType;
  readonly items: readonly GgufValue[];
}

export interface GgufMetadataEntry {
  readonly key: string;
  readonly type: GgufValueType;
  readonly value: GgufValue;
}

export interface GgufTensorInfo {
  readonly name: string;
  /** ggml order: dims[0] is the row length (contiguous), dims[1] the number of rows, … */
  readonly dims: readonly number[];
  readonly type: GgmlType;
  /** offset relative to the start of the tensor data section */
  readonly relativeOffset: number;
  /** absolute offset in the file */
  readonly fileOffset: number;
  readonly nElements: number;
  readonly nBytes: number;
}

export interface GgufFile {
  readonly version: 2 | 3;
  readonly alignment: number;
  readonly metadata: ReadonlyMap<string, GgufMetadataEntry>;
  readonly tensors: readonly GgufTensorInfo[];
  readonly tensorsByName: ReadonlyMap<string, GgufTensorInfo>;
  /** absolute offset of the tensor data section */
  readonly dataOffset: number;
  readonly fileBytes: number;
  /** the whole file (memory-mapped when opened from disk) */
  readonly bytes: Uint8Array;
}
