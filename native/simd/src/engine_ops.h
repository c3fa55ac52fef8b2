// Entry points for the row-wise operations (ops.h): size checks, the ISA's kernels, rows spread
// over the thread pool for batches. Results do not depend on the ISA path or the thread count.
#pragma once

#include <cstddef>
#include <cstdint>

#include "engine.h"

namespace ls {

/** gate f32 [rows, n] = silu(gate) · up (up f32 [rows, n]), row by row (RowOps::siluMulRow). */
Status engineSiluMul(float* gate, size_t gateLength, const float* up, size_t upLength, int64_t n, int64_t rows);

/** out f32 [nTokens, n] = rmsNormRow of each row of x f32 [nTokens, n] with weight f32 [n]. */
Status engineRmsNorm(float* out, size_t outLength, const float* x, size_t xLength, const float* weight, size_t weightLength,
                     int64_t n, int64_t nTokens, double eps);

/**
 * RoPE over nTokens tokens of x, token t starting at x[t * tokenStride] (nHeads heads, headDim
 * apart), with the cos/sin row t of cosSin f32 [nTokens, nRot] (RowOps::ropeToken).
 */
Status engineRope(float* x, size_t xLength, int64_t nTokens, int64_t tokenStride, int64_t nHeads, int64_t headDim,
                  const float* cosSin, size_t cosSinLength, int64_t nRot, bool neox);

}  // namespace ls
