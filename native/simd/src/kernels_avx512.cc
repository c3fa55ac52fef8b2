// AVX-512 kernels (F/BW/VL/DQ + VNNI; built with those flags, chosen at run time only on CPUs
// that have them): the x86 kernels with vpdpbusd integer dots, 32 vector registers and bigger
// tiles. The implementation is kernels_x86.inc.
#include <immintrin.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "blocks.h"
#include "kernels.h"

namespace ls {
namespace avx512 {
namespace {
using namespace ::ls;
#define LS_AVX512 1
#define LS_VNNI 1
#define LS_TOKEN_TILE 4
#define LS_FLOAT_ROWS 2
#define LS_FLOAT_TOKENS 4
#include "kernels_x86.inc"
}  // namespace
}  // namespace avx512

const TypeKernel* avx512Kernel(int weightType) { return avx512::kernelTable(weightType); }

}  // namespace ls
