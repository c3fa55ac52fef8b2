// x86 building blocks shared by the AVX2 and AVX-512 kernels (ymm registers): horizontal sums in
// llama.cpp's association order, weight codes, integer dots, the next-tile prefetch and the
// vectorized activation quantizers.
//
// Compiled into the AVX2 library (-mavx2 -mfma -mf16c) and into the AVX-512 library (+ AVX-512
// F/BW/VL/DQ/VNNI). What differs between the two is a template argument, Avx2Config or
// Avx512Config, never a macro; and everything with code lives in an unnamed namespace, so each
// translation unit keeps its own copy compiled with its own flags (an AVX-512 body can never be
// linked in where the AVX2 one was meant).
#pragma once

#include <immintrin.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "generic/kernels.h"

namespace ls {
namespace x86 {

/** The AVX2 build of the shared kernels: integer dots by maddubs + madd (unsigned codes ≤ 31). */
struct Avx2Config {
  static constexpr bool kVnni = false;
  /** tokens per tile of the one-row K-quant tiles and the block-32 vec_dot tiles */
  static constexpr int kTokenTile = 2;
};

/** The AVX-512 build: vpdpbusd on ymm (VNNI + VL, unsigned codes up to 255), 32 vector registers. */
struct Avx512Config {
  static constexpr bool kVnni = true;
  static constexpr int kTokenTile = 4;
};

namespace {

// ---- horizontal sums, in the exact association order of llama.cpp's x86 build ------------------

/** hsum_float_8 (quants.c): ((l0+l4)+(l2+l6)) + ((l1+l5)+(l3+l7)) */
inline float hsumF8(__m256 x) {
  __m128 r = _mm_add_ps(_mm256_extractf128_ps(x, 1), _mm256_castps256_ps128(x));
  r = _mm_add_ps(r, _mm_movehl_ps(r, r));
  r = _mm_add_ss(r, _mm_movehdup_ps(r));
  return _mm_cvtss_f32(r);
}

/** GCC's _mm512_reduce_add_ps of the 16 lanes lo (0..7), hi (8..15). */
inline float reduceAdd16(__m256 lo, __m256 hi) {
  const __m256 t = _mm256_add_ps(hi, lo);
  const __m128 u = _mm_add_ps(_mm256_extractf128_ps(t, 1), _mm256_castps256_ps128(t));
  const __m128 v = _mm_add_ps(u, _mm_shuffle_ps(u, u, _MM_SHUFFLE(1, 0, 3, 2)));
  return _mm_cvtss_f32(_mm_add_ss(v, _mm_movehdup_ps(v)));
}

/** exact sum of 4 int32 lanes */
inline int hsumI4(__m128i s) {
  s = _mm_add_epi32(s, _mm_unpackhi_epi64(s, s));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
  return _mm_cvtsi128_si32(s);
}

/** exact sum of 8 int32 lanes */
inline int hsumI8(__m256i a) { return hsumI4(_mm_add_epi32(_mm256_castsi256_si128(a), _mm256_extracti128_si256(a, 1))); }

/** 8 vectors of 8 int32 lanes → one vector of their 8 exact lane totals (lane r = Σ v[r]). */
inline __m256i transposeSumI8(const __m256i v[8]) {
  const __m256i a01 = _mm256_hadd_epi32(v[0], v[1]);
  const __m256i a23 = _mm256_hadd_epi32(v[2], v[3]);
  const __m256i a45 = _mm256_hadd_epi32(v[4], v[5]);
  const __m256i a67 = _mm256_hadd_epi32(v[6], v[7]);
  const __m256i b0 = _mm256_hadd_epi32(a01, a23);  // [t0 t1 t2 t3 | t0' t1' t2' t3'] halves per 128
  const __m256i b1 = _mm256_hadd_epi32(a45, a67);
  return _mm256_add_epi32(_mm256_permute2x128_si256(b0, b1, 0x20), _mm256_permute2x128_si256(b0, b1, 0x31));
}

inline float halfToF32(const void* p) { return _cvtsh_ss(static_cast<unsigned short>(loadU16(p))); }

// ---- weight codes: 32 bytes in value order ---------------------------------------------------

/** 16 bytes of nibbles → 32 bytes: low nibbles (values 0..15) then high nibbles (16..31). */
inline __m256i nibbles32(const uint8_t* qs) {
  const __m128i tmp = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(tmp, 4), tmp), _mm256_set1_epi8(0x0F));
}

/** 32 bits → 32 bytes of 0xFF (bit set) or 0x00 */
inline __m256i bitsToBytes32(const uint8_t* qh) {
  const __m256i shuffle = _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202, 0x0101010101010101, 0x0000000000000000);
  __m256i bytes = _mm256_shuffle_epi8(_mm256_set1_epi32(static_cast<int>(loadU32(qh))), shuffle);
  bytes = _mm256_or_si256(bytes, _mm256_set1_epi64x(0x7fbfdfeff7fbfdfe));
  return _mm256_cmpeq_epi8(bytes, _mm256_set1_epi64x(-1));
}

