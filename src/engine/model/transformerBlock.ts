import { MatmulScratch } from "../quant/matmul.js";
import type { ComputeBackend } from "../backend/computeBackend.js";
import type { ModelHparams } from "./hparams.js";
import { matmulTypeOf, type LayerWeights, type WeightMatrix } from "./weights.js";
import type { KvCache } from "./kvCache.js";
import { AttentionScratch } from "./attention.js";
import { addBiasRows, addInPlace, scaleInPlace } from "./ops.js";
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
  /** RoPE of sliding-window layers, when the model has them (hparams.variant.slidingWindow) */
  readonly ropeSwa?: RopeTable;
  readonly backend: ComputeBackend;
  readonly scratch: BlockScratch;
  /** flash attention with this many split-KV chunks (AttentionShape.flashKvChunks); unset: classic attention */
  readonly flashKvChunks?: number;
}

/** One sequence's rows inside a block run. */
export interface BlockSegment {
  readonly cache: KvCache;
  /** position of the segment's first row in its sequence */
  readonly position: number;
  /** first row of the segment in BlockRun.hidden */
  readonly rowStart: number;
  readonly nTokens: number;
}

/**
 * One run of one block over one or more sequences' rows, stacked: the projections and the
 * feed-forward multiply every row at once (one pass over the weights), while RoPE, the KV cache
 * and attention work per sequence.
 */
export interface BlockRun {
  /** f32 [Σ nTokens, nEmbd], updated in place */
  readonly hidden: Float32Array;
  readonly segments: readonly BlockSegment[];
  /** index of this block in every segment's cache */
  readonly layer: number;
  /** llama.cpp's last layer computes the feed-forward only for the rows it outputs (each sequence's last) */
  readonly onlyLastRows: boolean;
}

/** y = W·x for nTokens rows (x f32 [nTokens, W.nCols] → out f32 [nTokens, W.nRows]). */
function project(ctx: BlockContext, out: Float32Array, w: WeightMatrix, x: Float32Array, nTokens: number): void {
  ctx.backend.matmul(out, w.bytes, matmulTypeOf(w), x, w.nCols, w.nRows, nTokens, ctx.scratch.matmul);
}

/** Rows in a run. */
function rowCount(run: BlockRun): number {
  return run.segments.reduce((n, s) => n + s.nTokens, 0);
}

/**
 * One llama-family block (llama, qwen2, qwen3, phi3, gemma2, gemma3: see ArchitectureTraits and ArchVariant) over every segment's rows, in place:
 * hidden += attention(norm(hidden)); hidden += ffn(norm(hidden)).
 * @param timer when profiling: splits the block's time into operations (laps since `timer.start()`)
 */
export function forwardBlock(ctx: BlockContext, weights: LayerWeights, run: BlockRun, timer?: OpTimer): void {
  ctx.scratch.ensure(rowCount(run));
  attentionHalf(ctx, weights, run, timer);
  feedForwardHalf(ctx, weights, run, timer);
}

function attentionHalf(ctx: BlockContext, weights: LayerWeights, run: BlockRun, timer?: OpTimer): void {
  const { nEmbd, nHead, nHeadKv, headDim, rmsEps } = ctx.hparams;
  const nRows = rowCount(run);
  const { normed, q, k, v, attnOut, projected } = ctx.scratch;
  ctx.backend.rmsNorm(normed, run.hidden, weights.attnNorm, nEmbd, nRows, rmsEps);
  timer?.lap(Op.normsRope);
  project(ctx, q, weights.wq, normed, nRows);
  project(ctx, k, weights.wk, normed, nRows);
  project(ctx, v, weights.wv, normed, nRows);
  if (weights.bq) addBiasRows(q, weights.bq, nHead * headDim, nRows);
  if (weights.bk) addBiasRows(k, weights.bk, nHeadKv * headDim, nRows);
  if (weights.bv) addBiasRows(v, weights.bv, nHeadKv * headDim, nRows);
  timer?.lap(Op.attnProjections);
  // qwen3: every head of Q and K RMS-normalized (rows of headDim) before RoPE
  if (weights.qNorm) ctx.backend.rmsNorm(q, q, weights.qNorm, headDim, nRows * nHead, rmsEps);
  if (weights.kNorm) ctx.backend.rmsNorm(k, k, weights.kNorm, headDim, nRows * nHeadKv, rmsEps);
  for (const segment of run.segments) attendSegment(ctx, run.layer, segment, timer);
  project(ctx, projected, weights.wo, attnOut, nRows);
  timer?.lap(Op.attnProjections);
  if (weights.attnPostNorm) ctx.backend.rmsNorm(projected, projected, weights.attnPostNorm, nEmbd, nRows, rmsEps);
  addInPlace(run.hidden, projected, nRows * nEmbd);
}

