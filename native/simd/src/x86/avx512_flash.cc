// Flash attention for the AVX-512 path (built with the AVX-512 flags; run only on CPUs that have
// them). headDim a multiple of 16 up to 256: intrinsics kernels that keep a row's accumulator and
// query in zmm registers (x86/avx512_flash_rows.h); other shapes: the portable kernel
// (generic/flash_lanes.h) compiled with 512-bit vectors. Both with vcvtph2ps (exact) and vcvtps2ph
// (round to nearest even, like f32ToF16): the same results as every other path.
#include <immintrin.h>

#include <cmath>
#include <cstdint>

#include "generic/attention.h"
#include "generic/flash_lanes.h"
#include "generic/ops_lanes.h"
#include "x86/avx512_flash_rows.h"

namespace ls {
namespace {

constexpr int kRoundNearest = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;

/** Mask of the first n < 16 lanes. */
inline __mmask16 firstLanes(int64_t n) { return static_cast<__mmask16>((1u << n) - 1u); }

/** The half conversions of the AVX-512 build, for flashLanesRows. */
struct Avx512Halves {
  /** n halves widened to f32 (exact). */
  static void widen(float* dst, const uint16_t* src, int64_t n) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(dst + i, _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + i))));
    if (i < n) _mm512_mask_storeu_ps(dst + i, firstLanes(n - i), _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(firstLanes(n - i), src + i)));
  }

  /** x[i] ← f32(half(x[i])), round to nearest even. */
  static void roundToHalf(float* x, int64_t n) {
    for (int64_t i = 0; i < n; i++) x[i] = _cvtsh_ss(_cvtss_sh(x[i], kRoundNearest));
  }

  /** acc[i] ← half(acc[i] · v) (ggml_vec_scale_f16 with acc kept as f32 values of halves). */
  static void scaleToHalf(float* acc, float v, int64_t n) {
    const __m512 vv = _mm512_set1_ps(v);
    for (int64_t i = 0; i < n; i += 16) {
      const __mmask16 m = n - i >= 16 ? static_cast<__mmask16>(0xffff) : firstLanes(n - i);
      const __m512 r = _mm512_mul_ps(_mm512_maskz_loadu_ps(m, acc + i), vv);
      _mm512_mask_storeu_ps(acc + i, m, _mm512_cvtph_ps(_mm512_cvtps_ph(r, kRoundNearest)));
    }
  }

  /** acc[i] ← half(fma(widen(x[i]), v, acc[i])) (ggml_vec_mad_f16). */
  static void madToHalf(float* acc, const uint16_t* x, float v, int64_t n) {
    const __m512 vv = _mm512_set1_ps(v);
    for (int64_t i = 0; i < n; i += 16) {
      const __mmask16 m = n - i >= 16 ? static_cast<__mmask16>(0xffff) : firstLanes(n - i);
      const __m512 xv = _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, x + i));
      const __m512 r = _mm512_fmadd_ps(xv, vv, _mm512_maskz_loadu_ps(m, acc + i));
      _mm512_mask_storeu_ps(acc + i, m, _mm512_cvtph_ps(_mm512_cvtps_ph(r, kRoundNearest)));
    }
  }

  static float toF32(uint16_t h) { return _cvtsh_ss(h); }
  static float expf(float x) { return ggmlExpfLane(x); }
};

/** FlashKernel: registers-resident rows for headDim = 16·NV (NV ≤ 16), the portable kernel otherwise. */
void avx512FlashRows(const FlashProblem& p, int64_t t0, int64_t nRows, int64_t h, float* scratch) {
  if (p.headDim % 16 != 0 || p.headDim > 256) return flash::flashLanesRows<Avx512Halves>(p, t0, nRows, h, scratch);
  switch (p.headDim / 16) {
#define LS_FLASH_NV(nv) \
  case nv:              \
    return x86::flash512::rows<nv, Avx512Halves>(p, t0, nRows, h, scratch);
    LS_FLASH_NV(1) LS_FLASH_NV(2) LS_FLASH_NV(3) LS_FLASH_NV(4) LS_FLASH_NV(5) LS_FLASH_NV(6) LS_FLASH_NV(7) LS_FLASH_NV(8)
    LS_FLASH_NV(9) LS_FLASH_NV(10) LS_FLASH_NV(11) LS_FLASH_NV(12) LS_FLASH_NV(13) LS_FLASH_NV(14) LS_FLASH_NV(15) LS_FLASH_NV(16)
#undef LS_FLASH_NV
    default: return flash::flashLanesRows<Avx512Halves>(p, t0, nRows, h, scratch);
  }
}

}  // namespace

FlashKernel avx512FlashKernel() { return avx512FlashRows; }

}  // namespace ls
