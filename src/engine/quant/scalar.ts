/**
 * Scalar helpers shared by the kernels: little-endian half/float/int access at any byte offset,
 * and C float arithmetic emulated in JS doubles (`Math.fround` after every f32 operation).
 */
import { TensorShapeError } from "./errors.js";
import { f16ToF32, f32ToF16 } from "../ggml/fp16.js";
import { type GgmlType, ggmlTypeName } from "../ggml/types.js";

const scratchView = new DataView(new ArrayBuffer(4));
const nearestScratchF32 = new Float32Array(1);
const nearestScratchI32 = new Int32Array(nearestScratchF32.buffer);

/** half (little-endian) at `bytes[offset]` → f32 value */
export function readHalf(bytes: Uint8Array, offset: number): number {
  return f16ToF32(bytes[offset] | (bytes[offset + 1] << 8));
}

/** f32 value → half (round to nearest even) at `bytes[offset]`, little-endian */
export function writeHalf(bytes: Uint8Array, offset: number, value: number): void {
  const bits = f32ToF16(value);
  bytes[offset] = bits & 0xff;
  bytes[offset + 1] = bits >>> 8;
}

/** f32 (little-endian) at `bytes[offset]` */
export function readF32(bytes: Uint8Array, offset: number): number {
  scratchView.setUint8(0, bytes[offset]);
  scratchView.setUint8(1, bytes[offset + 1]);
  scratchView.setUint8(2, bytes[offset + 2]);
  scratchView.setUint8(3, bytes[offset + 3]);
  return scratchView.getFloat32(0, true);
}

/** f32 value → `bytes[offset..offset+4]`, little-endian */
export function writeF32(bytes: Uint8Array, offset: number, value: number): void {
  scratchView.setFloat32(0, value, true);
  bytes[offset] = scratchView.getUint8(0);
  bytes[offset + 1] = scratchView.getUint8(1);
  bytes[offset + 2] = scratchView.getUint8(2);
  bytes[offset + 3] = scratchView.getUint8(3);
}

/** uint32 (little-endian) at `bytes[offset]` */
export function readU32(bytes: Uint8Array, offset: number): number {
  return (bytes[offset] | (bytes[offset + 1] << 8) | (bytes[offset + 2] << 16) | (bytes[offset + 3] << 24)) >>> 0;
}

export function writeU32(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = value & 0xff;
  bytes[offset + 1] = (value >>> 8) & 0xff;
  bytes[offset + 2] = (value >>> 16) & 0xff;
  bytes[offset + 3] = (value >>> 24) & 0xff;
}

/** int8 at `bytes[offset]` */
export function readI8(bytes: Uint8Array, offset: number): number {
  return (bytes[offset] << 24) >> 24;
}

/** int16 (little-endian) at `bytes[offset]` */
export function readI16(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset] | (bytes[offset + 1] << 8)) << 16) >> 16;
}

export function writeI16(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = value & 0xff;
  bytes[offset + 1] = (value >>> 8) & 0xff;
}

/**
 * ggml's `nearest_int(float)`: adds 1.5·2^23 in f32 and reads the mantissa bits, i.e. rounds
 * half to even for |v| < 2^22 (and wraps like ggml beyond that).
 */
export function nearestInt(value: number): number {
  nearestScratchF32[0] = Math.fround(value) + 12582912;
  return (nearestScratchI32[0] & 0x007fffff) - 0x00400000;
}

/** C `roundf`: round half away from zero. */
export function roundHalfAwayFromZero(value: number): number {
  return value >= 0 ? Math.floor(value + 0.5) : -Math.floor(-value + 0.5);
}

/** Throws unless `nValues` is a whole number of blocks of `blockSize`. */
function assertWholeBlocks(type: GgmlType, nValues: number, blockSize: number): void {
  if (!Number.isInteger(nValues) || nValues < 0 || nValues % blockSize !== 0) {
    throw new TensorShapeError(`${ggmlTypeName(type)} rows must be a multiple of ${blockSize} values, got ${nValues}`);
  }
}

/** Throws unless `bytes[byteOffset..byteOffset+nBytes]` lies inside `bytes`. */
export function assertRowInBounds(bytes: Uint8Array, byteOffset: number, nBytes: number): void {
  if (!(byteOffset >= 0 && byteOffset + nBytes <= bytes.length)) {
    throw new TensorShapeError(`row of ${nBytes} bytes at offset ${byteOffset} exceeds a buffer of ${bytes.length} bytes`);
  }
}

/** Throws unless `values[offset..offset+nValues]` lies inside `values`. */
export function assertValuesInBounds(values: Float32Array, offset: number, nValues: number): void {
  if (!(offset >= 0 && offset + nValues <= values.length)) {
    throw new TensorShapeError(`${nValues} values at offset ${offset} exceed an array of ${values.length} values`);
  }
}

/** How a block type stores its values: `blockSize` values in `blockBytes` bytes. */
export interface BlockLayout {
  readonly type: GgmlType;
  readonly blockSize: number;
  readonly blockBytes: number;
}

/** Checks an encoded row (whole blocks, inside `bytes`) and returns its number of blocks. */
function checkEncodedRow(layout: BlockLayout, nValues: number, bytes: Uint8Array, byteOffset: number): number {
  assertWholeBlocks(layout.type, nValues, layout.blockSize);
  const nBlocks = nValues / layout.blockSize;
  assertRowInBounds(bytes, byteOffset, nBlocks * layout.blockBytes);
  return nBlocks;
}

/**
 * `checkEncodedRow` for the encoded side of a (de)quantization, then checks that the f32 side
 * `values[valuesOffset..valuesOffset+nValues]` lies inside `values`; returns the number of blocks.
 */
