// Activation quantizers: scalar code in the baseline translation unit, bit-exact with
// llama.cpp's x86 build (see quantizeActs in kernels.h). Compiled with -ffp-contract=off.
#include <cmath>
#include <cstring>

#include "generic/kernels.h"

namespace ls {

namespace {

constexpr size_t kAlign = 64;

size_t alignUp(size_t n) { return (n + kAlign - 1) & ~(kAlign - 1); }

/**
 * round half to even (`_mm256_round_ps(_MM_ROUND_NEAREST)`, `cvtps_epi32`, `packs`) for
 * |v| ≤ 2^22: adding and subtracting 1.5·2^23 rounds to an integer in the current (nearest-even)
 * mode. Inlines and vectorizes, unlike a libm call per value.
 */
inline int8_t roundToI8(float v) {
  const float r = (v + 12582912.f) - 12582912.f;
  if (!(r >= -128.0f)) return -128;  // also NaN: cvtps_epi32 gives INT_MIN, packs saturates
  if (r > 127.0f) return 127;
  return static_cast<int8_t>(static_cast<int>(r));
}

/** ggml `nearest_int`: round half to even by adding 1.5·2^23 (valid for |v| ≤ 4194303). */
int nearestInt(float v) {
  const float shifted = v + 12582912.f;
  int32_t bits;
  std::memcpy(&bits, &shifted, 4);
  return (bits & 0x007fffff) - 0x00400000;
}

void quantizeQ8Block(const float* x, int8_t* qs, float* dOut, float* sOut) {
  float amax = 0.0f;
  for (int i = 0; i < kQK; i++) {
    const float a = std::fabs(x[i]);
    amax = amax > a ? amax : a;
  }
  const float d = amax / 127.f;
  const float id = amax != 0.0f ? 127.f / amax : 0.0f;
  int sum = 0;
  for (int i = 0; i < kQK; i++) {
    qs[i] = roundToI8(x[i] * id);
    sum += qs[i];
  }
  *dOut = f16ToF32(f32ToF16(d));
  if (sOut) *sOut = f16ToF32(f32ToF16(d * static_cast<float>(sum)));
}

void quantizeQ8KBlock(const float* x, int8_t* qs, float* dOut, int16_t* bsums, bool positiveFirst) {
  float max = 0.0f;
  float amax = 0.0f;
  for (int i = 0; i < kQK_K; i++) {
    const float ax = std::fabs(x[i]);
    if (ax > amax) {
      amax = ax;
      max = x[i];
    }
  }
  if (amax == 0.0f) {
    *dOut = 0.0f;
    std::memset(qs, 0, kQK_K);
    std::memset(bsums, 0, sizeof(int16_t) * 16);
    return;
  }
  if (positiveFirst && max < 0) {
    for (int i = 0; i < kQK_K; i++) {
      if (x[i] == amax) max = amax;
    }
  }
  const float iscale = -127.f / max;
  for (int i = 0; i < kQK_K; i++) {
    const int v = nearestInt(iscale * x[i]);
    qs[i] = static_cast<int8_t>(v < 127 ? v : 127);
  }
  for (int j = 0; j < kQK_K / 16; j++) {
    int sum = 0;
    for (int i = 0; i < 16; i++) sum += qs[j * 16 + i];
    bsums[j] = static_cast<int16_t>(sum);
  }
  *dOut = 1 / iscale;
}

}  // namespace

ActKind actKindFor(int weightType) {
  switch (weightType) {
    case kF16: return ActKind::F16;
    case kBF16: return ActKind::BF16;
    case kQ4_0: case kQ5_0: case kQ8_0: case kIQ4_NL: return ActKind::Q8_0;
    case kQ4_1: case kQ5_1: return ActKind::Q8_1;
    case kQ2_K: case kQ3_K: case kQ4_K: case kQ5_K: case kQ6_K: case kIQ4_XS: return ActKind::Q8_K;
    default: return ActKind::F32;
  }
}

ActLayout actLayout(ActKind kind, int64_t nCols, int corrBias) {
  ActLayout l{};
  l.kind = kind;
  l.nCols = nCols;
  l.corrBias = corrBias;
  size_t at = 0;
  switch (kind) {
    case ActKind::F32: l.nBlocks = nCols; l.values = 0; at = alignUp(nCols * 4); break;
    case ActKind::F16:
    case ActKind::BF16: l.nBlocks = nCols; l.values = 0; at = alignUp(nCols * 2); break;
    case ActKind::Q8_0:
    case ActKind::Q8_1:
      l.nBlocks = nCols / kQK;
      l.qs = 0; at = alignUp(nCols);
      l.d = at; at = alignUp(at + l.nBlocks * 4);
      if (kind == ActKind::Q8_1) { l.s = at; at = alignUp(at + l.nBlocks * 4); }
      if (corrBias != 0) {
        l.corr = at; at = alignUp(at + l.nBlocks * 32);
        l.corrSum = at; at = alignUp(at + l.nBlocks * 4);
      }
      break;
    case ActKind::Q8_K:
      l.nBlocks = nCols / kQK_K;
      l.qs = 0; at = alignUp(nCols);
      l.d = at; at = alignUp(at + l.nBlocks * 4);
      l.bsums = at; at = alignUp(at + l.nBlocks * 32);
      break;
  }
  l.tokenBytes = at;
  return l;
}

void quantizeActs(const ActLayout& l, const float* x, uint8_t* act, int64_t tokenBegin, int64_t tokenEnd) {
  for (int64_t t = tokenBegin; t < tokenEnd; t++) {
    const float* xt = x + t * l.nCols;
    uint8_t* base = act + t * l.tokenBytes;
    switch (l.kind) {
      case ActKind::F32:
        std::memcpy(base, xt, l.nCols * 4);
        break;
      case ActKind::F16: {
        uint16_t* out = reinterpret_cast<uint16_t*>(base);
        for (int64_t i = 0; i < l.nCols; i++) out[i] = f32ToF16(xt[i]);
        break;
      }
      case ActKind::BF16: {
        uint16_t* out = reinterpret_cast<uint16_t*>(base);
        for (int64_t i = 0; i < l.nCols; i++) out[i] = f32ToBf16(xt[i]);
        break;
      }
      case ActKind::Q8_0:
      case ActKind::Q8_1: {
        int8_t* qs = reinterpret_cast<int8_t*>(base + l.qs);
        float* d = reinterpret_cast<float*>(base + l.d);
        float* s = l.kind == ActKind::Q8_1 ? reinterpret_cast<float*>(base + l.s) : nullptr;
        for (int64_t b = 0; b < l.nBlocks; b++) {
          quantizeQ8Block(xt + b * kQK, qs + b * kQK, d + b, s ? s + b : nullptr);
        }
        if (l.corrBias != 0) {
          int32_t* corr = reinterpret_cast<int32_t*>(base + l.corr);
          for (int64_t k = 0; k < l.nCols / 4; k++) {
            const int sum4 = qs[4 * k] + qs[4 * k + 1] + qs[4 * k + 2] + qs[4 * k + 3];
            corr[k] = -l.corrBias * sum4;
          }
          int32_t* corrSum = reinterpret_cast<int32_t*>(base + l.corrSum);
          for (int64_t b = 0; b < l.nBlocks; b++) {
            int32_t sum = 0;
            for (int k = 0; k < 8; k++) sum += corr[8 * b + k];
            corrSum[b] = sum;
          }
        }
        break;
      }
      case ActKind::Q8_K: {
        int8_t* qs = reinterpret_cast<int8_t*>(base + l.qs);
        float* d = reinterpret_cast<float*>(base + l.d);
        int16_t* bsums = reinterpret_cast<int16_t*>(base + l.bsums);
        for (int64_t b = 0; b < l.nBlocks; b++) {
          quantizeQ8KBlock(xt + b * kQK_K, qs + b * kQK_K, d + b, bsums + b * 16, t < l.q8kPositiveFirstTokens);
        }
        break;
      }
    }
  }
}

}  // namespace ls
