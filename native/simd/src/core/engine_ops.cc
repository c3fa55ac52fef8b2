// Entry points for the row-wise operations (generic/ops.h): size checks, the ISA's kernels, rows
// spread over the thread pool for batches. Results do not depend on the ISA path or the thread count.
#include <cstdint>
#include <string>

#include "core/engine.h"
#include "core/threadpool.h"
#include "generic/ops.h"

namespace ls {
namespace {

Status error(const char* code, std::string message) { return Status{code, std::move(message)}; }

const RowOps* rowOpsFor(Isa isa) {
  const RowOps* ops = nullptr;
  switch (isa) {
    case Isa::Avx512: ops = avx512RowOps(); if (ops) break; [[fallthrough]];
    case Isa::Avx2: ops = avx2RowOps(); break;
    default: break;
  }
  return ops ? ops : scalarRowOps();
}

/**
 * Runs fn(row) for rows [0, nRows): on the pool when there are at least 2 rows and `nValues`
 * (the work, in values touched) is worth waking threads for, else on the calling thread.
 */
template <typename RowFn>
void forEachRow(ThreadPool* pool, int64_t nRows, int64_t nValues, const RowFn& fn) {
  constexpr int64_t kMinValuesForPool = 16 * 1024;
  if (!pool || pool->threadCount() == 1 || nRows < 2 || nValues < kMinValuesForPool) {
    for (int64_t r = 0; r < nRows; r++) fn(r);
    return;
  }
  pool->forEach(nRows, nValues >= 4 * kMinValuesForPool, fn);
}

bool fits(size_t length, int64_t count) { return count >= 0 && static_cast<uint64_t>(count) <= length; }

}  // namespace

Status engineSiluMul(float* gate, size_t gateLength, const float* up, size_t upLength, int64_t n, int64_t rows) {
  if (n < 0 || rows < 0 || (n > 0 && rows > INT64_MAX / n)) return error("INVALID_ARGUMENT", "siluMul: n and rows out of range");
  if (!fits(gateLength, n * rows) || !fits(upLength, n * rows)) {
    return error("SHAPE_MISMATCH", "siluMul: gate and up need " + std::to_string(n * rows) + " values");
  }
  EngineLease lease = leaseEngine();
  const RowOps* ops = rowOpsFor(lease.isa);
  forEachRow(lease.pool, rows, n * rows, [&](int64_t r) { ops->siluMulRow(gate + r * n, up + r * n, n); });
  return {};
}

Status engineRmsNorm(float* out, size_t outLength, const float* x, size_t xLength, const float* weight, size_t weightLength,
                     int64_t n, int64_t nTokens, double eps) {
  if (n < 0 || nTokens < 0 || (n > 0 && nTokens > INT64_MAX / n)) return error("INVALID_ARGUMENT", "rmsNorm: n and nTokens out of range");
  if (!fits(outLength, n * nTokens) || !fits(xLength, n * nTokens) || !fits(weightLength, n)) {
    return error("SHAPE_MISMATCH", "rmsNorm: out and x need " + std::to_string(n * nTokens) + " values, weight " + std::to_string(n));
  }
  EngineLease lease = leaseEngine();
  forEachRow(lease.pool, nTokens, n * nTokens, [&](int64_t t) { rmsNormRow(out + t * n, x + t * n, weight, n, eps); });
  return {};
}

Status engineToHalf(uint16_t* dst, size_t dstLength, int64_t dstOffset, const float* src, size_t srcLength) {
  if (dstOffset < 0 || !fits(dstLength, dstOffset) || !fits(dstLength - static_cast<size_t>(dstOffset), static_cast<int64_t>(srcLength))) {
    return error("SHAPE_MISMATCH", "toHalf: " + std::to_string(srcLength) + " values do not fit at offset " + std::to_string(dstOffset) + " of " + std::to_string(dstLength));
  }
  EngineLease lease = leaseEngine();
  rowOpsFor(lease.isa)->toHalfRow(dst + dstOffset, src, static_cast<int64_t>(srcLength));
  return {};
}

Status engineRope(float* x, size_t xLength, int64_t nTokens, int64_t tokenStride, int64_t nHeads, int64_t headDim,
                  const float* cosSin, size_t cosSinLength, int64_t nRot, bool neox) {
  const int64_t limit = int64_t(1) << 31;
  if (nTokens >= limit || tokenStride >= limit || nHeads >= limit || headDim >= limit || nRot >= limit) {
    return error("INVALID_ARGUMENT", "rope: shape out of range");
  }
  if (nRot % 2 != 0 || nRot > headDim) return error("SHAPE_MISMATCH", "rope: nRot must be even and at most headDim");
  if (nTokens > 1 && tokenStride < nHeads * headDim) return error("SHAPE_MISMATCH", "rope: tokens overlap (tokenStride < nHeads * headDim)");
  if (nTokens == 0 || nHeads == 0) return {};
  if (!fits(xLength, (nTokens - 1) * tokenStride + nHeads * headDim)) return error("SHAPE_MISMATCH", "rope: x is too short for the tokens");
  if (!fits(cosSinLength, nTokens * nRot)) return error("SHAPE_MISMATCH", "rope: cosSin needs " + std::to_string(nTokens * nRot) + " values");
  EngineLease lease = leaseEngine();
  const RowOps* ops = rowOpsFor(lease.isa);
  forEachRow(lease.pool, nTokens, nTokens * nHeads * nRot, [&](int64_t t) {
    ops->ropeToken(x + t * tokenStride, nHeads, headDim, cosSin + t * nRot, nRot, neox);
  });
  return {};
}

}  // namespace ls
