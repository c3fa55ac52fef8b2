// AVX2 + FMA + F16C kernels (built with -mavx2 -mfma -mf16c; chosen at run time only on CPUs
// that have them). The implementation is kernels_x86.inc.
#include <immintrin.h>

#include <cmath>
#include <cstring>

#include "blocks.h"
#include "kernels.h"

namespace ls {
namespace avx2 {
namespace {
using namespace ::ls;
#define LS_AVX512 0
#define LS_VNNI 0
#define LS_TOKEN_TILE 2
#define LS_FLOAT_ROWS 2
#define LS_FLOAT_TOKENS 2
#include "kernels_x86.inc"
}  // namespace
}  // namespace avx2

const TypeKernel* avx2Kernel(int weightType) { return avx2::kernelTable(weightType); }

}  // namespace ls
