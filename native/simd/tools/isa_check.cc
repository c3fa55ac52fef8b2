// Cross-ISA check without Node: runs the engine's matmul on fixed pseudo-random data for every
// weight type and several shapes, on every ISA path this CPU has, and prints one FNV-1a hash of
// the f32 outputs per case. Every ISA (and every architecture: e.g. an aarch64 build run under
// qemu-aarch64) must print the same hashes.
//
// Build and run: native/simd/tools/isa_check.sh (also runs an aarch64 build under qemu if it can).
#include <cstdio>
#include <cstring>
#include <vector>

#include "../src/blocks.h"
#include "../src/cpu.h"
#include "../src/engine.h"

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
      case ls::kQ4_1: case ls::kQ5_1: case ls::kQ4_K: half(b); half(b + 2); break;
      case ls::kQ6_K: half(b + 208); break;
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

}  // namespace

int main() {
  ls::engineInit(2);
  const ls::Capabilities caps = ls::engineCapabilities();
  const int types[] = {ls::kF32, ls::kF16, ls::kBF16, ls::kQ8_0, ls::kQ4_0, ls::kQ4_1, ls::kQ5_0, ls::kQ5_1, ls::kQ4_K, ls::kQ6_K};
  const int64_t shapes[][2] = {{13, 1}, {13, 7}, {48, 1}, {48, 9}};
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
      uint64_t first = 0;
      for (ls::Isa isa : {ls::Isa::Scalar, ls::Isa::Avx2, ls::Isa::Avx512, ls::Isa::Neon}) {
        if (!caps.available[static_cast<int>(isa)]) continue;
        ls::engineSetIsa(ls::isaName(isa));
        for (int threads : {1, 2}) {
          ls::engineSetThreads(threads, -1);
          std::vector<float> out(nRows * nTokens);
          const ls::Status status = ls::engineMatmul(out.data(), out.size(), w.data(), w.size(), type, x.data(), x.size(), nCols, nRows, nTokens);
          if (!status.ok()) { std::printf("error %s\n", status.message.c_str()); return 2; }
          const uint64_t hash = fnv(out);
          if (first == 0) {
            first = hash;
            std::printf("type %2d %3lldx%2lld t%lld %016llx\n", type, static_cast<long long>(nCols), static_cast<long long>(nRows),
                        static_cast<long long>(nTokens), static_cast<unsigned long long>(hash));
          } else if (hash != first) {
            std::printf("  MISMATCH on %s, %d threads: %016llx\n", ls::isaName(isa), threads, static_cast<unsigned long long>(hash));
            failures++;
          }
        }
      }
    }
  }
  std::printf("%s\n", failures == 0 ? "all ISA paths agree" : "ISA paths DISAGREE");
  return failures == 0 ? 0 : 1;
}
