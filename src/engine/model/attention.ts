import { f32ToF16 } from "../ggml/fp16.js";
import { dotF16Tiled, dotF16Vec, dotF32Tiled, dotF32Vec } from "../quant/float-dots.js";
import type { KvCache } from "./kvCache.js";
import { softmaxScaledInPlace } from "./ops.js";

export interface AttentionShape {
  readonly nHead: number;
  readonly nHeadKv: number;
  readonly headDim: number;
  /** scale of Q·K before softmax; default 1/√headDim (phi3 and gemma pre-scale Q and pass 1) */
  readonly kqScale?: number;
  /** Q·K = softCap · tanh(Q·K / softCap) before softmax (gemma2) */
  readonly softCap?: number;
  /** sliding window: query p attends to keys p − window + 1 … p only (gemma sliding-window layers) */
  readonly window?: number;
  /**
   * Flash attention (llama.cpp's `-fa`, see flashAttention.ts) when set: the number of ranges its
   * split-KV decode path cuts the cache into (ggml: its thread count). Unset: the classic path.
   */
  readonly flashKvChunks?: number;
}

/** Scratch reused across calls: scores, and one query / probability / V column row in cache format. */
export class AttentionScratch {
  scores = new Float32Array(0);
  query16 = new Uint16Array(0);
  query32 = new Float32Array(0);
  probs16 = new Uint16Array(0);
  column16 = new Uint16Array(0);
  column32 = new Float32Array(0);
  /** flash attention: one row's half accumulator, f32 accumulator and a tile of 64 scores */
  acc16 = new Uint16Array(0);
  acc32 = new Float32Array(0);
  readonly tileProbs = new Float32Array(64);
  /** flash attention over an F32 cache: the layer's keys and values rounded to half */
  keys16 = new Uint16Array(0);
  values16 = new Uint16Array(0);

  ensure(nPositions: number, headDim: number): void {
    if (this.scores.length < nPositions) {
      const n = Math.max(nPositions, this.scores.length * 2);
      this.scores = new Float32Array(n);
      this.probs16 = new Uint16Array(n);
      this.column16 = new Uint16Array(n);
      this.column32 = new Float32Array(n);
    }
    if (this.query16.length < headDim) {
      this.query16 = new Uint16Array(headDim);
      this.query32 = new Float32Array(headDim);
      this.acc16 = new Uint16Array(headDim);
      this.acc32 = new Float32Array(headDim);
    }
  }
}

/**
 * The reference: causal multi-head attention with grouped KV heads over the cache, for nTokens consecutive
 * queries whose first position is `position` (their keys and values are already stored).
 *
 * Bit-exact with llama.cpp's non-flash CPU path (x86 AVX-512 build, 1 thread), where KQ and
 * KQV are ggml_mul_mat calls:
 * - llama.cpp attends over n_kv = min(kvSize, max(256, positions rounded up to 256)) cells; the
 *   masked ones contribute exact zeros, but n_kv sets the lane structure of the KQV dots.
 * - F16 cache: the query row and the probabilities are rounded to half (from_float). A batch
 *   (≥ 2 tokens) goes through llamafile's tinyBLAS when the dot length is a multiple of 16 (KQ:
 *   headDim; KQV: n_kv, with headDim % 4 == 0), otherwise each output is ggml_vec_dot_f16.
 * - F32 cache: KQ is always ggml_vec_dot_f32 (its permuted query skips llamafile); KQV as above.
 * - softmax: see softmaxScaledInPlace (scale 1/√headDim).
 * @param out f32 [nTokens, nHead · headDim]
 * @param q f32 [nTokens, nHead · headDim] (after RoPE)
 */
