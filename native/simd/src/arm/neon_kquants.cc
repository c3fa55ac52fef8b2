// NEON Q2_K, Q3_K and Q5_K kernels against Q8_K activations: output for output the f32 arithmetic
// of the scalar kernels (generic/scalar_kquants.cc: ggml_vec_dot_q{2,3,5}_K_q8_K, and Q2_K's
// repacked q2_K_8x8 gemv and gemm). Each super-block is decoded into 8 vectors of 32 signed codes
// with the scales of their two 16-value halves; a vector's integer lanes (lane k = scale · Σ
// code·y over values 32v + 4k..4k+3) come from vmull/vpadd and are exact, so only the f32 steps
// follow the scalar order: 8 lanes in two float32x4 with vfmaq (one fused multiply-add per lane
// and block, as std::fma), hsumF8, and the scalar FMAs of the mins and the repacked paths.
// Other architectures get nothing from this file (see neon_kernels.cc).
#include "generic/kernels.h"

#if defined(__aarch64__) && defined(__ARM_NEON)

#include <arm_neon.h>

#include <cmath>

#include "arm/neon.h"

namespace ls {
namespace neon {
namespace {

/**
 * One decoded super-block: 8 vectors of 32 signed codes (values 32v..+15, 32v+16..+31) and their
 * halves' scales. The decoders return it by value: with aarch64 GCC 12 at -O1 and above, a call
 * of an out-of-line decoder that filled a KBlock through a pointer was dropped (ipa-pure-const
 * with ipa-modref), leaving the caller's KBlock uninitialized.
 */
struct KBlock {
  int8x16_t codes[8][2];
  int32_t scales[8][2];

