/** The native SIMD addon as a ComputeBackend (same bits as the TypeScript kernels on every ISA path). */
import { PACKED_TYPE_FLAG, type NativeAddon } from "../native/addonTypes.js";
import { attentionTypeScript, kqScaleOf } from "../model/attention.js";
import { TYPESCRIPT_BACKEND } from "./typescriptBackend.js";
import type { ComputeBackend, PackedMatmulType } from "./computeBackend.js";

/** @param threads the addon's thread pool size (process-wide: the addon has one pool) */
export function nativeBackend(addon: NativeAddon, threads?: number): ComputeBackend {
  if (threads !== undefined) addon.setThreads(threads);
  const caps = addon.capabilities();
  return Object.freeze({
    kind: "native",
    description: `native ${caps.isa}, ${caps.threads} thread${caps.threads === 1 ? "" : "s"}`,
    threads: caps.threads,
    matmul(out, weight, weightType, x, nCols, nRows, nTokens) {
      addon.matmul(out, weight, weightType as never, x, nCols, nRows, nTokens);
    },
    pack(weight, weightType, nCols, nRows) {
      const bytes = addon.pack?.(weight, weightType as never, nCols, nRows) ?? null;
      return bytes && { bytes, matmulType: (weightType | PACKED_TYPE_FLAG) as PackedMatmulType };
    },
    residentCopy: addon.residentCopy && ((weight: Uint8Array) => addon.residentCopy!(weight)),
    attention(out, q, cache, layer, position, nTokens, shape, scratch) {
      const { keys, values } = cache.raw(layer);
      const f16 = keys instanceof Uint16Array && values instanceof Uint16Array;
      if (shape.flashKvChunks !== undefined) {
        // the addon covers F16 caches without soft-capping (gemma2's tanh stays in TypeScript, which is the same llama.cpp arithmetic)
        if (!f16 || shape.softCap !== undefined) return TYPESCRIPT_BACKEND.attention(out, q, cache, layer, position, nTokens, shape, scratch);
        const { nHead, nHeadKv, headDim } = shape;
        addon.flashAttention(out, q, keys, values, position, nTokens, nHead, nHeadKv, headDim, cache.maxPositions, kqScaleOf(shape), shape.window ?? 0, shape.flashKvChunks);
        return;
      }
      // the addon covers the F16 cache with the 1/√headDim scale on every ISA path; an F32 cache, another scale (phi3) or a declined call runs the reference
      if (f16 && shape.kqScale === undefined && shape.softCap === undefined && shape.window === undefined) {
        const { nHead, nHeadKv, headDim } = shape;
        if (addon.attention(out, q, keys, values, position, nTokens, nHead, nHeadKv, headDim, cache.maxPositions)) return;
      }
      attentionTypeScript(out, q, cache, layer, position, nTokens, shape, scratch);
    },
    rmsNorm(out, x, weight, n, nTokens, eps) {
      addon.rmsNorm(out, x, weight, n, nTokens, eps);
    },
    siluMul(gate, up, n, rows) {
      addon.siluMul(gate, up, n, rows);
    },
    // no native GeGLU kernel: the TypeScript reference (same bits)
    geluMul: TYPESCRIPT_BACKEND.geluMul,
    rope(x, nTokens, nHeads, headDim, table, position) {
      const nRot = table.params.nRot;
      addon.rope(x, 0, nTokens, nHeads * headDim, nHeads, headDim, table.cosSinRows(position, nTokens), nRot, table.params.layout === "neox");
    },
    // the KV cache's stores: vcvtps2ph instead of a conversion per value in JavaScript (builds without it: the same bits in TypeScript)
    toHalf: addon.toHalf ? addon.toHalf.bind(addon) : TYPESCRIPT_BACKEND.toHalf,
  } satisfies ComputeBackend);
}
