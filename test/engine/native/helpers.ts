/** Shared by the native addon tests: the addon (or a failure saying why it is missing), seeded data, references. */
import { describe, it } from "vitest";
import { GgmlType, rowBytes } from "../../../src/engine/ggml/types.js";
import { probeNative } from "../../../src/engine/native/loadNative.js";
import type { NativeAddon, NativeWeightType } from "../../../src/engine/native/addonTypes.js";
import { weightKernel } from "../../../src/engine/quant/table.js";

const probe = probeNative({ ...process.env, LAYERSTREAM_NATIVE: undefined });

/**
 * `describe(name, body)` for tests that need the addon. When it is missing or does not load, the
 * suite is one test that fails with the loader's one-line reason instead (a test that needs
 * something absent fails, it is never skipped; build the addon: node native/simd/install.mjs), and
 * the other suites of the file still run.
 */
export function describeNative(name: string, body: (addon: NativeAddon) => void): void {
  const addon = probe.addon;
  if (addon) {
    describe(name, () => body(addon));
    return;
  }
  const reason = probe.failure?.message ?? "no reason given";
  describe(name, () => {
    it("needs the native addon", () => {
      throw new Error(`native addon unavailable: ${reason}`);
    });
  });
}

/** Every weight type the addon has kernels for. */
export const NATIVE_WEIGHT_TYPES: readonly NativeWeightType[] = [
  GgmlType.F32,
  GgmlType.F16,
  GgmlType.BF16,
  GgmlType.Q8_0,
  GgmlType.Q4_0,
  GgmlType.Q4_1,
  GgmlType.Q5_0,
  GgmlType.Q5_1,
  GgmlType.Q2_K,
  GgmlType.Q3_K,
  GgmlType.Q4_K,
  GgmlType.Q5_K,
  GgmlType.Q6_K,
  GgmlType.IQ4_NL,
  GgmlType.IQ4_XS,
];

import { seededRandom } from "../../helpers/random.js";
export { seededRandom };

/** f32 [n], roughly normal(0, sigma) (sum of 4 uniforms) */
export function randomValues(n: number, seed: number, sigma = 1): Float32Array {
  const random = seededRandom(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (random() + random() + random() + random() - 2) * 1.7320508 * sigma;
  return out;
}

/** Weight rows quantized with the type's reference quantizer (what GGUF files hold). */
export function quantizeRows(type: GgmlType, values: Float32Array, nCols: number, nRows: number): Uint8Array {
  const stride = rowBytes(type, nCols);
  const bytes = new Uint8Array(stride * nRows);
  const kernel = weightKernel(type);
  for (let r = 0; r < nRows; r++) kernel.quantizeRow(values, r * nCols, bytes, r * stride, nCols);
  return bytes;
}

/**
 * f64 reference out[t][r] = Σ_c W[r][c]·x[t][c] from the dequantized weights and the unquantized
 * activations, with `scale[t][r]` = Σ_c |W[r][c]|·amax(x block of c) (the activation
 * quantization error is at most a fixed fraction of it).
 */
export function referenceMatmul(
  type: GgmlType,
  weight: Uint8Array,
  x: Float32Array,
  nCols: number,
  nRows: number,
  nTokens: number,
): { out: Float64Array; scale: Float64Array } {
  const w = new Float32Array(nCols * nRows);
  weightKernel(type).dequantizeRow(weight, 0, w, 0, nCols * nRows);
  const block = weightKernel(type).blockSize === 256 ? 256 : 32;
  const out = new Float64Array(nTokens * nRows);
  const scale = new Float64Array(nTokens * nRows);
  const amax = new Float64Array(nCols);
  for (let t = 0; t < nTokens; t++) {
    for (let c0 = 0; c0 < nCols; c0 += block) {
      let m = 0;
      for (let c = c0; c < Math.min(nCols, c0 + block); c++) m = Math.max(m, Math.abs(x[t * nCols + c]));
      for (let c = c0; c < Math.min(nCols, c0 + block); c++) amax[c] = m;
    }
    for (let r = 0; r < nRows; r++) {
      let sum = 0;
      let bound = 0;
      for (let c = 0; c < nCols; c++) {
        const wv = w[r * nCols + c];
        sum += wv * x[t * nCols + c];
        bound += Math.abs(wv) * amax[c];
      }
      out[t * nRows + r] = sum;
      scale[t * nRows + r] = bound;
    }
  }
  return { out, scale };
}

/**
 * Random but valid weight rows without running a quantizer (fast for big matrices): random code
 * bytes, every scale field a small normal half (F16/BF16/F32: small random values).
 */
export function randomBlocks(type: GgmlType, nCols: number, nRows: number, seed: number): Uint8Array {
  const random = seededRandom(seed);
  const bytes = new Uint8Array(rowBytes(type, nCols) * nRows);
  for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(random() * 256);
  const view = new DataView(bytes.buffer);
  const half = (at: number) => view.setUint16(at, 0x1400 + Math.floor(random() * 0x400), true); // 2^-10 .. 2^-9
  const { blockBytes } = weightKernel(type);
  for (let at = 0; at < bytes.length; at += blockBytes) {
    switch (type) {
      case GgmlType.F32: view.setFloat32(at, random() - 0.5, true); break;
      case GgmlType.F16: view.setUint16(at, (0x3000 + Math.floor(random() * 0x800)) | (random() < 0.5 ? 0x8000 : 0), true); break;
      case GgmlType.BF16: view.setUint16(at, (0x3e00 + Math.floor(random() * 0x80)) | (random() < 0.5 ? 0x8000 : 0), true); break;
      case GgmlType.Q4_1: case GgmlType.Q5_1: case GgmlType.Q4_K: case GgmlType.Q5_K: half(at); half(at + 2); break;
      case GgmlType.Q6_K: half(at + 208); break;
      case GgmlType.Q3_K: half(at + 108); break;
      case GgmlType.Q2_K: half(at + 80); half(at + 82); break;
      default: half(at);
    }
  }
  return bytes;
}

/** Indices where a and b differ as f32 bit patterns (NaN equals NaN). */
export function mismatches(a: Float32Array, b: Float32Array): number[] {
  const bad: number[] = [];
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) bad.push(i);
  return bad;
}
