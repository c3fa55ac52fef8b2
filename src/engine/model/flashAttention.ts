/**
 * Flash attention as llama.cpp's CPU backend computes it (`ggml_compute_forward_flash_attn_ext_f16`,
 * ops.cpp; what `llama-cli -fa on` and llama.cpp's default "auto" run on a CPU): no n_kv × n_tokens
 * score matrix, one pass over the keys with an online softmax. Three code paths, chosen as ggml
 * chooses them, each reproduced bit for bit (x86 AVX-512 build):
 *
 * - one row at a time ("one chunk"): the query rounded to half, each score a `ggml_vec_dot_f16`,
 *   libm `expf`, and the output accumulated in HALF precision (`ggml_vec_mad_f16`: f32 fused
 *   multiply-add, then rounded to half after every key; `ggml_vec_scale_f16` on a new maximum).
 *   Used for batches of fewer than 64 query rows (decode, short prompts) or headDim % 16 ≠ 0.
 * - tiled: batches of ≥ 64 rows with headDim % 16 = 0 — f32 query, keys widened to f32, tiles of
 *   64 keys: scores by sequential f32 FMAs, ggml's vectorised `ggml_v_expf` softmax per tile, f32
 *   output accumulators (`simd_gemm`).
 * - split KV: one query row and n_kv ≥ 512 — the cache is cut into `kvChunks` equal ranges (ggml:
 *   one per thread), each run as "one chunk", then merged in chunk order in f32.
 *
 * Masked cells (future positions, the sliding window, the padding up to n_kv) are skipped, as
 * ggml skips −∞ mask entries. An F32 cache is read as halves (llama.cpp casts K and V to F16).
 */
import { HALF_TO_F32_TABLE as HALF, f32ToF16 } from "../ggml/fp16.js";
import { glibcExpf } from "../ggml/glibcExpf.js";
import { dotF16Vec } from "../quant/float-dots.js";
import { expfAvx512, fmaF32, reduceAdd16 } from "../quant/simd.js";
import type { AttentionScratch, AttentionShape } from "./attention.js";
import { kqScaleOf, paddedKvLength } from "./attention.js";
import type { KvCache } from "./kvCache.js";

const fr = Math.fround;
/** ggml_fa_tile_config: query rows and keys per tile */
const TILE = 64;
/** n_kv from which a single query row takes the split-KV path */
const SPLIT_KV_MIN = 512;

/** One (query head, KV head) pair's inputs: half rows of the cache and the visible key range. */
interface HeadView {
  readonly keys: Uint16Array;
  readonly values: Uint16Array;
  /** nHeadKv · headDim: cache row stride */
  readonly stride: number;
  /** offset of this KV head in a cache row */
  readonly kvOffset: number;
  readonly headDim: number;
  /** Q·K scale (already divided by the soft cap, as ggml does) */
  readonly scale: number;
  readonly softCap: number | undefined;
  /** first and last visible key (inclusive) for the query row */
  readonly firstKey: number;
  readonly lastKey: number;
}

/** Running state of one row: max M, sum S. */
interface Running {
  m: number;
  s: number;
}

/**
 * Flash attention over the cache for nTokens consecutive queries at `position`, llama.cpp's numerics.
 * @param out f32 [nTokens, nHead · headDim]
 * @param q f32 [nTokens, nHead · headDim] (after RoPE)
 * @param kvChunks ggml's thread count: the number of ranges of the split-KV decode path
 */
export function flashAttentionTypeScript(
  out: Float32Array,
  q: Float32Array,
  cache: KvCache,
  layer: number,
  position: number,
  nTokens: number,
  shape: AttentionShape,
  scratch: AttentionScratch,
  kvChunks: number,
): void {
  const { nHead, nHeadKv, headDim } = shape;
  const nQ = nHead * headDim;
  const stride = nHeadKv * headDim;
  const { keys, values } = halfRows(cache, layer, position + nTokens, scratch);
  const nKvPadded = paddedKvLength(cache.maxPositions, position + nTokens);
  const kqScale = kqScaleOf(shape);
  const scale = shape.softCap === undefined ? kqScale : fr(kqScale / shape.softCap);
  const tiled = nTokens >= Number(process.env.TILEMIN ?? TILE) && headDim % 16 === 0;
  const split = nTokens === 1 && nKvPadded >= SPLIT_KV_MIN && kvChunks > 1;
  scratch.ensure(Math.max(TILE, nKvPadded), headDim);
  for (let t = 0; t < nTokens; t++) {
    const p = position + t;
    const firstKey = shape.window === undefined ? 0 : Math.max(0, p - shape.window + 1);
    for (let h = 0; h < nHead; h++) {
      const kvOffset = Math.floor(h / (nHead / nHeadKv)) * headDim;
      const view: HeadView = { keys, values, stride, kvOffset, headDim, scale, softCap: shape.softCap, firstKey, lastKey: p };
      const rowOut = out.subarray(t * nQ + h * headDim, t * nQ + (h + 1) * headDim);
      const qRow = q.subarray(t * nQ + h * headDim, t * nQ + (h + 1) * headDim);
      if (tiled) tiledRow(rowOut, qRow, view, nKvPadded, scratch);
      else if (split) splitRow(rowOut, qRow, view, nKvPadded, kvChunks, scratch);
      else oneChunkRow(rowOut, qRow, view, 0, nKvPadded, scratch);
    }
  }
}

