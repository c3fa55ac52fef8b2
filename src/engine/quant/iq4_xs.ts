/**
 * IQ4_XS: IQ4_NL's non-linear 4-bit codes in super-blocks of 256 values with one f16 scale and a
 * 6-bit signed scale per 32-value sub-block (layout: iq4_xs-layout.ts). Activations pair as Q8_K
 * (`ggml_vec_dot_iq4_xs_q8_K`), quantized by `quantize_row_q8_K` (the reference on x86).
 *
 * Route (llama.cpp's AVX-512 build): a weight with a multiple of 8 rows times a batch of at least
 * 8 tokens goes through the IQ panel gemm (ggml-cpu/iqp.cpp: rows decoded to int8 panels, gemm
 * for groups of 4 tokens, gemv for the rest, both with the same arithmetic): per super-block the
 * exact integer Σ (ls − 32)·Σ K[code]·q, one FMA with f32(d·d_y). Everything else is vec_dot
 * (AVX2 code): 8 int32 lanes (lane k: values 4k..4k+3 of every sub-block, times its scale), one
 * FMA per super-block and lane with f32(d·d_y), then hsum_float_8.
 */
import { GgmlType } from "../ggml/types.js";
import { IQ4_NL_VALUES } from "./iq4_nl.js";
import { IQ4_XS_BLOCK_BYTES as BLOCK_BYTES, IQ4_XS_LAYOUT, IQ4_XS_QS_OFFSET as QS_OFFSET, iq4XsSubScale } from "./iq4_xs-layout.js";
import { quantizeIq4XsRow } from "./iq4_xs-quantize.js";
import type { WeightKernel } from "./kernel.js";
import { Q8_K_ACTIVATION, Q8_K_BLOCK_BYTES, Q8_K_LAYOUT, Q8_K_QS_OFFSET, QK_K } from "./q8_k.js";
import { dotPath, uniformRoute } from "./route.js";
import { checkCodecRow, checkDotRows, int8ViewOf, readF32, readHalf } from "./scalar.js";
import { fmaF32, hsum8 } from "./simd.js";

const fr = Math.fround;
/** llama.cpp's GGML_IQP_MIN_BATCH: the smallest batch the IQ panel gemm takes */
const PANEL_MIN_TOKENS = 8;
/** rows per IQ panel */
const PANEL_ROWS = 8;

/** table values of one super-block, in value order (sub-block ib: values 32ib..32ib+31) */
const values = new Int32Array(QK_K);
/** signed scale (ls − 32) of each sub-block */
const subScales = new Int32Array(QK_K / 32);
const intLanes = new Int32Array(8);
const accLanes = new Float64Array(8);

/** Fills `values` and `subScales` from the block at `w[block..]`. */
function unpackBlock(w: Uint8Array, block: number): void {
  for (let ib = 0; ib < QK_K / 32; ib++) {
    subScales[ib] = iq4XsSubScale(w, block, ib);
    const qs = block + QS_OFFSET + 16 * ib;
    for (let j = 0; j < 16; j++) {
      const q = w[qs + j];
      values[32 * ib + j] = IQ4_NL_VALUES[q & 0x0f];
      values[32 * ib + 16 + j] = IQ4_NL_VALUES[q >> 4];
    }
  }
}

