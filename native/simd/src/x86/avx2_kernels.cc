// The AVX2 + FMA + F16C kernel table (built with -mavx2 -mfma -mf16c into the AVX2 library; chosen
// at run time only on CPUs that have them): the shared ymm kernels instantiated with Avx2Config.
#include <immintrin.h>

#include "generic/kernels.h"
#include "x86/ymm.h"
#include "x86/ymm_block32.h"
#include "x86/ymm_float.h"
#include "x86/ymm_iq4nl.h"
#include "x86/ymm_kquants.h"
#include "x86/ymm_kquants_low.h"
#include "x86/ymm_iq4xs.h"

namespace ls {
namespace x86 {
namespace {

typedef Avx2Config Cfg;

/** ggml_vec_dot_*_q8_*: R-row tiles of kTokenTile tokens, then single tokens; rows left over alone. */
template <B32 T, int R>
void block32VecRowTile(const MatmulProblem& p, int64_t row0) {
  int64_t t = 0;
  for (; t + Cfg::kTokenTile <= p.nTokens; t += Cfg::kTokenTile) block32VecTile<Cfg, T, R, Cfg::kTokenTile>(p, row0, t);
  for (; t < p.nTokens; t++) block32VecTile<Cfg, T, R, 1>(p, row0, t);
}

template <B32 T>
void block32Rows(const MatmulProblem& p, int64_t r0, int64_t r1) {
  if (T == B32::Q4_0 && p.route.single == Arith::RepackedGemv) {
    repackedRows<Cfg, B32::Q4_0>(p, r0, r1);
    return;
  }
  constexpr int R = 4;
  int64_t r = r0;
  for (; r + R <= r1; r += R) block32VecRowTile<T, R>(p, r);
  for (; r < r1; r++) block32VecRowTile<T, 1>(p, r);
}

void q4kRows(const MatmulProblem& p, int64_t r0, int64_t r1) { q4kRowsFrom<Cfg>(p, r0, r0, r1); }
void q6kRows(const MatmulProblem& p, int64_t r0, int64_t r1) { q6kRowsFrom<Cfg>(p, r0, r1); }
void q2kRows(const MatmulProblem& p, int64_t r0, int64_t r1) { q2kRowsFrom<Cfg>(p, r0, r1); }
void q3kRows(const MatmulProblem& p, int64_t r0, int64_t r1) { q35kRowsFrom<Cfg, kQ3_K>(p, r0, r1); }
void q5kRows(const MatmulProblem& p, int64_t r0, int64_t r1) { q35kRowsFrom<Cfg, kQ5_K>(p, r0, r1); }
void iq4xsRows(const MatmulProblem& p, int64_t r0, int64_t r1) { iq4xsRowsFrom<Cfg>(p, r0, r1); }
void iq4nlRows(const MatmulProblem& p, int64_t r0, int64_t r1) { iq4nlRowsFrom<Cfg>(p, r0, r1); }

/** tinyBLAS tiles: 2 rows × 2 tokens (16 ymm accumulators' worth of registers). */
constexpr int kFloatRows = 2, kFloatTokens = 2;

template <B32 T>
constexpr TypeKernel block32Kernel() { return TypeKernel{block32Rows<T>, B32Traits<Cfg, T>::kCorr, quantizeQ8Rows}; }

const TypeKernel kF32Kernel{floatRows<vecDotF32<vec64<F32Src>>, forEachTile<Tiled16<F32Src>, kFloatRows, kFloatTokens>>, 0, nullptr};
const TypeKernel kF16Kernel{floatRows<vecDotF16<vec64<F16Src>>, forEachTile<Tiled16<F16Src>, kFloatRows, kFloatTokens>>, 0, quantizeF16Rows};
const TypeKernel kBF16Kernel{floatRows<dotBF16Vec, forEachTile<TiledBF16<Ymm16>, kFloatRows, kFloatTokens>>, 0, nullptr};
const TypeKernel kQ4_0Kernel = block32Kernel<B32::Q4_0>();
const TypeKernel kQ4_1Kernel = block32Kernel<B32::Q4_1>();
const TypeKernel kQ5_0Kernel = block32Kernel<B32::Q5_0>();
const TypeKernel kQ5_1Kernel = block32Kernel<B32::Q5_1>();
const TypeKernel kQ8_0Kernel = block32Kernel<B32::Q8_0>();
const TypeKernel kQ4_KKernel{q4kRows, 0, nullptr};
const TypeKernel kQ6_KKernel{q6kRows, 0, nullptr};
const TypeKernel kQ2_KKernel{q2kRows, 0, nullptr};
const TypeKernel kQ3_KKernel{q3kRows, 0, nullptr};
const TypeKernel kQ5_KKernel{q5kRows, 0, nullptr};
// IQ4_NL: signed table values (sign-trick dots), no activation correction
const TypeKernel kIQ4_NLKernel{iq4nlRows, B32Traits<Cfg, B32::IQ4_NL>::kCorr, quantizeQ8Rows};
const TypeKernel kIQ4_XSKernel{iq4xsRows, 0, nullptr};

const KernelTable kTable{&kF32Kernel, &kF16Kernel, &kBF16Kernel, &kQ4_0Kernel, &kQ4_1Kernel,
                         &kQ5_0Kernel, &kQ5_1Kernel, &kQ8_0Kernel, &kQ4_KKernel, &kQ6_KKernel,
                         &kQ2_KKernel, &kQ3_KKernel, &kQ5_KKernel,
                         &kIQ4_NLKernel, &kIQ4_XSKernel};

}  // namespace
}  // namespace x86

const KernelTable* avx2Kernels() { return &x86::kTable; }

}  // namespace ls
