// Builds for other architectures than x86-64: no AVX2 / AVX-512 kernels (generic/cpu.cc never
// selects those paths there; the engine then runs the scalar or NEON ones).
#include "generic/attention.h"
#include "generic/kernels.h"
#include "generic/ops.h"

namespace ls {

const KernelTable* avx2Kernels() { return nullptr; }
const KernelTable* avx512Kernels() { return nullptr; }
AttentionKernel avx512AttentionKernel() { return nullptr; }
AttentionKernel avx2AttentionKernel() { return nullptr; }
FlashKernel avx2FlashKernel() { return nullptr; }
FlashKernel avx512FlashKernel() { return nullptr; }
const RowOps* avx2RowOps() { return nullptr; }
const RowOps* avx512RowOps() { return nullptr; }

}  // namespace ls
