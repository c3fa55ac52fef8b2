// What the AVX-512 translation units share (include only from the AVX-512 library, built with
// -mavx512f/bw/vl/dq/vnni): their entry points, defined in x86/avx512_*.cc (external linkage in
// ls::x86::avx512, a namespace no other ISA's code uses), ggml's AVX-512 expf, and the helpers of
// the 16-row weight panels (internal linkage).
#pragma once

#include <immintrin.h>

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "generic/kernels.h"

namespace ls {

struct AttentionProblem;

namespace x86 {
namespace avx512 {

// ---- streaming packed weights --------------------------------------------------------------------

/** How far ahead of a one-token pass over packed weights prefetchStream runs (4 KiB: one small page). */
constexpr int64_t kPackedStreamPrefetchBytes = 4096;

/**
 * Prefetches nBytes at `at` as `how` says: for a one-token matmul streaming packed weights, called
 * kPackedStreamPrefetchBytes ahead of the bytes being read, so that each next 4 KiB is requested
 * before the hardware prefetchers, which stop at 4 KiB boundaries, would start on it.
 * - Nta (AMD): so fetched, the weights, read once per token, displace less of what the step reads
 *   between matmuls (KV cache, activations, the JavaScript's lines). 7B-shaped Q4_0 decode on an
 *   EPYC, in one process alternating (tok/s): 10.07 → 11.28, 10.24 → 10.87 (1 KiB ahead), 9.73 →
 *   10.15; 2, 8 and 16 KiB ahead or PREFETCHT2 were slower than 4 KiB.
 * - T1 (Intel and the rest): on a Xeon, PREFETCHNTA made TinyLlama-shaped Q4_0 decode 0.58-0.61×
 *   as fast as no prefetch (its lines skip the L2 and the L3, where part of a model this size
 *   stays from one token to the next), PREFETCHT1 1.05-1.08×, T2 1.03-1.05×; the 7B shape, at
 *   the memory's bound either way, is the same with all three.
 */
inline void prefetchStream(const uint8_t* at, int64_t nBytes, StreamPrefetch how) {
  if (how == StreamPrefetch::Nta) {
    for (int64_t o = 0; o < nBytes; o += 64) _mm_prefetch(reinterpret_cast<const char*>(at + o), _MM_HINT_NTA);
  } else if (how == StreamPrefetch::T1) {
    for (int64_t o = 0; o < nBytes; o += 64) _mm_prefetch(reinterpret_cast<const char*>(at + o), _MM_HINT_T1);
  }
}

// ---- entry points (RowsKernel signature unless said otherwise) ---------------------------------

// x86/avx512_attention_heads.cc: query token t, heads h0 .. h0 + nHeads - 1 (≤ 16) of a problem
// without GQA (nHead == nHeadKv); scratch as attentionScratchFloats(p, nHeads)
void attentionHeadBlock(const AttentionProblem& p, int64_t t, int64_t h0, int64_t nHeads, float* scratch);

// x86/avx512_block32.cc
void q4_0Rows(const MatmulProblem& p, int64_t r0, int64_t r1);
void q4_1Rows(const MatmulProblem& p, int64_t r0, int64_t r1);
void q5_0Rows(const MatmulProblem& p, int64_t r0, int64_t r1);
void q5_1Rows(const MatmulProblem& p, int64_t r0, int64_t r1);
void q8_0Rows(const MatmulProblem& p, int64_t r0, int64_t r1);
/** IQ4_NL: the repacked 16-row tiles and panels here, its other paths the ymm kernels (x86/ymm_iq4nl.h) */
void iq4nlRows(const MatmulProblem& p, int64_t r0, int64_t r1);

// x86/avx512_panels.cc
/**
 * Block-32 rows [r0, r0 + 16·k ≤ r1) of every token through 16-row panels when the batch is big
 * enough to pay for them: vec_dot arithmetic, or (q4_0PanelRows) the repacked Q4_0 one. Returns
 * the first row not done (r0 when the batch is too small).
 */
int64_t block32PanelRows(const MatmulProblem& p, int64_t r0, int64_t r1);
int64_t q4_0PanelRows(const MatmulProblem& p, int64_t r0, int64_t r1);
/** q4_0PanelRows for IQ4_NL (the same repacked arithmetic, codes = table value + 128) */
int64_t iq4nlPanelRows(const MatmulProblem& p, int64_t r0, int64_t r1);
/** 64-byte aligned per-thread scratch of at least nBytes (grown, never shrunk), for one panel. */
uint8_t* panelScratch(size_t nBytes);

// x86/avx512_kquants.cc
void q4kRows(const MatmulProblem& p, int64_t r0, int64_t r1);
void q6kRows(const MatmulProblem& p, int64_t r0, int64_t r1);

// x86/avx512_float.cc
void f32Rows(const MatmulProblem& p, int64_t r0, int64_t r1);
void f16Rows(const MatmulProblem& p, int64_t r0, int64_t r1);
void bf16Rows(const MatmulProblem& p, int64_t r0, int64_t r1);

namespace {

/** ggml_v_expf (vec.h, AVX-512): ggml's range reduction and polynomial; |n| > 192 saturates. */
inline __m512 expf16(__m512 x) {
  const __m512 r = _mm512_set1_ps(0x1.8p23f);
  const __m512 z = _mm512_fmadd_ps(x, _mm512_set1_ps(0x1.715476p+0f), r);
  const __m512 n = _mm512_sub_ps(z, r);
  const __m512 b = _mm512_fnmadd_ps(n, _mm512_set1_ps(0x1.7f7d1cp-20f), _mm512_fnmadd_ps(n, _mm512_set1_ps(0x1.62e4p-1f), x));
  const __mmask16 saturated = _mm512_cmp_ps_mask(_mm512_abs_ps(n), _mm512_set1_ps(192), _CMP_GT_OQ);
  const __m512 u = _mm512_mul_ps(b, b);
  const __m512 poly = _mm512_fmadd_ps(
      _mm512_fmadd_ps(_mm512_fmadd_ps(_mm512_set1_ps(0x1.0e4020p-7f), b, _mm512_set1_ps(0x1.573e2ep-5f)), u,
                      _mm512_fmadd_ps(_mm512_set1_ps(0x1.555e66p-3f), b, _mm512_set1_ps(0x1.fffdb6p-2f))),
      u, _mm512_fmadd_ps(_mm512_set1_ps(0x1.ffffecp-1f), b, _mm512_set1_ps(1.0f)));
  const __m512 result = _mm512_scalef_ps(poly, n);
  if (saturated == 0) return result;
  const __m512 zero = _mm512_setzero_ps();
  const __m512 limit = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(n, zero, _CMP_LE_OQ), _mm512_set1_ps(INFINITY), zero);
  return _mm512_mask_blend_ps(saturated, result, limit);
}

// ---- 16-row panels: zmm lane i = weight row i (see README.md, "Panels") ------------------------

/** 16 f16 values at base + i·stride → f32 [16] at out */
inline void widenHalves16(const uint8_t* base, size_t stride, float* out) {
  alignas(32) uint16_t bits[16];
  for (int i = 0; i < 16; i++) bits[i] = loadU16(base + i * stride);
  _mm512_store_ps(out, _mm512_cvtph_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(bits))));
}

/**
 * 16 rows of 8 dwords → 8 zmm at out + 64·k (64-byte aligned), lane i of zmm k = dword k of row i.
 * z[i] = [row i | row i+4] for i < 4, [row i+4 | row i+8] for i ≥ 4: after the 4×4 dword
 * transposes inside 128-bit chunks, chunk c of u[m] / v[m] holds rows 4c.. of dword m or m+4.
 */
inline void storeTransposed16x8(const __m256i rows[16], uint8_t* out) {
  __m512i z[8];
  for (int i = 0; i < 8; i++) {
    const int r = i < 4 ? i : i + 4;
    z[i] = _mm512_inserti64x4(_mm512_castsi256_si512(rows[r]), rows[r + 4], 1);
  }
  __m512i u[4], v[4];
  for (int half = 0; half < 2; half++) {
    const __m512i* zz = z + 4 * half;
    const __m512i t0 = _mm512_unpacklo_epi32(zz[0], zz[1]), t1 = _mm512_unpackhi_epi32(zz[0], zz[1]);
    const __m512i t2 = _mm512_unpacklo_epi32(zz[2], zz[3]), t3 = _mm512_unpackhi_epi32(zz[2], zz[3]);
    __m512i* dst = half == 0 ? u : v;
    dst[0] = _mm512_unpacklo_epi64(t0, t2);
    dst[1] = _mm512_unpackhi_epi64(t0, t2);
    dst[2] = _mm512_unpacklo_epi64(t1, t3);
    dst[3] = _mm512_unpackhi_epi64(t1, t3);
  }
  for (int m = 0; m < 4; m++) {
    _mm512_store_si512(out + 64 * m, _mm512_shuffle_i32x4(u[m], v[m], _MM_SHUFFLE(2, 0, 2, 0)));
    _mm512_store_si512(out + 64 * (m + 4), _mm512_shuffle_i32x4(u[m], v[m], _MM_SHUFFLE(3, 1, 3, 1)));
  }
}

/**
 * Lane L = 4c + j holds row 4j + c: the order the 4×4 transposes of the 16-row Q4_0/IQ4_NL tiles
 * leave, and packed scales are stored in (generic/pack.h packedScaleRow); its own inverse, so
 * permuting by it restores row order.
 */
inline __m512i transposedRowOrder() { return _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15); }

/** hsum_float_8 of 16 outputs' lanes (lane k in acc[k]): ((l0+l4)+(l2+l6)) + ((l1+l5)+(l3+l7)) */
inline __m512 hsumLanes8(const __m512 acc[8]) {
  const __m512 s04 = _mm512_add_ps(acc[4], acc[0]), s15 = _mm512_add_ps(acc[5], acc[1]);
  const __m512 s26 = _mm512_add_ps(acc[6], acc[2]), s37 = _mm512_add_ps(acc[7], acc[3]);
  return _mm512_add_ps(_mm512_add_ps(s04, s26), _mm512_add_ps(s15, s37));
}

}  // namespace
}  // namespace avx512
}  // namespace x86
}  // namespace ls
