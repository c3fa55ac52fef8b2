/**
 * IQ4_NL: blocks of 32 values, `block_iq4_nl { half d; uint8 qs[16]; }` (18 bytes), 4-bit indices
 * into the non-linear table `kvalues_iq4nl`: value j (j < 16) is d·K[qs[j] & 0xF], value j + 16
 * is d·K[qs[j] >> 4]. Activations pair as Q8_0 (`ggml_vec_dot_iq4_nl_q8_0`).
 *
 * Route (llama.cpp's AVX-512 build): a weight with a multiple of 8 rows lives in the CPU_REPACK
 * buffer (`iq4_nl_8x8`, the same gemv/gemm template as Q4_0's): every product is the block's
 * integer sum accumulated with one FMA per block. Other weights: batches of ≥ 2 tokens go through
 * llamafile's tinyBLAS_Q0_AVX (8 lanes, one FMA per block and lane), single tokens through
 * vec_dot, which keeps two 8-lane accumulators (even and odd blocks) and adds them lane by lane
 * before hsum_float_8 (an odd last block: one scalar FMA after it).
 */
import { GgmlType } from "../ggml/types.js";
import { blockSum, CODES, copyLanes, fmaBlockLanes, resetLanes, sumLanes } from "./block32.js";
import { packNibbles } from "./block32-quantize.js";
import type { MatmulRoute, WeightKernel } from "./kernel.js";
import { Q8_0_ACTIVATION, Q8_0_BLOCK_BYTES, Q8_0_LAYOUT } from "./q8.js";
import { dotPath, uniformRoute } from "./route.js";
import { fmaF32, hsum8 } from "./simd.js";
import { type BlockLayout, checkCodecRow, checkDotRows, int8ViewOf, readHalf, signedAbsMax, writeHalf } from "./scalar.js";

const fr = Math.fround;
const BLOCK_SIZE = 32;
const BLOCK_BYTES = 18;
const QS_OFFSET = 2;
const LAYOUT: BlockLayout = { type: GgmlType.IQ4_NL, blockSize: BLOCK_SIZE, blockBytes: BLOCK_BYTES };
/** ggml's kvalues_iq4nl, ascending */
export const IQ4_NL_VALUES: readonly number[] = [-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113];
const GROUP_MAX_EPS = fr(1e-15);

/** quantizer codes, kept across blocks like the C stack array (an all-zero block reuses them) */
const levels = new Int32Array(BLOCK_SIZE);
const evenLanes = new Float64Array(8);
const sumOfLanes = new Float64Array(8);

/** The 32 table values of the block at `bytes[block..]` (in units of d) into `out`. */
function unpackValues(bytes: Uint8Array, block: number, out: Int32Array): void {
  for (let j = 0; j < 16; j++) {
    const q = bytes[block + QS_OFFSET + j];
    out[j] = IQ4_NL_VALUES[q & 0x0f];
    out[j + 16] = IQ4_NL_VALUES[q >> 4];
  }
}

/** `best_index_int8`: the index of the table value nearest x (ties to the upper one). */
export function iq4BestIndex(x: number): number {
  const v = IQ4_NL_VALUES;
  if (x <= v[0]) return 0;
  if (x >= v[15]) return 15;
  let lo = 0;
  let hi = 15;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (x < v[mid]) hi = mid;
    else lo = mid;
  }
  return x - v[hi - 1] < v[hi] - x ? hi - 1 : hi;
}

/** `quantize_row_iq4_nl_impl(32, 32, …, ntry = -1)` without importance: one least-squares scale. */
function quantizeBlock(src: Float32Array, x: number, dst: Uint8Array, block: number): void {
  const max = signedAbsMax(src, x, BLOCK_SIZE);
  let d = 0;
  if (Math.abs(max) >= GROUP_MAX_EPS) {
    const id = fr(1 / fr(max / IQ4_NL_VALUES[0]));
    let sumQX = 0;
    let sumQ2 = 0;
    for (let j = 0; j < BLOCK_SIZE; j++) {
      const xj = src[x + j];
      const l = iq4BestIndex(fr(id * xj));
      levels[j] = l;
      const wq = fr(fr(xj * xj) * IQ4_NL_VALUES[l]);
      sumQX = fr(sumQX + fr(wq * xj));
      sumQ2 = fr(sumQ2 + fr(wq * IQ4_NL_VALUES[l]));
    }
    d = sumQ2 > 0 ? fr(sumQX / sumQ2) : 0;
  }
  writeHalf(dst, block, d);
  for (let j = 0; j < BLOCK_SIZE; j++) CODES[j] = levels[j];
  packNibbles(CODES, dst, block + QS_OFFSET);
}

