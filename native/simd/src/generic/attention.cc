// Attention in the baseline translation unit: the portable kernel (generic/attention_lanes.h)
// with exact half conversions in integer arithmetic, for the scalar path and NEON (aarch64
// compilers vectorize the lane loops with NEON and fuse fmaf into one instruction).
#include <cstdint>

#include "generic/attention.h"
#include "generic/attention_lanes.h"
#include "generic/flash_lanes.h"
#include "generic/kernels.h"
#include "generic/ops_lanes.h"

namespace ls {
namespace {

/** The half conversions of the baseline build, for attentionLanesTask. */
struct BaselineHalves {
  /**
   * n halves widened to f32, exact for every pattern like f16ToF32 (kernels.h) but branch-free, so
   * that compilers vectorize it: normals by moving the bits (exponent rebiased by 112), subnormals
   * as f32(mantissa) · 2^-24 (both exact, no subnormal f32 operand), inf/NaN with the payload kept.
   */
  static void widen(float* __restrict dst, const uint16_t* __restrict src, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
      const uint32_t h = src[i];
      const uint32_t exponent = h & 0x7c00u;
      const uint32_t mantissa = h & 0x3ffu;
      const uint32_t normal = ((h & 0x7fffu) << 13) + (112u << 23);
      const uint32_t subnormal = f32ToBits(static_cast<float>(static_cast<int32_t>(mantissa)) * 0x1p-24f);
      const uint32_t special = 0x7f800000u | (mantissa << 13);
      const uint32_t isSubnormal = 0u - static_cast<uint32_t>(exponent == 0);  // all ones or zero (no branch)
      const uint32_t isSpecial = 0u - static_cast<uint32_t>(exponent == 0x7c00u);
      const uint32_t magnitude = (subnormal & isSubnormal) | (special & isSpecial) | (normal & ~(isSubnormal | isSpecial));
      dst[i] = bitsToF32(((h & 0x8000u) << 16) | magnitude);
    }
  }

  /** x[i] ← f32(half(x[i])), round to nearest even. */
  static void roundToHalf(float* x, int64_t n) {
    for (int64_t i = 0; i < n; i++) x[i] = f16ToF32(f32ToF16(x[i]));
  }

  /** acc[i] ← half(acc[i] · v) (ggml_vec_scale_f16 with acc kept as f32 values of halves). */
  static void scaleToHalf(float* acc, float v, int64_t n) {
    for (int64_t i = 0; i < n; i++) acc[i] = f16ToF32(f32ToF16(acc[i] * v));
  }

  /** acc[i] ← half(fma(widen(x[i]), v, acc[i])) (ggml_vec_mad_f16). */
  static void madToHalf(float* acc, const uint16_t* x, float v, int64_t n) {
    for (int64_t i = 0; i < n; i++) acc[i] = f16ToF32(f32ToF16(std::fmaf(f16ToF32(x[i]), v, acc[i])));
  }

  static float toF32(uint16_t h) { return f16ToF32(h); }
  static float expf(float x) { return ggmlExpfLane(x); }
};

}  // namespace

AttentionKernel scalarAttentionKernel() { return lanes::attentionLanesTask<BaselineHalves>; }
FlashKernel scalarFlashKernel() { return flash::flashLanesRows<BaselineHalves>; }

}  // namespace ls
