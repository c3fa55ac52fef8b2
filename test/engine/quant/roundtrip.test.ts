/**
 * quantize → dequantize round trips on seeded normal(0, 1) data, with named error thresholds
 * (relative RMS error = rms(x - y) / rms(x)); measured values are about 80% of each threshold.
 */
import { describe, expect, it } from "vitest";
import { GgmlType, rowBytes } from "../../../src/engine/ggml/types.js";
import type { RowCodec } from "../../../src/engine/quant/kernel.js";
import { ACTIVATION_QUANTIZERS, WEIGHT_KERNELS } from "../../../src/engine/quant/table.js";
import { gaussianArray, rms, rmsError } from "./helpers.js";

const MAX_F16_RMS_ERROR = 3e-4;
const MAX_BF16_RMS_ERROR = 2.5e-3;
const MAX_Q8_0_RMS_ERROR = 7e-3;
const MAX_Q8_1_RMS_ERROR = 7e-3;
const MAX_Q8_K_RMS_ERROR = 9e-3;
const MAX_Q4_0_RMS_ERROR = 0.105;
const MAX_Q4_1_RMS_ERROR = 0.095;
const MAX_Q5_0_RMS_ERROR = 0.053;
const MAX_Q5_1_RMS_ERROR = 0.047;
const MAX_Q2_K_RMS_ERROR = 0.32; // measured 0.296
const MAX_Q3_K_RMS_ERROR = 0.17; // measured 0.153
const MAX_Q4_K_RMS_ERROR = 0.086;
const MAX_Q5_K_RMS_ERROR = 0.043; // measured 0.036
const MAX_Q6_K_RMS_ERROR = 0.022;
const MAX_IQ4_NL_RMS_ERROR = 0.095; // measured 0.080
const MAX_IQ4_XS_RMS_ERROR = 0.09; // measured 0.078

const THRESHOLDS = new Map<GgmlType, number>([
  [GgmlType.F32, 0],
  [GgmlType.F16, MAX_F16_RMS_ERROR],
  [GgmlType.BF16, MAX_BF16_RMS_ERROR],
  [GgmlType.Q8_0, MAX_Q8_0_RMS_ERROR],
  [GgmlType.Q8_1, MAX_Q8_1_RMS_ERROR],
  [GgmlType.Q8_K, MAX_Q8_K_RMS_ERROR],
  [GgmlType.Q4_0, MAX_Q4_0_RMS_ERROR],
  [GgmlType.Q4_1, MAX_Q4_1_RMS_ERROR],
  [GgmlType.Q5_0, MAX_Q5_0_RMS_ERROR],
  [GgmlType.Q5_1, MAX_Q5_1_RMS_ERROR],
  [GgmlType.Q2_K, MAX_Q2_K_RMS_ERROR],
  [GgmlType.Q3_K, MAX_Q3_K_RMS_ERROR],
  [GgmlType.Q4_K, MAX_Q4_K_RMS_ERROR],
  [GgmlType.Q5_K, MAX_Q5_K_RMS_ERROR],
  [GgmlType.Q6_K, MAX_Q6_K_RMS_ERROR],
  [GgmlType.IQ4_NL, MAX_IQ4_NL_RMS_ERROR],
  [GgmlType.IQ4_XS, MAX_IQ4_XS_RMS_ERROR],
]);

const N_VALUES = 4096; // 16 super-blocks
const codecs: RowCodec[] = [...WEIGHT_KERNELS.values(), ...ACTIVATION_QUANTIZERS.values()].filter(
  (codec, i, all) => all.findIndex((c) => c.type === codec.type) === i,
);

function roundTrip(codec: RowCodec, x: Float32Array): Float32Array {
  const bytes = new Uint8Array(rowBytes(codec.type, x.length));
  codec.quantizeRow(x, 0, bytes, 0, x.length);
  const y = new Float32Array(x.length);
  codec.dequantizeRow(bytes, 0, y, 0, x.length);
  return y;
}

describe("quant-roundtrip", () => {
  it("every codec has a threshold", () => {
    expect(codecs.map((c) => GgmlType[c.type]).sort()).toEqual([...THRESHOLDS.keys()].map((t) => GgmlType[t]).sort());
  });

  for (const codec of codecs) {
    const name = GgmlType[codec.type];
    const threshold = THRESHOLDS.get(codec.type) ?? -1;

    it(`${name}: relative RMS error on normal(0,1) data ≤ ${threshold}`, () => {
      for (const seed of [1, 2]) {
        const x = gaussianArray(N_VALUES, seed);
        expect(rmsError(x, roundTrip(codec, x)) / rms(x)).toBeLessThanOrEqual(threshold);
      }
    });

    it(`${name}: scaling the input by 2^6 or 2^-2 scales the output exactly (no half under/overflow here)`, () => {
      // keep |x| ≥ 0.01 so that no F16 value becomes subnormal when scaled down
      const x = gaussianArray(N_VALUES, 3).map((v) => (Math.abs(v) < 0.01 ? Math.sign(v || 1) * 0.01 : v));
      const base = roundTrip(codec, x);
      for (const factor of [2 ** 6, 2 ** -2]) {
        const y = roundTrip(codec, x.map((v) => v * factor));
        expect(Array.from(y)).toEqual(Array.from(base, (v) => v * factor));
      }
    });

    it(`${name}: zeros stay zeros, and a row written at an odd byte offset decodes the same`, () => {
      const n = Math.max(codec.blockSize, 256);
      expect(Array.from(roundTrip(codec, new Float32Array(n))).every((v) => v === 0)).toBe(true);
      const x = gaussianArray(n, 4);
      const aligned = roundTrip(codec, x);
      const bytes = new Uint8Array(rowBytes(codec.type, n) + 3);
      codec.quantizeRow(x, 0, bytes, 3, n);
      const y = new Float32Array(n);
      codec.dequantizeRow(bytes, 3, y, 0, n);
      expect(Array.from(y)).toEqual(Array.from(aligned));
    });
  }

  it("Q8_0: every value is within d/2 of its block's grid (plus the half rounding of d)", () => {
    const x = gaussianArray(N_VALUES, 5);
    const y = roundTrip(WEIGHT_KERNELS.get(GgmlType.Q8_0)!, x);
    for (let b = 0; b < N_VALUES; b += 32) {
      let amax = 0;
      for (let j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[b + j]));
      const d = amax / 127;
      for (let j = 0; j < 32; j++) expect(Math.abs(x[b + j] - y[b + j])).toBeLessThanOrEqual(d * (0.5 + 127 * 2 ** -11));
    }
  });
});
