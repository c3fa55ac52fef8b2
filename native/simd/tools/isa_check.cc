// Cross-ISA check without Node: runs the engine's matmul on fixed pseudo-random data for every
// weight type and several shapes, and its F16-cache attention for several shapes and steps, on
// every ISA path this CPU has, and prints one FNV-1a hash of the f32 outputs per case. Every ISA
// (and every architecture: e.g. an aarch64 build run under qemu-aarch64) must print the same
// hashes.
//
// Build and run: native/simd/tools/isa_check.sh (also runs an aarch64 build under qemu if it can).
// Includes resolve against native/simd/src (-I), as in binding.gyp.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "core/engine.h"
#include "generic/kernels.h"

namespace {

uint64_t rngState = 0x9E3779B97F4A7C15ull;
uint32_t nextU32() {
  rngState ^= rngState << 13;
  rngState ^= rngState >> 7;
  rngState ^= rngState << 17;
  return static_cast<uint32_t>(rngState >> 16);
}
float nextFloat() { return (static_cast<int>(nextU32() % 20001) - 10000) * 1e-4f; }

/** Random but valid weight rows: random codes, scales set to small normal halves. */
std::vector<uint8_t> makeWeights(int type, int64_t nCols, int64_t nRows) {
  const ls::TypeShape shape = ls::typeShape(type);
  const size_t nBytes = static_cast<size_t>(nCols / shape.blockValues) * shape.blockBytes * nRows;
  std::vector<uint8_t> w(nBytes);
  for (auto& byte : w) byte = static_cast<uint8_t>(nextU32());
  auto half = [](uint8_t* p) { const uint16_t h = ls::f32ToF16(0.001f + (nextU32() % 1000) * 1e-5f); std::memcpy(p, &h, 2); };
  for (size_t at = 0; at < nBytes; at += shape.blockBytes) {
    uint8_t* b = w.data() + at;
    switch (type) {
      case ls::kF32: { const float v = nextFloat(); std::memcpy(b, &v, 4); break; }
      case ls::kF16: { const uint16_t h = ls::f32ToF16(nextFloat()); std::memcpy(b, &h, 2); break; }
      case ls::kBF16: { const uint16_t h = ls::f32ToBf16(nextFloat()); std::memcpy(b, &h, 2); break; }
      case ls::kQ4_1: case ls::kQ5_1: case ls::kQ4_K: case ls::kQ5_K: half(b); half(b + 2); break;
      case ls::kQ6_K: half(b + 208); break;
      case ls::kQ2_K: half(b + 80); half(b + 82); break;
      case ls::kQ3_K: half(b + 108); break;
      default: half(b); break;
    }
  }
  return w;
}

uint64_t fnv(const std::vector<float>& v) {
  uint64_t h = 1469598103934665603ull;
  for (float f : v) {
    uint32_t bits;
    std::memcpy(&bits, &f, 4);
    for (int i = 0; i < 4; i++) h = (h ^ ((bits >> (8 * i)) & 0xff)) * 1099511628211ull;
  }
  return h;
}

/** Compares every ISA path and 1 / 2 threads on one call; prints the hash once, returns the failures. */
template <typename Call>
int checkAllPaths(const ls::Capabilities& caps, const char* label, size_t nOut, Call call) {
  uint64_t first = 0;
  int failures = 0;
  for (ls::Isa isa : {ls::Isa::Scalar, ls::Isa::Avx2, ls::Isa::Avx512, ls::Isa::Neon}) {
    if (!caps.available[static_cast<int>(isa)]) continue;
    ls::engineSetIsa(ls::isaName(isa));
    for (int threads : {1, 2}) {
      ls::engineSetThreads(threads, -1);
      std::vector<float> out(nOut);
      const ls::Status status = call(out);
      if (!status.ok()) { std::printf("error %s\n", status.message.c_str()); std::exit(2); }
      const uint64_t hash = fnv(out);
      if (first == 0) {
        first = hash;
        std::printf("%s %016llx\n", label, static_cast<unsigned long long>(hash));
      } else if (hash != first) {
        std::printf("  MISMATCH on %s, %d threads: %016llx\n", ls::isaName(isa), threads, static_cast<unsigned long long>(hash));
        failures++;
      }
    }
  }
  return failures;
}

/** Attention over an F16 cache: the dot shapes (vec/tiled, leftovers) and n_kv caps of attention.test.ts. */
int checkAttention(const ls::Capabilities& caps) {
  const int64_t shapes[][3] = {{4, 4, 8}, {8, 2, 64}, {6, 3, 72}, {2, 1, 6}};  // nHead, nHeadKv, headDim
  const int64_t steps[][3] = {{0, 7, 2048}, {40, 1, 2048}, {250, 7, 2048}, {290, 7, 300}};  // position, nTokens, maxPositions
  int failures = 0;
  for (const auto& shape : shapes) {
    for (const auto& step : steps) {
      const int64_t nHead = shape[0], nHeadKv = shape[1], headDim = shape[2];
      const int64_t position = step[0], nTokens = step[1], maxPositions = step[2];
      const size_t nQ = static_cast<size_t>(nTokens * nHead * headDim), nKv = static_cast<size_t>((position + nTokens) * nHeadKv * headDim);
      std::vector<float> q(nQ);
      std::vector<uint16_t> keys(nKv), values(nKv);
      for (float& v : q) v = nextFloat() * 4;
      for (uint16_t& k : keys) k = ls::f32ToF16(nextFloat() * 2);
      for (uint16_t& v : values) v = ls::f32ToF16(nextFloat());
      char label[96];
      std::snprintf(label, sizeof label, "attention %lldx%lldx%2lld p%3lld t%lld max%4lld", static_cast<long long>(nHead), static_cast<long long>(nHeadKv),
                    static_cast<long long>(headDim), static_cast<long long>(position), static_cast<long long>(nTokens), static_cast<long long>(maxPositions));
      failures += checkAllPaths(caps, label, nQ, [&](std::vector<float>& out) {
        bool computed = false;
        const ls::Status status = ls::engineAttention(out.data(), out.size(), q.data(), q.size(), keys.data(), keys.size(), values.data(), values.size(),
                                                      position, nTokens, nHead, nHeadKv, headDim, maxPositions, &computed);
        return computed || !status.ok() ? status : ls::Status{"NOT_COMPUTED", "attention declined"};
      });
    }
  }
  return failures;
}

/** Flash attention: its one-chunk, tiled and split-KV paths, a sliding window, headDim % 16 ≠ 0 and 16·k. */
int checkFlashAttention(const ls::Capabilities& caps) {
  const int64_t shapes[][3] = {{8, 2, 64}, {4, 4, 8}, {6, 3, 80}};  // nHead, nHeadKv, headDim
  const int64_t steps[][5] = {{0, 7, 2048, 0, 1}, {0, 70, 2048, 0, 2}, {300, 1, 1024, 0, 2}, {40, 1, 2048, 0, 2}, {10, 80, 512, 16, 1}};  // position, nTokens, maxPositions, window, kvChunks
  int failures = 0;
  for (const auto& shape : shapes) {
    for (const auto& step : steps) {
      const int64_t nHead = shape[0], nHeadKv = shape[1], headDim = shape[2];
      const int64_t position = step[0], nTokens = step[1], maxPositions = step[2], window = step[3], kvChunks = step[4];
      const size_t nQ = static_cast<size_t>(nTokens * nHead * headDim), nKv = static_cast<size_t>((position + nTokens) * nHeadKv * headDim);
      std::vector<float> q(nQ);
      std::vector<uint16_t> keys(nKv), values(nKv);
      for (float& v : q) v = nextFloat() * 4;
      for (uint16_t& k : keys) k = ls::f32ToF16(nextFloat() * 2);
      for (uint16_t& v : values) v = ls::f32ToF16(nextFloat());
      char label[112];
      std::snprintf(label, sizeof label, "attention flash %lldx%lldx%2lld p%3lld t%2lld max%4lld w%2lld c%lld", static_cast<long long>(nHead),
                    static_cast<long long>(nHeadKv), static_cast<long long>(headDim), static_cast<long long>(position), static_cast<long long>(nTokens),
                    static_cast<long long>(maxPositions), static_cast<long long>(window), static_cast<long long>(kvChunks));
      failures += checkAllPaths(caps, label, nQ, [&](std::vector<float>& out) {
        return ls::engineFlashAttention(out.data(), out.size(), q.data(), q.size(), keys.data(), keys.size(), values.data(), values.size(), position,
                                        nTokens, nHead, nHeadKv, headDim, maxPositions, 1.0f / std::sqrt(static_cast<float>(headDim)), window, kvChunks);
      });
    }
  }
  return failures;
}

}  // namespace

