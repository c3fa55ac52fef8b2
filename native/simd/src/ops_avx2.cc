// Row kernels for the AVX2 path: ops_rows.inc's scalar lanes compiled with FMA (one instruction
// per std::fmaf instead of a libm call); same results as every other path.
#include <cmath>
#include <cstdint>
#include <cstring>

#include "ops.h"

namespace ls {
namespace {

#include "ops_rows.inc"

const RowOps kOps = {siluMulRowLanes, ropeTokenLanes};

}  // namespace

const RowOps* avx2RowOps() { return &kOps; }

}  // namespace ls
