// The addon's state and entry points, independent of N-API: ISA choice, thread pool,
// activation scratch, and the matmul driver.
#pragma once

#include <cstdint>
#include <string>

#include "kernels.h"

namespace ls {

/** Result of a call: empty `code` on success, else an error code and message for JS. */
struct Status {
  std::string code;
  std::string message;
  bool ok() const { return code.empty(); }
};

struct Capabilities {
  Isa isa;
  int threads;
  int spinMicros;
  const char* compiler;
  bool available[4];  // indexed by Isa
};

/** Reads LAYERSTREAM_SIMD once and starts the pool with `defaultThreads` threads. */
void engineInit(int defaultThreads);

Capabilities engineCapabilities();

/** Default for how long idle workers poll before sleeping (covers the gaps of a decode step). */
constexpr int kDefaultSpinMicros = 5000;

/** Resizes the pool; spinMicros < 0 keeps the current spin time. */
Status engineSetThreads(int nThreads, int spinMicros);

Status engineSetIsa(const char* name);

/** out f32 [nTokens, nRows] = x f32 [nTokens, nCols] · weight [nRows, nCols]ᵀ; sizes checked. */
Status engineMatmul(float* out, size_t outLength, const uint8_t* weight, size_t weightBytes, int weightType,
                    const float* x, size_t xLength, int64_t nCols, int64_t nRows, int64_t nTokens);

}  // namespace ls
