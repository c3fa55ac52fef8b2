// Row kernels in the baseline translation unit: the scalar path (every ISA without its own) and
// RMSNorm, whose in-order double sum leaves nothing for SIMD to speed up.
#include <cmath>
#include <cstdint>

#include "generic/ops.h"
#include "generic/ops_lanes.h"

namespace ls {
namespace {

const RowOps kOps = {siluMulRowLanes, ropeTokenLanes, toHalfLanes};

}  // namespace

const RowOps* scalarRowOps() { return &kOps; }

void rmsNormRow(float* out, const float* x, const float* weight, int64_t n, double eps) {
  double sumSquares = 0;
  for (int64_t i = 0; i < n; i++) sumSquares += static_cast<double>(x[i] * x[i]);
  const float mean = static_cast<float>(sumSquares / static_cast<double>(n));
  const float shifted = static_cast<float>(static_cast<double>(mean) + eps);
  const float scale = 1.0f / std::sqrt(shifted);
  for (int64_t i = 0; i < n; i++) out[i] = (x[i] * scale) * weight[i];
}

}  // namespace ls