  /** lane k (lo: 0..3, hi: 4..7) = Σ over vectors [v0, v1) of scale · Σ code·y of values 32v + 4k..4k+3;
   *  y: the block's 256 activations */
  void lanes(int v0, int v1, const int8_t* y, int32x4_t* lo, int32x4_t* hi) const {
    int32x4_t sumLo = vdupq_n_s32(0), sumHi = sumLo;
    for (int v = v0; v < v1; v++) {
      int32x4_t l, h;
      laneDots(codes[v][0], codes[v][1], vld1q_s8(y + 32 * v), vld1q_s8(y + 32 * v + 16), &l, &h);
      sumLo = vmlaq_n_s32(sumLo, l, scales[v][0]);
      sumHi = vmlaq_n_s32(sumHi, h, scales[v][1]);
    }
    *lo = sumLo;
    *hi = sumHi;
  }
};

/** 16 bytes of 16 where `bits` has bit `bit` set, else 0. */
inline uint8x16_t bitTimes16(uint8x16_t bits, int bit) {
  return vandq_u8(vtstq_u8(bits, vdupq_n_u8(static_cast<uint8_t>(1u << bit))), vdupq_n_u8(16));
}

/** The 2-bit codes of groups 0..3 of 16 bytes: out[g] = bits >> (2·g) & 3 (immediate shifts). */
inline void crumbs(uint8x16_t bits, int8x16_t out[4]) {
  const uint8x16_t m3 = vdupq_n_u8(3);
  out[0] = vreinterpretq_s8_u8(vandq_u8(bits, m3));
  out[1] = vreinterpretq_s8_u8(vandq_u8(vshrq_n_u8(bits, 2), m3));
  out[2] = vreinterpretq_s8_u8(vandq_u8(vshrq_n_u8(bits, 4), m3));
  out[3] = vreinterpretq_s8_u8(vshrq_n_u8(bits, 6));
}

/** Q5_K: codes nibble | 16·(bit 2k or 2k+1 of qh), one 6-bit scale sc[v] per 32 values. */
KBlock decodeQ5K(const BlockQ5_K* x, const uint8_t sc[8]) {
  KBlock blk;
  const uint8x16_t m4 = vdupq_n_u8(0xF);
  const uint8x16_t h0 = vld1q_u8(x->qh), h1 = vld1q_u8(x->qh + 16);
  for (int k = 0; k < 4; k++) {
    const uint8x16_t q0 = vld1q_u8(x->qs + 32 * k), q1 = vld1q_u8(x->qs + 32 * k + 16);
    blk.codes[2 * k][0] = vreinterpretq_s8_u8(vorrq_u8(vandq_u8(q0, m4), bitTimes16(h0, 2 * k)));
    blk.codes[2 * k][1] = vreinterpretq_s8_u8(vorrq_u8(vandq_u8(q1, m4), bitTimes16(h1, 2 * k)));
    blk.codes[2 * k + 1][0] = vreinterpretq_s8_u8(vorrq_u8(vshrq_n_u8(q0, 4), bitTimes16(h0, 2 * k + 1)));
    blk.codes[2 * k + 1][1] = vreinterpretq_s8_u8(vorrq_u8(vshrq_n_u8(q1, 4), bitTimes16(h1, 2 * k + 1)));
    for (int half = 0; half < 2; half++) {
      blk.scales[2 * k][half] = sc[2 * k];
      blk.scales[2 * k + 1][half] = sc[2 * k + 1];
    }
  }
  return blk;
}

/** Q3_K: codes −4..3 (low 2 bits from qs, minus 4 where the hmask bit is clear); 16 signed 6-bit scales. */
KBlock decodeQ3K(const BlockQ3_K* x) {
  KBlock blk;
  const uint8x16_t four = vdupq_n_u8(4);
  const uint8x16_t hmask[2] = {vld1q_u8(x->hmask), vld1q_u8(x->hmask + 16)};
  int sc[16];
  for (int s = 0; s < 16; s++) {
    const int low = s < 8 ? x->scales[s] & 0xF : x->scales[s - 8] >> 4;
    const int high = (x->scales[8 + s % 4] >> (2 * (s / 4))) & 3;
    sc[s] = (low | (high << 4)) - 32;
  }
  for (int h = 0; h < 2; h++) {
    for (int half = 0; half < 2; half++) {
      int8x16_t codes[4];
      crumbs(vld1q_u8(x->qs + 32 * h + 16 * half), codes);
      for (int g = 0; g < 4; g++) {
        const int v = 4 * h + g;
        const uint8x16_t minus = vbicq_u8(four, vtstq_u8(hmask[half], vdupq_n_u8(static_cast<uint8_t>(1u << v))));
        blk.codes[v][half] = vsubq_s8(codes[g], vreinterpretq_s8_u8(minus));
        blk.scales[v][half] = sc[2 * v + half];
      }
    }
  }
  return blk;
}

/** Q2_K: 2-bit codes, 4-bit scales (the mins are applied by the dots). */
KBlock decodeQ2K(const BlockQ2_K* x) {
  KBlock blk;
  for (int h = 0; h < 2; h++) {
    for (int half = 0; half < 2; half++) {
      int8x16_t codes[4];
      crumbs(vld1q_u8(x->qs + 32 * h + 16 * half), codes);
      for (int g = 0; g < 4; g++) {
        const int v = 4 * h + g;
        blk.codes[v][half] = codes[g];
        blk.scales[v][half] = x->scales[2 * v + half] & 0xF;
      }
    }
  }
  return blk;
}

/** Q2_K mins: p[i] lane l = m · S of sub-block 4i + l (m: the high nibble of its scale byte, S: the
 *  activations' 16-value sum). */
struct Q2kMins {
  int32x4_t p[4];
};

Q2kMins q2kMinProducts(const BlockQ2_K* x, const int16_t* bsums) {
  Q2kMins out;
  int32x4_t* p = out.p;
  const uint8x16_t mins = vshrq_n_u8(vld1q_u8(x->scales), 4);
  const int16x8_t m0 = vreinterpretq_s16_u16(vmovl_u8(vget_low_u8(mins))), m1 = vreinterpretq_s16_u16(vmovl_high_u8(mins));
  const int16x8_t s0 = vld1q_s16(bsums), s1 = vld1q_s16(bsums + 8);
  p[0] = vmull_s16(vget_low_s16(m0), vget_low_s16(s0));
  p[1] = vmull_high_s16(m0, s0);
  p[2] = vmull_s16(vget_low_s16(m1), vget_low_s16(s1));
  p[3] = vmull_high_s16(m1, s1);
  return out;
}

/** Q8_K parts of one token's activations. */
struct Q8k {
  const int8_t* qs;
  const float* d;
  const int16_t* bsums;
  explicit Q8k(const uint8_t* act, const ActLayout& l)
      : qs(reinterpret_cast<const int8_t*>(act + l.qs)), d(reinterpret_cast<const float*>(act + l.d)),
        bsums(reinterpret_cast<const int16_t*>(act + l.bsums)) {}
};

/** acc = fma(d, lanes, acc) per lane (std::fma order: vfmaq(acc, d, lanes)). */
inline void fmaLanes(float d, int32x4_t lo, int32x4_t hi, float32x4_t* accLo, float32x4_t* accHi) {
  const float32x4_t dv = vdupq_n_f32(d);
  *accLo = vfmaq_f32(*accLo, dv, vcvtq_f32_s32(lo));
  *accHi = vfmaq_f32(*accHi, dv, vcvtq_f32_s32(hi));
}

/** ggml_vec_dot_q5_K_q8_K: 8 lanes of sc·Σq·y, one FMA per lane and block; the mins in one scalar FMA. */
float dotQ5K(const uint8_t* w, const uint8_t* act, const ActLayout& l) {
  const Q8k a(act, l);
  float32x4_t accLo = vdupq_n_f32(0.0f), accHi = accLo;
  float summs = 0.0f;
  for (int64_t b = 0; b < l.nBlocks; b++) {
    const BlockQ5_K* x = reinterpret_cast<const BlockQ5_K*>(w) + b;
    const int16_t* bsums = a.bsums + 16 * b;
    const float d = a.d[b] * f16ToF32(loadU16(&x->d));
    const float dmin = -a.d[b] * f16ToF32(loadU16(&x->dmin));
    uint8_t sc[8], mn[8];
    for (int j = 0; j < 8; j++) q4kScaleMin(j, x->scales, &sc[j], &mn[j]);
    const KBlock blk = decodeQ5K(x, sc);
    // Σ mn[j] · (S₂ⱼ + S₂ⱼ₊₁), S: the activations' 16-value sums (|S₂ⱼ + S₂ⱼ₊₁| ≤ 4064 fits int16)
    const int16x8_t mins = vreinterpretq_s16_u16(vmovl_u8(vld1_u8(mn)));
    const int16x8_t q8s = vpaddq_s16(vld1q_s16(bsums), vld1q_s16(bsums + 8));
    const int32x4_t prod = vaddq_s32(vmull_s16(vget_low_s16(mins), vget_low_s16(q8s)), vmull_high_s16(mins, q8s));
    summs = std::fma(dmin, static_cast<float>(vaddvq_s32(prod)), summs);
    int32x4_t lo, hi;
    blk.lanes(0, 8, a.qs + b * kQK_K, &lo, &hi);
    fmaLanes(d, lo, hi, &accLo, &accHi);
  }
  return hsumF8(accLo, accHi) + summs;
}

/** ggml_vec_dot_q3_K_q8_K: codes −4..3, 16 signed scales, 8 lanes, one FMA per lane and block. */
float dotQ3K(const uint8_t* w, const uint8_t* act, const ActLayout& l) {
  const Q8k a(act, l);
  float32x4_t accLo = vdupq_n_f32(0.0f), accHi = accLo;
  for (int64_t b = 0; b < l.nBlocks; b++) {
    const BlockQ3_K* x = reinterpret_cast<const BlockQ3_K*>(w) + b;
    const float d = a.d[b] * f16ToF32(loadU16(&x->d));
    const KBlock blk = decodeQ3K(x);
    int32x4_t lo, hi;
    blk.lanes(0, 8, a.qs + b * kQK_K, &lo, &hi);
    fmaLanes(d, lo, hi, &accLo, &accHi);
  }
  return hsumF8(accLo, accHi);
}

/** ggml_vec_dot_q2_K_q8_K: per block, lane k first takes the mins' FMA, then the scaled sums' FMA. */
float dotQ2K(const uint8_t* w, const uint8_t* act, const ActLayout& l) {
  const Q8k a(act, l);
  float32x4_t accLo = vdupq_n_f32(0.0f), accHi = accLo;
  for (int64_t b = 0; b < l.nBlocks; b++) {
    const BlockQ2_K* x = reinterpret_cast<const BlockQ2_K*>(w) + b;
    const float d = a.d[b] * f16ToF32(loadU16(&x->d));
    const float dmin = -a.d[b] * f16ToF32(loadU16(&x->dmin));
    const Q2kMins mins = q2kMinProducts(x, a.bsums + 16 * b);
    // lane k = m₂ₖ·S₂ₖ + m₂ₖ₊₁·S₂ₖ₊₁ after the pairwise adds
    fmaLanes(dmin, vpaddq_s32(mins.p[0], mins.p[1]), vpaddq_s32(mins.p[2], mins.p[3]), &accLo, &accHi);
    const KBlock blk = decodeQ2K(x);
    int32x4_t lo, hi;
    blk.lanes(0, 8, a.qs + b * kQK_K, &lo, &hi);
    fmaLanes(d, lo, hi, &accLo, &accHi);
  }
  return hsumF8(accLo, accHi);
}

/** Repacked Q2_K (q2_K_8x8): per kSubBlocksPerFma 16-value sub-blocks, acc += Σ sc·q·y · f32(d·d_y)
 *  and accMin += Σ m·bsum · f32(dmin·d_y), one FMA each; the result is acc − accMin. */
template <int kSubBlocksPerFma>
float dotQ2KRepacked(const uint8_t* w, const uint8_t* act, const ActLayout& l) {
  static_assert(kSubBlocksPerFma == 8 || kSubBlocksPerFma == 16, "whole 128- or 256-value groups");
  constexpr int kVectors = kSubBlocksPerFma / 2;  // 32-value vectors per FMA
  const Q8k a(act, l);
  float acc = 0.0f, accMin = 0.0f;
  for (int64_t b = 0; b < l.nBlocks; b++) {
    const BlockQ2_K* x = reinterpret_cast<const BlockQ2_K*>(w) + b;
    const float d = f16ToF32(loadU16(&x->d)) * a.d[b];
    const float dmin = f16ToF32(loadU16(&x->dmin)) * a.d[b];
    const Q2kMins minProd = q2kMinProducts(x, a.bsums + 16 * b);
    const KBlock blk = decodeQ2K(x);
    for (int v0 = 0; v0 < 8; v0 += kVectors) {
      int32x4_t lo, hi;
      blk.lanes(v0, v0 + kVectors, a.qs + b * kQK_K, &lo, &hi);
      int32x4_t mins = vdupq_n_s32(0);
      for (int i = v0 / 2; i < (v0 + kVectors) / 2; i++) mins = vaddq_s32(mins, minProd.p[i]);
      acc = std::fma(static_cast<float>(vaddvq_s32(vaddq_s32(lo, hi))), d, acc);
      accMin = std::fma(static_cast<float>(vaddvq_s32(mins)), dmin, accMin);
    }
  }
  return acc - accMin;
}

}  // namespace

const TypeKernel kQ2_KKernel{rowsQuant<dotQ2K, dotQ2KRepacked<16>, dotQ2KRepacked<8>>, 0, nullptr};
const TypeKernel kQ3_KKernel{rowsQuant<dotQ3K, dotQ3K, dotQ3K>, 0, nullptr};
const TypeKernel kQ5_KKernel{rowsQuant<dotQ5K, dotQ5K, dotQ5K>, 0, nullptr};

}  // namespace neon
}  // namespace ls

#endif
