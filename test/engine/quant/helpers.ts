/** Shared test helpers for the quant kernels: seeded random data and error measures. */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { GgmlType, rowBytes } from "../../../src/engine/ggml/types.js";
import { weightKernel } from "../../../src/engine/quant/table.js";

import { seededRandom } from "../../helpers/random.js";
export { seededRandom };

const SWEEP_SCALES = [1e-3, 0.02, 0.1, 1.0, 30.0];

/**
 * f32 [n] test data that fixtures/make-ggml-golden.py reproduces exactly (only +, -, * on
 * doubles): per 32-value block a scale from SWEEP_SCALES, sums of 4 uniforms, 10% zeros, rare ×20 outliers.
 */
export function sweepValues(seed: number, n: number): Float32Array {
  const random = seededRandom(seed);
  const out = new Float32Array(n);
  let scale = 1;
  for (let i = 0; i < n; i++) {
    if (i % 32 === 0) scale = SWEEP_SCALES[Math.floor(random() * 5)];
    const u = random();
    let v = (random() + random() + random() + random() - 2.0) * scale;
    if (u < 0.1) v = 0;
    else if (u > 0.995) v = v * 20.0;
    out[i] = v;
  }
  return out;
}

/** f32 [n] of normal(0, sigma) values from a seeded PRNG (Box–Muller). */
export function gaussianArray(n: number, seed: number, sigma = 1): Float32Array {
  const random = seededRandom(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const u = 1 - random();
    const v = random();
    const r = Math.sqrt(-2 * Math.log(u)) * sigma;
    out[i] = r * Math.cos(2 * Math.PI * v);
    if (i + 1 < n) out[i + 1] = r * Math.sin(2 * Math.PI * v);
  }
  return out;
}

/** sqrt(mean((a-b)²)) */
export function rmsError(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i] - b[i]) ** 2;
  return Math.sqrt(sum / a.length);
}

export function rms(a: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i] ** 2;
  return Math.sqrt(sum / a.length);
}

export function maxAbsError(a: Float32Array, b: Float32Array): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

/** ||a - b|| / ||b|| */
export function relativeL2Error(a: Float32Array, b: Float32Array): number {
  let diff = 0;
  let norm = 0;
  for (let i = 0; i < a.length; i++) {
    diff += (a[i] - b[i]) ** 2;
    norm += b[i] ** 2;
  }
  return Math.sqrt(diff / norm);
}

/** f64 dot product */
export function dot64(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i] * b[i];
  return sum;
}

/** Quantize a f32 row with a weight type's reference quantizer. */
export function quantize(type: GgmlType, values: Float32Array): Uint8Array {
  const bytes = new Uint8Array(rowBytes(type, values.length));
  weightKernel(type).quantizeRow(values, 0, bytes, 0, values.length);
  return bytes;
}

export function dequantize(type: GgmlType, bytes: Uint8Array, nValues: number): Float32Array {
  const out = new Float32Array(nValues);
  weightKernel(type).dequantizeRow(bytes, 0, out, 0, nValues);
  return out;
}

export function sha256(bytes: ArrayBufferView): string {
  return createHash("sha256").update(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)).digest("hex");
}

/** Copy of `bytes` placed at `misalignBy` bytes into a fresh buffer (to exercise unaligned reads). */
export function atOddOffset(bytes: Uint8Array, misalignBy: number): { buffer: Uint8Array; offset: number } {
  const buffer = new Uint8Array(bytes.length + misalignBy + 3);
  buffer.set(bytes, misalignBy);
  return { buffer, offset: misalignBy };
}

export interface GgmlGolden {
  readonly source: string;
  readonly nValues: number;
  readonly weightsF32: string;
  readonly activationsF32: readonly string[];
  readonly activationCodes: Readonly<Record<string, readonly string[]>>;
  readonly weights: Readonly<Record<string, { bytes: string | null; dequantizedSha256: string; dots: readonly number[] }>>;
  readonly sweep: {
    readonly nValues: number;
    readonly weightSeed: number;
    readonly activationSeed: number;
    readonly activationCodesSha256: Readonly<Record<string, string>>;
    readonly weights: Readonly<Record<string, { bytesSha256: string; dequantizedSha256: string; dot: number }>>;
  };
  /** ggml_quantize_mat_q8_K_4x8 of activationsF32[2]: d per block, row codes de-interleaved */
  readonly q8K4x8: { readonly d: readonly number[]; readonly codes: string };
  readonly fp16: {
    readonly f32Bits: readonly number[];
    readonly f16Bits: readonly number[];
    readonly bf16Bits: readonly number[];
    readonly halfToF32Sha256: string;
  };
}

/** Outputs of ggml's own code for fixed inputs (see fixtures/make-ggml-golden.py). */
export function loadGgmlGolden(): GgmlGolden {
  return JSON.parse(readFileSync(new URL("./fixtures/ggml-golden.json", import.meta.url), "utf8")) as GgmlGolden;
}

export function decodeBase64(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, "base64"));
}

export function decodeBase64F32(text: string): Float32Array {
  const bytes = decodeBase64(text);
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
}