export function checkCodecRow(layout: BlockLayout, nValues: number, bytes: Uint8Array, byteOffset: number, values: Float32Array, valuesOffset: number): number {
  const nBlocks = checkEncodedRow(layout, nValues, bytes, byteOffset);
  assertValuesInBounds(values, valuesOffset, nValues);
  return nBlocks;
}

/**
 * Σ codes[i..i+4) · act[qa + i..qa + i + 4): one 32-bit lane of a `vpmaddubsw`/`vpmaddwd` dot
 * of decoded weight codes with int8 activations (exact in a double).
 */
export function dot4(codes: Int32Array, act: Int8Array, qa: number, i: number): number {
  return codes[i] * act[qa + i] + codes[i + 1] * act[qa + i + 1] + codes[i + 2] * act[qa + i + 2] + codes[i + 3] * act[qa + i + 3];
}

/** Encodes one block: values src[srcOffset..srcOffset+blockSize) into bytes from dstByteOffset. */
export type BlockEncoder = (src: Float32Array, srcOffset: number, dst: Uint8Array, dstByteOffset: number) => void;

/**
 * A `quantizeRow` that checks the row, then zeroes each block and encodes it with `encodeBlock`
 * (for encoders that OR their bit fields into the block, as the K-quants do).
 */
export function zeroedBlocksQuantizer(layout: BlockLayout, encodeBlock: BlockEncoder) {
  return (src: Float32Array, srcOffset: number, dst: Uint8Array, dstByteOffset: number, nValues: number): void => {
    const nBlocks = checkCodecRow(layout, nValues, dst, dstByteOffset, src, srcOffset);
    for (let ib = 0; ib < nBlocks; ib++) {
      const block = dstByteOffset + ib * layout.blockBytes;
      dst.fill(0, block, block + layout.blockBytes);
      encodeBlock(src, srcOffset + ib * layout.blockSize, dst, block);
    }
  };
}

/** `checkEncodedRow` for both rows of a dot product; returns the weight row's number of blocks. */
export function checkDotRows(
  weight: BlockLayout,
  activation: BlockLayout,
  nValues: number,
  w: Uint8Array,
  wByteOffset: number,
  act: Uint8Array,
  actByteOffset: number,
): number {
  const nBlocks = checkEncodedRow(weight, nValues, w, wByteOffset);
  checkEncodedRow(activation, nValues, act, actByteOffset);
  return nBlocks;
}

/**
 * The value of largest magnitude among `values[offset..offset+n]`, sign kept (the first one when
 * several share that magnitude; 0 when all are 0): the `max` of ggml's symmetric quantizers.
 */
export function signedAbsMax(values: Float32Array, offset: number, n: number): number {
  let amax = 0;
  let max = 0;
  for (let j = 0; j < n; j++) {
    const v = values[offset + j];
    if (Math.abs(v) > amax) {
      amax = Math.abs(v);
      max = v;
    }
  }
  return max;
}

const int8Views = new WeakMap<ArrayBufferLike, Int8Array>();

/**
 * An Int8Array over the whole buffer behind `bytes` (cached per buffer), so hot loops can read
 * signed bytes without shifts: `view[bytes.byteOffset + offset]`.
 */
export function int8ViewOf(bytes: Uint8Array): Int8Array {
  let view = int8Views.get(bytes.buffer);
  if (!view || view.length !== bytes.buffer.byteLength) {
    view = new Int8Array(bytes.buffer);
    int8Views.set(bytes.buffer, view);
  }
  return view;
}

type WholeBufferView = Float32Array | Uint16Array;
type WholeBufferViewType<T extends WholeBufferView> = { new (buffer: ArrayBufferLike, byteOffset: number, length: number): T; readonly BYTES_PER_ELEMENT: number };

const f32Views = new WeakMap<ArrayBufferLike, Float32Array>();
const u16Views = new WeakMap<ArrayBufferLike, Uint16Array>();

/**
 * A `View` over the whole buffer behind `bytes` (cached per buffer in `views`) when `bytes[byteOffset]`
 * is aligned to the element size, else undefined.
 */
function alignedView<T extends WholeBufferView>(
  views: WeakMap<ArrayBufferLike, T>,
  View: WholeBufferViewType<T>,
  shift: number,
  bytes: Uint8Array,
  byteOffset: number,
): T | undefined {
  if ((bytes.byteOffset + byteOffset) % View.BYTES_PER_ELEMENT !== 0) return undefined;
  let view = views.get(bytes.buffer);
  if (!view || view.length !== Math.floor(bytes.buffer.byteLength / (1 << shift))) {
    view = new View(bytes.buffer, 0, Math.floor(bytes.buffer.byteLength / (1 << shift)));
    views.set(bytes.buffer, view);
  }
  return view;
}

/**
 * A Float32Array over the whole buffer behind `bytes` (cached per buffer) when `bytes[byteOffset]`
 * is 4-byte aligned, else undefined. The element index of `bytes[byteOffset]` in it is
 * `(bytes.byteOffset + byteOffset) >> 2`.
 */
export function alignedF32View(bytes: Uint8Array, byteOffset: number): Float32Array | undefined {
  return alignedView(f32Views, Float32Array, 2, bytes, byteOffset);
}

/** As `alignedF32View`, for 16-bit elements (2-byte alignment, index `(bytes.byteOffset + byteOffset) >> 1`). */
export function alignedU16View(bytes: Uint8Array, byteOffset: number): Uint16Array | undefined {
  return alignedView(u16Views, Uint16Array, 1, bytes, byteOffset);
}
