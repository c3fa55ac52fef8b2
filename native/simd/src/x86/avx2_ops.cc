// Row kernels for the AVX2 path: generic/ops_lanes.h compiled with FMA (one instruction per
// std::fmaf instead of a libm call); same results as every other path.
#include "generic/ops.h"
#include "generic/ops_lanes.h"

namespace ls {
namespace {

const RowOps kOps = {siluMulRowLanes, ropeTokenLanes, toHalfLanes};

}  // namespace

const RowOps* avx2RowOps() { return &kOps; }

}  // namespace ls
