// Every helper here is `static inline`: this header is compiled into translation units with
// different target flags (AVX2, AVX-512), and internal linkage keeps the linker from picking
// one ISA's copy for all of them.
// ggml block layouts for the weight types the kernels read, pinned by static_asserts
// (ggml-common.h), and exact f16/bf16 <-> f32 conversions in integer arithmetic.
#pragma once

#include <cstdint>
#include <cstring>

namespace ls {

// ggml type numbers (GgmlType in src/engine/ggml/types.ts)
enum WeightType : int {
  kF32 = 0,
  kF16 = 1,
  kQ4_0 = 2,
  kQ4_1 = 3,
  kQ5_0 = 6,
  kQ5_1 = 7,
  kQ8_0 = 8,
  kQ4_K = 12,
  kQ6_K = 14,
  kBF16 = 30,
};

constexpr int kQK = 32;    // values per block of the _0/_1 types
constexpr int kQK_K = 256; // values per super-block of the K-quants

typedef uint16_t f16_bits;

struct BlockQ4_0 { f16_bits d; uint8_t qs[kQK / 2]; };
struct BlockQ4_1 { f16_bits d; f16_bits m; uint8_t qs[kQK / 2]; };
struct BlockQ5_0 { f16_bits d; uint8_t qh[4]; uint8_t qs[kQK / 2]; };
struct BlockQ5_1 { f16_bits d; f16_bits m; uint8_t qh[4]; uint8_t qs[kQK / 2]; };
struct BlockQ8_0 { f16_bits d; int8_t qs[kQK]; };
struct BlockQ4_K { f16_bits d; f16_bits dmin; uint8_t scales[12]; uint8_t qs[kQK_K / 2]; };
struct BlockQ6_K { uint8_t ql[kQK_K / 2]; uint8_t qh[kQK_K / 4]; int8_t scales[kQK_K / 16]; f16_bits d; };

static_assert(sizeof(BlockQ4_0) == 18, "block_q4_0 is 18 bytes");
static_assert(sizeof(BlockQ4_1) == 20, "block_q4_1 is 20 bytes");
static_assert(sizeof(BlockQ5_0) == 22, "block_q5_0 is 22 bytes");
static_assert(sizeof(BlockQ5_1) == 24, "block_q5_1 is 24 bytes");
static_assert(sizeof(BlockQ8_0) == 34, "block_q8_0 is 34 bytes");
static_assert(sizeof(BlockQ4_K) == 144, "block_q4_K is 144 bytes");
static_assert(sizeof(BlockQ6_K) == 210, "block_q6_K is 210 bytes");

/** Values per block and bytes per block of a weight type; blockBytes 0 for unsupported types. */
struct TypeShape { int blockValues; int blockBytes; };

static inline TypeShape typeShape(int type) {
  switch (type) {
    case kF32: return {1, 4};
    case kF16: return {1, 2};
    case kBF16: return {1, 2};
    case kQ4_0: return {kQK, 18};
    case kQ4_1: return {kQK, 20};
    case kQ5_0: return {kQK, 22};
    case kQ5_1: return {kQK, 24};
    case kQ8_0: return {kQK, 34};
    case kQ4_K: return {kQK_K, 144};
    case kQ6_K: return {kQK_K, 210};
    default: return {0, 0};
  }
}

static inline uint16_t loadU16(const void* p) { uint16_t v; std::memcpy(&v, p, 2); return v; }
static inline uint32_t loadU32(const void* p) { uint32_t v; std::memcpy(&v, p, 4); return v; }

static inline float bitsToF32(uint32_t bits) { float f; std::memcpy(&f, &bits, 4); return f; }
static inline uint32_t f32ToBits(float f) { uint32_t bits; std::memcpy(&bits, &f, 4); return bits; }

/** IEEE half → f32, exact for every pattern (subnormals, inf, NaN payload kept). */
static inline float f16ToF32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t exponent = (h >> 10) & 0x1fu;
  uint32_t mantissa = h & 0x3ffu;
  if (exponent == 0x1f) return bitsToF32(sign | 0x7f800000u | (mantissa << 13));
  if (exponent == 0) {
    if (mantissa == 0) return bitsToF32(sign);
    // subnormal: normalize
    int shift = 0;
    while ((mantissa & 0x400u) == 0) { mantissa <<= 1; shift++; }
    mantissa &= 0x3ffu;
    return bitsToF32(sign | (static_cast<uint32_t>(113 - shift) << 23) | (mantissa << 13));
  }
  return bitsToF32(sign | ((exponent + 112) << 23) | (mantissa << 13));
}

/** f32 → IEEE half with round-to-nearest-even (what F16C `vcvtps2ph imm=0` and ggml compute). */
static inline uint16_t f32ToF16(float value) {
  const uint32_t bits = f32ToBits(value);
  const uint32_t sign = (bits >> 16) & 0x8000u;
  const uint32_t absBits = bits & 0x7fffffffu;
  if (absBits >= 0x7f800000u) {  // inf or NaN (NaN stays quiet NaN)
    return static_cast<uint16_t>(sign | 0x7c00u | (absBits > 0x7f800000u ? (0x200u | ((absBits >> 13) & 0x3ffu)) : 0u));
  }
  if (absBits >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // rounds to ≥ 65520 → inf
  const int32_t exponent = static_cast<int32_t>(absBits >> 23) - 127;
  if (exponent >= -14) {  // normal half
    uint32_t mant = absBits & 0x7fffffu;
    uint32_t half = (static_cast<uint32_t>(exponent + 15) << 10) | (mant >> 13);
    const uint32_t rest = mant & 0x1fffu;
    if (rest > 0x1000u || (rest == 0x1000u && (half & 1u))) half++;  // carry into exponent is correct
    return static_cast<uint16_t>(sign | half);
  }
  if (exponent < -25) return static_cast<uint16_t>(sign);  // below half the smallest subnormal
  // subnormal half: value = m × 2^-24, m = round(absValue × 2^24)
  const uint32_t mant = (absBits & 0x7fffffu) | 0x800000u;
  const int shift = -exponent - 1;  // 14..24 : mant × 2^(exponent-23) × 2^24 = mant >> (-exponent-1)
  uint32_t m = mant >> shift;
  const uint32_t rest = mant & ((1u << shift) - 1u);
  const uint32_t halfway = 1u << (shift - 1);
  if (rest > halfway || (rest == halfway && (m & 1u))) m++;
  return static_cast<uint16_t>(sign | m);
}

static inline float bf16ToF32(uint16_t h) { return bitsToF32(static_cast<uint32_t>(h) << 16); }

/** f32 → bf16 like ggml's GGML_FP32_TO_BF16: NaN → quiet NaN, else round-to-nearest-even. */
static inline uint16_t f32ToBf16(float value) {
  const uint32_t bits = f32ToBits(value);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((bits >> 16) | 64u);
  return static_cast<uint16_t>((bits + (0x7fffu + ((bits >> 16) & 1u))) >> 16);
}

/** The 6-bit scale and min of sub-block j (0..7) of a Q4_K super-block (ggml get_scale_min_k4). */
static inline void q4kScaleMin(int j, const uint8_t* q, uint8_t* scale, uint8_t* min) {
  if (j < 4) {
    *scale = q[j] & 63;
    *min = q[j + 4] & 63;
  } else {
    *scale = static_cast<uint8_t>((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
    *min = static_cast<uint8_t>((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
  }
}

}  // namespace ls
