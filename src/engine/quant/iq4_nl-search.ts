/**
 * IQ4_NL as model files are quantized: ggml's `quantize_iq4_nl` without an importance matrix
 * (`quantize_row_iq4_nl_impl` with ntry = 7: the block scale is searched over 15 candidates and
 * the indices recomputed with the chosen scale), which llama-quantize calls through
 * `ggml_quantize_chunk`. The kernel's `quantizeRow` is `quantize_row_iq4_nl_ref` (ntry = -1).
 */
import { IQ4_NL_VALUES, iq4BestIndex } from "./iq4_nl.js";
import { signedAbsMax, writeHalf } from "./scalar.js";

const fr = Math.fround;
const BLOCK_SIZE = 32;
const BLOCK_BYTES = 18;
const GROUP_MAX_EPS = fr(1e-15);
const NTRY = 7;
const levels = new Int32Array(BLOCK_SIZE);

/** `nValues` f32 values at `src[srcOffset..]` → IQ4_NL blocks at `dst[dstByteOffset..]`, as llama-quantize writes them. */
export function quantizeIq4NlRowSearch(src: Float32Array, srcOffset: number, dst: Uint8Array, dstByteOffset: number, nValues: number): void {
  if (nValues % BLOCK_SIZE !== 0) throw new RangeError(`IQ4_NL row of ${nValues} values is not whole blocks of ${BLOCK_SIZE}`);
  for (let ib = 0; ib < nValues / BLOCK_SIZE; ib++) quantizeBlock(src, srcOffset + ib * BLOCK_SIZE, dst, dstByteOffset + ib * BLOCK_BYTES);
}

/** Σ w·q·x and Σ w·q² (w = x²) of the block quantized with inverse scale `id`, indices into `levels` when given. */
function sums(src: Float32Array, x: number, id: number, out: Int32Array | undefined): [number, number] {
  let sumQX = 0;
  let sumQ2 = 0;
  for (let j = 0; j < BLOCK_SIZE; j++) {
    const xj = src[x + j];
    const l = iq4BestIndex(fr(id * xj));
    if (out) out[j] = l;
    const q = IQ4_NL_VALUES[l];
    const wq = fr(fr(xj * xj) * q);
    sumQX = fr(sumQX + fr(wq * xj));
    sumQ2 = fr(sumQ2 + fr(wq * q));
  }
  return [sumQX, sumQ2];
}

/**
 * The block scale `quantize_row_iq4_nl_impl` (ntry = 7, weights x²) picks for the 32 values at
 * `src[x..]`: the least-squares scale for -max/K[0], then the best of 15 other candidates; 0 for a
 * block whose largest magnitude is below GROUP_MAX_EPS. IQ4_XS uses it for each of its sub-blocks.
 */
export function searchIq4BlockScale(src: Float32Array, x: number): number {
  const max = signedAbsMax(src, x, BLOCK_SIZE);
  if (Math.abs(max) < GROUP_MAX_EPS) return 0;
  const v0 = IQ4_NL_VALUES[0];
  let [sumQX, sumQ2] = sums(src, x, fr(1 / fr(-max / v0)), undefined);
  let d = sumQ2 > 0 ? fr(sumQX / sumQ2) : 0;
  let best = fr(d * sumQX);
  for (let itry = -NTRY; itry <= NTRY; itry++) {
    [sumQX, sumQ2] = sums(src, x, fr((itry + v0) / max), undefined);
    if (sumQ2 > 0 && fr(sumQX * sumQX) > fr(best * sumQ2)) {
      d = fr(sumQX / sumQ2);
      best = fr(d * sumQX);
    }
  }
  return d;
}

function quantizeBlock(src: Float32Array, x: number, dst: Uint8Array, block: number): void {
  const d = searchIq4BlockScale(src, x);
  sums(src, x, d !== 0 ? fr(1 / d) : 0, levels);
  writeHalf(dst, block, d);
  for (let j = 0; j < 16; j++) dst[block + 2 + j] = levels[j] | (levels[16 + j] << 4);
}
