/**
 * IQ4_XS quantizer: ggml's `quantize_iq4_xs` without an importance matrix, which is also
 * `quantize_row_iq4_xs_ref` (`quantize_row_iq4_nl_impl(256, 32, …, ntry = 7)` with weights x²), so
 * it is both what the kernel's `quantizeRow` and what llama-quantize write. Per super-block:
 * 1. each 32-value sub-block gets the searched IQ4_NL scale (`searchIq4BlockScale`);
 * 2. d = -s/32 for the sub-block scale s of largest magnitude, stored as f16;
 * 3. sub-block ib stores l = clamp(nearest_int(scale_ib / d), -32, 31) + 32 as 6 bits (low 4 in
 *    scales_l, high 2 in scales_h), and its codes are re-picked with the f32 scale d·l.
 */
import { iq4BestIndex } from "./iq4_nl.js";
import { searchIq4BlockScale } from "./iq4_nl-search.js";
import { IQ4_XS_BLOCK_BYTES, IQ4_XS_LAYOUT, IQ4_XS_QS_OFFSET, IQ4_XS_SCALES_H_OFFSET, IQ4_XS_SCALES_L_OFFSET } from "./iq4_xs-layout.js";
import { QK_K } from "./q8_k.js";
import { checkCodecRow, nearestInt, writeHalf } from "./scalar.js";

const fr = Math.fround;
const N_SUB_BLOCKS = QK_K / 32;
/** per sub-block scale of the super-block being quantized (ggml's `scales[QK_K/32]`) */
const subScales = new Float64Array(N_SUB_BLOCKS);
/** per value code, 0..15 (ggml's `L[QK_K]`) */
const levels = new Int32Array(QK_K);

/** One super-block of 256 values at `src[x..]` → the 136-byte block at `dst[block..]`. */
function quantizeSuperBlock(src: Float32Array, x: number, dst: Uint8Array, block: number): void {
  let maxScale = 0;
  let amaxScale = 0;
  for (let ib = 0; ib < N_SUB_BLOCKS; ib++) {
    const d = searchIq4BlockScale(src, x + 32 * ib);
    subScales[ib] = d;
    if (Math.abs(d) > amaxScale) {
      amaxScale = Math.abs(d);
      maxScale = d;
    }
  }
  const d = fr(-maxScale / 32);
  writeHalf(dst, block, d);
  const id = d !== 0 ? fr(1 / d) : 0;
  let scalesH = 0;
  for (let ib = 0; ib < N_SUB_BLOCKS; ib++) {
    const l = Math.max(-32, Math.min(31, nearestInt(fr(id * subScales[ib]))));
    const dl = fr(d * l);
    const idl = dl !== 0 ? fr(1 / dl) : 0;
    for (let j = 0; j < 32; j++) levels[32 * ib + j] = iq4BestIndex(fr(idl * src[x + 32 * ib + j]));
    const code = l + 32;
    const low = block + IQ4_XS_SCALES_L_OFFSET + (ib >> 1);
    dst[low] = ib % 2 === 0 ? code & 0x0f : dst[low] | ((code & 0x0f) << 4);
    scalesH |= (code >> 4) << (2 * ib);
  }
  dst[block + IQ4_XS_SCALES_H_OFFSET] = scalesH & 0xff;
  dst[block + IQ4_XS_SCALES_H_OFFSET + 1] = scalesH >>> 8;
  const qs = block + IQ4_XS_QS_OFFSET;
  for (let ib = 0; ib < N_SUB_BLOCKS; ib++) {
    for (let j = 0; j < 16; j++) dst[qs + 16 * ib + j] = levels[32 * ib + j] | (levels[32 * ib + 16 + j] << 4);
  }
}

/** `nValues` f32 values at `src[srcOffset..]` → IQ4_XS blocks at `dst[dstByteOffset..]` (quantize_row_iq4_xs_ref). */
export function quantizeIq4XsRow(src: Float32Array, srcOffset: number, dst: Uint8Array, dstByteOffset: number, nValues: number): void {
  const nBlocks = checkCodecRow(IQ4_XS_LAYOUT, nValues, dst, dstByteOffset, src, srcOffset);
  for (let ib = 0; ib < nBlocks; ib++) quantizeSuperBlock(src, srcOffset + ib * QK_K, dst, dstByteOffset + ib * IQ4_XS_BLOCK_BYTES);
}

