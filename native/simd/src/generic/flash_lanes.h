// Flash attention over an F16 KV cache in portable C++: llama.cpp's CPU flash attention
// (ggml_compute_forward_flash_attn_ext_f16 in ggml-cpu/ops.cpp, as node-llama-cpp's x86 build
// computes it), bit-identical to flashAttentionTypeScript (src/engine/model/flashAttention.ts),
// one (token, query head) row per call. Three paths, chosen as ggml chooses them:
// - "one chunk" (batches under 64 rows, or headDim % 16 ≠ 0): half query, ggml_vec_dot_f16 scores,
//   online softmax with glibc's expf, the output accumulated in halves (fma, then rounded to half);
// - tiled (≥ 64 rows, headDim % 16 = 0): f32 query, tiles of 64 keys, scores and Σp·V by
//   sequential f32 FMAs, ggml_v_expf softmax per tile;
// - split KV (one row, n_kv ≥ 512): kvChunks "one chunk" ranges merged in f32.
// Template argument `Halves` as in generic/attention_lanes.h (widen, roundToHalf, toF32, expf),
// plus the half accumulator's two steps: scaleToHalf(acc, v, n): acc[i] ← half(acc[i]·v), and
// madToHalf(acc, halves, v, n): acc[i] ← half(fma(widen(halves[i]), v, acc[i])) (acc f32, each value a half).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "generic/attention.h"
#include "generic/attention_lanes.h"
#include "generic/libm_expf.h"

