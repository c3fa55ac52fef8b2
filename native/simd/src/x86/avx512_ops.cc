// Row kernels with AVX-512 (built into the AVX-512 library, run only on CPUs that have it):
// SwiGLU with the real ggml_v_silu / ggml_v_expf intrinsics of llama.cpp's AVX-512 build on each
// whole 16-value chunk; the tail and RoPE are generic/ops_lanes.h compiled with FMA.
#include <immintrin.h>

#include <cstdint>

#include "generic/ops.h"
#include "generic/ops_lanes.h"
#include "x86/avx512.h"

namespace ls {
namespace x86 {
namespace avx512 {
namespace {

/** ggml_v_silu (vec.h, AVX-512): x / (1 + ggml_v_expf(0 − x)). */
inline __m512 silu16(__m512 x) {
  const __m512 negX = _mm512_sub_ps(_mm512_setzero_ps(), x);
  return _mm512_div_ps(x, _mm512_add_ps(_mm512_set1_ps(1.0f), expf16(negX)));
}

/** ggml_vec_swiglu_f32 (AVX-512 build): whole chunks with intrinsics, the rest in scalar. */
void siluMulRow(float* gate, const float* up, int64_t n) {
  const int64_t simd = n & ~int64_t(15);
  for (int64_t i = 0; i < simd; i += 16) {
    _mm512_storeu_ps(gate + i, _mm512_mul_ps(silu16(_mm512_loadu_ps(gate + i)), _mm512_loadu_ps(up + i)));
  }
  siluMulTail(gate + simd, up + simd, n - simd);
}

const RowOps kOps = {siluMulRow, ropeTokenLanes};

}  // namespace
}  // namespace avx512
}  // namespace x86

const RowOps* avx512RowOps() { return &x86::avx512::kOps; }

}  // namespace ls
