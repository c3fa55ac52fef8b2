/**
 * IQ4_XS specifics the ggml goldens cover only in bulk: the 6-bit sub-block scales split over
 * scales_l (low nibbles, even sub-blocks first) and scales_h (2 bits per sub-block) with the −32
 * offset, decoded by hand; an all-zero super-block as ggml writes it; and the route (llama.cpp's IQ
 * panel gemm for ≥ 8 tokens and a multiple of 8 rows, vec_dot otherwise).
 */
import { describe, expect, it } from "vitest";
import { GgmlType } from "../../../src/engine/ggml/types.js";
import { IQ4_NL_VALUES } from "../../../src/engine/quant/iq4_nl.js";
import { dotIq4XsPanel } from "../../../src/engine/quant/iq4_xs.js";
import { weightKernel } from "../../../src/engine/quant/table.js";

const kernel = weightKernel(GgmlType.IQ4_XS);
/** ls (0..63) of each of the 8 sub-blocks: both extremes, the zero scale (32) and mixed bit patterns */
const LS = [0, 63, 32, 1, 17, 48, 33, 31];

/** A block with d = 0.5 (f16 0x3800), the scales LS, and code (j + ib) % 16 for value j of sub-block ib. */
function handBuiltBlock(): Uint8Array {
  const block = new Uint8Array(136);
  block[0] = 0x00;
  block[1] = 0x38;
  let scalesH = 0;
  for (let ib = 0; ib < 8; ib++) {
    block[4 + (ib >> 1)] |= (LS[ib] & 0x0f) << (4 * (ib & 1));
    scalesH |= (LS[ib] >> 4) << (2 * ib);
    for (let j = 0; j < 16; j++) block[8 + 16 * ib + j] = ((j + ib) % 16) | (((j + 16 + ib) % 16) << 4);
  }
  block[2] = scalesH & 0xff;
  block[3] = scalesH >> 8;
  return block;
}

describe("IQ4_XS", () => {
  it("dequantizes value j of sub-block ib as d·(ls − 32)·K[code]", () => {
    const out = new Float32Array(256);
    kernel.dequantizeRow(handBuiltBlock(), 0, out, 0, 256);
    const expected = new Float32Array(256);
    for (let ib = 0; ib < 8; ib++) {
      for (let j = 0; j < 32; j++) expected[32 * ib + j] = 0.5 * (LS[ib] - 32) * IQ4_NL_VALUES[(j + ib) % 16];
    }
    expect(Array.from(out)).toEqual(Array.from(expected));
  });

  it("writes an all-zero super-block as ggml does: d = f16(−0), every scale code 32, codes 8", () => {
    const bytes = new Uint8Array(136);
    kernel.quantizeRow(new Float32Array(256), 0, bytes, 0, 256);
    expect(Array.from(bytes.subarray(0, 8))).toEqual([0x00, 0x80, 0xaa, 0xaa, 0, 0, 0, 0]);
    expect(bytes.subarray(8).every((b) => b === 0x88)).toBe(true);
  });

  it("routes ≥ 8 tokens on a multiple of 8 rows to the IQ panel, everything else to vec_dot", () => {
    for (const [nRows, nTokens, panel] of [[16, 8, true], [16, 512, true], [16, 7, false], [20, 8, false], [8, 1, false]] as const) {
      const route = kernel.route(512, nRows, nTokens);
      expect([route.batched.dot, route.single.dot]).toEqual(panel ? [dotIq4XsPanel, dotIq4XsPanel] : [kernel.vecDot, kernel.vecDot]);
      expect(route.single.activation.type).toBe(GgmlType.Q8_K);
    }
  });
});
