/**
 * Unquantized types: F32, F16 and BF16. Each is its own `vec_dot_type` (F16 weights dot against
 * activations rounded to half, as ggml does).
 *
 * Dot products follow ggml's scalar `ggml_vec_dot_{f32,f16,bf16}`: each product is rounded to
 * f32 and the sum is accumulated in double, then rounded to f32. ggml's SIMD paths accumulate in
 * f32 lanes instead, so they can differ from this reference in the last bits.
 */
import { GgmlType } from "../ggml/types.js";
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from "../ggml/fp16.js";
import type { WeightKernel } from "./kernel.js";
import { assertRowInBounds, assertValuesInBounds } from "./scalar.js";

/** Float32Array view of `bytes[byteOffset..]` when 4-byte aligned, else undefined. */
function alignedF32(bytes: Uint8Array, byteOffset: number, nValues: number): Float32Array | undefined {
  const start = bytes.byteOffset + byteOffset;
  return start % 4 === 0 ? new Float32Array(bytes.buffer, start, nValues) : undefined;
}

/** Uint16Array view of `bytes[byteOffset..]` when 2-byte aligned, else undefined. */
function alignedU16(bytes: Uint8Array, byteOffset: number, nValues: number): Uint16Array | undefined {
  const start = bytes.byteOffset + byteOffset;
  return start % 2 === 0 ? new Uint16Array(bytes.buffer, start, nValues) : undefined;
}

function dataView(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export const F32_KERNEL: WeightKernel = {
  type: GgmlType.F32,
  blockSize: 1,
  blockBytes: 4,
  vecDotType: GgmlType.F32,
  dequantizeRow(src, srcByteOffset, dst, dstOffset, nValues) {
    assertRowInBounds(src, srcByteOffset, nValues * 4);
    assertValuesInBounds(dst, dstOffset, nValues);
    const view = alignedF32(src, srcByteOffset, nValues);
    if (view) {
      dst.set(view, dstOffset);
      return;
    }
    const dv = dataView(src);
    for (let i = 0; i < nValues; i++) dst[dstOffset + i] = dv.getFloat32(srcByteOffset + 4 * i, true);
  },
  quantizeRow(src, srcOffset, dst, dstByteOffset, nValues) {
    assertRowInBounds(dst, dstByteOffset, nValues * 4);
    assertValuesInBounds(src, srcOffset, nValues);
    const view = alignedF32(dst, dstByteOffset, nValues);
    if (view) {
      view.set(src.subarray(srcOffset, srcOffset + nValues));
      return;
    }
    const dv = dataView(dst);
    for (let i = 0; i < nValues; i++) dv.setFloat32(dstByteOffset + 4 * i, src[srcOffset + i], true);
  },
  vecDot(nValues, w, wByteOffset, act, actByteOffset) {
    assertRowInBounds(w, wByteOffset, nValues * 4);
    assertRowInBounds(act, actByteOffset, nValues * 4);
    const wv = alignedF32(w, wByteOffset, nValues);
    const av = alignedF32(act, actByteOffset, nValues);
    let sum = 0; // ggml_float (double) accumulator
    if (wv && av) {
      for (let i = 0; i < nValues; i++) sum += Math.fround(wv[i] * av[i]);
    } else {
      const wd = dataView(w);
      const ad = dataView(act);
      for (let i = 0; i < nValues; i++) {
        sum += Math.fround(wd.getFloat32(wByteOffset + 4 * i, true) * ad.getFloat32(actByteOffset + 4 * i, true));
      }
    }
    return Math.fround(sum);
  },
};

/** 16-bit float kernels (F16, BF16); `toF32` is a 65536-entry decode table. */
function makeHalfKernel(type: GgmlType, toF32: Float32Array, fromF32: (value: number) => number): WeightKernel {
  const read = (bytes: Uint8Array, offset: number) => toF32[bytes[offset] | (bytes[offset + 1] << 8)];
  return {
    type,
    blockSize: 1,
    blockBytes: 2,
    vecDotType: type,
    dequantizeRow(src, srcByteOffset, dst, dstOffset, nValues) {
      assertRowInBounds(src, srcByteOffset, nValues * 2);
      assertValuesInBounds(dst, dstOffset, nValues);
      const view = alignedU16(src, srcByteOffset, nValues);
      if (view) {
        for (let i = 0; i < nValues; i++) dst[dstOffset + i] = toF32[view[i]];
      } else {
        for (let i = 0; i < nValues; i++) dst[dstOffset + i] = read(src, srcByteOffset + 2 * i);
      }
    },
    quantizeRow(src, srcOffset, dst, dstByteOffset, nValues) {
      assertRowInBounds(dst, dstByteOffset, nValues * 2);
      assertValuesInBounds(src, srcOffset, nValues);
      for (let i = 0; i < nValues; i++) {
        const bits = fromF32(src[srcOffset + i]);
        dst[dstByteOffset + 2 * i] = bits & 0xff;
        dst[dstByteOffset + 2 * i + 1] = bits >>> 8;
      }
    },
    vecDot(nValues, w, wByteOffset, act, actByteOffset) {
      assertRowInBounds(w, wByteOffset, nValues * 2);
      assertRowInBounds(act, actByteOffset, nValues * 2);
      const wv = alignedU16(w, wByteOffset, nValues);
      const av = alignedU16(act, actByteOffset, nValues);
      let sum = 0; // ggml_float (double) accumulator
      if (wv && av) {
        for (let i = 0; i < nValues; i++) sum += Math.fround(toF32[wv[i]] * toF32[av[i]]);
      } else {
        for (let i = 0; i < nValues; i++) {
          sum += Math.fround(read(w, wByteOffset + 2 * i) * read(act, actByteOffset + 2 * i));
        }
      }
      return Math.fround(sum);
    },
  };
}

/** 16-bit pattern → f32 value, for every pattern. */
function decodeTable(decode: (bits: number) => number): Float32Array {
  const table = new Float32Array(65536);
  for (let bits = 0; bits < 65536; bits++) table[bits] = decode(bits);
  return table;
}

export const F16_KERNEL: WeightKernel = makeHalfKernel(GgmlType.F16, decodeTable(f16ToF32), f32ToF16);
export const BF16_KERNEL: WeightKernel = makeHalfKernel(GgmlType.BF16, decodeTable(bf16ToF32), f32ToBf16);