/** ggml_vec_dot_iq4_nl_q8_0 (AVX2): even and odd blocks in two 8-lane accumulators. */
function dotVec(nValues: number, w: Uint8Array, wByteOffset: number, act: Uint8Array, actByteOffset: number): number {
  const nBlocks = checkDotRows(LAYOUT, Q8_0_LAYOUT, nValues, w, wByteOffset, act, actByteOffset);
  const ai8 = int8ViewOf(act);
  const blockD = (ib: number) => fr(readHalf(act, actByteOffset + ib * Q8_0_BLOCK_BYTES) * readHalf(w, wByteOffset + ib * BLOCK_BYTES));
  const aq = (ib: number) => act.byteOffset + actByteOffset + ib * Q8_0_BLOCK_BYTES + 2;
  const nPairs = nBlocks >> 1;
  resetLanes();
  for (let ib = 0; ib < 2 * nPairs; ib += 2) {
    unpackValues(w, wByteOffset + ib * BLOCK_BYTES, CODES);
    fmaBlockLanes(blockD(ib), CODES, ai8, aq(ib));
  }
  copyLanes(evenLanes);
  resetLanes();
  for (let ib = 1; ib < 2 * nPairs; ib += 2) {
    unpackValues(w, wByteOffset + ib * BLOCK_BYTES, CODES);
    fmaBlockLanes(blockD(ib), CODES, ai8, aq(ib));
  }
  copyLanes(sumOfLanes);
  for (let l = 0; l < 8; l++) sumOfLanes[l] = fr(evenLanes[l] + sumOfLanes[l]);
  let sum = hsum8(sumOfLanes, 0);
  if (nBlocks & 1) {
    const ib = nBlocks - 1;
    unpackValues(w, wByteOffset + ib * BLOCK_BYTES, CODES);
    sum = fmaF32(blockD(ib), blockSum(CODES, ai8, aq(ib)), sum);
  }
  return sum;
}

/** llamafile tinyBLAS_Q0_AVX: one 8-lane accumulator, one FMA per block and lane. */
function dotTiled(nValues: number, w: Uint8Array, wByteOffset: number, act: Uint8Array, actByteOffset: number): number {
  const nBlocks = checkDotRows(LAYOUT, Q8_0_LAYOUT, nValues, w, wByteOffset, act, actByteOffset);
  const ai8 = int8ViewOf(act);
  resetLanes();
  for (let ib = 0; ib < nBlocks; ib++) {
    const wb = wByteOffset + ib * BLOCK_BYTES;
    const ab = actByteOffset + ib * Q8_0_BLOCK_BYTES;
    unpackValues(w, wb, CODES);
    fmaBlockLanes(fr(readHalf(w, wb) * readHalf(act, ab)), CODES, ai8, act.byteOffset + ab + 2);
  }
  return sumLanes();
}

/** ggml_gemv/gemm_iq4_nl_8x8_q8_0 for one output: one FMA per block of its integer sum. */
function dotRepacked(nValues: number, w: Uint8Array, wByteOffset: number, act: Uint8Array, actByteOffset: number): number {
  const nBlocks = checkDotRows(LAYOUT, Q8_0_LAYOUT, nValues, w, wByteOffset, act, actByteOffset);
  const ai8 = int8ViewOf(act);
  let acc = 0;
  for (let ib = 0; ib < nBlocks; ib++) {
    const wb = wByteOffset + ib * BLOCK_BYTES;
    const ab = actByteOffset + ib * Q8_0_BLOCK_BYTES;
    unpackValues(w, wb, CODES);
    acc = fmaF32(blockSum(CODES, ai8, act.byteOffset + ab + 2), fr(readHalf(w, wb) * readHalf(act, ab)), acc);
  }
  return acc;
}

export const IQ4_NL_KERNEL: WeightKernel = {
  ...LAYOUT,
  vecDotType: GgmlType.Q8_0,

  // dequantize_row_iq4_nl: d·K[q], one rounding
  dequantizeRow(src, srcByteOffset, dst, dstOffset, nValues) {
    const nBlocks = checkCodecRow(LAYOUT, nValues, src, srcByteOffset, dst, dstOffset);
    for (let ib = 0; ib < nBlocks; ib++) {
      const block = srcByteOffset + ib * BLOCK_BYTES;
      const d = readHalf(src, block);
      unpackValues(src, block, CODES);
      for (let j = 0; j < BLOCK_SIZE; j++) dst[dstOffset + ib * BLOCK_SIZE + j] = d * CODES[j];
    }
  },

  // quantize_row_iq4_nl_ref
  quantizeRow(src, srcOffset, dst, dstByteOffset, nValues) {
    const nBlocks = checkCodecRow(LAYOUT, nValues, dst, dstByteOffset, src, srcOffset);
    levels.fill(0);
    for (let ib = 0; ib < nBlocks; ib++) quantizeBlock(src, srcOffset + ib * BLOCK_SIZE, dst, dstByteOffset + ib * BLOCK_BYTES);
  },

  vecDot: dotVec,

  route(_nCols, nRows, nTokens) {
    if (nRows % 8 === 0) return REPACKED_ROUTE;
    return nTokens >= 2 ? { ...TILED_ROUTE, nBatched: nTokens } : VEC_DOT_ROUTE;
  },
};

/** the TypeScript paths of IQ4_NL (route.test.ts names them) */
export { dotTiled as dotIq4NlTiled, dotRepacked as dotIq4NlRepacked };

const VEC_DOT_ROUTE = uniformRoute(dotPath(Q8_0_ACTIVATION, dotVec));
const REPACKED_ROUTE = uniformRoute(dotPath(Q8_0_ACTIVATION, dotRepacked));
const TILED_ROUTE: MatmulRoute = { nBatched: 0, batched: dotPath(Q8_0_ACTIVATION, dotTiled), single: dotPath(Q8_0_ACTIVATION, dotVec) };
