// Scalar Q2_K, Q3_K and Q5_K kernels against Q8_K activations: value for value the f32 arithmetic
// of llama.cpp's x86 AVX-512 build (ggml_vec_dot_q{2,3,5}_K_q8_K's AVX2 code; for Q2_K also the
// repacked q2_K_8x8 gemv and gemm), like src/engine/quant/q2_k-dots.ts, q3_k.ts and q5_k.ts.
// Integer sums are exact; only where the f32 roundings and fused multiply-adds happen matters.
// Compiled with -ffp-contract=off: every fused multiply-add here is an explicit std::fma.
#include <cmath>

#include "generic/kernels.h"
#include "generic/scalar_common.h"

namespace ls {
namespace scalar {
namespace {

/** Q8_K parts of one token's activations. */
struct Q8k {
  const int8_t* qs;
  const float* d;
  const int16_t* bsums;
  explicit Q8k(const uint8_t* act, const ActLayout& l)
      : qs(reinterpret_cast<const int8_t*>(act + l.qs)), d(reinterpret_cast<const float*>(act + l.d)),
        bsums(reinterpret_cast<const int16_t*>(act + l.bsums)) {}
};

/** Lane l of 8 (as maddubs + madd): Σ over the 8 vectors v of 32 values of scale(v, l) · Σ q·y of values 32v + 4l..+3. */
template <typename ScaleOf>
void kquantLanes(const int q[256], const int8_t* y, ScaleOf scaleOf, int lanes[8]) {
  for (int l = 0; l < 8; l++) lanes[l] = 0;
  for (int v = 0; v < 8; v++) {
    for (int l = 0; l < 8; l++) {
      const int i = 32 * v + 4 * l;
      lanes[l] += scaleOf(v, l) * (q[i] * y[i] + q[i + 1] * y[i + 1] + q[i + 2] * y[i + 2] + q[i + 3] * y[i + 3]);
    }
  }
}

// ---- Q5_K ---------------------------------------------------------------------------------------

/** ggml_vec_dot_q5_K_q8_K: 8 lanes of sc·Σq·y, one FMA per lane and block; the mins in one scalar FMA. */
float dotQ5K(const uint8_t* w, const uint8_t* act, const ActLayout& l) {
  const Q8k a(act, l);
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  float summs = 0.0f;
  for (int64_t b = 0; b < l.nBlocks; b++) {
    const BlockQ5_K* x = reinterpret_cast<const BlockQ5_K*>(w) + b;
    const int16_t* bsums = a.bsums + 16 * b;
    const float d = a.d[b] * f16ToF32(loadU16(&x->d));
    const float dmin = -a.d[b] * f16ToF32(loadU16(&x->dmin));
    uint8_t sc[8], mn[8];
    int minSum = 0;
    for (int j = 0; j < 8; j++) {
      q4kScaleMin(j, x->scales, &sc[j], &mn[j]);
      minSum += mn[j] * (bsums[2 * j] + bsums[2 * j + 1]);
    }
    summs = std::fma(dmin, static_cast<float>(minSum), summs);
    int q[256];
    for (int k = 0; k < 4; k++) {
      for (int i = 0; i < 32; i++) {
        q[64 * k + i] = (x->qs[32 * k + i] & 0xF) | (((x->qh[i] >> (2 * k)) & 1) << 4);
        q[64 * k + 32 + i] = (x->qs[32 * k + i] >> 4) | (((x->qh[i] >> (2 * k + 1)) & 1) << 4);
      }
    }
    int lanes[8];
    kquantLanes(q, a.qs + b * kQK_K, [&](int v, int) { return static_cast<int>(sc[v]); }, lanes);
    for (int k = 0; k < 8; k++) acc[k] = std::fma(d, static_cast<float>(lanes[k]), acc[k]);
  }
  return hsum8(acc) + summs;
}

// ---- Q3_K ---------------------------------------------------------------------------------------

/** ggml_vec_dot_q3_K_q8_K: codes −4..3, 16 signed scales, 8 lanes, one FMA per lane and block. */
float dotQ3K(const uint8_t* w, const uint8_t* act, const ActLayout& l) {
  const Q8k a(act, l);
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  for (int64_t b = 0; b < l.nBlocks; b++) {
    const BlockQ3_K* x = reinterpret_cast<const BlockQ3_K*>(w) + b;
    const float d = a.d[b] * f16ToF32(loadU16(&x->d));
    int sc[16];
    for (int s = 0; s < 16; s++) {
      const int low = s < 8 ? x->scales[s] & 0xF : x->scales[s - 8] >> 4;
      const int high = (x->scales[8 + s % 4] >> (2 * (s / 4))) & 3;
      sc[s] = (low | (high << 4)) - 32;
    }
    int q[256];
    for (int i = 0; i < 256; i++) {
      const int h = i >> 7, g = (i >> 5) & 3, j = i & 31;
      q[i] = ((x->qs[32 * h + j] >> (2 * g)) & 3) - (((x->hmask[j] >> (4 * h + g)) & 1) ? 0 : 4);
    }
    int lanes[8];
    kquantLanes(q, a.qs + b * kQK_K, [&](int v, int k) { return sc[2 * v + (k >> 2)]; }, lanes);
    for (int k = 0; k < 8; k++) acc[k] = std::fma(d, static_cast<float>(lanes[k]), acc[k]);
  }
  return hsum8(acc);
}

// ---- Q2_K ---------------------------------------------------------------------------------------

void unpackQ2K(const BlockQ2_K* x, int q[256]) {
  for (int i = 0; i < 256; i++) q[i] = (x->qs[32 * (i >> 7) + (i & 31)] >> (2 * ((i >> 5) & 3))) & 3;
}

/** ggml_vec_dot_q2_K_q8_K: per block, lane k first takes the mins' FMA, then the scaled sums' FMA. */
float dotQ2K(const uint8_t* w, const uint8_t* act, const ActLayout& l) {
  const Q8k a(act, l);
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  for (int64_t b = 0; b < l.nBlocks; b++) {
    const BlockQ2_K* x = reinterpret_cast<const BlockQ2_K*>(w) + b;
    const int16_t* bsums = a.bsums + 16 * b;
    const float d = a.d[b] * f16ToF32(loadU16(&x->d));
    const float dmin = -a.d[b] * f16ToF32(loadU16(&x->dmin));
    for (int k = 0; k < 8; k++) {
      const int prod = (x->scales[2 * k] >> 4) * bsums[2 * k] + (x->scales[2 * k + 1] >> 4) * bsums[2 * k + 1];
      acc[k] = std::fma(dmin, static_cast<float>(prod), acc[k]);
    }
    int q[256];
    unpackQ2K(x, q);
    int lanes[8];
    kquantLanes(q, a.qs + b * kQK_K, [&](int v, int k) { return x->scales[2 * v + (k >> 2)] & 0xF; }, lanes);
    for (int k = 0; k < 8; k++) acc[k] = std::fma(d, static_cast<float>(lanes[k]), acc[k]);
  }
  return hsum8(acc);
}

/** Repacked Q2_K (q2_K_8x8): per kSubBlocksPerFma 16-value sub-blocks, acc += Σ sc·q·y · f32(d·d_y)
 *  and accMin += Σ m·bsum · f32(dmin·d_y), one FMA each; the result is acc − accMin. */
template <int kSubBlocksPerFma>
float dotQ2KRepacked(const uint8_t* w, const uint8_t* act, const ActLayout& l) {
  const Q8k a(act, l);
  float acc = 0.0f, accMin = 0.0f;
  for (int64_t b = 0; b < l.nBlocks; b++) {
    const BlockQ2_K* x = reinterpret_cast<const BlockQ2_K*>(w) + b;
    const int8_t* y = a.qs + b * kQK_K;
    const int16_t* bsums = a.bsums + 16 * b;
    const float d = f16ToF32(loadU16(&x->d)) * a.d[b];
    const float dmin = f16ToF32(loadU16(&x->dmin)) * a.d[b];
    int q[256];
    unpackQ2K(x, q);
    for (int s0 = 0; s0 < 16; s0 += kSubBlocksPerFma) {
      int sum = 0, sumMin = 0;
      for (int s = s0; s < s0 + kSubBlocksPerFma; s++) {
        int dot = 0;
        for (int i = 16 * s; i < 16 * s + 16; i++) dot += q[i] * y[i];
        sum += (x->scales[s] & 0xF) * dot;
        sumMin += (x->scales[s] >> 4) * bsums[s];
      }
      acc = std::fma(static_cast<float>(sum), d, acc);
      accMin = std::fma(static_cast<float>(sumMin), dmin, accMin);
    }
  }
  return acc - accMin;
}

}  // namespace

const TypeKernel kQ2_KKernel{rowsQuant<dotQ2K, dotQ2KRepacked<16>, dotQ2KRepacked<8>>, 0, nullptr};
const TypeKernel kQ3_KKernel{rowsQuant<dotQ3K, dotQ3K, dotQ3K>, 0, nullptr};
const TypeKernel kQ5_KKernel{rowsQuant<dotQ5K, dotQ5K, dotQ5K>, 0, nullptr};

}  // namespace scalar
}  // namespace ls
