// NEON kernels (aarch64; NEON is part of the base ISA, so no run-time check is needed). Same
// arithmetic as the scalar kernels (generic/scalar_kernels.cc) output for output: 8 f32 lanes in
// two float32x4 with vfmaq (fused), ggml's horizontal-sum orders; integer lane sums via
// vmull/vpadd. Q2_K, Q3_K and Q5_K are in neon_kquants.cc, IQ4_NL and IQ4_XS in neon_iq4.cc; BF16
// falls back to the scalar kernels (nullptr here). Other architectures, and compilers without
// GCC's NEON intrinsics, get no table from this file.
#include "generic/kernels.h"

#if defined(__aarch64__) && defined(__ARM_NEON)

#include <arm_neon.h>

#include <cmath>
#include <cstring>

#include "arm/neon.h"

namespace ls {
namespace neon {
namespace {

// ---- horizontal sums (hsumF8: arm/neon.h) ------------------------------------------------------

/** GCC's _mm512_reduce_add_ps of x[0..3] (lanes 0..15) */
inline float reduceAdd16(const float32x4_t x[4]) {
  const float32x4_t t0 = vaddq_f32(x[2], x[0]);  // t[i] = x[i+8] + x[i], i < 4
  const float32x4_t t1 = vaddq_f32(x[3], x[1]);  // i = 4..7
  const float32x4_t u = vaddq_f32(t1, t0);       // u[i] = t[i+4] + t[i]
  const float32x2_t v = vadd_f32(vget_low_f32(u), vget_high_f32(u));  // (u0+u2), (u1+u3)
  return vget_lane_f32(v, 0) + vget_lane_f32(v, 1);
}

// ---- 32-value blocks ------------------------------------------------------------------------------

enum class B32 { Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 };

/** The block's 32 signed values in value order, as two int8x16 (values 0..15, 16..31). */
template <B32 T>
inline void blockValues(const uint8_t* block, int8x16_t* v0, int8x16_t* v1) {
  if (T == B32::Q8_0) {
    *v0 = vld1q_s8(reinterpret_cast<const int8_t*>(block + 2));
    *v1 = vld1q_s8(reinterpret_cast<const int8_t*>(block + 18));
    return;
  }
  const int qsOffset = T == B32::Q4_0 ? 2 : T == B32::Q4_1 ? 4 : T == B32::Q5_0 ? 6 : 8;
  const uint8x16_t qs = vld1q_u8(block + qsOffset);
  uint8x16_t lo = vandq_u8(qs, vdupq_n_u8(0x0F));
  uint8x16_t hi = vshrq_n_u8(qs, 4);
  if (T == B32::Q5_0 || T == B32::Q5_1) {
    const uint32_t qh = loadU32(block + (T == B32::Q5_0 ? 2 : 4));
    // bit i of qh → byte i: spread 16 bits into 16 bytes of 0x10 or 0
    static const uint8_t kBit[16] = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
    const uint8x16_t bit = vld1q_u8(kBit);
    const uint8x16_t bytesLo = vcombine_u8(vdup_n_u8(static_cast<uint8_t>(qh)), vdup_n_u8(static_cast<uint8_t>(qh >> 8)));
    const uint8x16_t bytesHi = vcombine_u8(vdup_n_u8(static_cast<uint8_t>(qh >> 16)), vdup_n_u8(static_cast<uint8_t>(qh >> 24)));
    lo = vorrq_u8(lo, vandq_u8(vtstq_u8(bytesLo, bit), vdupq_n_u8(0x10)));
    hi = vorrq_u8(hi, vandq_u8(vtstq_u8(bytesHi, bit), vdupq_n_u8(0x10)));
  }
  const int offset = T == B32::Q4_0 ? 8 : T == B32::Q5_0 ? 16 : 0;
  *v0 = vsubq_s8(vreinterpretq_s8_u8(lo), vdupq_n_s8(static_cast<int8_t>(offset)));
  *v1 = vsubq_s8(vreinterpretq_s8_u8(hi), vdupq_n_s8(static_cast<int8_t>(offset)));
}

constexpr int blockBytes(B32 T) { return T == B32::Q4_0 ? 18 : T == B32::Q4_1 ? 20 : T == B32::Q5_0 ? 22 : T == B32::Q5_1 ? 24 : 34; }

/** ggml_vec_dot_*_q8_*: R rows × one token. */
template <B32 T, int R>
void block32VecTile(const MatmulProblem& p, int64_t row0, int64_t token) {
  const ActLayout& l = p.layout;
  const uint8_t* a = p.act + token * l.tokenBytes;
  const int8_t* ys = reinterpret_cast<const int8_t*>(a + l.qs);
  const float* yd = reinterpret_cast<const float*>(a + l.d);
  const float* ysum = reinterpret_cast<const float*>(a + l.s);
  constexpr bool kMin = T == B32::Q4_1 || T == B32::Q5_1;
  float32x4_t accLo[R], accHi[R];
  float summs[R];
  for (int r = 0; r < R; r++) { accLo[r] = accHi[r] = vdupq_n_f32(0.0f); summs[r] = 0.0f; }
  for (int64_t b = 0; b < l.nBlocks; b++) {
    const int8x16_t y0 = vld1q_s8(ys + 32 * b), y1 = vld1q_s8(ys + 32 * b + 16);
    for (int r = 0; r < R; r++) {
      const uint8_t* block = p.weight + (row0 + r) * p.weightRowBytes + b * blockBytes(T);
      int8x16_t x0, x1;
      blockValues<T>(block, &x0, &x1);
      int32x4_t lo, hi;
      laneDots(x0, x1, y0, y1, &lo, &hi);
      const float32x4_t d = vdupq_n_f32(f16ToF32(loadU16(block)) * yd[b]);
      accLo[r] = vfmaq_f32(accLo[r], d, vcvtq_f32_s32(lo));
      accHi[r] = vfmaq_f32(accHi[r], d, vcvtq_f32_s32(hi));
      if (kMin) summs[r] = std::fma(f16ToF32(loadU16(block + 2)), ysum[b], summs[r]);
    }
  }
  for (int r = 0; r < R; r++) {
    const float total = hsumF8(accLo[r], accHi[r]);
    p.out[token * p.nRows + row0 + r] = kMin ? total + summs[r] : total;
  }
}

/** Repacked Q4_0 (gemv/gemm q4_0_8x8): acc = fma(Σ q·y, d_w·d_y, acc) per block. R rows × one token. */
template <int R>
void q4_0RepackedTile(const MatmulProblem& p, int64_t row0, int64_t token) {
  const ActLayout& l = p.layout;
  const uint8_t* a = p.act + token * l.tokenBytes;
  const int8_t* ys = reinterpret_cast<const int8_t*>(a + l.qs);
  const float* yd = reinterpret_cast<const float*>(a + l.d);
  float acc[R];
  for (int r = 0; r < R; r++) acc[r] = 0.0f;
  for (int64_t b = 0; b < l.nBlocks; b++) {
    const int8x16_t y0 = vld1q_s8(ys + 32 * b), y1 = vld1q_s8(ys + 32 * b + 16);
    for (int r = 0; r < R; r++) {
      const uint8_t* block = p.weight + (row0 + r) * p.weightRowBytes + b * 18;
      int8x16_t x0, x1;
      blockValues<B32::Q4_0>(block, &x0, &x1);
      int32x4_t lo, hi;
      laneDots(x0, x1, y0, y1, &lo, &hi);
      const int sum = vaddvq_s32(vaddq_s32(lo, hi));
      acc[r] = std::fma(static_cast<float>(sum), f16ToF32(loadU16(block)) * yd[b], acc[r]);
    }
  }
  for (int r = 0; r < R; r++) p.out[token * p.nRows + row0 + r] = acc[r];
}

template <B32 T>
void block32Rows(const MatmulProblem& p, int64_t r0, int64_t r1) {
  const bool repacked = T == B32::Q4_0 && p.route.single == Arith::RepackedGemv;
  for (int64_t t = 0; t < p.nTokens; t++) {
    int64_t r = r0;
    for (; r + 4 <= r1; r += 4) repacked ? q4_0RepackedTile<4>(p, r, t) : block32VecTile<T, 4>(p, r, t);
    for (; r < r1; r++) repacked ? q4_0RepackedTile<1>(p, r, t) : block32VecTile<T, 1>(p, r, t);
  }
}

// ---- K-quants ----------------------------------------------------------------------------------

/** Σ over groups of 4 of unsigned codes (≤ 63) × y, 8 lanes, for 32 values. */
inline void laneDotsU(uint8x16_t c0, uint8x16_t c1, const int8_t* y, int32x4_t* lo, int32x4_t* hi) {
  laneDots(vreinterpretq_s8_u8(c0), vreinterpretq_s8_u8(c1), vld1q_s8(y), vld1q_s8(y + 16), lo, hi);
}

/** Q4_K, one row × one token, for each of its three arithmetics (see generic/scalar_kernels.cc). */
template <Arith A>
float q4kDot(const uint8_t* w, const uint8_t* act, const ActLayout& l) {
  const int8_t* ys = reinterpret_cast<const int8_t*>(act + l.qs);
  const float* yd = reinterpret_cast<const float*>(act + l.d);
  const int16_t* ybs = reinterpret_cast<const int16_t*>(act + l.bsums);
  float32x4_t accLo = vdupq_n_f32(0.0f), accHi = accLo, accm = accLo;
  float accS = 0.0f, accMinS = 0.0f;
  const uint8x16_t m4 = vdupq_n_u8(0x0F);
  for (int64_t b = 0; b < l.nBlocks; b++) {
    const BlockQ4_K* x = reinterpret_cast<const BlockQ4_K*>(w) + b;
    const int8_t* y = ys + b * kQK_K;
    const int16_t* bsums = ybs + b * 16;
    uint8_t sc[8], mn[8];
    for (int j = 0; j < 8; j++) q4kScaleMin(j, x->scales, &sc[j], &mn[j]);
    const int16x8_t mins = vreinterpretq_s16_u16(vmovl_u8(vld1_u8(mn)));
    const int16x8_t q8s = vpaddq_s16(vld1q_s16(bsums), vld1q_s16(bsums + 8));  // Σ of each 32-value sub-block
    const int32x4_t prod = vpaddq_s32(vmull_s16(vget_low_s16(mins), vget_low_s16(q8s)), vmull_high_s16(mins, q8s));
    int32_t prods[4];
    vst1q_s32(prods, prod);
    const float xd = f16ToF32(loadU16(&x->d)), xdmin = f16ToF32(loadU16(&x->dmin));
    int32x4_t sumLo = vdupq_n_s32(0), sumHi = sumLo;
    for (int j = 0; j < 4; j++) {
      const uint8x16_t q0 = vld1q_u8(x->qs + 32 * j), q1 = vld1q_u8(x->qs + 32 * j + 16);
      int32x4_t lLo, lHi, hLo, hHi;
      laneDotsU(vandq_u8(q0, m4), vandq_u8(q1, m4), y + 64 * j, &lLo, &lHi);
      laneDotsU(vshrq_n_u8(q0, 4), vshrq_n_u8(q1, 4), y + 64 * j + 32, &hLo, &hHi);
      const int32x4_t pairLo = vaddq_s32(vmulq_n_s32(lLo, sc[2 * j]), vmulq_n_s32(hLo, sc[2 * j + 1]));
      const int32x4_t pairHi = vaddq_s32(vmulq_n_s32(lHi, sc[2 * j]), vmulq_n_s32(hHi, sc[2 * j + 1]));
      if (A == Arith::RepackedGemm) {
        accS = std::fma(static_cast<float>(vaddvq_s32(vaddq_s32(pairLo, pairHi))), xd * yd[b], accS);
        accMinS = std::fma(static_cast<float>(prods[j]), xdmin * yd[b], accMinS);
      } else {
        sumLo = vaddq_s32(sumLo, pairLo);
        sumHi = vaddq_s32(sumHi, pairHi);
      }
    }
    if (A == Arith::VecDot) {
      accm = vfmaq_f32(accm, vdupq_n_f32(-yd[b] * xdmin), vcvtq_f32_s32(prod));
      const float32x4_t d = vdupq_n_f32(yd[b] * xd);
      accLo = vfmaq_f32(accLo, d, vcvtq_f32_s32(sumLo));
      accHi = vfmaq_f32(accHi, d, vcvtq_f32_s32(sumHi));
    } else if (A == Arith::RepackedGemv) {
      accS = std::fma(static_cast<float>(vaddvq_s32(vaddq_s32(sumLo, sumHi))), xd * yd[b], accS);
      accMinS = std::fma(static_cast<float>(vaddvq_s32(prod)), xdmin * yd[b], accMinS);
    }
  }
  if (A != Arith::VecDot) return accS - accMinS;
  const float32x2_t m = vadd_f32(vget_low_f32(accm), vget_high_f32(accm));  // (m0+m2), (m1+m3)
  return hsumF8(accLo, accHi) + (vget_lane_f32(m, 0) + vget_lane_f32(m, 1));
}

void q4kRows(const MatmulProblem& p, int64_t r0, int64_t r1) {
  for (int64_t r = r0; r < r1; r++) {
    const uint8_t* w = p.weight + r * p.weightRowBytes;
    for (int64_t t = 0; t < p.nTokens; t++) {
      const uint8_t* a = p.act + t * p.layout.tokenBytes;
      const Arith arith = arithFor(p, t);
      p.out[t * p.nRows + r] = arith == Arith::RepackedGemm ? q4kDot<Arith::RepackedGemm>(w, a, p.layout)
                               : arith == Arith::RepackedGemv ? q4kDot<Arith::RepackedGemv>(w, a, p.layout)
                                                              : q4kDot<Arith::VecDot>(w, a, p.layout);
    }
  }
}

/** ggml_vec_dot_q6_K_q8_K, one row × one token. */
float q6kDot(const uint8_t* w, const uint8_t* act, const ActLayout& l) {
  const int8_t* ys = reinterpret_cast<const int8_t*>(act + l.qs);
  const float* yd = reinterpret_cast<const float*>(act + l.d);
  const int16_t* ybs = reinterpret_cast<const int16_t*>(act + l.bsums);
  float32x4_t accLo = vdupq_n_f32(0.0f), accHi = accLo;
  const uint8x16_t m4 = vdupq_n_u8(0x0F), m3 = vdupq_n_u8(0x03);
  for (int64_t b = 0; b < l.nBlocks; b++) {
    const BlockQ6_K* x = reinterpret_cast<const BlockQ6_K*>(w) + b;
    const int8_t* y = ys + b * kQK_K;
    int32x4_t sumLo = vdupq_n_s32(0), sumHi = sumLo;
    for (int j = 0; j < 2; j++) {
      const uint8_t* ql = x->ql + 64 * j;
      const uint8_t* qh = x->qh + 32 * j;
      const uint8x16_t l0 = vld1q_u8(ql), l1 = vld1q_u8(ql + 16), l2 = vld1q_u8(ql + 32), l3 = vld1q_u8(ql + 48);
      const uint8x16_t h0 = vld1q_u8(qh), h1 = vld1q_u8(qh + 16);
      uint8x16_t q[4][2];
      q[0][0] = vorrq_u8(vandq_u8(l0, m4), vshlq_n_u8(vandq_u8(h0, m3), 4));
      q[0][1] = vorrq_u8(vandq_u8(l1, m4), vshlq_n_u8(vandq_u8(h1, m3), 4));
      q[1][0] = vorrq_u8(vandq_u8(l2, m4), vshlq_n_u8(vandq_u8(vshrq_n_u8(h0, 2), m3), 4));
      q[1][1] = vorrq_u8(vandq_u8(l3, m4), vshlq_n_u8(vandq_u8(vshrq_n_u8(h1, 2), m3), 4));
      q[2][0] = vorrq_u8(vshrq_n_u8(l0, 4), vshlq_n_u8(vandq_u8(vshrq_n_u8(h0, 4), m3), 4));
      q[2][1] = vorrq_u8(vshrq_n_u8(l1, 4), vshlq_n_u8(vandq_u8(vshrq_n_u8(h1, 4), m3), 4));
      q[3][0] = vorrq_u8(vshrq_n_u8(l2, 4), vshlq_n_u8(vshrq_n_u8(h0, 6), 4));
      q[3][1] = vorrq_u8(vshrq_n_u8(l3, 4), vshlq_n_u8(vshrq_n_u8(h1, 6), 4));
      for (int g = 0; g < 4; g++) {
        int32x4_t lo, hi;
        laneDotsU(q[g][0], q[g][1], y + 128 * j + 32 * g, &lo, &hi);
        sumLo = vaddq_s32(sumLo, vmulq_n_s32(lo, x->scales[8 * j + 2 * g]));
        sumHi = vaddq_s32(sumHi, vmulq_n_s32(hi, x->scales[8 * j + 2 * g + 1]));
      }
    }
    // lane k −= 32 · (bsums[2k]·sc[2k] + bsums[2k+1]·sc[2k+1])
    const int16x8_t bs0 = vld1q_s16(ybs + 16 * b), bs1 = vld1q_s16(ybs + 16 * b + 8);
    const int16x8_t sc0 = vmovl_s8(vld1_s8(x->scales)), sc1 = vmovl_s8(vld1_s8(x->scales + 8));
    const int32x4_t subLo = vpaddq_s32(vmull_s16(vget_low_s16(bs0), vget_low_s16(sc0)), vmull_high_s16(bs0, sc0));
    const int32x4_t subHi = vpaddq_s32(vmull_s16(vget_low_s16(bs1), vget_low_s16(sc1)), vmull_high_s16(bs1, sc1));
    sumLo = vsubq_s32(sumLo, vshlq_n_s32(subLo, 5));
    sumHi = vsubq_s32(sumHi, vshlq_n_s32(subHi, 5));
    const float32x4_t d = vdupq_n_f32(yd[b] * f16ToF32(loadU16(&x->d)));
    accLo = vfmaq_f32(accLo, d, vcvtq_f32_s32(sumLo));
    accHi = vfmaq_f32(accHi, d, vcvtq_f32_s32(sumHi));
  }
  return hsumF8(accLo, accHi);
}

void q6kRows(const MatmulProblem& p, int64_t r0, int64_t r1) {
  for (int64_t r = r0; r < r1; r++) {
    const uint8_t* w = p.weight + r * p.weightRowBytes;
    for (int64_t t = 0; t < p.nTokens; t++) p.out[t * p.nRows + r] = q6kDot(w, p.act + t * p.layout.tokenBytes, p.layout);
  }
}

// ---- F32 / F16 ----------------------------------------------------------------------------------

struct F32Src {
  static float32x4_t load(const uint8_t* p, int64_t i) { return vld1q_f32(reinterpret_cast<const float*>(p) + i); }
};
struct F16Src {
  static float32x4_t load(const uint8_t* p, int64_t i) { return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(reinterpret_cast<const uint16_t*>(p) + i))); }
};

/** ggml_vec_dot_f32/_f16 lanes (AVX-512 build): 4 × 16 lanes over 64-value steps, folded, reduced. */
template <typename Src>
float vec64(const uint8_t* w, const uint8_t* a, int64_t np) {
  float32x4_t acc[16];
  for (int k = 0; k < 16; k++) acc[k] = vdupq_n_f32(0.0f);
  for (int64_t i = 0; i < np; i += 64) {
    for (int k = 0; k < 16; k++) acc[k] = vfmaq_f32(acc[k], Src::load(w, i + 4 * k), Src::load(a, i + 4 * k));
  }
  float32x4_t lanes[4];  // lanes16[l] = (acc[l] + acc[32+l]) + (acc[16+l] + acc[48+l])
  for (int j = 0; j < 4; j++) lanes[j] = vaddq_f32(vaddq_f32(acc[j], acc[8 + j]), vaddq_f32(acc[4 + j], acc[12 + j]));
  return reduceAdd16(lanes);
}

/** llamafile tinyBLAS: R rows × TT tokens, one 16-lane accumulator (4 float32x4) per output (forEachTile). */
template <typename Src>
struct Tiled16 {
  template <int R, int TT>
  static void tile(const MatmulProblem& p, int64_t row0, int64_t token0) {
    float32x4_t acc[R][TT][4];
    for (int r = 0; r < R; r++) for (int t = 0; t < TT; t++) for (int k = 0; k < 4; k++) acc[r][t][k] = vdupq_n_f32(0.0f);
    for (int64_t i = 0; i < p.nCols; i += 16) {
      for (int t = 0; t < TT; t++) {
        const uint8_t* a = p.act + (token0 + t) * p.layout.tokenBytes;
        float32x4_t av[4];
        for (int k = 0; k < 4; k++) av[k] = Src::load(a, i + 4 * k);
        for (int r = 0; r < R; r++) {
          const uint8_t* w = p.weight + (row0 + r) * p.weightRowBytes;
          for (int k = 0; k < 4; k++) acc[r][t][k] = vfmaq_f32(acc[r][t][k], Src::load(w, i + 4 * k), av[k]);
        }
      }
    }
    for (int t = 0; t < TT; t++) for (int r = 0; r < R; r++) p.out[(token0 + t) * p.nRows + row0 + r] = reduceAdd16(acc[r][t]);
  }
};

const TypeKernel kF32Kernel{floatRows<vecDotF32<vec64<F32Src>>, forEachTile<Tiled16<F32Src>, 2, 2>>, 0, nullptr};
const TypeKernel kF16Kernel{floatRows<vecDotF16<vec64<F16Src>>, forEachTile<Tiled16<F16Src>, 2, 2>>, 0, nullptr};
const TypeKernel kQ4_0Kernel{block32Rows<B32::Q4_0>, 0, nullptr};
const TypeKernel kQ4_1Kernel{block32Rows<B32::Q4_1>, 0, nullptr};
const TypeKernel kQ5_0Kernel{block32Rows<B32::Q5_0>, 0, nullptr};
const TypeKernel kQ5_1Kernel{block32Rows<B32::Q5_1>, 0, nullptr};
const TypeKernel kQ8_0Kernel{block32Rows<B32::Q8_0>, 0, nullptr};
const TypeKernel kQ4_KKernel{q4kRows, 0, nullptr};
const TypeKernel kQ6_KKernel{q6kRows, 0, nullptr};

const KernelTable kTable{&kF32Kernel, &kF16Kernel, nullptr /* BF16: scalar kernels */, &kQ4_0Kernel, &kQ4_1Kernel,
                         &kQ5_0Kernel, &kQ5_1Kernel, &kQ8_0Kernel, &kQ4_KKernel, &kQ6_KKernel,
                         &neon::kQ2_KKernel, &neon::kQ3_KKernel, &neon::kQ5_KKernel, &neon::kIQ4_NLKernel,
                         &neon::kIQ4_XSKernel};

}  // namespace
}  // namespace neon

const KernelTable* neonKernels() { return &neon::kTable; }

}  // namespace ls

#else

namespace ls {

const KernelTable* neonKernels() { return nullptr; }

}  // namespace ls

#endif