/** The layer's keys and values as halves: the F16 cache itself, or an F32 cache rounded (ggml_cast). */
function halfRows(cache: KvCache, layer: number, nPositions: number, scratch: AttentionScratch): { keys: Uint16Array; values: Uint16Array } {
  const { keys, values } = cache.raw(layer);
  if (keys instanceof Uint16Array && values instanceof Uint16Array) return { keys, values };
  const n = nPositions * cache.nKv;
  if (scratch.keys16.length < n) {
    scratch.keys16 = new Uint16Array(n);
    scratch.values16 = new Uint16Array(n);
  }
  for (let i = 0; i < n; i++) {
    scratch.keys16[i] = f32ToF16(keys[i]);
    scratch.values16[i] = f32ToF16(values[i]);
  }
  return { keys: scratch.keys16, values: scratch.values16 };
}

/** Score of key j after scaling and soft-capping (ggml: s·scale, then cap·tanhf). */
function cappedScore(raw: number, view: HeadView): number {
  const s = fr(raw * view.scale);
  return view.softCap === undefined ? s : fr(view.softCap * fr(Math.tanh(s)));
}

/**
 * ggml's "one chunk" loop over keys [from, to) for one row: half query, `ggml_vec_dot_f16`
 * scores, online softmax with libm expf, the output accumulated in halves (scratch.acc16).
 */
function oneChunkPass(qRow: Float32Array, view: HeadView, from: number, to: number, scratch: AttentionScratch): Running {
  const { keys, values, stride, kvOffset, headDim } = view;
  const { query16, acc16 } = scratch;
  for (let d = 0; d < headDim; d++) query16[d] = f32ToF16(qRow[d]);
  acc16.fill(0, 0, headDim);
  const run: Running = { m: -Infinity, s: 0 };
  const start = Math.max(from, view.firstKey);
  const end = Math.min(to, view.lastKey + 1);
  for (let j = start; j < end; j++) {
    const base = j * stride + kvOffset;
    const s = cappedScore(dotF16Vec(headDim, keys, base, query16, 0), view);
    let ms = 1;
    let vs = 1;
    if (s > run.m) {
      ms = glibcExpf(fr(run.m - s));
      run.m = s;
      for (let d = 0; d < headDim; d++) acc16[d] = f32ToF16(fr(HALF[acc16[d]] * ms)); // ggml_vec_scale_f16
    } else {
      vs = glibcExpf(fr(s - run.m));
    }
    for (let d = 0; d < headDim; d++) acc16[d] = f32ToF16(fmaF32(HALF[values[base + d]], vs, HALF[acc16[d]])); // ggml_vec_mad_f16
    run.s = fr(fr(run.s * ms) + vs); // not contracted in node-llama-cpp's build
  }
  return run;
}

/** One row through the "one chunk" path: accumulate, widen, divide by the sum. */
function oneChunkRow(out: Float32Array, qRow: Float32Array, view: HeadView, from: number, to: number, scratch: AttentionScratch): void {
  const run = oneChunkPass(qRow, view, from, to, scratch);
  const inv = run.s === 0 ? 0 : fr(1 / run.s);
  for (let d = 0; d < view.headDim; d++) out[d] = fr(HALF[scratch.acc16[d]] * inv);
}

/**
 * The split-KV decode path: `kvChunks` ranges of ⌈n_kv / kvChunks⌉ keys, each a "one chunk" pass
 * (its half accumulator widened to f32), merged in order: V = V·e^(M−M') + Vc·e^(Mc−M'), likewise S.
 */