/** ggml_vec_dot_iq4_xs_q8_K (AVX2): 8 lanes of 4 consecutive values per sub-block, one FMA per super-block and lane. */
function dotVec(nValues: number, w: Uint8Array, wByteOffset: number, act: Uint8Array, actByteOffset: number): number {
  const nBlocks = checkDotRows(IQ4_XS_LAYOUT, Q8_K_LAYOUT, nValues, w, wByteOffset, act, actByteOffset);
  const a = int8ViewOf(act);
  accLanes.fill(0);
  for (let ibl = 0; ibl < nBlocks; ibl++) {
    const wb = wByteOffset + ibl * BLOCK_BYTES;
    const ab = actByteOffset + ibl * Q8_K_BLOCK_BYTES;
    const qa = act.byteOffset + ab + Q8_K_QS_OFFSET;
    unpackBlock(w, wb);
    intLanes.fill(0);
    for (let ib = 0; ib < QK_K / 32; ib++) {
      for (let k = 0; k < 8; k++) {
        const i = 32 * ib + 4 * k;
        const sum = values[i] * a[qa + i] + values[i + 1] * a[qa + i + 1] + values[i + 2] * a[qa + i + 2] + values[i + 3] * a[qa + i + 3];
        intLanes[k] += subScales[ib] * sum;
      }
    }
    const d = fr(readHalf(w, wb) * readF32(act, ab));
    for (let k = 0; k < 8; k++) accLanes[k] = fmaF32(d, fr(intLanes[k]), accLanes[k]);
  }
  return hsum8(accLanes, 0);
}

/** The IQ panel gemm/gemv (iqp.cpp) for one output: acc = fma(f32(Σ scale·Σ K·q), d·d_y, acc) per super-block. */
function dotPanel(nValues: number, w: Uint8Array, wByteOffset: number, act: Uint8Array, actByteOffset: number): number {
  const nBlocks = checkDotRows(IQ4_XS_LAYOUT, Q8_K_LAYOUT, nValues, w, wByteOffset, act, actByteOffset);
  const a = int8ViewOf(act);
  let acc = 0;
  for (let ibl = 0; ibl < nBlocks; ibl++) {
    const wb = wByteOffset + ibl * BLOCK_BYTES;
    const ab = actByteOffset + ibl * Q8_K_BLOCK_BYTES;
    const qa = act.byteOffset + ab + Q8_K_QS_OFFSET;
    unpackBlock(w, wb);
    let sum = 0;
    for (let ib = 0; ib < QK_K / 32; ib++) {
      let sub = 0;
      for (let j = 32 * ib; j < 32 * ib + 32; j++) sub += values[j] * a[qa + j];
      sum += subScales[ib] * sub;
    }
    acc = fmaF32(fr(sum), fr(readHalf(w, wb) * readF32(act, ab)), acc);
  }
  return acc;
}

export const IQ4_XS_KERNEL: WeightKernel = {
  ...IQ4_XS_LAYOUT,
  vecDotType: GgmlType.Q8_K,

  // dequantize_row_iq4_xs: dl = d·(ls − 32) (exact in f32), then dl·K[code], one rounding
  dequantizeRow(src, srcByteOffset, dst, dstOffset, nValues) {
    const nBlocks = checkCodecRow(IQ4_XS_LAYOUT, nValues, src, srcByteOffset, dst, dstOffset);
    for (let ibl = 0; ibl < nBlocks; ibl++) {
      const block = srcByteOffset + ibl * BLOCK_BYTES;
      const d = readHalf(src, block);
      unpackBlock(src, block);
      const out = dstOffset + ibl * QK_K;
      for (let ib = 0; ib < QK_K / 32; ib++) {
        const dl = fr(d * subScales[ib]);
        for (let j = 32 * ib; j < 32 * ib + 32; j++) dst[out + j] = dl * values[j];
      }
    }
  },

  // quantize_row_iq4_xs_ref (= quantize_iq4_xs without an importance matrix)
  quantizeRow: quantizeIq4XsRow,

  vecDot: dotVec,

  route(_nCols, nRows, nTokens) {
    return nRows % PANEL_ROWS === 0 && nTokens >= PANEL_MIN_TOKENS ? PANEL_ROUTE : VEC_DOT_ROUTE;
  },
};

/** the IQ panel path of IQ4_XS (route.test.ts names it) */
export { dotPanel as dotIq4XsPanel };

const VEC_DOT_ROUTE = uniformRoute(dotPath(Q8_K_ACTIVATION, dotVec));
const PANEL_ROUTE = uniformRoute(dotPath(Q8_K_ACTIVATION, dotPanel));
