// Attention over an F16 KV cache in portable C++: the arithmetic of x86/avx512_attention.cc (and
// so of attentionTypeScript in src/engine/model/attention.ts) spelled out lane by lane, for every
// ISA path without an intrinsics kernel. One template, instantiated per ISA build with that
// build's half conversions: generic/attention.cc (baseline flags: the scalar and NEON paths) and
// x86/avx2_attention.cc (-mavx2 -mfma -mf16c), where the compiler vectorizes the lane loops.
// Every step is an explicit f32 (or, where ggml sums in ggml_float, f64) operation in the
// AVX-512 kernel's order:
// - query and probabilities rounded to half (round to nearest even);
// - K·Q: ggml_vec_dot_f16 (64 lanes = 4 × 16 FMA accumulators per 64 values, folded
//   (a0+a2)+(a1+a3), GCC's _mm512_reduce_add_ps, leftovers in double) or, for batches with
//   headDim % 16 == 0, tinyBLAS (16 FMA lanes, _mm512_reduce_add_ps);
// - softmax: scale, max, ggml_v_expf (one lane at a time) on 16-value chunks, Σ in double of each
//   chunk's reduce_add, one f32 multiply by f32(1/Σ);
// - KQV over n_kv padded positions: the same two dot shapes over the V columns, with every lane
//   accumulator kept for all headDim outputs at once (acc[lane][d]) and the masked (zero)
//   positions, which leave the lanes unchanged, skipped.
// Every dot multiplies two halves (the half-rounded query or probability and a cached half),
// whose product is exact in f32, so the FMAs of the SIMD code are a·b + c with one rounding.
//
// The ISA's build supplies, as static members of the template argument `Halves`:
//   widen(float* dst, const uint16_t* src, int64_t n): exact widening of n halves;
//   roundToHalf(float* x, int64_t n): x[i] ← f32(half(x[i])), round to nearest even;
//   toF32(uint16_t h): one half widened;
//   expf(float x): ggml_v_expf of one lane (ggmlExpfLane, generic/ops_lanes.h).
// Everything here has internal linkage (static / unnamed namespace): each ISA's translation unit
// keeps its own copy, compiled with its own flags.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "generic/attention.h"

// One call per key row, not inlined: inside the loop over keys GCC splits the 16 or 64 lanes into
// scalar registers (and unrolls the lane loops) instead of vectorizing them; alone it keeps the
// lanes in vector registers.
#if defined(_MSC_VER)
#define LS_LANES_NOINLINE __declspec(noinline)
#else
#define LS_LANES_NOINLINE __attribute__((noinline))
#endif

