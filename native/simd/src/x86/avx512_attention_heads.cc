// Decode attention without GQA (nHead == nHeadKv: a llama-7B shape) for a block of up to 16
// consecutive heads, with the bits of each head computed alone (x86/avx512_attention.cc).
// A head alone reads its K and V rows headDim halves long and nKv halves (8 KiB) apart: short
// strided runs that the hardware prefetchers do not follow and DRAM serves slowly. The block's
// heads are adjacent in every row, so K·Q goes position by position over one contiguous slice of
// each K row (the block's dots of one key reduced together by reduceAdd16x16, as keyDots16 does
// for 16 keys of one head); the softmax and KQV then go head by head, lane by lane, the next
// head's V rows prefetched while this head's are read.
#include "x86/avx512_attention_parts.h"

namespace ls {
namespace x86 {
namespace avx512 {

using namespace attn;

namespace {

/**
 * Positions ahead whose K slice is prefetched, into L2 (into L1 the slices of 4 positions, 128
 * lines, would outnumber its miss buffers: 32 cold layers at position 150 / 400, alternating in
 * one process: 246 → 204 / 516 → 434 µs per layer; 8, 16 or 32 ahead no better).
 */
constexpr int64_t kPrefetchPositions = 4;

/** scores[b·ldScores + j] ← keyDot of query b with head h0 + b's key j, for every visible j. */
template <bool kTiled>
void blockKeyDots(const AttentionProblem& p, const HeadShape& s, int64_t h0, int64_t nHeads, const float* queries, float* scores, int64_t ldScores) {
  const int64_t headDim = s.headDim, headDimPadded = s.headDimPadded;
  const int64_t np = kTiled ? headDim : headDim & ~int64_t(63);  // below it the lanes, then vec_dot's double leftovers
  const uint16_t* keys = p.keys + h0 * headDim;
  const uint16_t* values = p.values + h0 * headDim;
  const int64_t sliceBytes = nHeads * headDim * 2;
  for (int64_t j = 0; j < s.nVisible; j++) {
    if (j + kPrefetchPositions < s.nVisible) {
      const char* ahead = reinterpret_cast<const char*>(keys + (j + kPrefetchPositions) * s.nKv);
      for (int64_t b = 0; b < sliceBytes; b += 64) _mm_prefetch(ahead + b, _MM_HINT_T1);
    }
    // the first head's V row j, which its KQV reads first, into L2
    if (j < kPrefetchValueRows) prefetchRows<false>(values + j * s.nKv, s.nKv, 1, headDim);
    const uint16_t* k = keys + j * s.nKv;
    __m512 lanes[16];
#pragma GCC unroll 16
    for (int b = 0; b < 16; b++) lanes[kSlot[b]] = b < nHeads ? keyLanes<kTiled>(k + b * headDim, queries + b * headDimPadded, headDim) : _mm512_setzero_ps();
    alignas(64) float dots[16];
    _mm512_store_ps(dots, reduceAdd16x16(lanes));
    for (int64_t b = 0; b < nHeads; b++) {
      float dot = dots[b];
      if (np < headDim) {  // as keyDot: double(f32 lanes' sum) + the leftover products in double
        double sum = dot;
        for (int64_t i = np; i < headDim; i++) sum += double(valueAt(k + b * headDim + i)) * double(queries[b * headDimPadded + i]);
        dot = float(sum);
      }
      scores[b * ldScores + j] = dot;
    }
  }
}

}  // namespace

void attentionHeadBlock(const AttentionProblem& p, int64_t t, int64_t h0, int64_t nHeads, float* scratch) {
  const HeadShape s = headShape(p, t, h0);
  const int64_t headDim = s.headDim, headDimPadded = s.headDimPadded;
  const int64_t ldScores = (p.nKvPadded + 15) & ~int64_t(15);
  float* scores = scratch;                        // [nHeads][ldScores]
  float* queries = scores + nHeads * ldScores;    // [nHeads][headDimPadded]
  float* acc = queries + nHeads * headDimPadded;  // [64][headDimPadded]: one head's lanes at a time

  for (int64_t b = 0; b < nHeads; b++) roundQuery(p.q + t * s.nQ + (h0 + b) * headDim, headDim, queries + b * headDimPadded);
  if (s.kqTiled) blockKeyDots<true>(p, s, h0, nHeads, queries, scores, ldScores);
  else blockKeyDots<false>(p, s, h0, nHeads, queries, scores, ldScores);

  const bool prefetchNext = s.nVisible <= kPrefetchValueRows;
  for (int64_t b = 0; b < nHeads; b++) {
    float* probs = scores + b * ldScores;
    softmaxScaledToHalf(probs, s.nVisible, p.scale);
    const uint16_t* values = p.values + (h0 + b) * headDim;
    const uint16_t* next = prefetchNext && b + 1 < nHeads ? values + headDim : nullptr;
    for (int64_t d0 = 0; d0 < headDimPadded; d0 += 128) {
      const int64_t nChunks = std::min<int64_t>(8, (headDimPadded - d0) / 16);
      for (int64_t l = 0; l < s.nLanes; l++) {
        kqvLane(nChunks, values + d0, s.nKv, probs, l, s.jLanes, s.nLanes, headDim - d0, acc + l * headDimPadded + d0, next ? next + d0 : nullptr);
      }
    }
    finishHead(acc, s, probs, values, p.out + t * s.nQ + (h0 + b) * headDim);
  }
}

}  // namespace avx512
}  // namespace x86
}  // namespace ls
