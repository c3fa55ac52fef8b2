// Non-x86 builds: no AVX2 / AVX-512 kernels (cpu.cc never selects them there).
#include "attention.h"
#include "kernels.h"
#include "ops.h"

namespace ls {

const TypeKernel* avx2Kernel(int) { return nullptr; }
const TypeKernel* avx512Kernel(int) { return nullptr; }
AttentionKernel avx512AttentionKernel() { return nullptr; }
AttentionKernel avx2AttentionKernel() { return nullptr; }
const RowOps* avx2RowOps() { return nullptr; }
const RowOps* avx512RowOps() { return nullptr; }

}  // namespace ls
