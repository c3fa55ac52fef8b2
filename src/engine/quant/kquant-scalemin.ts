/**
 * The super-block quantizer shared by Q4_K and Q5_K (`quantize_row_q4_K_ref` / `quantize_row_q5_K_ref`):
 * 8 sub-blocks of 32 values, each fitted with `make_qkx2_quants` (weights av_x + |x|), their
 * scales and mins encoded as 6-bit numbers in the 12 `scales` bytes (`get_scale_min_k4` layout)
 * relative to the f16 `d` and `dmin`, then every value re-coded against the encoded scale and min.
 * The caller packs the codes (Q4_K: nibbles; Q5_K: nibbles and a high bit).
 */
import { makeQkx2Quants, type Qkx2Search } from "./kquant-search.js";
import { scaleMinK4 } from "./q4_k-dots.js";
import { nearestInt, readHalf, writeHalf } from "./scalar.js";

const fr = Math.fround;

/** Where the shared fields live in the block: `{ half d; half dmin; uint8 scales[12]; … }`. */
const DMIN_OFFSET = 2;
const SCALES_OFFSET = 4;

const scaleMin = new Int32Array(2);
const levelsAux = new Uint8Array(32);
const weights = new Float32Array(32);
const subScales = new Float32Array(8);
const subMins = new Float32Array(8);
const minOut = new Float32Array(1);

/**
 * Quantizes 256 values `src[x..x+256)` into the block at `dst[block..]`: writes d, dmin and the
 * 12 scale bytes (which must be zero on entry) and returns the codes (0..search.nmax) in `levels`.
 *
 * @param levels out: u8 [256] codes in value order
 */
export function quantizeScaleMinSuperBlock(search: Qkx2Search, src: Float32Array, x: number, dst: Uint8Array, block: number, levels: Uint8Array): void {
  let maxScale = 0;
  let maxMin = 0;
  for (let j = 0; j < 8; j++) {
    const xs = x + 32 * j;
    let sumX2 = 0;
    for (let l = 0; l < 32; l++) sumX2 = fr(sumX2 + fr(src[xs + l] * src[xs + l]));
    const avX = fr(Math.sqrt(fr(sumX2 / 32)));
    for (let l = 0; l < 32; l++) weights[l] = fr(avX + Math.abs(src[xs + l]));
    subScales[j] = makeQkx2Quants(search, src.subarray(xs, xs + 32), weights, levels.subarray(32 * j, 32 * j + 32), levelsAux, minOut);
    subMins[j] = minOut[0];
    if (subScales[j] > maxScale) maxScale = subScales[j];
    if (subMins[j] > maxMin) maxMin = subMins[j];
  }
  encodeScales(dst, block + SCALES_OFFSET, maxScale, maxMin);
  writeHalf(dst, block, fr(maxScale / 63));
  writeHalf(dst, block + DMIN_OFFSET, fr(maxMin / 63));
  const dAll = readHalf(dst, block);
  const dminAll = readHalf(dst, block + DMIN_OFFSET);
  for (let j = 0; j < 8; j++) {
    scaleMinK4(j, dst, block + SCALES_OFFSET, scaleMin);
    const d = fr(dAll * scaleMin[0]);
    if (!d) continue;
    const dm = fr(dminAll * scaleMin[1]);
    for (let i = 0; i < 32; i++) {
      const l = nearestInt(fr(fr(src[x + 32 * j + i] + dm) / d));
      levels[32 * j + i] = Math.max(0, Math.min(search.nmax, l));
    }
  }
}

/** The 8 sub-block scales and mins (in `subScales`, `subMins`) as 6-bit numbers of maxScale/63, maxMin/63. */
function encodeScales(dst: Uint8Array, sc: number, maxScale: number, maxMin: number): void {
  const invScale = maxScale > 0 ? fr(63 / maxScale) : 0;
  const invMin = maxMin > 0 ? fr(63 / maxMin) : 0;
  for (let j = 0; j < 8; j++) {
    const ls = Math.min(63, nearestInt(fr(invScale * subScales[j])) & 0xff);
    const lm = Math.min(63, nearestInt(fr(invMin * subMins[j])) & 0xff);
    if (j < 4) {
      dst[sc + j] = ls;
      dst[sc + j + 4] = lm;
    } else {
      dst[sc + j + 4] = (ls & 0x0f) | ((lm & 0x0f) << 4);
      dst[sc + j - 4] |= (ls >> 4) << 6;
      dst[sc + j] |= (lm >> 4) << 6;
    }
  }
}
