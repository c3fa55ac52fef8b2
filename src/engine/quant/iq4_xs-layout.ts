/**
 * IQ4_XS block layout (ggml-common.h): super-blocks of 256 values in 8 sub-blocks of 32,
 * `block_iq4_xs { half d; uint16 scales_h; uint8 scales_l[4]; uint8 qs[128]; }` (136 bytes).
 * Sub-block ib has the 6-bit scale ls = (4 bits of scales_l[ib/2], low nibble for even ib) |
 * (bits 2ib..2ib+1 of scales_h) << 4, and its values are d·(ls − 32)·K[code] with K ggml's
 * `kvalues_iq4nl`; its codes are qs[16ib..16ib+15]: value j in the low nibble of byte j, value
 * j + 16 in its high nibble (as in an IQ4_NL block).
 */
import { GgmlType } from "../ggml/types.js";
import { QK_K } from "./q8_k.js";
import type { BlockLayout } from "./scalar.js";

export const IQ4_XS_BLOCK_BYTES = 136;
export const IQ4_XS_SCALES_H_OFFSET = 2;
export const IQ4_XS_SCALES_L_OFFSET = 4;
export const IQ4_XS_QS_OFFSET = 8;
export const IQ4_XS_LAYOUT: BlockLayout = { type: GgmlType.IQ4_XS, blockSize: QK_K, blockBytes: IQ4_XS_BLOCK_BYTES };

/** The signed scale ls − 32 (−32..31) of sub-block `ib` (0..7) of the block at `bytes[block..]`. */
export function iq4XsSubScale(bytes: Uint8Array, block: number, ib: number): number {
  const scalesH = bytes[block + IQ4_XS_SCALES_H_OFFSET] | (bytes[block + IQ4_XS_SCALES_H_OFFSET + 1] << 8);
  const low = (bytes[block + IQ4_XS_SCALES_L_OFFSET + (ib >> 1)] >> (4 * (ib & 1))) & 0x0f;
  return (low | (((scalesH >> (2 * ib)) & 3) << 4)) - 32;
}