/** Q5 codes 0..31: nibble | 16·(high bit) */
inline __m256i q5Codes32(const uint8_t* qh, const uint8_t* qs) {
  return _mm256_or_si256(nibbles32(qs), _mm256_and_si256(bitsToBytes32(qh), _mm256_set1_epi8(0x10)));
}

/** The 4 groups of 32 six-bit Q6_K codes (0..63) of half j of a super-block: ql + 64j, qh + 32j. */
inline void q6kCodes(const uint8_t* ql, const uint8_t* qh, __m256i q[4]) {
  const __m256i m3 = _mm256_set1_epi8(3), m15 = _mm256_set1_epi8(15);
  const __m256i bits1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql));
  const __m256i bits2 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql + 32));
  const __m256i bitsH = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qh));
  q[0] = _mm256_or_si256(_mm256_and_si256(bits1, m15), _mm256_slli_epi16(_mm256_and_si256(bitsH, m3), 4));
  q[1] = _mm256_or_si256(_mm256_and_si256(bits2, m15), _mm256_slli_epi16(_mm256_and_si256(bitsH, _mm256_set1_epi8(12)), 2));
  q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(bits1, 4), m15), _mm256_and_si256(bitsH, _mm256_set1_epi8(48)));
  q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(bits2, 4), m15),
                         _mm256_srli_epi16(_mm256_and_si256(bitsH, _mm256_set1_epi8(static_cast<char>(-64))), 2));
}

/** Q4_K scales (low 8 int16) and mins (high 8 int16), ggml's utmp shuffle of the 12 scale bytes. */
inline __m256i q4kScalesMins(const uint8_t* scales12) {
  uint32_t utmp[4];
  std::memcpy(utmp, scales12, 12);
  const uint32_t kmask1 = 0x3f3f3f3f, kmask2 = 0x0f0f0f0f, kmask3 = 0x03030303;
  utmp[3] = ((utmp[2] >> 4) & kmask2) | (((utmp[1] >> 6) & kmask3) << 4);
  const uint32_t uaux = utmp[1] & kmask1;
  utmp[1] = (utmp[2] & kmask2) | (((utmp[0] >> 6) & kmask3) << 4);
  utmp[2] = uaux;
  utmp[0] &= kmask1;
  return _mm256_cvtepu8_epi16(_mm_set_epi32(static_cast<int>(utmp[3]), static_cast<int>(utmp[2]), static_cast<int>(utmp[1]), static_cast<int>(utmp[0])));
}

/** Σ of each pair of Q8_K bsums: the 8 sums of 32-value sub-blocks (int16). */
inline __m128i q8kSubSums(const int16_t* bsums) {
  const __m256i all = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bsums));
  return _mm_hadd_epi16(_mm256_castsi256_si128(all), _mm256_extracti128_si256(all, 1));
}

// ---- integer dots: 8 int32 lanes, lane k = Σ of the products of bytes 4k..4k+3 ---------------

/** unsigned codes u (≤ 31, or ≤ 255 with VNNI) · signed y, plus `add` */
template <bool kVnni>
inline __m256i dotU8(__m256i add, __m256i u, __m256i y) {
  if constexpr (kVnni) {
    return _mm256_dpbusd_epi32(add, u, y);
  } else {
    return _mm256_add_epi32(add, _mm256_madd_epi16(_mm256_maddubs_epi16(u, y), _mm256_set1_epi16(1)));
  }
}

/** signed x · signed y (|x|, |y| ≤ 128 with no pair of -128s) */
inline __m256i dotI8(__m256i x, __m256i y) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_sign_epi8(x, x), _mm256_sign_epi8(y, x)), _mm256_set1_epi16(1));
}

// ---- prefetch ----------------------------------------------------------------------------------

/**
 * K-quant kernels compute one row at a time: one sequential stream, which this machine's hardware
 * prefetchers alone kept at 5–9 GB/s from DRAM (Q4_K decode). Their one-token passes prefetch the
 * row this many rows ahead (2, 4 and 8 measured within noise, 4 best; Q4_K decode from DRAM
 * 8.4 → 19.6 GB/s with 2 threads). F16 rows were slower with it.
 */
constexpr int kPrefetchRowsAhead = 4;

/**
 * Multi-row tiles read R interleaved row streams, which the hardware prefetchers follow poorly
 * (decode from DRAM ran at half the speed of one sequential stream). While a tile computes, this
 * prefetches the next tile's rows — contiguous bytes — spread evenly over the tile's blocks.
 */