/** RoPE, the KV cache and attention for one sequence's rows of q, k and v. */
function attendSegment(ctx: BlockContext, layer: number, segment: BlockSegment, timer?: OpTimer): void {
  const { nHead, nHeadKv, headDim } = ctx.hparams;
  const nQ = nHead * headDim;
  const nKv = nHeadKv * headDim;
  const { rowStart, nTokens, position, cache } = segment;
  const q = ctx.scratch.q.subarray(rowStart * nQ, (rowStart + nTokens) * nQ);
  const k = ctx.scratch.k.subarray(rowStart * nKv, (rowStart + nTokens) * nKv);
  const v = ctx.scratch.v.subarray(rowStart * nKv, (rowStart + nTokens) * nKv);
  const { queryScale, attnSoftCap, slidingWindow } = ctx.hparams.variant;
  const swa = slidingWindow?.isSwa[layer] === true;
  const rope = swa && ctx.ropeSwa ? ctx.ropeSwa : ctx.rope;
  ctx.backend.rope(q, nTokens, nHead, headDim, rope, position);
  ctx.backend.rope(k, nTokens, nHeadKv, headDim, rope, position);
  // phi3, gemma: ggml_scale(Q, queryScale) after RoPE, then attention scales by 1
  if (queryScale !== undefined) scaleInPlace(q, queryScale);
  timer?.lap(Op.normsRope);
  cache.store(layer, position, nTokens, k, v);
  const out = ctx.scratch.attnOut.subarray(rowStart * nQ, (rowStart + nTokens) * nQ);
  const shape = { nHead, nHeadKv, headDim, kqScale: queryScale === undefined ? undefined : 1, softCap: attnSoftCap, window: swa ? slidingWindow?.size : undefined, flashKvChunks: ctx.flashKvChunks };
  ctx.backend.attention(out, q, cache, layer, position, nTokens, shape, ctx.scratch.attention);
  timer?.lap(Op.attention);
}

/**
 * SwiGLU feed-forward over every row, or only each sequence's last (see BlockRun.onlyLastRows;
 * those rows are gathered, run together, and put back).
 */
function feedForwardHalf(ctx: BlockContext, weights: LayerWeights, run: BlockRun, timer?: OpTimer): void {
  const { nEmbd } = ctx.hparams;
  const single = run.segments.length === 1 ? run.segments[0] : undefined;
  if (!run.onlyLastRows) return feedForwardRows(ctx, weights, run.hidden.subarray(0, rowCount(run) * nEmbd), rowCount(run), timer);
  if (single) {
    const last = single.rowStart + single.nTokens - 1;
    return feedForwardRows(ctx, weights, run.hidden.subarray(last * nEmbd, (last + 1) * nEmbd), 1, timer);
  }
  const lastRows = new Float32Array(run.segments.length * nEmbd);
  run.segments.forEach((s, i) => lastRows.set(run.hidden.subarray((s.rowStart + s.nTokens - 1) * nEmbd, (s.rowStart + s.nTokens) * nEmbd), i * nEmbd));
  feedForwardRows(ctx, weights, lastRows, run.segments.length, timer);
  run.segments.forEach((s, i) => run.hidden.set(lastRows.subarray(i * nEmbd, (i + 1) * nEmbd), (s.rowStart + s.nTokens - 1) * nEmbd));
}

/** h += ffn(norm(h)) for `rows` rows of h f32 [rows, nEmbd], in place. */
function feedForwardRows(ctx: BlockContext, weights: LayerWeights, h: Float32Array, rows: number, timer?: OpTimer): void {
  const { nEmbd, nFf, rmsEps } = ctx.hparams;
  const { normed, gate, up, projected } = ctx.scratch;
  ctx.backend.rmsNorm(normed, h, weights.ffnNorm, nEmbd, rows, rmsEps);
  timer?.lap(Op.normsRope);
  project(ctx, gate, weights.ffnGate, normed, rows);
  project(ctx, up, weights.ffnUp, normed, rows);
  if (ctx.hparams.traits.ffnActivation === "gelu") ctx.backend.geluMul(gate, up, nFf, rows);
  else ctx.backend.siluMul(gate, up, nFf, rows);
  project(ctx, projected, weights.ffnDown, gate, rows);
  if (weights.ffnPostNorm) ctx.backend.rmsNorm(projected, projected, weights.ffnPostNorm, nEmbd, rows, rmsEps);
  timer?.lap(Op.ffn);
  addInPlace(h, projected, rows * nEmbd);
  timer?.lap(Op.normsRope);
}
