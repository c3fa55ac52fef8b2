// The AVX-512 kernel table (F/BW/VL/DQ + VNNI; built into the AVX-512 library, chosen at run time
// only on CPUs that have them). The kernels are in x86/avx512_*.cc; the activation quantizers are
// the ymm ones (x86/ymm.h), and the block-32 kernels read unsigned codes corrected by kCorr.
#include <immintrin.h>

#include "generic/kernels.h"
#include "generic/pack.h"
#include "x86/avx512.h"
#include "x86/ymm.h"
#include "x86/ymm_block32.h"
#include "x86/ymm_kquants_low.h"
#include "x86/ymm_iq4xs.h"

namespace ls {
namespace x86 {
namespace avx512 {
namespace {

template <B32 T>
constexpr int corrBias() { return B32Traits<Avx512Config, T>::kCorr; }

// Q2_K, Q3_K, Q5_K: the ymm row kernels (x86/ymm_kquants_low.h) with VNNI-sized token tiles
void q2kRows(const MatmulProblem& p, int64_t r0, int64_t r1) { q2kRowsFrom<Avx512Config>(p, r0, r1); }
void q3kRows(const MatmulProblem& p, int64_t r0, int64_t r1) { q35kRowsFrom<Avx512Config, kQ3_K>(p, r0, r1); }
void q5kRows(const MatmulProblem& p, int64_t r0, int64_t r1) { q35kRowsFrom<Avx512Config, kQ5_K>(p, r0, r1); }
// IQ4_XS: the ymm row kernel (x86/ymm_iq4xs.h)
void iq4xsRows(const MatmulProblem& p, int64_t r0, int64_t r1) { iq4xsRowsFrom<Avx512Config>(p, r0, r1); }

const TypeKernel kF32Kernel{f32Rows, 0, nullptr};
const TypeKernel kF16Kernel{f16Rows, 0, quantizeF16Rows};
const TypeKernel kBF16Kernel{bf16Rows, 0, nullptr};
const TypeKernel kQ4_0Kernel{q4_0Rows, corrBias<B32::Q4_0>(), quantizeQ8Rows, kPackRows};
const TypeKernel kQ4_1Kernel{q4_1Rows, corrBias<B32::Q4_1>(), quantizeQ8Rows};
const TypeKernel kQ5_0Kernel{q5_0Rows, corrBias<B32::Q5_0>(), quantizeQ8Rows};
const TypeKernel kQ5_1Kernel{q5_1Rows, corrBias<B32::Q5_1>(), quantizeQ8Rows};
const TypeKernel kQ8_0Kernel{q8_0Rows, corrBias<B32::Q8_0>(), quantizeQ8Rows};
const TypeKernel kQ4_KKernel{q4kRows, 0, nullptr, kPackRows};
const TypeKernel kQ6_KKernel{q6kRows, 0, nullptr};
const TypeKernel kQ2_KKernel{q2kRows, 0, nullptr};
const TypeKernel kQ3_KKernel{q3kRows, 0, nullptr};
const TypeKernel kQ5_KKernel{q5kRows, 0, nullptr};
const TypeKernel kIQ4_NLKernel{iq4nlRows, corrBias<B32::IQ4_NL>(), quantizeQ8Rows, kPackRows};
const TypeKernel kIQ4_XSKernel{iq4xsRows, 0, nullptr};

const KernelTable kTable{&kF32Kernel, &kF16Kernel, &kBF16Kernel, &kQ4_0Kernel, &kQ4_1Kernel,
                         &kQ5_0Kernel, &kQ5_1Kernel, &kQ8_0Kernel, &kQ4_KKernel, &kQ6_KKernel,
                         &kQ2_KKernel, &kQ3_KKernel, &kQ5_KKernel,
                         &kIQ4_NLKernel, &kIQ4_XSKernel};

}  // namespace
}  // namespace avx512
}  // namespace x86

const KernelTable* avx512Kernels() { return &x86::avx512::kTable; }

}  // namespace ls
