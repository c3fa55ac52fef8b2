// What the NEON kernel files share (neon_kernels.cc, neon_kquants.cc, neon_iq4.cc): ggml's f32
// horizontal sums on float32x4 pairs, the exact integer lane dots of 32 int8 values, the row loop
// of the quantized types (rowsQuant), and the kernels the other files give to neon_kernels.cc's
// table. Include only inside `#if defined(__aarch64__) && defined(__ARM_NEON)` (the files
// compile to nothing elsewhere); everything defined here has internal linkage.
#pragma once

#include <arm_neon.h>

#include "generic/kernels.h"

namespace ls {
namespace neon {
namespace {

/** hsum_float_8 of lanes lo (0..3), hi (4..7): ((l0+l4)+(l2+l6)) + ((l1+l5)+(l3+l7)) */
inline float hsumF8(float32x4_t lo, float32x4_t hi) {
  const float32x4_t t = vaddq_f32(hi, lo);
  const float32x2_t u = vadd_f32(vget_low_f32(t), vget_high_f32(t));
  return vget_lane_f32(u, 0) + vget_lane_f32(u, 1);
}

/** 8 int32 lanes (lo: 0..3, hi: 4..7), lane k = Σ of products of values 4k..4k+3 (|x·y| < 2^15). */
inline void laneDots(int8x16_t x0, int8x16_t x1, int8x16_t y0, int8x16_t y1, int32x4_t* lo, int32x4_t* hi) {
  const int32x4_t s0 = vpaddlq_s16(vmull_s8(vget_low_s8(x0), vget_low_s8(y0)));
  const int32x4_t s1 = vpaddlq_s16(vmull_high_s8(x0, y0));
  const int32x4_t s2 = vpaddlq_s16(vmull_s8(vget_low_s8(x1), vget_low_s8(y1)));
  const int32x4_t s3 = vpaddlq_s16(vmull_high_s8(x1, y1));
  *lo = vpaddq_s32(s0, s1);
  *hi = vpaddq_s32(s2, s3);
}

/** One output of a quantized type: a weight row with one token's activations. */
typedef float (*QuantDot)(const uint8_t*, const uint8_t*, const ActLayout&);

/** Rows [r0, r1) × every token, each output through the dot of its token's arithmetic. */
template <QuantDot kVec, QuantDot kGemv, QuantDot kGemm>
void rowsQuant(const MatmulProblem& p, int64_t r0, int64_t r1) {
  for (int64_t r = r0; r < r1; r++) {
    const uint8_t* w = p.weight + r * p.weightRowBytes;
    for (int64_t t = 0; t < p.nTokens; t++) {
      const Arith arith = arithFor(p, t);
      const QuantDot dot = arith == Arith::RepackedGemv ? kGemv : arith == Arith::RepackedGemm ? kGemm : kVec;
      p.out[t * p.nRows + r] = dot(w, p.act + t * p.layout.tokenBytes, p.layout);
    }
  }
}

}  // namespace

/** The NEON Q2_K, Q3_K and Q5_K kernels (arm/neon_kquants.cc). */
extern const TypeKernel kQ2_KKernel;
extern const TypeKernel kQ3_KKernel;
extern const TypeKernel kQ5_KKernel;
/** The NEON IQ4_NL and IQ4_XS kernels (arm/neon_iq4.cc). */
extern const TypeKernel kIQ4_NLKernel;
extern const TypeKernel kIQ4_XSKernel;

}  // namespace neon
}  // namespace ls