struct NextTilePrefetch {
  const char* cursor;
  const char* end;
  size_t bytesPerStep;  // whole cache lines
  NextTilePrefetch(const MatmulProblem& p, int64_t nextRow, int nRowsInTile, int64_t nSteps) {
    const size_t nBytes = nextRow + nRowsInTile <= p.nRows ? nRowsInTile * p.weightRowBytes : 0;
    cursor = reinterpret_cast<const char*>(p.weight + nextRow * p.weightRowBytes);
    end = cursor + nBytes;
    bytesPerStep = ((nBytes / static_cast<size_t>(nSteps > 0 ? nSteps : 1)) + 127) & ~size_t(63);
  }
  void step(int64_t) {
    for (size_t at = 0; at < bytesPerStep && cursor < end; at += 64, cursor += 64) _mm_prefetch(cursor, _MM_HINT_T1);
  }
};

// ---- activation quantization (the results of generic/act.cc, vectorized like ggml's) -----------

/** quantize_row_q8_0 / q8_1 (AVX2): amax, id = 127/amax, round half to even, plus `corr` sums. */
inline void quantizeQ8Rows(const ActLayout& l, const float* x, uint8_t* act, int64_t t0, int64_t t1) {
  const __m256 signBit = _mm256_set1_ps(-0.0f);
  for (int64_t t = t0; t < t1; t++) {
    const float* xt = x + t * l.nCols;
    uint8_t* base = act + t * l.tokenBytes;
    float* ds = reinterpret_cast<float*>(base + l.d);
    float* ss = reinterpret_cast<float*>(base + l.s);
    int32_t* corr = reinterpret_cast<int32_t*>(base + l.corr);
    for (int64_t b = 0; b < l.nBlocks; b++) {
      const float* xb = xt + 32 * b;
      __m256 v0 = _mm256_loadu_ps(xb), v1 = _mm256_loadu_ps(xb + 8), v2 = _mm256_loadu_ps(xb + 16), v3 = _mm256_loadu_ps(xb + 24);
      __m256 maxAbs = _mm256_andnot_ps(signBit, v0);
      maxAbs = _mm256_max_ps(maxAbs, _mm256_andnot_ps(signBit, v1));
      maxAbs = _mm256_max_ps(maxAbs, _mm256_andnot_ps(signBit, v2));
      maxAbs = _mm256_max_ps(maxAbs, _mm256_andnot_ps(signBit, v3));
      __m128 max4 = _mm_max_ps(_mm256_extractf128_ps(maxAbs, 1), _mm256_castps256_ps128(maxAbs));
      max4 = _mm_max_ps(max4, _mm_movehl_ps(max4, max4));
      max4 = _mm_max_ss(max4, _mm_movehdup_ps(max4));
      const float amax = _mm_cvtss_f32(max4);
      const float d = amax / 127.f;
      ds[b] = _cvtsh_ss(_cvtss_sh(d, _MM_FROUND_TO_NEAREST_INT));
      const __m256 mul = _mm256_set1_ps(amax != 0.0f ? 127.f / amax : 0.0f);
      constexpr int kRound = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;
      __m256i i0 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v0, mul), kRound));
      __m256i i1 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v1, mul), kRound));
      __m256i i2 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v2, mul), kRound));
      __m256i i3 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v3, mul), kRound));
      if (l.kind == ActKind::Q8_1) {
        const int sum = hsumI8(_mm256_add_epi32(_mm256_add_epi32(i0, i1), _mm256_add_epi32(i2, i3)));
        ss[b] = _cvtsh_ss(_cvtss_sh(d * static_cast<float>(sum), _MM_FROUND_TO_NEAREST_INT));
      }
      i0 = _mm256_packs_epi32(i0, i1);
      i2 = _mm256_packs_epi32(i2, i3);
      i0 = _mm256_packs_epi16(i0, i2);
      const __m256i q = _mm256_permutevar8x32_epi32(i0, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
      _mm256_store_si256(reinterpret_cast<__m256i*>(base + l.qs + 32 * b), q);
      if (l.corrBias != 0) {
        const __m256i sum4 = _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_set1_epi8(1), q), _mm256_set1_epi16(1));
        const __m256i corr8 = _mm256_mullo_epi32(sum4, _mm256_set1_epi32(-l.corrBias));
        _mm256_store_si256(reinterpret_cast<__m256i*>(corr + 8 * b), corr8);
        reinterpret_cast<int32_t*>(base + l.corrSum)[b] = hsumI8(corr8);
      }
    }
  }
}

/** F16 activations: vcvtps2ph, round to nearest even (as f32ToF16). */
inline void quantizeF16Rows(const ActLayout& l, const float* x, uint8_t* act, int64_t t0, int64_t t1) {
  for (int64_t t = t0; t < t1; t++) {
    const float* xt = x + t * l.nCols;
    uint16_t* out = reinterpret_cast<uint16_t*>(act + t * l.tokenBytes);
    int64_t i = 0;
    for (; i + 8 <= l.nCols; i += 8) {
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), _mm256_cvtps_ph(_mm256_loadu_ps(xt + i), _MM_FROUND_TO_NEAREST_INT));
    }
    for (; i < l.nCols; i++) out[i] = f32ToF16(xt[i]);
  }
}

}  // namespace
}  // namespace x86
}  // namespace ls
