// Q4_K on AVX-512, shared by x86/avx512_kquants.cc (weights in the file's row order) and
// x86/avx512_q4k_packed.cc (weights packed in 16-row tiles, generic/pack.h kQ4kTiles16): the
// 16-row panel of the repacked gemm, which either order fills, and the packed gemv.
#pragma once

#include <cstddef>
#include <cstdint>

#include "generic/kernels.h"

namespace ls {
namespace x86 {
namespace avx512 {

/** One super-block of a 16-row Q4_K panel. */
struct Q4kPanel {
  static constexpr size_t kCodes = 0;                   // u8 [8 sub-blocks][8 dwords][16 rows][4]
  static constexpr size_t kScales = kCodes + 8 * 512;   // f32 [8 sub-blocks][16 rows]
  static constexpr size_t kMins = kScales + 8 * 64;     // int16 pairs (m₂ⱼ, m₂ⱼ₊₁) [4][16 rows]
  static constexpr size_t kD = kMins + 4 * 64;          // f32 [16 rows]
  static constexpr size_t kDmin = kD + 64;              // f32 [16 rows]
  static constexpr size_t kBytes = kDmin + 64;
};

/** The panel of packed rows [row0, row0 + 16): the same bytes fillQ4kPanel makes of them in row order. */
void fillQ4kPanelPacked(const MatmulProblem& p, int64_t row0, uint8_t* panel);

/**
 * Tokens [token0, p.nTokens) of packed rows [r0, r1) (whole tiles) with the repacked gemv's
 * arithmetic (q4kTile<Arith::RepackedGemv>), 16 rows per zmm.
 */
void q4kPackedGemvRows(const MatmulProblem& p, int64_t r0, int64_t r1, int64_t token0);

}  // namespace avx512
}  // namespace x86
}  // namespace ls
