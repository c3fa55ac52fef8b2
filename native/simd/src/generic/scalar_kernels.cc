// Scalar kernels: plain C++ that performs, value for value, the f32 arithmetic of llama.cpp's
// x86 CPU backend as node-llama-cpp ships it for AVX-512 machines (quants.c's AVX2 dot products
// with 8 f32 lanes and one FMA per block and lane, vec.cpp's AVX-512 float dots, llamafile's
// tinyBLAS, the repacked Q4_0 gemv), like the TypeScript reference in src/engine/quant. This is
// the fallback on every CPU and the arithmetic the SIMD paths must reproduce.
// Compiled with -ffp-contract=off: every fused multiply-add here is an explicit std::fma.
#include <cmath>
#include <cstring>

#include "generic/kernels.h"
#include "generic/scalar_common.h"

namespace ls {
namespace scalar {
namespace {

/** GCC's _mm512_reduce_add_ps: t[i] = x[i+8]+x[i]; u[i] = t[i+4]+t[i]; (u0+u2)+(u1+u3) */
float reduceAdd16(const float* x) {
  float t[8], u[4];
  for (int i = 0; i < 8; i++) t[i] = x[i + 8] + x[i];
  for (int i = 0; i < 4; i++) u[i] = t[i + 4] + t[i];
  return (u[0] + u[2]) + (u[1] + u[3]);
}

// ---- F32 / F16 / BF16 (vec.cpp of the AVX-512 build, llamafile tinyBLAS for batches) ------------

struct F32Row {
  const uint8_t* w; const float* a;
  float x(int64_t i) const { return loadF32(w + 4 * i); }
  float y(int64_t i) const { return a[i]; }
};
struct F16Row {
  const uint8_t* w; const uint16_t* a;
  float x(int64_t i) const { return f16ToF32(loadU16(w + 2 * i)); }
  float y(int64_t i) const { return f16ToF32(a[i]); }
};
struct BF16Row {
  const uint8_t* w; const uint16_t* a;
  float x(int64_t i) const { return bf16ToF32(loadU16(w + 2 * i)); }
  float y(int64_t i) const { return bf16ToF32(a[i]); }
};

/** kLanes FMA accumulators, lane l taking values l, l + kLanes, … of [0, n) (n a multiple of kLanes). */
template <int kLanes, typename Row>
void fmaLanes(const Row& row, int64_t n, float acc[kLanes]) {
  for (int l = 0; l < kLanes; l++) acc[l] = 0.0f;
  for (int64_t i = 0; i < n; i += kLanes) {
    for (int l = 0; l < kLanes; l++) acc[l] = std::fma(row.x(i + l), row.y(i + l), acc[l]);
  }
}

/** 4 × 16 FMA lanes over steps of 64 values, folded (acc0+acc2)+(acc1+acc3), reduced. */
template <typename Row>
float vec64Lanes(const Row& row, int64_t np) {
  float acc[64];
  fmaLanes<64>(row, np, acc);
  float lanes[16];
  for (int l = 0; l < 16; l++) lanes[l] = (acc[l] + acc[32 + l]) + (acc[16 + l] + acc[48 + l]);
  return reduceAdd16(lanes);
}

float f32Lanes64(const uint8_t* w, const uint8_t* act, int64_t np) { return vec64Lanes(F32Row{w, reinterpret_cast<const float*>(act)}, np); }
float f16Lanes64(const uint8_t* w, const uint8_t* act, int64_t np) { return vec64Lanes(F16Row{w, reinterpret_cast<const uint16_t*>(act)}, np); }

/** One 32-value step of 16 `vdpbf16ps` lanes from value i: lane j += x[2j+1]·y[2j+1], then x[2j]·y[2j]. */
void dpbf16Step(float acc[16], const BF16Row& row, int64_t i) {
  for (int j = 0; j < 16; j++) {
    acc[j] = std::fma(row.x(i + 2 * j + 1), row.y(i + 2 * j + 1), acc[j]);
    acc[j] = std::fma(row.x(i + 2 * j), row.y(i + 2 * j), acc[j]);
  }
}

/** ggml_vec_dot_bf16 (AVX512_BF16): two 16-lane vdpbf16ps accumulators over 64-value steps. */
float dotBF16Vec(const uint8_t* w, const uint8_t* act, int64_t n) {
  const BF16Row row{w, reinterpret_cast<const uint16_t*>(act)};
  float c1[16], c2[16];
  for (int l = 0; l < 16; l++) c1[l] = c2[l] = 0.0f;
  int64_t i = 0;
  for (; i + 64 <= n; i += 64) {
    dpbf16Step(c1, row, i);
    dpbf16Step(c2, row, i + 32);
  }
  double sum = 0.0;
  sum += static_cast<double>(reduceAdd16(c1));
  sum += static_cast<double>(reduceAdd16(c2));
  for (; i < n; i++) sum += static_cast<double>(row.x(i) * row.y(i));
  return static_cast<float>(sum);
}

/** llamafile tinyBLAS<16, __m512>: one 16-lane FMA accumulator, reduced. n % 16 == 0. */
template <typename Row>
float dotTiled16(const Row& row, int64_t n) {
  float acc[16];
  fmaLanes<16>(row, n, acc);
  return reduceAdd16(acc);
}

float dotF32Tiled(const uint8_t* w, const uint8_t* act, int64_t n) { return dotTiled16(F32Row{w, reinterpret_cast<const float*>(act)}, n); }
float dotF16Tiled(const uint8_t* w, const uint8_t* act, int64_t n) { return dotTiled16(F16Row{w, reinterpret_cast<const uint16_t*>(act)}, n); }

/** llamafile tinyBLAS<32, __m512bh>: 16 vdpbf16ps lanes over 32 values per step. n % 32 == 0. */
float dotBF16Tiled(const uint8_t* w, const uint8_t* act, int64_t n) {
  const BF16Row row{w, reinterpret_cast<const uint16_t*>(act)};
  float acc[16];
  for (int l = 0; l < 16; l++) acc[l] = 0.0f;
  for (int64_t i = 0; i < n; i += 32) dpbf16Step(acc, row, i);
  return reduceAdd16(acc);
}

// ---- 32-value blocks against Q8_0 / Q8_1 activations -----------------------------------------

/** Weight codes of one 32-value block as signed values (q) or unsigned codes (u) in value order. */
void unpackQ4(const uint8_t* qs, int offset, int out[32]) {
  for (int i = 0; i < 16; i++) {
    out[i] = (qs[i] & 0xF) - offset;
    out[i + 16] = (qs[i] >> 4) - offset;
  }
}

void unpackQ5(const uint8_t* qh4, const uint8_t* qs, int offset, int out[32]) {
  const uint32_t qh = loadU32(qh4);
  for (int i = 0; i < 16; i++) {
    out[i] = ((qs[i] & 0xF) | (((qh >> i) & 1u) << 4)) - offset;
    out[i + 16] = ((qs[i] >> 4) | (((qh >> (i + 16)) & 1u) << 4)) - offset;
  }
}

/** 8 lanes, each Σ of 4 consecutive products (maddubs + madd / dpbusd), exact in int32. */
void laneDots(const int q[32], const int8_t* y, int lanes[8]) {
  for (int k = 0; k < 8; k++) {
    lanes[k] = q[4 * k] * y[4 * k] + q[4 * k + 1] * y[4 * k + 1] + q[4 * k + 2] * y[4 * k + 2] + q[4 * k + 3] * y[4 * k + 3];
  }
}

enum class Block32 { Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 };

/** Q4_1 and Q5_1 carry a min m (the f16 after d): the dot adds Σ m·s over the blocks. */
constexpr bool hasMin(Block32 type) { return type == Block32::Q4_1 || type == Block32::Q5_1; }

/** The block's 32 weight values as ints (the block starts with its f16 scale d, then m if any). */
template <Block32 kType>
void unpackBlock32(const uint8_t* block, int q[32]) {
  switch (kType) {
    case Block32::Q4_0: unpackQ4(block + 2, 8, q); break;
    case Block32::Q4_1: unpackQ4(block + 4, 0, q); break;
    case Block32::Q5_0: unpackQ5(block + 2, block + 6, 16, q); break;
    case Block32::Q5_1: unpackQ5(block + 4, block + 8, 0, q); break;
    case Block32::Q8_0: for (int i = 0; i < 32; i++) q[i] = static_cast<int8_t>(block[2 + i]); break;
  }
}

constexpr int block32Bytes(Block32 type) {
  return type == Block32::Q4_0 ? 18 : type == Block32::Q4_1 ? 20 : type == Block32::Q5_0 ? 22 : type == Block32::Q5_1 ? 24 : 34;
}

/**
 * ggml_vec_dot_*_q8_0 / _q8_1: per block, lane k += f32(d_w·d_y) · (Σ of the 4 products of values
 * 4k..4k+3) as one FMA (ggml's Q5_1 writes fmadd(q, d, acc): the same rounding), then
 * hsum_float_8, plus the min term summs = fma(m, s, summs) for Q4_1 / Q5_1.
 */
template <Block32 kType>
float dotBlock32(const uint8_t* w, const uint8_t* act, const ActLayout& l) {
  const int8_t* ys = reinterpret_cast<const int8_t*>(act + l.qs);
  const float* yd = reinterpret_cast<const float*>(act + l.d);
  const float* ysum = reinterpret_cast<const float*>(act + l.s);
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  float summs = 0.0f;
  int q[32];
  int lanes[8];
  for (int64_t b = 0; b < l.nBlocks; b++) {
    const uint8_t* block = w + b * block32Bytes(kType);
    if (hasMin(kType)) summs = std::fma(f16ToF32(loadU16(block + 2)), ysum[b], summs);
    unpackBlock32<kType>(block, q);
    laneDots(q, ys + b * kQK, lanes);
    const float d = f16ToF32(loadU16(block)) * yd[b];
    for (int k = 0; k < 8; k++) acc[k] = std::fma(d, static_cast<float>(lanes[k]), acc[k]);
  }
  const float total = hsum8(acc);
  return hasMin(kType) ? total + summs : total;
}

/** ggml_gemv/gemm_q4_0_8x8_q8_0 (repacked Q4_0): acc = fma(Σ q·y, d_w·d_y, acc) per block. */
float dotQ4_0Repacked(const uint8_t* w, const uint8_t* act, const ActLayout& l) {
  const int8_t* ys = reinterpret_cast<const int8_t*>(act + l.qs);
  const float* yd = reinterpret_cast<const float*>(act + l.d);
  float acc = 0.0f;
  int q[32];
  for (int64_t b = 0; b < l.nBlocks; b++) {
    const uint8_t* block = w + b * block32Bytes(Block32::Q4_0);
    const int8_t* y = ys + b * kQK;
    unpackBlock32<Block32::Q4_0>(block, q);
    int sum = 0;
    for (int i = 0; i < 32; i++) sum += q[i] * y[i];
    acc = std::fma(static_cast<float>(sum), f16ToF32(loadU16(block)) * yd[b], acc);
  }
  return acc;
}

// ---- K-quants against Q8_K ---------------------------------------------------------------------

float dotQ4K(const uint8_t* w, const uint8_t* act, const ActLayout& l) {
  const int8_t* ys = reinterpret_cast<const int8_t*>(act + l.qs);
  const float* yd = reinterpret_cast<const float*>(act + l.d);
  const int16_t* ybs = reinterpret_cast<const int16_t*>(act + l.bsums);
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  float accm[4] = {0, 0, 0, 0};
  for (int64_t b = 0; b < l.nBlocks; b++) {
    const BlockQ4_K* x = reinterpret_cast<const BlockQ4_K*>(w) + b;
    const int8_t* y = ys + b * kQK_K;
    const int16_t* bsums = ybs + b * 16;
    const float d = yd[b] * f16ToF32(loadU16(&x->d));
    const float dmin = -yd[b] * f16ToF32(loadU16(&x->dmin));
    uint8_t sc[8], mn[8];
    for (int j = 0; j < 8; j++) q4kScaleMin(j, x->scales, &sc[j], &mn[j]);
    for (int p = 0; p < 4; p++) {
      const int q8s0 = bsums[4 * p] + bsums[4 * p + 1];
      const int q8s1 = bsums[4 * p + 2] + bsums[4 * p + 3];
      const int prod = mn[2 * p] * q8s0 + mn[2 * p + 1] * q8s1;
      accm[p] = std::fma(dmin, static_cast<float>(prod), accm[p]);
    }
    int lanes[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (int j = 0; j < 4; j++) {
      const uint8_t* q4 = x->qs + 32 * j;
      const int8_t* yl = y + 64 * j;
      const int8_t* yh = yl + 32;
      for (int k = 0; k < 8; k++) {
        int lo = 0, hi = 0;
        for (int i = 4 * k; i < 4 * k + 4; i++) {
          lo += (q4[i] & 0xF) * yl[i];
          hi += (q4[i] >> 4) * yh[i];
        }
        lanes[k] += sc[2 * j] * lo + sc[2 * j + 1] * hi;
      }
    }
    for (int k = 0; k < 8; k++) acc[k] = std::fma(d, static_cast<float>(lanes[k]), acc[k]);
  }
  const float mins = (accm[0] + accm[2]) + (accm[1] + accm[3]);
  return hsum8(acc) + mins;
}

/** Repacked Q4_K (q4_K_8x8): per group of `subBlocksPerFma` sub-blocks, acc += Σ sc·dot · f32(d·d_y)
 *  and accMin += Σ m·bsum · f32(dmin·d_y), one FMA each; the result is acc − accMin. */
template <int kSubBlocksPerFma>
float dotQ4KRepacked(const uint8_t* w, const uint8_t* act, const ActLayout& l) {
  const int8_t* ys = reinterpret_cast<const int8_t*>(act + l.qs);
  const float* yd = reinterpret_cast<const float*>(act + l.d);
  const int16_t* ybs = reinterpret_cast<const int16_t*>(act + l.bsums);
  float acc = 0.0f, accMin = 0.0f;
  for (int64_t b = 0; b < l.nBlocks; b++) {
    const BlockQ4_K* x = reinterpret_cast<const BlockQ4_K*>(w) + b;
    const int8_t* y = ys + b * kQK_K;
    const int16_t* bsums = ybs + b * 16;
    const float d = f16ToF32(loadU16(&x->d)) * yd[b];
    const float dmin = f16ToF32(loadU16(&x->dmin)) * yd[b];
    int subDots[8], subSums[8];
    uint8_t sc[8], mn[8];
    for (int s = 0; s < 8; s++) {
      q4kScaleMin(s, x->scales, &sc[s], &mn[s]);
      subSums[s] = bsums[2 * s] + bsums[2 * s + 1];
      const uint8_t* q4 = x->qs + 32 * (s >> 1);
      const int shift = (s & 1) * 4;
      int sum = 0;
      for (int i = 0; i < 32; i++) sum += ((q4[i] >> shift) & 0xF) * y[32 * s + i];
      subDots[s] = sum;
    }
    for (int s0 = 0; s0 < 8; s0 += kSubBlocksPerFma) {
      int sum = 0, sumMin = 0;
      for (int s = s0; s < s0 + kSubBlocksPerFma; s++) {
        sum += sc[s] * subDots[s];
        sumMin += mn[s] * subSums[s];
      }
      acc = std::fma(static_cast<float>(sum), d, acc);
      accMin = std::fma(static_cast<float>(sumMin), dmin, accMin);
    }
  }
  return acc - accMin;
}

float dotQ6K(const uint8_t* w, const uint8_t* act, const ActLayout& l) {
  const int8_t* ys = reinterpret_cast<const int8_t*>(act + l.qs);
  const float* yd = reinterpret_cast<const float*>(act + l.d);
  const int16_t* ybs = reinterpret_cast<const int16_t*>(act + l.bsums);
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  for (int64_t b = 0; b < l.nBlocks; b++) {
    const BlockQ6_K* x = reinterpret_cast<const BlockQ6_K*>(w) + b;
    const int8_t* y = ys + b * kQK_K;
    const int16_t* bsums = ybs + b * 16;
    const float d = yd[b] * f16ToF32(loadU16(&x->d));
    int lanes[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (int j = 0; j < 2; j++) {
      const uint8_t* ql = x->ql + 64 * j;
      const uint8_t* qh = x->qh + 32 * j;
      for (int g = 0; g < 4; g++) {
        const int8_t* yg = y + 128 * j + 32 * g;
        for (int k = 0; k < 8; k++) {
          const int scale = x->scales[8 * j + 2 * g + (k >= 4 ? 1 : 0)];
          int sum = 0;
          for (int i = 4 * k; i < 4 * k + 4; i++) {
            int q;
            switch (g) {
              case 0: q = (ql[i] & 15) | ((qh[i] & 3) << 4); break;
              case 1: q = (ql[32 + i] & 15) | (((qh[i] >> 2) & 3) << 4); break;
              case 2: q = (ql[i] >> 4) | (((qh[i] >> 4) & 3) << 4); break;
              default: q = (ql[32 + i] >> 4) | (((qh[i] >> 6) & 3) << 4); break;
            }
            sum += q * yg[i];
          }
          lanes[k] += scale * sum;
        }
      }
    }
    for (int k = 0; k < 8; k++) {
      lanes[k] -= 32 * (bsums[2 * k] * x->scales[2 * k] + bsums[2 * k + 1] * x->scales[2 * k + 1]);
      acc[k] = std::fma(d, static_cast<float>(lanes[k]), acc[k]);
    }
  }
  return hsum8(acc);
}

// ---- row loops -----------------------------------------------------------------------------------

template <Block32 kType>
constexpr RowsKernel kBlock32Rows = rowsQuant<dotBlock32<kType>, dotBlock32<kType>, dotBlock32<kType>>;

const TypeKernel kF32Kernel{floatRows<vecDotF32<f32Lanes64>, floatDotRows<dotF32Tiled>>, 0, nullptr};
const TypeKernel kF16Kernel{floatRows<vecDotF16<f16Lanes64>, floatDotRows<dotF16Tiled>>, 0, nullptr};
const TypeKernel kBF16Kernel{floatRows<dotBF16Vec, floatDotRows<dotBF16Tiled>>, 0, nullptr};
const TypeKernel kQ4_0Kernel{rowsQuant<dotBlock32<Block32::Q4_0>, dotQ4_0Repacked, dotQ4_0Repacked>, 0, nullptr};
const TypeKernel kQ4_1Kernel{kBlock32Rows<Block32::Q4_1>, 0, nullptr};
const TypeKernel kQ5_0Kernel{kBlock32Rows<Block32::Q5_0>, 0, nullptr};
const TypeKernel kQ5_1Kernel{kBlock32Rows<Block32::Q5_1>, 0, nullptr};
const TypeKernel kQ8_0Kernel{kBlock32Rows<Block32::Q8_0>, 0, nullptr};
const TypeKernel kQ4_KKernel{rowsQuant<dotQ4K, dotQ4KRepacked<8>, dotQ4KRepacked<2>>, 0, nullptr};
const TypeKernel kQ6_KKernel{rowsQuant<dotQ6K, dotQ6K, dotQ6K>, 0, nullptr};

const KernelTable kTable{&kF32Kernel, &kF16Kernel, &kBF16Kernel, &kQ4_0Kernel, &kQ4_1Kernel,
                         &kQ5_0Kernel, &kQ5_1Kernel, &kQ8_0Kernel, &kQ4_KKernel, &kQ6_KKernel,
                         &kQ2_KKernel, &kQ3_KKernel, &kQ5_KKernel, &kIQ4_NLKernel,
                         &kIQ4_XSKernel};

}  // namespace
}  // namespace scalar

const KernelTable* scalarKernels() { return &scalar::kTable; }

}  // namespace ls
