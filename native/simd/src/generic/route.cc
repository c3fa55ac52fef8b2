// Which of llama.cpp's CPU paths computes each output (see Arith in kernels.h): the same decision
// as the TypeScript kernels' `route()` (src/engine/quant), checked against it shape by shape in
// test/engine/native/route.test.ts through the addon's `route()`.
#include "generic/kernels.h"

namespace ls {

Route routeFor(int weightType, int64_t nCols, int64_t nRows, int64_t nTokens) {
  const auto uniform = [](Arith arith) { return Route{arith, arith, 0}; };
  switch (weightType) {
    case kF32:
    case kF16:  // llamafile_sgemm takes batches of whole 16-value vectors and rows in fours
      return nTokens >= 2 && nCols % 16 == 0 && nRows % 4 == 0 ? Route{Arith::Tiled, Arith::VecDot, nTokens} : uniform(Arith::VecDot);
    case kBF16:
      return nTokens >= 2 && nCols % 32 == 0 && nRows % 4 == 0 ? Route{Arith::Tiled, Arith::VecDot, nTokens} : uniform(Arith::VecDot);
    case kQ4_0:  // the CPU_REPACK buffer holds Q4_0 weights with a multiple of 8 rows (q4_0_8x8)
      return uniform(nRows % 8 == 0 ? Arith::RepackedGemv : Arith::VecDot);
    case kIQ4_NL:  // iq4_nl_8x8 (Q4_0's repack template) for a multiple of 8 rows; else tinyBLAS_Q0_AVX takes batches
      if (nRows % 8 == 0) return uniform(Arith::RepackedGemv);
      return nTokens >= 2 ? Route{Arith::Tiled, Arith::VecDot, nTokens} : uniform(Arith::VecDot);
    case kQ2_K:
    case kQ4_K:  // q4_K_8x8 (and q2_K_8x8 on AVX-512): gemm for groups of 4 tokens when there are at least 4, gemv for the rest
      if (nRows % 8 != 0) return uniform(Arith::VecDot);
      return Route{Arith::RepackedGemm, Arith::RepackedGemv, nTokens > 3 ? nTokens - nTokens % 4 : 0};
    case kIQ4_XS:  // the IQ panel gemm (iqp.cpp) for a multiple of 8 rows and batches of at least 8 tokens; gemm and gemv add alike
      return uniform(nRows % 8 == 0 && nTokens >= 8 ? Arith::RepackedGemv : Arith::VecDot);
    default:
      return uniform(Arith::VecDot);
  }
}

const char* arithName(Arith arith) {
  switch (arith) {
    case Arith::Tiled: return "tiled";
    case Arith::RepackedGemv: return "repackedGemv";
    case Arith::RepackedGemm: return "repackedGemm";
    default: return "vecDot";
  }
}

}  // namespace ls
