// Scalar IQ4_NL kernel against Q8_0 activations, value for value the f32 arithmetic of llama.cpp's
// x86 AVX-512 build, like src/engine/quant/iq4_nl.ts: ggml_vec_dot_iq4_nl_q8_0 (two 8-lane
// accumulators, even and odd blocks), llamafile's tinyBLAS_Q0_AVX for batches (one), and the
// repacked iq4_nl_8x8 gemv/gemm (one FMA per block of its integer sum). The x86 tables
// (x86/ymm_iq4nl.h) and NEON (arm/neon_iq4.cc) have their own. Also IQ4_XS against
// Q8_K (src/engine/quant/iq4_xs.ts): vec_dot and the IQ panel gemm; the x86 tables
// (x86/ymm_iq4xs.h) and NEON (arm/neon_iq4.cc) have their own.
// Compiled with -ffp-contract=off: every FMA is an explicit std::fma.
#include <cmath>

#include "generic/iq4.h"
#include "generic/kernels.h"
#include "generic/scalar_common.h"

namespace ls {
namespace scalar {
namespace {

/** ggml's kvalues_iq4nl */
constexpr int8_t kValues[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};
constexpr int kBlockBytes = 18;

/** One block's table values (value j: low nibble of qs[j], value j + 16: its high nibble) and d·d_y. */
struct Iq4Block {
  int q[32];
  float d;
  Iq4Block(const uint8_t* w, const ActLayout& l, const uint8_t* act, int64_t b) {
    const uint8_t* block = w + b * kBlockBytes;
    for (int j = 0; j < 16; j++) {
      q[j] = kValues[block[2 + j] & 0xF];
      q[j + 16] = kValues[block[2 + j] >> 4];
    }
    d = f16ToF32(loadU16(block)) * reinterpret_cast<const float*>(act + l.d)[b];
  }
};

/** acc[k] = fma(d, Σ of the 4 products of values 4k..4k+3, acc[k]) for one block. */
void fmaLanes(const Iq4Block& x, const int8_t* y, float acc[8]) {
  for (int k = 0; k < 8; k++) {
    const int sum = x.q[4 * k] * y[4 * k] + x.q[4 * k + 1] * y[4 * k + 1] + x.q[4 * k + 2] * y[4 * k + 2] + x.q[4 * k + 3] * y[4 * k + 3];
    acc[k] = std::fma(x.d, static_cast<float>(sum), acc[k]);
  }
}

int blockSum(const Iq4Block& x, const int8_t* y) {
  int sum = 0;
  for (int j = 0; j < 32; j++) sum += x.q[j] * y[j];
  return sum;
}

/** ggml_vec_dot_iq4_nl_q8_0 (AVX2): pairs of blocks, then an odd last block in one scalar FMA. */
float dotVec(const uint8_t* w, const uint8_t* act, const ActLayout& l) {
  const int8_t* ys = reinterpret_cast<const int8_t*>(act + l.qs);
  float acc1[8] = {0, 0, 0, 0, 0, 0, 0, 0}, acc2[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t b = 0;
  for (; b + 1 < l.nBlocks; b += 2) {
    fmaLanes(Iq4Block(w, l, act, b), ys + b * kQK, acc1);
    fmaLanes(Iq4Block(w, l, act, b + 1), ys + (b + 1) * kQK, acc2);
  }
  float lanes[8];
  for (int k = 0; k < 8; k++) lanes[k] = acc1[k] + acc2[k];
  float sum = hsum8(lanes);
  if (b < l.nBlocks) {
    const Iq4Block x(w, l, act, b);
    sum = std::fma(x.d, static_cast<float>(blockSum(x, ys + b * kQK)), sum);
  }
  return sum;
}

/** llamafile tinyBLAS_Q0_AVX: one 8-lane accumulator. */
float dotTiled(const uint8_t* w, const uint8_t* act, const ActLayout& l) {
  const int8_t* ys = reinterpret_cast<const int8_t*>(act + l.qs);
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  for (int64_t b = 0; b < l.nBlocks; b++) fmaLanes(Iq4Block(w, l, act, b), ys + b * kQK, acc);
  return hsum8(acc);
}

/** ggml_gemv/gemm_iq4_nl_8x8_q8_0: acc = fma(Σ q·y, d·d_y, acc) per block. */
float dotRepacked(const uint8_t* w, const uint8_t* act, const ActLayout& l) {
  const int8_t* ys = reinterpret_cast<const int8_t*>(act + l.qs);
  float acc = 0.0f;
  for (int64_t b = 0; b < l.nBlocks; b++) {
    const Iq4Block x(w, l, act, b);
    acc = std::fma(static_cast<float>(blockSum(x, ys + b * kQK)), x.d, acc);
  }
  return acc;
}

/** Rows [r0, r1) × every token: tiled tokens through dotTiled, the others by their arithmetic. */
void rows(const MatmulProblem& p, int64_t r0, int64_t r1) {
  for (int64_t r = r0; r < r1; r++) {
    const uint8_t* w = p.weight + r * p.weightRowBytes;
    for (int64_t t = 0; t < p.nTokens; t++) {
      const Arith arith = arithFor(p, t);
      const QuantDot dot = arith == Arith::Tiled ? dotTiled : arith == Arith::VecDot ? dotVec : dotRepacked;
      p.out[t * p.nRows + r] = dot(w, p.act + t * p.layout.tokenBytes, p.layout);
    }
  }
}

// ---- IQ4_XS against Q8_K: ggml_vec_dot_iq4_xs_q8_K (AVX2) and the IQ panel gemm (iqp.cpp) ----

/** One IQ4_XS super-block against one Q8_K block: lane k = Σ_ib (ls_ib − 32)·Σ K·y over values 32ib + 4k..4k+3. */
struct Iq4XsBlock {
  int lanes[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  float d;
  Iq4XsBlock(const uint8_t* w, const ActLayout& l, const uint8_t* act, int64_t b) {
    const BlockIQ4_XS* x = reinterpret_cast<const BlockIQ4_XS*>(w) + b;
    const int8_t* y = reinterpret_cast<const int8_t*>(act + l.qs) + b * kQK_K;
    for (int ib = 0; ib < kQK_K / 32; ib++) {
      const int scale = iq4XsSubScale(x, ib);
      int q[32];
      for (int j = 0; j < 16; j++) {
        q[j] = kValues[x->qs[16 * ib + j] & 0xF];
        q[j + 16] = kValues[x->qs[16 * ib + j] >> 4];
      }
      const int8_t* yb = y + 32 * ib;
      for (int k = 0; k < 8; k++) {
        lanes[k] += scale * (q[4 * k] * yb[4 * k] + q[4 * k + 1] * yb[4 * k + 1] + q[4 * k + 2] * yb[4 * k + 2] + q[4 * k + 3] * yb[4 * k + 3]);
      }
    }
    d = f16ToF32(x->d) * reinterpret_cast<const float*>(act + l.d)[b];
  }
};

/** ggml_vec_dot_iq4_xs_q8_K (AVX2): acc[k] = fma(d·d_y, lane k, acc[k]) per super-block, then hsum_float_8. */
float dotIq4XsVec(const uint8_t* w, const uint8_t* act, const ActLayout& l) {
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  for (int64_t b = 0; b < l.nBlocks; b++) {
    const Iq4XsBlock x(w, l, act, b);
    for (int k = 0; k < 8; k++) acc[k] = std::fma(x.d, static_cast<float>(x.lanes[k]), acc[k]);
  }
  return hsum8(acc);
}

/** The IQ panel gemm/gemv: acc = fma(Σ of the lanes, d·d_y, acc) per super-block. */
float dotIq4XsPanel(const uint8_t* w, const uint8_t* act, const ActLayout& l) {
  float acc = 0.0f;
  for (int64_t b = 0; b < l.nBlocks; b++) {
    const Iq4XsBlock x(w, l, act, b);
    int sum = 0;
    for (int k = 0; k < 8; k++) sum += x.lanes[k];
    acc = std::fma(static_cast<float>(sum), x.d, acc);
  }
  return acc;
}

}  // namespace

const TypeKernel kIQ4_NLKernel{rows, 0, nullptr};
const TypeKernel kIQ4_XSKernel{rowsQuant<dotIq4XsVec, dotIq4XsPanel, dotIq4XsPanel>, 0, nullptr};

}  // namespace scalar
}  // namespace ls