namespace ls {
namespace lanes {
namespace {

/**
 * The FMA of two widened halves a, b and an f32 c: a·b (at most 22 significant bits) is exact in
 * f32, so the unfused a·b + c rounds once, like the fused one; std::fmaf where that is one
 * instruction (FMA targets, aarch64), else the unfused form (no libm call on baseline x86-64).
 */
inline float fmaHalves(float a, float b, float c) {
#if defined(FP_FAST_FMAF)
  return std::fmaf(a, b, c);
#else
  return a * b + c;
#endif
}

/** GCC's _mm512_reduce_add_ps: t[i] = x[i+8] + x[i]; u[i] = t[i+4] + t[i]; (u0 + u2) + (u1 + u3). */
inline float reduceAdd16Lanes(const float* x) {
  float t[8], u[4];
  for (int i = 0; i < 8; i++) t[i] = x[i + 8] + x[i];
  for (int i = 0; i < 4; i++) u[i] = t[i + 4] + t[i];
  return (u[0] + u[2]) + (u[1] + u[3]);
}

/** lanes[l] ← fma(x[l], y[l], lanes[l]) for l < n: one step of n FMA accumulators. */
inline void fmaLanes(float* __restrict lanes, const float* __restrict x, const float* __restrict y, int64_t n) {
  for (int64_t l = 0; l < n; l++) lanes[l] = fmaHalves(x[l], y[l], lanes[l]);
}

/** K·Q of one widened key row with the half-rounded query, tinyBLAS shape (headDim % 16 == 0). */
LS_LANES_NOINLINE float keyDotTiled(const float* key, const float* query, int64_t headDim) {
  float lanes[16];
  for (int l = 0; l < 16; l++) lanes[l] = fmaHalves(key[l], query[l], 0.0f);  // the first step, from zeroed lanes
  for (int64_t i = 16; i < headDim; i += 16) fmaLanes(lanes, key + i, query + i, 16);
  return reduceAdd16Lanes(lanes);
}

/** K·Q of one widened key row with the half-rounded query, ggml_vec_dot_f16 shape. */
LS_LANES_NOINLINE float keyDotVec(const float* key, const float* query, int64_t headDim) {
  const int64_t np = headDim & ~int64_t(63);
  double s = 0;  // the reduction of 64 zero lanes
  if (np > 0) {  // lanes[16·k + l]: lane l of accumulator k
    float lanes[64];
    for (int l = 0; l < 64; l++) lanes[l] = fmaHalves(key[l], query[l], 0.0f);  // the first step, from zeroed lanes
    for (int64_t i = 64; i < np; i += 64) fmaLanes(lanes, key + i, query + i, 64);
    // (a0 + a2) + (a1 + a3) into lanes 0..15, one loop per add
    for (int l = 0; l < 16; l++) lanes[l] = lanes[l] + lanes[l + 32];
    for (int l = 16; l < 32; l++) lanes[l] = lanes[l] + lanes[l + 32];
    for (int l = 0; l < 16; l++) lanes[l] = lanes[l] + lanes[l + 16];
    s = reduceAdd16Lanes(lanes);  // ggml_float from here on; half products are exact
  }
  for (int64_t i = np; i < headDim; i++) s += static_cast<double>(key[i]) * static_cast<double>(query[i]);
  return static_cast<float>(s);
}

/** In place: x[0..n) ← softmax(scale · x) with ggml's f32 steps (see softmaxScaledInPlace, ops.ts). */
template <class Halves>
void softmaxScaledLanes(float* x, int64_t n, float scale) {
  float max = -INFINITY;
  for (int64_t i = 0; i < n; i++) {
    x[i] *= scale;
    if (x[i] > max) max = x[i];
  }
  double sum = 0;
  for (int64_t c = 0; c < n; c += 16) {
    float e[16];
    for (int64_t l = 0; l < 16; l++) e[l] = c + l < n ? Halves::expf(x[c + l] - max) : 0.0f;
    for (int64_t l = 0; l < 16 && c + l < n; l++) x[c + l] = e[l];
    sum += reduceAdd16Lanes(e);
  }
  const float inv = static_cast<float>(1.0 / sum);
  for (int64_t i = 0; i < n; i++) x[i] *= inv;
}

/** a[d] ← fma(v[d], p, a[d]) for d < n: one position's step of every output's lane. */
inline void fmaRowLane(float* __restrict a, const float* __restrict v, float p, int64_t n) {
  for (int64_t d = 0; d < n; d++) a[d] = fmaHalves(v[d], p, a[d]);
}

/** row[d] ← other[d] + row[d] for d < n: one add of the lane reduction, for all outputs at once. */
inline void addRows(float* __restrict row, const float* __restrict other, int64_t n) {
  for (int64_t d = 0; d < n; d++) row[d] = other[d] + row[d];
}

/** Computes out for query token t and head h; scratch has attentionScratchFloats(p, 1) floats. */
template <class Halves>
void attentionLanesHead(const AttentionProblem& p, int64_t t, int64_t h, float* scratch) {
  const HeadShape s = headShape(p, t, h);
  const int64_t headDim = s.headDim;
  float* scores = scratch;                                       // [nKvPadded rounded up to 16]
  float* query = scores + ((p.nKvPadded + 15) & ~int64_t(15));   // [headDimPadded]
  float* row = query + s.headDimPadded;                          // one widened key or value row
  float* acc = row + s.headDimPadded;                            // [64][headDimPadded]

  std::memcpy(query, p.q + t * s.nQ + h * headDim, sizeof(float) * headDim);
  Halves::roundToHalf(query, headDim);
  for (int64_t j = 0; j < s.nVisible; j++) {
    Halves::widen(row, p.keys + j * s.nKv + s.kvOffset, headDim);
    scores[j] = s.kqTiled ? keyDotTiled(row, query, headDim) : keyDotVec(row, query, headDim);
  }

  softmaxScaledLanes<Halves>(scores, s.nVisible, p.scale);
  Halves::roundToHalf(scores, s.nVisible);
  const float* probs = scores;

  // KQV: position j goes to lane j mod 16 (tinyBLAS) or j mod 64 (vec_dot: accumulator (j/16) mod 4)
  std::memset(acc, 0, sizeof(float) * s.nLanes * s.headDimPadded);
  for (int64_t j = 0; j < s.jLanes; j++) {
    Halves::widen(row, p.values + j * s.nKv + s.kvOffset, headDim);
    fmaRowLane(acc + (j & (s.nLanes - 1)) * s.headDimPadded, row, probs[j], headDim);
  }
  const auto lane = [&](int64_t l) { return acc + l * s.headDimPadded; };
  if (!s.kqvTiled) {  // (a0 + a2) + (a1 + a3) into lanes 0..15
    for (int64_t l = 0; l < 16; l++) {
      addRows(lane(l), lane(l + 32), headDim);
      addRows(lane(l + 16), lane(l + 48), headDim);
      addRows(lane(l), lane(l + 16), headDim);
    }
  }
  // _mm512_reduce_add_ps of the 16 lanes, for every output at once
  for (int64_t l = 0; l < 8; l++) addRows(lane(l), lane(l + 8), headDim);
  for (int64_t l = 0; l < 4; l++) addRows(lane(l), lane(l + 4), headDim);
  addRows(lane(0), lane(2), headDim);
  addRows(lane(1), lane(3), headDim);
  addRows(lane(0), lane(1), headDim);
  float* outRow = p.out + t * s.nQ + h * headDim;
  std::memcpy(outRow, lane(0), sizeof(float) * headDim);
  if (s.jLanes < s.nVisible) {  // vec_dot leftovers (n_kv capped at a size that is not a multiple of 64): in double
    for (int64_t d = 0; d < headDim; d++) {
      double sum = outRow[d];
      for (int64_t j = s.jLanes; j < s.nVisible; j++) {
        sum += static_cast<double>(Halves::toF32(p.values[j * s.nKv + s.kvOffset + d])) * static_cast<double>(probs[j]);
      }
      outRow[d] = static_cast<float>(sum);
    }
  }
}

}  // namespace

/** AttentionKernel: the heads one after another, each as a task of its own. */
template <class Halves>
static void attentionLanesTask(const AttentionProblem& p, int64_t t, int64_t h0, int64_t nHeads, float* scratch) {
  for (int64_t h = h0; h < h0 + nHeads; h++) attentionLanesHead<Halves>(p, t, h, scratch);
}

}  // namespace lanes
}  // namespace ls
