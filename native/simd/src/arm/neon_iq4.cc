// NEON IQ4_NL and IQ4_XS kernels: output for output the f32 arithmetic of the scalar kernels
// (generic/scalar_iq4.cc). IQ4_NL against Q8_0: ggml_vec_dot_iq4_nl_q8_0 (two 8-lane
// accumulators, even and odd blocks), llamafile's tinyBLAS_Q0_AVX for batches (one), and the
// repacked iq4_nl_8x8 gemv/gemm (one FMA per block of its integer sum). IQ4_XS against Q8_K:
// ggml_vec_dot_iq4_xs_q8_K (one FMA per lane and super-block) and the IQ panel gemm (one FMA per
// super-block of its integer total). The 4-bit codes become table values through vqtbl1q; the
// integer lane sums (vmull/vpadd, × the sub-block scales) are exact, the f32 steps keep the scalar
// order: 8 lanes in two float32x4 with vfmaq (as std::fma), hsumF8, scalar FMAs for the tail and
// the repacked/panel paths. Other architectures get nothing from this file (see neon_kernels.cc).
#include "generic/iq4.h"
#include "generic/kernels.h"

#if defined(__aarch64__) && defined(__ARM_NEON)

#include <arm_neon.h>

#include <cmath>

#include "arm/neon.h"

