// Scalar row kernels shared by every ISA's translation unit (static inline only: each TU gets
// its own copy compiled with its own target flags; with FMA enabled std::fmaf is one
// instruction, otherwise a libm call with the same, correctly rounded, result). The arithmetic
// is the TypeScript reference's (src/engine/model/ops.ts, rope.ts, src/engine/quant/simd.ts).
// ggmlExpfLane is also the softmax exp of the portable attention (generic/attention_lanes.h).
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

namespace ls {

/** 2^e as f32 for −126 ≤ e ≤ 127 (exponent bits). */
static inline float pow2Lane(int32_t e) {
  const uint32_t bits = static_cast<uint32_t>(e + 127) << 23;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

/** One lane of ggml_v_expf (vec.h, AVX-512 variant), as expfAvx512 in simd.ts. */
static inline float ggmlExpfLane(float x) {
  const float z = std::fmaf(x, 0x1.715476p+0f, 0x1.8p23f);
  const float n = z - 0x1.8p23f;
  const float b = std::fmaf(-n, 0x1.7f7d1cp-20f, std::fmaf(-n, 0x1.62e4p-1f, x));
  if (std::fabs(n) > 192.0f) return n <= 0.0f ? 0.0f : INFINITY;
  if (n != n) return n;  // NaN in, NaN out (_mm512_scalef_ps)
  const float u = b * b;
  const float j = std::fmaf(std::fmaf(std::fmaf(0x1.0e4020p-7f, b, 0x1.573e2ep-5f), u, std::fmaf(0x1.555e66p-3f, b, 0x1.fffdb6p-2f)), u,
                            std::fmaf(0x1.ffffecp-1f, b, 1.0f));
  // _mm512_scalef_ps(j, n) = j · 2^n with one rounding (also to subnormals or ∞): j ∈ [0.7, 1.5],
  // so j · 2^k1 (|k1| ≤ 96) is exact and only the second power-of-two product rounds (no libm call)
  const int32_t k = static_cast<int32_t>(n);
  const int32_t k1 = k / 2;
  return (j * pow2Lane(k1)) * pow2Lane(k - k1);
}

/** One lane of ggml_v_silu: x / (1 + ggml_v_expf(0 − x)). */
static inline float ggmlSiluLane(float x) { return x / (1.0f + ggmlExpfLane(0.0f - x)); }

static inline uint32_t highWord(double x) {
  uint64_t bits;
  std::memcpy(&bits, &x, 8);
  return static_cast<uint32_t>(bits >> 32);
}

static inline uint32_t lowWord(double x) {
  uint64_t bits;
  std::memcpy(&bits, &x, 8);
  return static_cast<uint32_t>(bits);
}

static inline double fromWords(uint32_t high, uint32_t low) {
  const uint64_t bits = (static_cast<uint64_t>(high) << 32) | low;
  double x;
  std::memcpy(&x, &bits, 8);
  return x;
}

/**
 * e^x exactly as V8's Math.exp computes it (base/ieee754.cc: fdlibm's __ieee754_exp, with V8's
 * special case exp(1) = E), so that the SwiGLU tail matches the TypeScript reference bit for bit.
 */
static inline double v8MathExp(double x) {
  const double halF[2] = {0.5, -0.5};
  const double o_threshold = 7.09782712893383973096e+02;
  const double u_threshold = -7.45133219101941108420e+02;
  const double ln2HI[2] = {6.93147180369123816490e-01, -6.93147180369123816490e-01};
  const double ln2LO[2] = {1.90821492927058770002e-10, -1.90821492927058770002e-10};
  const double invln2 = 1.44269504088896338700e+00;
  const double P1 = 1.66666666666666019037e-01;
  const double P2 = -2.77777777770155933842e-03;
  const double P3 = 6.61375632143793436117e-05;
  const double P4 = -1.65339022054652515390e-06;
  const double P5 = 4.13813679705723846039e-08;
  const double E = 2.718281828459045;
  const double huge = 1.0e+300;
  const double twom1000 = 9.33263618503218878990e-302;
  const double two1023 = 8.988465674311579539e307;

  double y, hi = 0.0, lo = 0.0, c, t, twopk;
  int32_t k = 0;
  uint32_t hx = highWord(x);
  const int32_t xsb = (hx >> 31) & 1;
  hx &= 0x7fffffff;
  if (hx >= 0x40862E42) {
    if (hx >= 0x7ff00000) {
      if (((hx & 0xfffff) | lowWord(x)) != 0) return x + x;  // NaN
      return xsb == 0 ? x : 0.0;
    }
    if (x > o_threshold) return huge * huge;
    if (x < u_threshold) return twom1000 * twom1000;
  }
  if (hx > 0x3fd62e42) {
    if (hx < 0x3FF0A2B2) {
      if (x == 1.0) return E;
      hi = x - ln2HI[xsb];
      lo = ln2LO[xsb];
      k = 1 - xsb - xsb;
    } else {
      k = static_cast<int32_t>(invln2 * x + halF[xsb]);
      t = k;
      hi = x - t * ln2HI[0];  // t * ln2HI is exact here
      lo = t * ln2LO[0];
    }
    x = hi - lo;
  } else if (hx < 0x3e300000) {
    if (huge + x > 1.0) return 1.0 + x;
  } else {
    k = 0;
  }
  t = x * x;
  if (k >= -1021) {
    twopk = fromWords(0x3ff00000 + (static_cast<uint32_t>(k) << 20), 0);
  } else {
    twopk = fromWords(0x3ff00000 + (static_cast<uint32_t>(k + 1000) << 20), 0);
  }
  c = x - t * (P1 + t * (P2 + t * (P3 + t * (P4 + t * P5))));
  if (k == 0) return 1.0 - ((x * c) / (c - 2.0) - x);
  y = 1.0 - ((lo - (x * c) / (2.0 - c)) - hi);
  if (k >= -1021) {
    if (k == 1024) return y * 2.0 * two1023;
    return y * twopk;
  }
  return y * twopk * twom1000;
}

/** The n % 16 values after the last whole chunk: x / (1 + f32(exp(−x))) · up. */
static inline void siluMulTail(float* gate, const float* up, int64_t n) {
  for (int64_t i = 0; i < n; i++) {
    const float g = gate[i];
    const float e = static_cast<float>(v8MathExp(-static_cast<double>(g)));
    gate[i] = (g / (1.0f + e)) * up[i];
  }
}

static inline void siluMulRowLanes(float* gate, const float* up, int64_t n) {
  const int64_t simd = n & ~int64_t(15);
  for (int64_t i = 0; i < simd; i++) gate[i] = ggmlSiluLane(gate[i]) * up[i];
  siluMulTail(gate + simd, up + simd, n - simd);
}

/** f32 → half bits as fp16.ts f32ToF16: round to nearest even; every NaN → the quiet NaN 0x7e00 with its sign. */
static inline uint16_t toHalfLane(float value) {
  uint32_t x;
  std::memcpy(&x, &value, 4);
  const uint32_t sign = (x >> 16) & 0x8000;
  const uint32_t absBits = x & 0x7fffffff;
  if (absBits >= 0x7f800000) return static_cast<uint16_t>(sign | 0x7c00 | (absBits > 0x7f800000 ? 0x200 : 0));
  if (absBits >= 0x477ff000) return static_cast<uint16_t>(sign | 0x7c00);  // rounds to ≥ 65520: inf
  if (absBits < 0x38800000) {  // a subnormal half (or zero): |value| / 2⁻²⁴ rounded to nearest even
    return static_cast<uint16_t>(sign | static_cast<uint32_t>(std::nearbyint(static_cast<double>(std::fabs(value)) * 16777216.0)));
  }
  const uint32_t mantissa = absBits & 0x7fffff;
  uint32_t half = (((absBits >> 23) - 112) << 10) | (mantissa >> 13);
  const uint32_t rest = mantissa & 0x1fff;
  if (rest > 0x1000 || (rest == 0x1000 && (half & 1))) half += 1;
  return static_cast<uint16_t>(sign | half);
}

static inline void toHalfLanes(uint16_t* dst, const float* src, int64_t n) {
  for (int64_t i = 0; i < n; i++) dst[i] = toHalfLane(src[i]);
}

static inline void ropeTokenLanes(float* x, int64_t nHeads, int64_t headDim, const float* cosSin, int64_t nRot, bool neox) {
  const int64_t half = nRot / 2;
  for (int64_t h = 0; h < nHeads; h++) {
    float* head = x + h * headDim;
    for (int64_t i0 = 0; i0 < nRot; i0 += 2) {
      const float cos = cosSin[i0];
      const float sin = cosSin[i0 + 1];
      float* a = neox ? head + i0 / 2 : head + i0;
      float* b = neox ? a + half : a + 1;
      const float x0 = *a;
      const float x1 = *b;
      *a = std::fmaf(x0, cos, -(x1 * sin));
      *b = std::fmaf(x0, sin, x1 * cos);
    }
  }
}

}  // namespace ls
