/**
 * Bit-exact conformance with ggml's own code: the fixture holds what ggml's reference quantizers
 * and dequantizers (libggml-base) and the CPU backend llama.cpp runs here (libggml-cpu-zen4: its
 * activation encoders and x86 SIMD dot products) produce for fixed inputs that include zero
 * blocks, constant blocks, outliers and exact ties; see fixtures/make-ggml-golden.py.
 */
import { describe, expect, it } from "vitest";
import { GgmlType, rowBytes } from "../../../src/engine/ggml/types.js";
import { Q8_K_ACTIVATION_4X8 } from "../../../src/engine/quant/q8_k.js";
import { activationQuantizer, WEIGHT_KERNELS, weightKernel } from "../../../src/engine/quant/table.js";
import {
  atOddOffset,
  decodeBase64,
  decodeBase64F32,
  dequantize,
  loadGgmlGolden,
  quantize,
  sha256,
  sweepValues,
} from "./helpers.js";

const golden = loadGgmlGolden();
const n = golden.nValues;
const weightsF32 = decodeBase64F32(golden.weightsF32);
const activationsF32 = golden.activationsF32.map(decodeBase64F32);

/** every weight type we compute with (the fixture holds ggml's results for each) */
const WEIGHT_TYPES: readonly GgmlType[] = [...WEIGHT_KERNELS.keys()];
const ACTIVATION_TYPES: readonly GgmlType[] = [GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q8_1, GgmlType.Q8_K];

function encodeActivation(type: GgmlType, values: Float32Array): Uint8Array {
  const bytes = new Uint8Array(rowBytes(type, values.length));
  activationQuantizer(type).quantizeRow(values, 0, bytes, 0, values.length);
  return bytes;
}

describe("quant-ggml-golden", () => {
  for (const type of WEIGHT_TYPES) {
    const name = GgmlType[type];
    const expected = golden.weights[name];

    it(`${name}: reference quantizer bytes equal ggml's quantize_row_${name.toLowerCase()}_ref`, () => {
      const ours = quantize(type, weightsF32);
      const theirs = expected.bytes === null ? new Uint8Array(weightsF32.buffer) : decodeBase64(expected.bytes);
      expect(Buffer.from(ours).equals(Buffer.from(theirs))).toBe(true);
    });

    it(`${name}: dequantized values equal ggml's, bit for bit`, () => {
      const bytes = expected.bytes === null ? new Uint8Array(weightsF32.buffer) : decodeBase64(expected.bytes);
      expect(sha256(dequantize(type, bytes, n))).toBe(expected.dequantizedSha256);
    });

    it(`${name}: vecDot equals llama.cpp's x86 vec_dot bit for bit (aligned and unaligned buffers)`, () => {
      const kernel = weightKernel(type);
      const bytes = expected.bytes === null ? new Uint8Array(weightsF32.buffer) : decodeBase64(expected.bytes);
      const w = atOddOffset(bytes, 3);
      activationsF32.forEach((activation, i) => {
        const act = encodeActivation(kernel.vecDotType, activation);
        expect(kernel.vecDot(n, bytes, 0, act, 0)).toBe(expected.dots[i]);
        const a = atOddOffset(act, 1);
        expect(kernel.vecDot(n, w.buffer, w.offset, a.buffer, a.offset)).toBe(expected.dots[i]);
      });
    });
  }

  it("Q8_K activations of the repacked Q4_K gemm equal ggml_quantize_mat_q8_K_4x8 (+amax wins a ±amax tie)", () => {
    const ties = activationsF32[2];
    const bytes = encodeActivation(GgmlType.Q8_K, ties);
    const bytes4x8 = new Uint8Array(bytes.length);
    Q8_K_ACTIVATION_4X8.quantizeRow(ties, 0, bytes4x8, 0, n);
    const view = new DataView(bytes4x8.buffer);
    const codes = decodeBase64(golden.q8K4x8.codes);
    golden.q8K4x8.d.forEach((d, b) => {
      expect(view.getFloat32(b * 292, true)).toBe(d);
      expect(Buffer.from(bytes4x8.subarray(b * 292 + 4, b * 292 + 260)).equals(Buffer.from(codes.subarray(256 * b, 256 * b + 256)))).toBe(true);
    });
    // the first block has -amax before +amax: the reference quantizer scales by -amax instead
    expect(new DataView(bytes.buffer).getFloat32(0, true)).toBe(-golden.q8K4x8.d[0]);
  });

  for (const type of ACTIVATION_TYPES) {
    const name = GgmlType[type];
    it(`${name}: activation quantizer bytes equal ggml's`, () => {
      activationsF32.forEach((activation, i) => {
        const ours = encodeActivation(type, activation);
        expect(Buffer.from(ours).equals(Buffer.from(decodeBase64(golden.activationCodes[name][i])))).toBe(true);
      });
    });
  }

  describe("sweep of 256 super-blocks (mixed scales, zeros, outliers)", () => {
    const { sweep } = golden;
    const x = sweepValues(sweep.weightSeed, sweep.nValues);
    const a = sweepValues(sweep.activationSeed, sweep.nValues);

    it("the generated inputs are the ones ggml saw", () => {
      expect(sha256(x)).toBe(sweep.weights.F32.bytesSha256);
      expect(sha256(a)).toBe(sweep.activationCodesSha256.F32);
    });

    for (const type of ACTIVATION_TYPES) {
      it(`${GgmlType[type]}: activation codes equal ggml's`, () => {
        expect(sha256(encodeActivation(type, a))).toBe(sweep.activationCodesSha256[GgmlType[type]]);
      });
    }

    for (const type of WEIGHT_TYPES) {
      const name = GgmlType[type];
      it(`${name}: quantized bytes, dequantized values and vecDot equal ggml's`, () => {
        const expected = sweep.weights[name];
        const bytes = quantize(type, x);
        expect(sha256(bytes)).toBe(expected.bytesSha256);
        expect(sha256(dequantize(type, bytes, sweep.nValues))).toBe(expected.dequantizedSha256);
        const kernel = weightKernel(type);
        expect(kernel.vecDot(sweep.nValues, bytes, 0, encodeActivation(kernel.vecDotType, a), 0)).toBe(expected.dot);
      });
    }
  });
});
