/**
 * Unquantized types: F32, F16 and BF16. Each is its own `vec_dot_type` (F16/BF16 weights dot
 * against activations rounded to half/bfloat16, as ggml does).
 *
 * Dots follow llama.cpp's x86 AVX-512 build (see float-dots.ts). Route (ggml-cpu.c mul_mat, then
 * llamafile_sgemm): with ≥ 2 activation rows, a row length that is a multiple of the tinyBLAS
 * vector width (16 values; 32 for BF16) and a row count that is a multiple of 4, llamafile's
 * tinyBLAS computes every output; otherwise each output is one `ggml_vec_dot_*`.
 */
import { GgmlType } from "../ggml/types.js";
import { HALF_TO_F32_TABLE, f32ToBf16, f32ToF16 } from "../ggml/fp16.js";
import { BF16_TO_F32_TABLE, dotBf16Tiled, dotBf16Vec, dotF16Tiled, dotF16Vec, dotF32Tiled, dotF32Vec } from "./float-dots.js";
import type { MatmulRoute, RowDot, WeightKernel } from "./kernel.js";
import { dotPath, uniformRoute } from "./route.js";
import { alignedF32View, alignedU16View, assertRowInBounds, assertValuesInBounds } from "./scalar.js";

type F32Dot = (n: number, x: Float32Array, xo: number, y: Float32Array, yo: number) => number;
type U16Dot = (n: number, x: Uint16Array, xo: number, y: Uint16Array, yo: number) => number;

/** Copies for rows at unaligned byte offsets (rare: GGUF data and our scratch are aligned). */
let copyA = new Uint8Array(0);
let copyB = new Uint8Array(0);

function unalignedCopy(bytes: Uint8Array, byteOffset: number, nBytes: number, second: boolean): Uint8Array {
  let copy = second ? copyB : copyA;
  if (copy.length < nBytes) copy = new Uint8Array(nBytes);
  copy.set(bytes.subarray(byteOffset, byteOffset + nBytes));
  if (second) copyB = copy;
  else copyA = copy;
  return copy;
}

/** A RowDot over f32 rows at any byte offsets. */
function f32RowDot(dot: F32Dot): RowDot {
  return (nValues, w, wByteOffset, act, actByteOffset) => {
    assertRowInBounds(w, wByteOffset, nValues * 4);
    assertRowInBounds(act, actByteOffset, nValues * 4);
    let wv = alignedF32View(w, wByteOffset);
    let wi = (w.byteOffset + wByteOffset) >> 2;
    if (!wv) {
      const copy = unalignedCopy(w, wByteOffset, nValues * 4, false);
      wv = alignedF32View(copy, 0)!;
      wi = copy.byteOffset >> 2;
    }
    let av = alignedF32View(act, actByteOffset);
    let ai = (act.byteOffset + actByteOffset) >> 2;
    if (!av) {
      const copy = unalignedCopy(act, actByteOffset, nValues * 4, true);
      av = alignedF32View(copy, 0)!;
      ai = copy.byteOffset >> 2;
    }
    return dot(nValues, wv, wi, av, ai);
  };
}

/** A RowDot over 16-bit rows at any byte offsets. */
function u16RowDot(dot: U16Dot): RowDot {
  return (nValues, w, wByteOffset, act, actByteOffset) => {
    assertRowInBounds(w, wByteOffset, nValues * 2);
    assertRowInBounds(act, actByteOffset, nValues * 2);
    let wv = alignedU16View(w, wByteOffset);
    let wi = (w.byteOffset + wByteOffset) >> 1;
    if (!wv) {
      const copy = unalignedCopy(w, wByteOffset, nValues * 2, false);
      wv = alignedU16View(copy, 0)!;
      wi = copy.byteOffset >> 1;
    }
    let av = alignedU16View(act, actByteOffset);
    let ai = (act.byteOffset + actByteOffset) >> 1;
    if (!av) {
      const copy = unalignedCopy(act, actByteOffset, nValues * 2, true);
      av = alignedU16View(copy, 0)!;
      ai = copy.byteOffset >> 1;
    }
    return dot(nValues, wv, wi, av, ai);
  };
}

type FloatKernelBase = Omit<WeightKernel, "route">;

/**
 * Adds llama.cpp's route: llamafile tinyBLAS computes the whole batch when it takes the shape
 * (see the file comment), else ggml's vec_dot computes each output.
 */
function withRoute(base: FloatKernelBase, tiledDot: RowDot, vectorWidth: number): WeightKernel {
  const vec = uniformRoute(dotPath(base, base.vecDot));
  const sgemm: MatmulRoute = { nBatched: 0, batched: dotPath(base, tiledDot), single: vec.single };
  return {
    ...base,
    route: (nCols, nRows, nTokens) => (nTokens >= 2 && nCols % vectorWidth === 0 && nRows % 4 === 0 ? { ...sgemm, nBatched: nTokens } : vec),
  };
}

const F32_BASE: FloatKernelBase = {
  type: GgmlType.F32,
  blockSize: 1,
  blockBytes: 4,
  vecDotType: GgmlType.F32,
  dequantizeRow(src, srcByteOffset, dst, dstOffset, nValues) {
    assertRowInBounds(src, srcByteOffset, nValues * 4);
    assertValuesInBounds(dst, dstOffset, nValues);
    const view = alignedF32View(src, srcByteOffset);
    const start = (src.byteOffset + srcByteOffset) >> 2;
    if (view) dst.set(view.subarray(start, start + nValues), dstOffset);
    else dst.set(new Float32Array(src.slice(srcByteOffset, srcByteOffset + nValues * 4).buffer), dstOffset);
  },
  quantizeRow(src, srcOffset, dst, dstByteOffset, nValues) {
    assertRowInBounds(dst, dstByteOffset, nValues * 4);
    assertValuesInBounds(src, srcOffset, nValues);
    const values = src.subarray(srcOffset, srcOffset + nValues);
    dst.set(new Uint8Array(values.buffer, values.byteOffset, nValues * 4), dstByteOffset);
  },
  vecDot: f32RowDot(dotF32Vec),
};

/** 16-bit float kernel bases (F16, BF16); `toF32` is the 65536-entry decode table. */
function halfBase(type: GgmlType, toF32: Readonly<Float32Array>, fromF32: (value: number) => number, vecDot: U16Dot): FloatKernelBase {
  return {
    type,
    blockSize: 1,
    blockBytes: 2,
    vecDotType: type,
    dequantizeRow(src, srcByteOffset, dst, dstOffset, nValues) {
      assertRowInBounds(src, srcByteOffset, nValues * 2);
      assertValuesInBounds(dst, dstOffset, nValues);
      for (let i = 0; i < nValues; i++) {
        dst[dstOffset + i] = toF32[src[srcByteOffset + 2 * i] | (src[srcByteOffset + 2 * i + 1] << 8)];
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
    vecDot: u16RowDot(vecDot),
  };
}

export const F32_KERNEL: WeightKernel = withRoute(F32_BASE, f32RowDot(dotF32Tiled), 16);
export const F16_KERNEL: WeightKernel = withRoute(halfBase(GgmlType.F16, HALF_TO_F32_TABLE, f32ToF16, dotF16Vec), u16RowDot(dotF16Tiled), 16);
export const BF16_KERNEL: WeightKernel = withRoute(halfBase(GgmlType.BF16, BF16_TO_F32_TABLE, f32ToBf16, dotBf16Vec), u16RowDot(dotBf16Tiled), 32);
