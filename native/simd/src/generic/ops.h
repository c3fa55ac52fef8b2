// Row-wise operations of the transformer block besides matmul and attention — SwiGLU (SiLU·mul),
// RMSNorm, RoPE, f32 → half (the KV cache's stores) — bit-identical to the TypeScript reference in src/engine/model/ops.ts and
// rope.ts on every ISA path (see generic/ops_lanes.h for the arithmetic).
#pragma once

#include <cstdint>

namespace ls {

/** Per-ISA row kernels (the same arithmetic everywhere; the ISA only changes the speed). */
struct RowOps {
  /**
   * gate[i] = silu(gate[i]) · up[i] over one row of n values: ggml_v_silu (AVX-512) on whole
   * 16-value chunks, x / (1 + f32(exp(-x))) with V8's Math.exp for the last n % 16.
   */
  void (*siluMulRow)(float* gate, const float* up, int64_t n);
  /**
   * Rotates the first nRot dimensions of each of nHeads heads (headDim apart) of one token:
   * x0' = fma(x0, cos, −f32(x1·sin)), x1' = fma(x0, sin, f32(x1·cos)); pairs (i, i+1) for the
   * "norm" layout, (i/2, i/2 + nRot/2) for neox. cosSin f32 [nRot]: cos at even, sin at odd.
   */
  void (*ropeToken)(float* x, int64_t nHeads, int64_t headDim, const float* cosSin, int64_t nRot, bool neox);
  /** dst[i] = the half bits of src[i] as fp16.ts f32ToF16 (round to nearest even; NaN → ±0x7e00), n values. */
  void (*toHalfRow)(uint16_t* dst, const float* src, int64_t n);
};

const RowOps* scalarRowOps();
/** nullptr when the build has no x86 kernels */
const RowOps* avx2RowOps();
const RowOps* avx512RowOps();

/**
 * out = f32(x · f32(1 / f32(√f32(mean + eps)))) · weight for one row of n values, the mean of
 * the f32 squares summed in double in order (ggml_float), as rmsNorm in ops.ts. out may alias x.
 */
void rmsNormRow(float* out, const float* x, const float* weight, int64_t n, double eps);

}  // namespace ls
