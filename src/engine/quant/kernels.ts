/**
 * Which matmul runs: the native SIMD addon when it is built and allowed, else the TypeScript
 * kernels (the reference the addon is tested against; both give the same bits). The choice is
 * process-wide and made once, on first use or by `useKernels`.
 */
import type { GgmlType } from "../ggml/types.js";
import { loadNative, nativeLoadFailure } from "../native/loadNative.js";
import type { NativeAddon } from "../native/addonTypes.js";
import { matmul as matmulTypeScript, type MatmulScratch } from "./matmul.js";

export interface KernelChoice {
  /** "native" or "typescript" */
  readonly kind: "native" | "typescript";
  /** e.g. "native avx512, 2 threads" or "typescript" */
  readonly description: string;
  /** why the native kernels are not in use, when they are not (one line) */
  readonly fallbackReason?: string;
}

let native: NativeAddon | undefined;
let choice: KernelChoice | undefined;

/**
 * Picks the kernels: native unless `preferNative` is false, LAYERSTREAM_NATIVE=0, or the addon
 * is missing; `threads` sets the native pool size (default: the addon's).
 */
export function useKernels(options: { preferNative?: boolean; threads?: number } = {}): KernelChoice {
  native = options.preferNative === false ? undefined : loadNative();
  if (native) {
    if (options.threads !== undefined) native.setThreads(options.threads);
    const caps = native.capabilities();
    choice = { kind: "native", description: `native ${caps.isa}, ${caps.threads} thread${caps.threads === 1 ? "" : "s"}` };
  } else {
    const fallbackReason = options.preferNative === false ? undefined : nativeLoadFailure()?.message;
    choice = { kind: "typescript", description: "typescript, 1 thread", fallbackReason };
  }
  return choice;
}

/**
 * The addon's F16-cache attention when the native kernels are chosen, else undefined (callers
 * then run the TypeScript attention). Every ISA path has a kernel; callers still honour a
 * `false` return (declined, nothing written) by running the TypeScript attention.
 */
export function nativeAttention(): NativeAddon["attention"] | undefined {
  if (!choice) useKernels();
  return native && typeof native.attention === "function" ? native.attention : undefined;
}

/**
 * The addon when the native kernels are chosen (for the row-wise ops of src/engine/model: SiLU·mul,
 * RMSNorm, RoPE — bit-identical to their TypeScript versions), else undefined.
 */
export function nativeRowOps(): Pick<NativeAddon, "siluMul" | "rmsNorm" | "rope"> | undefined {
  if (!choice) useKernels();
  return native;
}

export function kernelChoice(): KernelChoice {
  return choice ?? useKernels();
}

/**
 * out = x · weightᵀ with the chosen kernels.
 * @param out f32 [nTokens, nRows]
 * @param weight weightType [nRows, nCols]
 * @param x f32 [nTokens, nCols]
 */
export function matmul(
  out: Float32Array,
  weight: Uint8Array,
  weightType: GgmlType,
  x: Float32Array,
  nCols: number,
  nRows: number,
  nTokens: number,
  scratch?: MatmulScratch,
): void {
  if (!choice) useKernels();
  if (native) native.matmul(out, weight, weightType as never, x, nCols, nRows, nTokens);
  else matmulTypeScript(out, weight, weightType, x, nCols, nRows, nTokens, scratch);
}
