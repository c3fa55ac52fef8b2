// expf as glibc computes it on x86-64 with FMA (its __expf_fma variant; the algorithm of ARM's
// optimized-routines): e^x = 2^(k/32) · 2^(r/32), a 32-entry table and a cubic in double with
// fused multiply-adds, then one rounding to f32. Not correctly rounded (≤ 0.502 ulp), so a libm
// that rounds differently would change llama.cpp's flash-attention bits: this copy gives the same
// result on every ISA and C library, and equals glibcExpf in src/engine/ggml/glibcExpf.ts.
//
// Includes only standard headers; every function is `static inline` (compiled per ISA).
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

namespace ls {

/** bits(2^(i/32)) − (i << 47): glibc's __exp2f_data.tab (2^(i/32) correctly rounded, exponent of i/32 removed). */
static const uint64_t kExp2fTable[32] = {
    0x3ff0000000000000ull, 0x3fefd9b0d3158574ull, 0x3fefb5586cf9890full, 0x3fef9301d0125b51ull, 0x3fef72b83c7d517bull, 0x3fef54873168b9aaull,
    0x3fef387a6e756238ull, 0x3fef1e9df51fdee1ull, 0x3fef06fe0a31b715ull, 0x3feef1a7373aa9cbull, 0x3feedea64c123422ull, 0x3feece086061892dull,
    0x3feebfdad5362a27ull, 0x3feeb42b569d4f82ull, 0x3feeab07dd485429ull, 0x3feea47eb03a5585ull, 0x3feea09e667f3bcdull, 0x3fee9f75e8ec5f74ull,
    0x3feea11473eb0187ull, 0x3feea589994cce13ull, 0x3feeace5422aa0dbull, 0x3feeb737b0cdc5e5ull, 0x3feec49182a3f090ull, 0x3feed503b23e255dull,
    0x3feee89f995ad3adull, 0x3feeff76f2fb5e47ull, 0x3fef199bdd85529cull, 0x3fef3720dcef9069ull, 0x3fef5818dcfba487ull, 0x3fef7c97337b9b5full,
    0x3fefa4afa2a490daull, 0x3fefd0765b6e4540ull,
};

/** glibc's expf(x) (round to nearest). */
static inline float glibcExpf(float x) {
  if (x != x) return x;
  if (std::fabs(x) >= 88.0f) {
    if (x == -INFINITY) return 0.0f;
    if (x > 0x1.62e42ep6f) return INFINITY;   // overflow (and +∞)
    if (x < -0x1.9fe368p6f) return 0.0f;      // underflow
  }
  const double z = (0x1.71547652b82fep+0 * 32) * static_cast<double>(x);
  const double shifted = z + 0x1.8p52;       // z rounded to an integer k in the low bits, ties to even
  uint64_t ki;
  std::memcpy(&ki, &shifted, 8);
  const double r = z - (shifted - 0x1.8p52);
  const uint64_t t = kExp2fTable[ki % 32] + (ki << 47);
  double s;
  std::memcpy(&s, &t, 8);
  const double poly = std::fma(0x1.c6af84b912394p-5 / 32768, r, 0x1.ebfce50fac4f3p-3 / 1024);
  const double y = std::fma(poly, r * r, std::fma(0x1.62e42ff0c52d6p-1 / 32, r, 1.0));
  return static_cast<float>(y * s);
}

}  // namespace ls
