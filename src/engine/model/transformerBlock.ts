import { MatmulScratch } from "../quant/matmul.js";
import { matmul } from "../quant/kernels.js";
import type { ModelHparams } from "./hparams.js";
import type { LayerWeights, WeightMatrix } from "./weights.js";
import type { KvCache } from "./kvCache.js";
import { attention, AttentionScratch } from "./attention.js";
import { addBiasRows, addInPlace, rmsNorm, siluMulRows } from "./ops.js";
import { applyRopeRows, RopeTable } from "./rope.js";
import { Op, type OpTimer } from "../../telemetry/opTimer.js";

/**
 * Scratch buffers for one block's forward pass (llama2.c's RunState): allocated once,
 * grown when a larger batch arrives, reused for every layer and token.
 */
export class BlockScratch {
  private capacityTokens = 0;
  /** f32 [nTokens, nEmbd] */ normed = new Float32Array(0);
  /** f32 [nTokens, nHead·headDim] */ q = new Float32Array(0);
  /** f32 [nTokens, nHeadKv·headDim] */ k = new Float32Array(0);
  /** f32 [nTokens, nHeadKv·headDim] */ v = new Float32Array(0);
  /** f32 [nTokens, nHead·headDim] */ attnOut = new Float32Array(0);
  /** f32 [nTokens, nEmbd] */ projected = new Float32Array(0);
  /** f32 [nTokens, nFf] */ gate = new Float32Array(0);
  /** f32 [nTokens, nFf] */ up = new Float32Array(0);
  readonly attention = new AttentionScratch();
  /** quantized activations for matmul */
  readonly matmul = new MatmulScratch();

  constructor(private readonly hparams: ModelHparams) {}

  ensure(nTokens: number): void {
    if (nTokens <= this.capacityTokens) return;
    const { nEmbd, nHead, nHeadKv, headDim, nFf } = this.hparams;
    const n = Math.max(nTokens, this.capacityTokens * 2);
    this.normed = new Float32Array(n * nEmbd);
    this.q = new Float32Array(n * nHead * headDim);
    this.k = new Float32Array(n * nHeadKv * headDim);
    this.v = new Float32Array(n * nHeadKv * headDim);
    this.attnOut = new Float32Array(n * nHead * headDim);
    this.projected = new Float32Array(n * nEmbd);
    this.gate = new Float32Array(n * nFf);
    this.up = new Float32Array(n * nFf);
    this.capacityTokens = n;
  }
}

/** y = W·x for nTokens rows (x f32 [nTokens, W.nCols] → out f32 [nTokens, W.nRows]). */
function project(out: Float32Array, w: WeightMatrix, x: Float32Array, nTokens: number, scratch: MatmulScratch): void {
  matmul(out, w.bytes, w.type, x, w.nCols, w.nRows, nTokens, scratch);
}

/**
 * One llama/qwen2 block over nTokens consecutive positions starting at `position`, in place:
 * hidden += attention(norm(hidden)); hidden += ffn(norm(hidden)).
 * @param hidden f32 [nTokens, nEmbd]
 * @param cacheLayer index of this block in `cache`
 * @param timer when profiling: splits the block's time into operations (laps since `timer.start()`)
 */
export function forwardBlock(
  hidden: Float32Array,
  weights: LayerWeights,
  hparams: ModelHparams,
  rope: RopeTable,
  cache: KvCache,
  cacheLayer: number,
  position: number,
  nTokens: number,
  scratch: BlockScratch,
  onlyLastRow = false,
  timer?: OpTimer,
): void {
  const { nEmbd, nHead, nHeadKv, headDim, nFf, rmsEps } = hparams;
  const nQ = nHead * headDim;
  const nKv = nHeadKv * headDim;
  scratch.ensure(nTokens);
  const { normed, q, k, v, attnOut, projected, gate, up } = scratch;

  // attention
  rmsNorm(normed, hidden, weights.attnNorm, nEmbd, nTokens, rmsEps);
  timer?.lap(Op.normsRope);
  project(q, weights.wq, normed, nTokens, scratch.matmul);
  project(k, weights.wk, normed, nTokens, scratch.matmul);
  project(v, weights.wv, normed, nTokens, scratch.matmul);
  if (weights.bq) addBiasRows(q, weights.bq, nQ, nTokens);
  if (weights.bk) addBiasRows(k, weights.bk, nKv, nTokens);
  if (weights.bv) addBiasRows(v, weights.bv, nKv, nTokens);
  timer?.lap(Op.attnProjections);
  applyRopeRows(q, nTokens, nHead, headDim, rope, position);
  applyRopeRows(k, nTokens, nHeadKv, headDim, rope, position);
  timer?.lap(Op.normsRope);
  cache.store(cacheLayer, position, nTokens, k, v);
  attention(attnOut, q, cache, cacheLayer, position, nTokens, { nHead, nHeadKv, headDim }, scratch.attention);
  timer?.lap(Op.attention);
  project(projected, weights.wo, attnOut, nTokens, scratch.matmul);
  timer?.lap(Op.attnProjections);
  addInPlace(hidden, projected, nTokens * nEmbd);

  // feed-forward (SwiGLU); llama.cpp's last layer only computes the rows it outputs (the last)
  const first = onlyLastRow ? nTokens - 1 : 0;
  const rows = nTokens - first;
  const h = hidden.subarray(first * nEmbd, nTokens * nEmbd);
  rmsNorm(normed, h, weights.ffnNorm, nEmbd, rows, rmsEps);
  timer?.lap(Op.normsRope);
  project(gate, weights.ffnGate, normed, rows, scratch.matmul);
  project(up, weights.ffnUp, normed, rows, scratch.matmul);
  siluMulRows(gate, up, nFf, rows);
  project(projected, weights.ffnDown, gate, rows, scratch.matmul);
  timer?.lap(Op.ffn);
  addInPlace(h, projected, rows * nEmbd);
  timer?.lap(Op.normsRope);
}