int main() {
  ls::engineInit(2);
  const ls::Capabilities caps = ls::engineCapabilities();
  const int types[] = {ls::kF32, ls::kF16, ls::kBF16, ls::kQ8_0, ls::kQ4_0, ls::kQ4_1, ls::kQ5_0, ls::kQ5_1, ls::kQ4_K, ls::kQ6_K,
                     ls::kQ2_K, ls::kQ3_K, ls::kQ5_K, ls::kIQ4_NL, ls::kIQ4_XS};
  const int64_t shapes[][2] = {{13, 1}, {13, 7}, {48, 1}, {48, 9}, {48, 17}};  // 17 tokens: the AVX-512 panels of every type
  int failures = 0;
  for (int type : types) {
    const int block = ls::typeShape(type).blockValues;
    // floats: 205 values (vec_dot leftovers) and 256 (tinyBLAS batches)
    for (const int64_t nCols : {block == 256 ? int64_t(512) : block == 32 ? int64_t(224) : int64_t(205), block == 1 ? int64_t(256) : int64_t(0)})
    for (const auto& shape : shapes) {
      if (nCols == 0) continue;
      const int64_t nRows = shape[0], nTokens = shape[1];
      const std::vector<uint8_t> w = makeWeights(type, nCols, nRows);
      std::vector<float> x(nCols * nTokens);
      for (float& v : x) v = nextFloat();
      char label[64];
      std::snprintf(label, sizeof label, "type %2d %3lldx%2lld t%lld", type, static_cast<long long>(nCols), static_cast<long long>(nRows),
                    static_cast<long long>(nTokens));
      failures += checkAllPaths(caps, label, static_cast<size_t>(nRows * nTokens), [&](std::vector<float>& out) {
        return ls::engineMatmul(out.data(), out.size(), w.data(), w.size(), type, x.data(), x.size(), nCols, nRows, nTokens);
      });
    }
  }
  failures += checkAttention(caps);
  failures += checkFlashAttention(caps);
  std::printf("%s\n", failures == 0 ? "all ISA paths agree" : "ISA paths DISAGREE");
  return failures == 0 ? 0 : 1;
}
