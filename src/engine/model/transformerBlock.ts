import { MatmulScratch } from "../quant/matmul.js";
import type { ComputeBackend } from "../backend/computeBackend.js";
import type { ModelHparams } from "./hparams.js";
import type { LayerWeights, WeightMatrix } from "./weights.js";
import type { KvCache } from "./kvCache.js";
import { AttentionScratch } from "./attention.js";
import { addBiasRows, addInPlace } from "./ops.js";
import type { RopeTable } from "./rope.js";
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

/** What every block of a model runs with: its shape, RoPE table, kernels and reusable buffers. */
export interface BlockContext {
  readonly hparams: ModelHparams;
  readonly rope: RopeTable;
  readonly backend: ComputeBackend;
  readonly scratch: BlockScratch;
}

/** One run of one block: which rows, at which positions, into which layer of which KV cache. */
export interface BlockRun {
  /** f32 [nTokens, nEmbd], updated in place */
  readonly hidden: Float32Array;
  readonly cache: KvCache;
  /** index of this block in `cache` */
  readonly layer: number;
  readonly position: number;
  readonly nTokens: number;
  /** llama.cpp's last layer computes the feed-forward only for the row it outputs (the last) */
  readonly onlyLastRow: boolean;
}

/** y = W·x for nTokens rows (x f32 [nTokens, W.nCols] → out f32 [nTokens, W.nRows]). */
function project(ctx: BlockContext, out: Float32Array, w: WeightMatrix, x: Float32Array, nTokens: number): void {
  ctx.backend.matmul(out, w.bytes, w.type, x, w.nCols, w.nRows, nTokens, ctx.scratch.matmul);
}

/**
 * One llama/qwen2 block over nTokens consecutive positions starting at `position`, in place:
 * hidden += attention(norm(hidden)); hidden += ffn(norm(hidden)).
 * @param timer when profiling: splits the block's time into operations (laps since `timer.start()`)
 */
export function forwardBlock(ctx: BlockContext, weights: LayerWeights, run: BlockRun, timer?: OpTimer): void {
  ctx.scratch.ensure(run.nTokens);
  attentionHalf(ctx, weights, run, timer);
  feedForwardHalf(ctx, weights, run, timer);
}

function attentionHalf(ctx: BlockContext, weights: LayerWeights, run: BlockRun, timer?: OpTimer): void {
  const { nEmbd, nHead, nHeadKv, headDim, rmsEps } = ctx.hparams;
  const { hidden, nTokens, position } = run;
  const { normed, q, k, v, attnOut, projected } = ctx.scratch;
  ctx.backend.rmsNorm(normed, hidden, weights.attnNorm, nEmbd, nTokens, rmsEps);
  timer?.lap(Op.normsRope);
  project(ctx, q, weights.wq, normed, nTokens);
  project(ctx, k, weights.wk, normed, nTokens);
  project(ctx, v, weights.wv, normed, nTokens);
  if (weights.bq) addBiasRows(q, weights.bq, nHead * headDim, nTokens);
  if (weights.bk) addBiasRows(k, weights.bk, nHeadKv * headDim, nTokens);
  if (weights.bv) addBiasRows(v, weights.bv, nHeadKv * headDim, nTokens);
  timer?.lap(Op.attnProjections);
  ctx.backend.rope(q, nTokens, nHead, headDim, ctx.rope, position);
  ctx.backend.rope(k, nTokens, nHeadKv, headDim, ctx.rope, position);
  timer?.lap(Op.normsRope);
  run.cache.store(run.layer, position, nTokens, k, v);
  ctx.backend.attention(attnOut, q, run.cache, run.layer, position, nTokens, { nHead, nHeadKv, headDim }, ctx.scratch.attention);
  timer?.lap(Op.attention);
  project(ctx, projected, weights.wo, attnOut, nTokens);
  timer?.lap(Op.attnProjections);
  addInPlace(hidden, projected, nTokens * nEmbd);
}

/** SwiGLU feed-forward over every row, or only the last (see BlockRun.onlyLastRow). */
function feedForwardHalf(ctx: BlockContext, weights: LayerWeights, run: BlockRun, timer?: OpTimer): void {
  const { nEmbd, nFf, rmsEps } = ctx.hparams;
  const { normed, gate, up, projected } = ctx.scratch;
  const first = run.onlyLastRow ? run.nTokens - 1 : 0;
  const rows = run.nTokens - first;
  const h = run.hidden.subarray(first * nEmbd, run.nTokens * nEmbd);
  ctx.backend.rmsNorm(normed, h, weights.ffnNorm, nEmbd, rows, rmsEps);
  timer?.lap(Op.normsRope);
  project(ctx, gate, weights.ffnGate, normed, rows);
  project(ctx, up, weights.ffnUp, normed, rows);
  ctx.backend.siluMul(gate, up, nFf, rows);
  project(ctx, projected, weights.ffnDown, gate, rows);
  timer?.lap(Op.ffn);
  addInPlace(h, projected, rows * nEmbd);
  timer?.lap(Op.normsRope);
}