function splitRow(out: Float32Array, qRow: Float32Array, view: HeadView, nKv: number, kvChunks: number, scratch: AttentionScratch): void {
  const chunkSize = Math.ceil(nKv / kvChunks);
  const acc = scratch.acc32;
  acc.fill(0, 0, view.headDim);
  let m = -Infinity;
  let s = 0;
  for (let c = 0; c < kvChunks && c * chunkSize < nKv; c++) {
    const part = oneChunkPass(qRow, view, c * chunkSize, Math.min(nKv, (c + 1) * chunkSize), scratch);
    if (part.s === 0) continue;
    const mNew = Math.max(m, part.m);
    const scaleOld = glibcExpf(fr(m - mNew));
    const scaleNew = glibcExpf(fr(part.m - mNew));
    for (let d = 0; d < view.headDim; d++) acc[d] = mergeTerm(acc[d], scaleOld, HALF[scratch.acc16[d]], scaleNew);
    s = mergeTerm(s, scaleOld, part.s, scaleNew);
    m = mNew;
  }
  const inv = s === 0 ? 1 : fr(1 / s);
  for (let d = 0; d < view.headDim; d++) out[d] = fr(acc[d] * inv);
}

/** a·b + c·d as ggml's reduction is compiled in node-llama-cpp's build: fma(a, b, c·d). */
function mergeTerm(a: number, b: number, c: number, d: number): number {
  return fmaF32(a, b, fr(c * d));
}

/**
 * The tiled path for one row: tiles of 64 keys; scores by f32 FMAs over the f32 query and the
 * widened keys, then ·scale, soft cap, mask; per tile a new max rescales the f32 accumulator and
 * S, `ggml_vec_soft_max_f32` (ggml_v_expf, Σ of 16-lane reductions in double) adds to S, and the
 * output gets Σ p·V by sequential FMAs over the tile's keys.
 */
function tiledRow(out: Float32Array, qRow: Float32Array, view: HeadView, nKv: number, scratch: AttentionScratch): void {
  const { headDim } = view;
  const acc = scratch.acc32;
  const p = scratch.tileProbs;
  acc.fill(0, 0, headDim);
  const run: Running = { m: -Infinity, s: 0 };
  for (let tile = 0; tile < nKv; tile += TILE) {
    const first = Math.max(tile, view.firstKey);
    const end = Math.min(tile + TILE, view.lastKey + 1);
    if (first >= end) continue; // every key of the tile masked: the row is skipped
    tileScores(p, qRow, view, tile, first, end);
    let tileMax = -Infinity;
    for (let k = 0; k < TILE; k++) if (p[k] > tileMax) tileMax = p[k];
    const mNew = Math.max(run.m, tileMax);
    if (mNew > run.m) {
      const ms = glibcExpf(fr(run.m - mNew));
      for (let d = 0; d < headDim; d++) acc[d] = fr(acc[d] * ms);
      run.s = fr(run.s * ms);
    }
    run.m = mNew;
    run.s = fr(run.s + tileSoftmax(p, mNew));
    for (let d = 0; d < headDim; d++) {
      let a = acc[d];
      for (let k = first - tile; k < end - tile; k++) a = fmaF32(p[k], HALF[view.values[(tile + k) * view.stride + view.kvOffset + d]], a);
      acc[d] = a;
    }
  }
  const inv = run.s === 0 ? 0 : fr(1 / run.s);
  for (let d = 0; d < headDim; d++) out[d] = fr(acc[d] * inv);
}

/** Scores of one tile into p f32 [64]: visible keys [first, end) scored, every other entry −∞. */
function tileScores(p: Float32Array, qRow: Float32Array, view: HeadView, tile: number, first: number, end: number): void {
  const { keys, stride, kvOffset, headDim } = view;
  p.fill(-Infinity, 0, TILE);
  for (let j = first; j < end; j++) {
    const base = j * stride + kvOffset;
    let a = 0;
    for (let d = 0; d < headDim; d++) a = fmaF32(HALF[keys[base + d]], qRow[d], a);
    p[j - tile] = cappedScore(a, view);
  }
}

/** `ggml_vec_soft_max_f32` over 64 scores in place (p ← ggml_v_expf(p − max)); returns Σ (double). */
function tileSoftmax(p: Float32Array, max: number): number {
  let sum = 0;
  for (let c = 0; c < TILE; c += 16) {
    for (let k = 0; k < 16; k++) {
      p[c + k] = expfAvx512(fr(p[c + k] - max));
      lanes[k] = p[c + k];
    }
    sum += reduceAdd16(lanes, 0);
  }
  return sum;
}
const lanes = new Float64Array(16);
