// Attention over an F16 KV cache with AVX-512 (F + F16C; built into the AVX-512 library, run only
// on CPUs that have it; the problem and the shapes of a head are in generic/attention.h): the
// arithmetic of the TypeScript reference (src/engine/model/attention.ts),
// i.e. of llama.cpp's non-flash CPU attention in its x86 AVX-512 build, bit for bit:
// - query and probabilities rounded to half (vcvtps2ph, round to nearest even);
// - K·Q: ggml_vec_dot_f16 (4 × 16 FMA lanes per 64 values, folded (a0+a2)+(a1+a3), GCC's
//   _mm512_reduce_add_ps, leftovers in double) or, for batches with headDim % 16 == 0,
//   tinyBLAS (16 FMA lanes, _mm512_reduce_add_ps);
// - softmax: scale, max, ggml_v_expf on 16-value chunks, Σ in double of each chunk's reduce_add,
//   one f32 multiply by f32(1/Σ);
// - KQV over n_kv padded positions: the same two dot shapes over the V columns. Instead of
//   gathering each column, every lane accumulator is kept for all headDim outputs at once
//   (acc[lane][d], lane = position mod 64 or 16): each lane still sees its FMAs in the same order,
//   and the masked (zero) positions past the visible ones, which leave the lanes unchanged, are
//   skipped. A head alone keeps one lane's accumulators for up to 128 columns in registers over
//   that lane's keys (kqvLane: each V row read whole, once; 7B shape, position 150, hot: 235 →
//   110 µs per layer on one thread); query heads sharing a KV head keep 16 lanes × 16 columns
//   (kqvLanes16) or, for headDim 64, 4 heads × 64 columns of one lane (kqvHeads4) over a block.
// - Decode without GQA runs blocks of heads (x86/avx512_attention_heads.cc), same arithmetic.
// - K·Q of 16 keys at a time: the per-key lane FMAs as above, then their 16 horizontal
//   reductions as one butterfly (reduceAdd16x16) whose every add is one of reduceAdd16's.
// - A task of several query heads of one KV head (batches) widens each K/V row once into an f32
//   block that all its heads read (exact, so the same products and sums per head, see load16).
#include <algorithm>

#include "x86/avx512_attention_parts.h"