namespace ls {
namespace neon {
namespace {

/** ggml's kvalues_iq4nl */
constexpr int8_t kValues[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};
constexpr int kBlockBytes = 18;

/** One block's 32 table values (x0: values 0..15 from the low nibbles of qs, x1: 16..31 from the high) and d·d_y. */
struct Iq4Block {
  int8x16_t x0, x1;
  float d;
  Iq4Block(const uint8_t* w, const ActLayout& l, const uint8_t* act, int64_t b) {
    const uint8_t* block = w + b * kBlockBytes;
    const int8x16_t table = vld1q_s8(kValues);
    const uint8x16_t qs = vld1q_u8(block + 2);
    x0 = vqtbl1q_s8(table, vandq_u8(qs, vdupq_n_u8(0xF)));
    x1 = vqtbl1q_s8(table, vshrq_n_u8(qs, 4));
    d = f16ToF32(loadU16(block)) * reinterpret_cast<const float*>(act + l.d)[b];
  }
  /** lane k (lo: 0..3, hi: 4..7) = Σ of the 4 products of values 4k..4k+3; y: the block's 32 activations */
  void lanes(const int8_t* y, int32x4_t* lo, int32x4_t* hi) const { laneDots(x0, x1, vld1q_s8(y), vld1q_s8(y + 16), lo, hi); }
  /** Σ of the block's 32 products */
  int sum(const int8_t* y) const {
    int32x4_t lo, hi;
    lanes(y, &lo, &hi);
    return vaddvq_s32(vaddq_s32(lo, hi));
  }
};

/** acc[k] = fma(d, Σ of the 4 products of values 4k..4k+3, acc[k]) for one block. */
inline void fmaLanes(const Iq4Block& x, const int8_t* y, float32x4_t* accLo, float32x4_t* accHi) {
  int32x4_t lo, hi;
  x.lanes(y, &lo, &hi);
  const float32x4_t d = vdupq_n_f32(x.d);
  *accLo = vfmaq_f32(*accLo, d, vcvtq_f32_s32(lo));
  *accHi = vfmaq_f32(*accHi, d, vcvtq_f32_s32(hi));
}

/** ggml_vec_dot_iq4_nl_q8_0 (AVX2): pairs of blocks, then an odd last block in one scalar FMA. */
float dotVec(const uint8_t* w, const uint8_t* act, const ActLayout& l) {
  const int8_t* ys = reinterpret_cast<const int8_t*>(act + l.qs);
  float32x4_t acc1Lo = vdupq_n_f32(0.0f), acc1Hi = acc1Lo, acc2Lo = acc1Lo, acc2Hi = acc1Lo;
  int64_t b = 0;
  for (; b + 1 < l.nBlocks; b += 2) {
    fmaLanes(Iq4Block(w, l, act, b), ys + b * kQK, &acc1Lo, &acc1Hi);
    fmaLanes(Iq4Block(w, l, act, b + 1), ys + (b + 1) * kQK, &acc2Lo, &acc2Hi);
  }
  float sum = hsumF8(vaddq_f32(acc1Lo, acc2Lo), vaddq_f32(acc1Hi, acc2Hi));
  if (b < l.nBlocks) {
    const Iq4Block x(w, l, act, b);
    sum = std::fma(x.d, static_cast<float>(x.sum(ys + b * kQK)), sum);
  }
  return sum;
}

/** llamafile tinyBLAS_Q0_AVX: one 8-lane accumulator. */
float dotTiled(const uint8_t* w, const uint8_t* act, const ActLayout& l) {
  const int8_t* ys = reinterpret_cast<const int8_t*>(act + l.qs);
  float32x4_t accLo = vdupq_n_f32(0.0f), accHi = accLo;
  for (int64_t b = 0; b < l.nBlocks; b++) fmaLanes(Iq4Block(w, l, act, b), ys + b * kQK, &accLo, &accHi);
  return hsumF8(accLo, accHi);
}

/** ggml_gemv/gemm_iq4_nl_8x8_q8_0: acc = fma(Σ q·y, d·d_y, acc) per block. */
float dotRepacked(const uint8_t* w, const uint8_t* act, const ActLayout& l) {
  const int8_t* ys = reinterpret_cast<const int8_t*>(act + l.qs);
  float acc = 0.0f;
  for (int64_t b = 0; b < l.nBlocks; b++) {
    const Iq4Block x(w, l, act, b);
    acc = std::fma(static_cast<float>(x.sum(ys + b * kQK)), x.d, acc);
  }
  return acc;
}

/** Rows [r0, r1) × every token: tiled tokens through dotTiled, the others by their arithmetic. */
void rows(const MatmulProblem& p, int64_t r0, int64_t r1) {
  for (int64_t r = r0; r < r1; r++) {
    const uint8_t* w = p.weight + r * p.weightRowBytes;
    for (int64_t t = 0; t < p.nTokens; t++) {
      const Arith arith = arithFor(p, t);
      const QuantDot dot = arith == Arith::Tiled ? dotTiled : arith == Arith::VecDot ? dotVec : dotRepacked;
      p.out[t * p.nRows + r] = dot(w, p.act + t * p.layout.tokenBytes, p.layout);
    }
  }
}

// ---- IQ4_XS against Q8_K ----------------------------------------------------------------------

/** 8 int32 lanes (lo: 0..3, hi: 4..7). */
struct Lanes8 {
  int32x4_t lo, hi;
};

/**
 * One IQ4_XS super-block against its 256 activations y: lane k = Σ_ib (ls_ib − 32) · Σ K·y over
 * values 32ib + 4k..4k+3 (exact: |lane| < 2^24). Returned by value, not through a pointer (see
 * KBlock in neon_kquants.cc: aarch64 GCC 12 dropped such a call).
 */
Lanes8 iq4XsLanes(const BlockIQ4_XS* x, const int8_t* y) {
  const int8x16_t table = vld1q_s8(kIq4Values);
  const uint8x16_t m4 = vdupq_n_u8(0xF);
  Lanes8 s{vdupq_n_s32(0), vdupq_n_s32(0)};
  for (int ib = 0; ib < kQK_K / 32; ib++) {
    const uint8x16_t qs = vld1q_u8(x->qs + 16 * ib);
    const int8x16_t x0 = vqtbl1q_s8(table, vandq_u8(qs, m4)), x1 = vqtbl1q_s8(table, vshrq_n_u8(qs, 4));
    int32x4_t lo, hi;
    laneDots(x0, x1, vld1q_s8(y + 32 * ib), vld1q_s8(y + 32 * ib + 16), &lo, &hi);
    const int32_t scale = iq4XsSubScale(x, ib);
    s.lo = vmlaq_n_s32(s.lo, lo, scale);
    s.hi = vmlaq_n_s32(s.hi, hi, scale);
  }
  return s;
}

/** ggml_vec_dot_iq4_xs_q8_K (AVX2): acc[k] = fma(d·d_y, lane k, acc[k]) per super-block, then hsum_float_8. */
float dotIq4XsVec(const uint8_t* w, const uint8_t* act, const ActLayout& l) {
  const int8_t* ys = reinterpret_cast<const int8_t*>(act + l.qs);
  const float* yd = reinterpret_cast<const float*>(act + l.d);
  float32x4_t accLo = vdupq_n_f32(0.0f), accHi = accLo;
  for (int64_t b = 0; b < l.nBlocks; b++) {
    const BlockIQ4_XS* x = reinterpret_cast<const BlockIQ4_XS*>(w) + b;
    const Lanes8 s = iq4XsLanes(x, ys + b * kQK_K);
    const float32x4_t d = vdupq_n_f32(f16ToF32(loadU16(&x->d)) * yd[b]);
    accLo = vfmaq_f32(accLo, d, vcvtq_f32_s32(s.lo));
    accHi = vfmaq_f32(accHi, d, vcvtq_f32_s32(s.hi));
  }
  return hsumF8(accLo, accHi);
}

/** The IQ panel gemm/gemv: acc = fma(Σ of the lanes, d·d_y, acc) per super-block. */
float dotIq4XsPanel(const uint8_t* w, const uint8_t* act, const ActLayout& l) {
  const int8_t* ys = reinterpret_cast<const int8_t*>(act + l.qs);
  const float* yd = reinterpret_cast<const float*>(act + l.d);
  float acc = 0.0f;
  for (int64_t b = 0; b < l.nBlocks; b++) {
    const BlockIQ4_XS* x = reinterpret_cast<const BlockIQ4_XS*>(w) + b;
    const Lanes8 s = iq4XsLanes(x, ys + b * kQK_K);
    const float d = f16ToF32(loadU16(&x->d)) * yd[b];
    acc = std::fma(static_cast<float>(vaddvq_s32(vaddq_s32(s.lo, s.hi))), d, acc);
  }
  return acc;
}

}  // namespace

const TypeKernel kIQ4_NLKernel{rows, 0, nullptr};
const TypeKernel kIQ4_XSKernel{rowsQuant<dotIq4XsVec, dotIq4XsPanel, dotIq4XsPanel>, 0, nullptr};

}  // namespace neon
}  // namespace ls

#endif