export function attentionTypeScript(
  out: Float32Array,
  q: Float32Array,
  cache: KvCache,
  layer: number,
  position: number,
  nTokens: number,
  shape: AttentionShape,
  scratch: AttentionScratch,
): void {
  const { nHead, nHeadKv, headDim } = shape;
  const nQ = nHead * headDim;
  const nKv = nHeadKv * headDim;
  const groupSize = nHead / nHeadKv;
  const scale = kqScaleOf(shape);
  const { keys, values } = cache.raw(layer);
  const nKvPadded = paddedKvLength(cache.maxPositions, position + nTokens);
  scratch.ensure(nKvPadded, headDim);
  const { scores, query16, query32, probs16, column16, column32 } = scratch;
  const batch = nTokens >= 2;
  const kqvTiled = batch && headDim % 4 === 0 && nKvPadded % 16 === 0;

  for (let t = 0; t < nTokens; t++) {
    const nVisible = position + t + 1;
    for (let h = 0; h < nHead; h++) {
      const qBase = t * nQ + h * headDim;
      const kvOffset = Math.floor(h / groupSize) * headDim;
      if (keys instanceof Uint16Array && values instanceof Uint16Array) {
        for (let d = 0; d < headDim; d++) query16[d] = f32ToF16(q[qBase + d]);
        const kqTiled = batch && headDim % 16 === 0;
        for (let j = 0; j < nVisible; j++) {
          const kBase = j * nKv + kvOffset;
          scores[j] = kqTiled ? dotF16Tiled(headDim, keys, kBase, query16, 0) : dotF16Vec(headDim, keys, kBase, query16, 0);
        }
        capAndMask(scores, nVisible, shape);
        softmaxScaledInPlace(scores, nVisible, scale);
        probs16.fill(0, 0, nKvPadded);
        for (let j = 0; j < nVisible; j++) probs16[j] = f32ToF16(scores[j]);
        column16.fill(0, 0, nKvPadded);
        for (let d = 0; d < headDim; d++) {
          for (let j = 0; j < nVisible; j++) column16[j] = values[j * nKv + kvOffset + d];
          out[qBase + d] = kqvTiled ? dotF16Tiled(nKvPadded, column16, 0, probs16, 0) : dotF16Vec(nKvPadded, column16, 0, probs16, 0);
        }
      } else {
        const k32 = keys as Float32Array;
        const v32 = values as Float32Array;
        for (let d = 0; d < headDim; d++) query32[d] = q[qBase + d];
        for (let j = 0; j < nVisible; j++) scores[j] = dotF32Vec(headDim, k32, j * nKv + kvOffset, query32, 0);
        capAndMask(scores, nVisible, shape);
        softmaxScaledInPlace(scores, nVisible, scale);
        scores.fill(0, nVisible, nKvPadded);
        column32.fill(0, 0, nKvPadded);
        for (let d = 0; d < headDim; d++) {
          for (let j = 0; j < nVisible; j++) column32[j] = v32[j * nKv + kvOffset + d];
          out[qBase + d] = kqvTiled ? dotF32Tiled(nKvPadded, column32, 0, scores, 0) : dotF32Vec(nKvPadded, column32, 0, scores, 0);
        }
      }
    }
  }
}

/** The Q·K scale of a shape: its kqScale, or f32(1/√headDim) as llama.cpp computes kq_scale. */
export function kqScaleOf(shape: AttentionShape): number {
  return shape.kqScale ?? Math.fround(1 / Math.sqrt(shape.headDim));
}

/**
 * llama.cpp's n_kv: the cells attention runs over for nPositions filled positions, a multiple of
 * 256 (at least 256) capped by the context size; the cells past the filled ones are masked.
 */
export function paddedKvLength(contextSize: number, nPositions: number): number {
  return Math.min(contextSize, Math.max(256, Math.ceil(nPositions / 256) * 256));
}

/**
 * Soft-capping (scores = cap · tanh(scores / cap), each step rounded to f32 like ggml_scale,
 * ggml_tanh, ggml_scale) and the sliding-window mask (keys more than window − 1 positions back
 * get −∞, so softmax gives them exactly 0, as llama.cpp's mask does), over scores f32 [nVisible].
 */
function capAndMask(scores: Float32Array, nVisible: number, shape: AttentionShape): void {
  const { softCap, window } = shape;
  if (softCap !== undefined) {
    const inv = Math.fround(1 / softCap);
    for (let j = 0; j < nVisible; j++) scores[j] = Math.fround(Math.fround(Math.tanh(Math.fround(scores[j] * inv))) * softCap);
  }
  if (window !== undefined) scores.fill(-Infinity, 0, Math.max(0, nVisible - window));
}