namespace ls {
namespace x86 {
namespace avx512 {
namespace {

using namespace attn;

/** Query token t, head h alone: the cached halves widened as they are read. */
void attentionHead(const AttentionProblem& p, int64_t t, int64_t h, float* scratch) {
  const HeadShape s = headShape(p, t, h);
  float* scores = scratch;                                       // [nKvPadded rounded up to 16]
  float* query = scores + ((p.nKvPadded + 15) & ~int64_t(15));   // [headDimPadded]
  float* acc = query + s.headDimPadded;                          // [64][headDimPadded]

  roundQuery(p.q + t * s.nQ + h * s.headDim, s.headDim, query);
  const uint16_t* keys = p.keys + s.kvOffset;
  prefetchRows<true>(keys, s.nKv, std::min<int64_t>(s.nVisible, kPrefetchRows), s.headDim);
  int64_t j = 0;
  for (; j + 16 <= s.nVisible; j += 16) {
    const int64_t ahead = j + kPrefetchRows;  // the K rows kPrefetchRows ahead
    if (ahead < s.nVisible) prefetchRows<true>(keys + ahead * s.nKv, s.nKv, std::min<int64_t>(16, s.nVisible - ahead), s.headDim);
    if (j < kPrefetchValueRows) prefetchRows<false>(p.values + s.kvOffset + j * s.nKv, s.nKv, std::min<int64_t>(16, s.nVisible - j), s.headDim);
    if (s.headDim == 64) keyDots16<64>(keys + j * s.nKv, s.nKv, query, s.headDim, s.kqTiled, scores + j);  // loops unrolled
    else keyDots16<0>(keys + j * s.nKv, s.nKv, query, s.headDim, s.kqTiled, scores + j);
  }
  for (; j < s.nVisible; j++) scores[j] = keyDot(keys + j * s.nKv, query, s.headDim, s.kqTiled);
  // the head's V rows, which KQV reads after the softmax, into L2
  if (j < kPrefetchValueRows) prefetchRows<false>(p.values + s.kvOffset + j * s.nKv, s.nKv, std::min(s.nVisible, kPrefetchValueRows) - j, s.headDim);

  softmaxScaledToHalf(scores, s.nVisible, p.scale);
  const float* probs = scores;

  // KQV lane by lane: each lane's accumulators for (up to 128 of) the outputs in registers over
  // its keys, so each V row is read whole, once per 128 outputs, and each accumulator stored once
  for (int64_t d0 = 0; d0 < s.headDimPadded; d0 += 128) {
    const int64_t nChunks = std::min<int64_t>(8, (s.headDimPadded - d0) / 16);
    for (int64_t l = 0; l < s.nLanes; l++) {
      kqvLane(nChunks, p.values + s.kvOffset + d0, s.nKv, probs, l, s.jLanes, s.nLanes, s.headDim - d0, acc + l * s.headDimPadded + d0);
    }
  }
  finishHead(acc, s, probs, p.values + s.kvOffset, p.out + t * s.nQ + h * s.headDim);
}

/**
 * Query token t, heads h0 .. h0 + nHeads - 1 (one KV head). Each head's arithmetic is that of a
 * task of its own: with nHeads = 1 the kernel reads the halves as it goes; with more, it widens
 * 16 K rows (K·Q) or blockKeys V rows (KQV) once into a block and runs every head over that block,
 * in the same per-head order of operations (the widened values being exact, see load16).
 */
void attentionTask(const AttentionProblem& p, int64_t t, int64_t h0, int64_t nHeads, float* scratch) {
  if (nHeads == 1) return attentionHead(p, t, h0, scratch);
  if (p.nHead == p.nHeadKv) return attentionHeadBlock(p, t, h0, nHeads, scratch);
  const HeadShape s = headShape(p, t, h0);
  const int64_t headDim = s.headDim, headDimPadded = s.headDimPadded;
  const int64_t ldScores = (p.nKvPadded + 15) & ~int64_t(15);
  const int64_t ldAcc = 64 * headDimPadded;
  float* scores = scratch;                              // [nHeads][ldScores]
  float* queries = scores + nHeads * ldScores;          // [nHeads][headDimPadded]
  float* accs = queries + nHeads * headDimPadded;       // [nHeads][64][headDimPadded]
  float* block = accs + nHeads * ldAcc + headDimPadded; // [blockKeys][headDimPadded]
  const int64_t blockKeys = attentionValueBlockKeys(headDimPadded);

  for (int64_t h = 0; h < nHeads; h++) roundQuery(p.q + t * s.nQ + (h0 + h) * headDim, headDim, queries + h * headDimPadded);
  const uint16_t* keys = p.keys + s.kvOffset;
  int64_t j = 0;
  for (; j + 16 <= s.nVisible; j += 16) {
    widenRows(keys + j * s.nKv, s.nKv, 16, headDim, block, headDimPadded);
    for (int64_t h = 0; h < nHeads; h++) {
      const float* query = queries + h * headDimPadded;
      if (headDim == 64) {
        keyDots16<64>(block, headDimPadded, query, headDim, s.kqTiled, scores + h * ldScores + j);
      } else {
        keyDots16<0>(block, headDimPadded, query, headDim, s.kqTiled, scores + h * ldScores + j);
      }
    }
  }
  for (int64_t h = 0; h < nHeads; h++) {
    for (int64_t jj = j; jj < s.nVisible; jj++) scores[h * ldScores + jj] = keyDot(keys + jj * s.nKv, queries + h * headDimPadded, headDim, s.kqTiled);
    softmaxScaledToHalf(scores + h * ldScores, s.nVisible, p.scale);
  }

  // KQV: lane accumulators for all outputs at once, over blocks of blockKeys keys (a multiple of
  // nLanes): each lane continues over the keys of the next block
  for (int64_t c = 0; c < s.jLanes; c += blockKeys) {
    const int64_t n = std::min(blockKeys, s.jLanes - c);
    widenRows(p.values + c * s.nKv + s.kvOffset, s.nKv, n, headDim, block, headDimPadded);
    int64_t h = 0;
    if (headDim == 64) {  // 4 heads at a time in registers, each V vector loaded once for them
      for (; h + 4 <= nHeads; h += 4) kqvHeads4(block, n, scores + h * ldScores + c, ldScores, s.nLanes, accs + h * ldAcc, ldAcc, c > 0);
    }
    for (; h < nHeads; h++) {
      for (int64_t d = 0; d < headDimPadded; d += 16) {
        for (int64_t lane0 = 0; lane0 < s.nLanes; lane0 += 16) {
          kqvLanes16(block + d, headDimPadded, scores + h * ldScores + c, lane0, n, s.nLanes, tailMask(headDim - d),
                     accs + h * ldAcc + lane0 * headDimPadded + d, headDimPadded, c > 0);
        }
      }
    }
  }
  if (s.jLanes <= 0) std::fill(accs, accs + nHeads * ldAcc, 0.0f);
  for (int64_t h = 0; h < nHeads; h++) {
    finishHead(accs + h * ldAcc, s, scores + h * ldScores, p.values + s.kvOffset, p.out + t * s.nQ + (h0 + h) * headDim);
  }
}

}  // namespace
}  // namespace avx512
}  // namespace x86

AttentionKernel avx512AttentionKernel() { return x86::avx512::attentionTask; }

}  // namespace ls
