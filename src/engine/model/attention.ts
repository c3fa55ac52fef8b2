import { HALF_TO_F32_TABLE, roundToF16 } from "../ggml/fp16.js";
import type { KvCache } from "./kvCache.js";
import { softmaxScaledInPlace } from "./ops.js";

export interface AttentionShape {
  readonly nHead: number;
  readonly nHeadKv: number;
  readonly headDim: number;
}

/** Scratch reused across calls: f32 [maxPositions] scores, f32 [headDim] query. */
export class AttentionScratch {
  scores = new Float32Array(0);
  query = new Float32Array(0);

  ensure(nPositions: number, headDim: number): void {
    if (this.scores.length < nPositions) this.scores = new Float32Array(Math.max(nPositions, this.scores.length * 2));
    if (this.query.length < headDim) this.query = new Float32Array(headDim);
  }
}

/**
 * Causal multi-head attention with grouped KV heads over the cache, for nTokens consecutive
 * queries whose first position is `position` (their keys and values are already stored).
 *
 * Matches llama.cpp's non-flash CPU path: with an F16 cache the query is rounded to half
 * for K·Q, softmax runs in f32 with scale 1/√headDim, and the probabilities are rounded to
 * half for the product with V.
 * @param out f32 [nTokens, nHead · headDim]
 * @param q f32 [nTokens, nHead · headDim] (after RoPE)
 */
export function attention(
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
  const scale = Math.fround(1 / Math.sqrt(headDim));
  const { keys, values } = cache.raw(layer);
  const isHalf = keys instanceof Uint16Array;
  scratch.ensure(position + nTokens, headDim);
  const scores = scratch.scores;
  const query = scratch.query;

  for (let t = 0; t < nTokens; t++) {
    const nVisible = position + t + 1;
    for (let h = 0; h < nHead; h++) {
      const qBase = t * nQ + h * headDim;
      const kvOffset = Math.floor(h / groupSize) * headDim;
      for (let d = 0; d < headDim; d++) query[d] = isHalf ? roundToF16(q[qBase + d]) : q[qBase + d];

      for (let j = 0; j < nVisible; j++) {
        const kBase = j * nKv + kvOffset;
        let dot = 0;
        if (isHalf) for (let d = 0; d < headDim; d++) dot += query[d] * HALF_TO_F32_TABLE[keys[kBase + d]];
        else for (let d = 0; d < headDim; d++) dot += query[d] * keys[kBase + d];
        scores[j] = dot;
      }
      softmaxScaledInPlace(scores, nVisible, scale);
      if (isHalf) for (let j = 0; j < nVisible; j++) scores[j] = roundToF16(scores[j]);

      for (let d = 0; d < headDim; d++) {
        let sum = 0;
        if (isHalf) for (let j = 0; j < nVisible; j++) sum += scores[j] * HALF_TO_F32_TABLE[values[j * nKv + kvOffset + d]];
        else for (let j = 0; j < nVisible; j++) sum += scores[j] * values[j * nKv + kvOffset + d];
        out[qBase + d] = sum;
      }
    }
  }
}
