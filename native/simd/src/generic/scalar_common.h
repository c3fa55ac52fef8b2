// What the scalar kernel files share (scalar_kernels.cc, scalar_kquants.cc, scalar_iq4.cc): the
// f32 horizontal sum of ggml's 8-lane dots and the row loop of the quantized types. Compiled only
// into the baseline library, with -ffp-contract=off.
#pragma once

#include "generic/kernels.h"

namespace ls {
namespace scalar {
namespace {

/** hsum_float_8: ((l0+l4)+(l2+l6)) + ((l1+l5)+(l3+l7)) */
inline float hsum8(const float* a) { return ((a[0] + a[4]) + (a[2] + a[6])) + ((a[1] + a[5]) + (a[3] + a[7])); }

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

/** The scalar Q2_K, Q3_K and Q5_K kernels (generic/scalar_kquants.cc). */
extern const TypeKernel kQ2_KKernel;
extern const TypeKernel kQ3_KKernel;
extern const TypeKernel kQ5_KKernel;
/** The scalar IQ4_NL kernel (generic/scalar_iq4.cc). */
extern const TypeKernel kIQ4_NLKernel;
/** The scalar IQ4_XS kernel (generic/scalar_iq4.cc): vec_dot and the IQ panel gemm. */
extern const TypeKernel kIQ4_XSKernel;

}  // namespace scalar
}  // namespace ls