namespace ls {
namespace flash {
namespace {

constexpr int64_t kTile = 64;          // ggml_fa_tile_config: keys per tile, and the row count that selects tiling
constexpr int64_t kSplitKvMin = 512;   // n_kv from which one row takes the split-KV path
constexpr int64_t kTileBlockRows = kFlashBlockRows;  // rows of a tiled task

/** Where a row reads: its KV head's columns, visible keys [firstKey, lastKey], its scratch. */
struct Row {
  const FlashProblem* p;
  int64_t kvOffset;
  int64_t nKv;  // halves per cache row
  int64_t firstKey;
  int64_t lastKey;
  const float* q;  // f32 [headDim]
  float* scratch;
};

/** Running max and sum of a one-chunk pass; its half accumulator is in `accH` (values exact halves). */
struct Running {
  float m;
  float s;
};

/**
 * ggml's one-chunk loop over keys [from, to) of a row: accH f32 [headDim] (every value a half),
 * query16 the half-rounded query, row a widened K/V row.
 */
template <class Halves>
Running oneChunkPass(const Row& r, int64_t from, int64_t to, float* accH, float* query16, float* row) {
  const int64_t headDim = r.p->headDim;
  std::memcpy(query16, r.q, sizeof(float) * headDim);
  Halves::roundToHalf(query16, headDim);
  std::fill(accH, accH + headDim, 0.0f);
  Running run{-INFINITY, 0.0f};
  const int64_t end = std::min(to, r.lastKey + 1);
  for (int64_t j = std::max(from, r.firstKey); j < end; j++) {
    Halves::widen(row, r.p->keys + j * r.nKv + r.kvOffset, headDim);
    const float s = lanes::keyDotVec(row, query16, headDim) * r.p->scale;
    float ms = 1.0f;
    float vs = 1.0f;
    if (s > run.m) {
      ms = glibcExpf(run.m - s);
      run.m = s;
      Halves::scaleToHalf(accH, ms, headDim);  // ggml_vec_scale_f16
    } else {
      vs = glibcExpf(s - run.m);
    }
    Halves::madToHalf(accH, r.p->values + j * r.nKv + r.kvOffset, vs, headDim);  // ggml_vec_mad_f16
    const float scaled = run.s * ms;  // not contracted in node-llama-cpp's build
    run.s = scaled + vs;
  }
  return run;
}

/** out[d] = acc[d] · inv for d < n. */
inline void scaleRow(float* __restrict out, const float* __restrict acc, float inv, int64_t n) {
  for (int64_t d = 0; d < n; d++) out[d] = acc[d] * inv;
}

template <class Halves>
void oneChunkRow(const Row& r, float* out) {
  float* accH = r.scratch;
  float* query16 = accH + r.p->headDim;
  float* row = query16 + r.p->headDim;
  const Running run = oneChunkPass<Halves>(r, 0, r.p->nKvPadded, accH, query16, row);
  scaleRow(out, accH, run.s == 0.0f ? 0.0f : 1.0f / run.s, r.p->headDim);
}

/** The split-KV path: chunks merged in order, V = V·e^(M−M′) + Vc·e^(Mc−M′) as fma(V, so, Vc·sn). */
template <class Halves>
void splitRow(const Row& r, float* out) {
  const int64_t headDim = r.p->headDim;
  const int64_t nKv = r.p->nKvPadded;
  float* accH = r.scratch;
  float* query16 = accH + headDim;
  float* row = query16 + headDim;
  float* acc = row + headDim;
  std::fill(acc, acc + headDim, 0.0f);
  float m = -INFINITY;
  float s = 0.0f;
  const int64_t chunk = (nKv + r.p->kvChunks - 1) / r.p->kvChunks;
  for (int64_t c = 0; c < r.p->kvChunks && c * chunk < nKv; c++) {
    const Running part = oneChunkPass<Halves>(r, c * chunk, std::min(nKv, (c + 1) * chunk), accH, query16, row);
    if (part.s == 0.0f) continue;
    const float mNew = std::max(m, part.m);
    const float scaleOld = glibcExpf(m - mNew);
    const float scaleNew = glibcExpf(part.m - mNew);
    for (int64_t d = 0; d < headDim; d++) {
      const float added = accH[d] * scaleNew;
      acc[d] = std::fmaf(acc[d], scaleOld, added);
    }
    const float added = part.s * scaleNew;
    s = std::fmaf(s, scaleOld, added);
    m = mNew;
  }
  scaleRow(out, acc, s == 0.0f ? 1.0f : 1.0f / s, headDim);
}

/** Rows of the tiled path: up to kTileBlockRows consecutive tokens of one query head, sharing widened K/V tiles. */
struct TileBlock {
  const FlashProblem* p;
  int64_t kvOffset;
  int64_t nKv;
  int64_t t0;
  int64_t nRows;
  int64_t h;
};

/** Visible keys of token t: [first, last]. */
inline void visibleKeys(const FlashProblem& p, int64_t t, int64_t* first, int64_t* last) {
  *last = p.position + t;
  *first = p.window > 0 ? std::max<int64_t>(0, *last - p.window + 1) : 0;
}

/** Widens keys [from, to) of the tile at `tile` transposed (keysT[d][k]) and its values (values32[k][d]); other columns 0. */
template <class Halves>
void widenTile(const TileBlock& b, int64_t tile, int64_t from, int64_t to, float* keysT, float* values32, float* row) {
  const int64_t headDim = b.p->headDim;
  std::fill(keysT, keysT + kTile * headDim, 0.0f);
  for (int64_t j = from; j < to; j++) {
    Halves::widen(row, b.p->keys + j * b.nKv + b.kvOffset, headDim);
    for (int64_t d = 0; d < headDim; d++) keysT[d * kTile + (j - tile)] = row[d];
    Halves::widen(values32 + (j - tile) * headDim, b.p->values + j * b.nKv + b.kvOffset, headDim);
  }
}

/** Scores of one row over a widened tile into p[64]: sequential f32 FMAs over d, ·scale; keys outside [first, end) −∞. */
inline void tileScores(const float* q, const float* keysT, int64_t headDim, float scale, int64_t first, int64_t end, float* p) {
  float a[kTile] = {};
  for (int64_t d = 0; d < headDim; d++) {
    const float qd = q[d];
    const float* kd = keysT + d * kTile;
    for (int64_t k = 0; k < kTile; k++) a[k] = std::fmaf(kd[k], qd, a[k]);
  }
  for (int64_t k = 0; k < kTile; k++) p[k] = k >= first && k < end ? a[k] * scale : -INFINITY;
}

/** ggml_vec_soft_max_f32 over 64 scores in place: p ← ggml_v_expf(p − max); returns Σ (double). */
template <class Halves>
double tileSoftmax(float* p, float max) {
  double sum = 0;
  for (int64_t c = 0; c < kTile; c += 16) {
    for (int64_t l = 0; l < 16; l++) p[c + l] = Halves::expf(p[c + l] - max);
    sum += lanes::reduceAdd16Lanes(p + c);
  }
  return sum;
}

/** One row's step over a tile: new max rescales acc and S, softmax adds to S, Σ p·V by sequential FMAs. */
template <class Halves>
void tileRowStep(const float* values32, int64_t headDim, int64_t first, int64_t end, float* p, float* acc, float* m, float* s) {
  float tileMax = -INFINITY;
  for (int64_t k = 0; k < kTile; k++) tileMax = p[k] > tileMax ? p[k] : tileMax;
  const float mNew = std::max(*m, tileMax);
  if (mNew > *m) {
    const float ms = glibcExpf(*m - mNew);
    for (int64_t d = 0; d < headDim; d++) acc[d] *= ms;
    *s *= ms;
  }
  *m = mNew;
  *s = static_cast<float>(static_cast<double>(*s) + tileSoftmax<Halves>(p, mNew));
  for (int64_t k = first; k < end; k++) {
    const float pk = p[k];
    const float* v = values32 + k * headDim;
    for (int64_t d = 0; d < headDim; d++) acc[d] = std::fmaf(pk, v[d], acc[d]);
  }
}

/** The tiled path for a block of rows: per tile of 64 keys, K and V widened once for every row. */
template <class Halves>
void tiledBlock(const TileBlock& b, float* scratch) {
  const FlashProblem& p = *b.p;
  const int64_t headDim = p.headDim;
  float* keysT = scratch;
  float* values32 = keysT + kTile * headDim;
  float* row = values32 + kTile * headDim;
  float* probs = row + headDim;
  float* acc = probs + kTile;  // [nRows][headDim]
  float m[kTileBlockRows];
  float s[kTileBlockRows];
  std::fill(acc, acc + b.nRows * headDim, 0.0f);
  std::fill(m, m + b.nRows, -INFINITY);
  std::fill(s, s + b.nRows, 0.0f);
  int64_t blockFirst, blockLast, unused;
  visibleKeys(p, b.t0, &blockFirst, &unused);
  visibleKeys(p, b.t0 + b.nRows - 1, &unused, &blockLast);
  const float* q0 = p.q + b.t0 * p.nHead * headDim + b.h * headDim;
  for (int64_t tile = 0; tile < p.nKvPadded; tile += kTile) {
    const int64_t from = std::max(tile, blockFirst);
    const int64_t to = std::min(tile + kTile, blockLast + 1);
    if (from >= to) continue;
    widenTile<Halves>(b, tile, from, to, keysT, values32, row);
    for (int64_t i = 0; i < b.nRows; i++) {
      int64_t first, last;
      visibleKeys(p, b.t0 + i, &first, &last);
      const int64_t lo = std::max(tile, first) - tile;
      const int64_t hi = std::min(tile + kTile, last + 1) - tile;
      if (lo >= hi) continue;  // every key of the tile masked for this row: skipped
      tileScores(q0 + i * p.nHead * headDim, keysT, headDim, p.scale, lo, hi, probs);
      tileRowStep<Halves>(values32, headDim, lo, hi, probs, acc + i * headDim, &m[i], &s[i]);
    }
  }
  for (int64_t i = 0; i < b.nRows; i++) {
    float* out = p.out + (b.t0 + i) * p.nHead * headDim + b.h * headDim;
    scaleRow(out, acc + i * headDim, s[i] == 0.0f ? 0.0f : 1.0f / s[i], headDim);
  }
}

}  // namespace

/** FlashKernel: rows t0 … t0 + nRows − 1 of head h, by the path ggml takes for the problem. */
template <class Halves>
static void flashLanesRows(const FlashProblem& p, int64_t t0, int64_t nRows, int64_t h, float* scratch) {
  const int64_t kvOffset = h / (p.nHead / p.nHeadKv) * p.headDim;
  const int64_t nKv = p.nHeadKv * p.headDim;
  if (flashTiled(p)) return tiledBlock<Halves>(TileBlock{&p, kvOffset, nKv, t0, nRows, h}, scratch);
  for (int64_t t = t0; t < t0 + nRows; t++) {
    int64_t first, last;
    visibleKeys(p, t, &first, &last);
    const Row r{&p, kvOffset, nKv, first, last, p.q + t * p.nHead * p.headDim + h * p.headDim, scratch};
    float* out = p.out + t * p.nHead * p.headDim + h * p.headDim;
    if (p.nTokens == 1 && p.nKvPadded >= kSplitKvMin && p.kvChunks > 1) splitRow<Halves>(r, out);
    else oneChunkRow<Halves>(r, out);
  }
}

}  // namespace flash
}  // namespace ls
