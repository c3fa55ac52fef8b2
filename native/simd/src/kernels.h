// The kernel table: for each ISA and weight type, how to lay out activations and how to compute
// a range of output rows. Every ISA computes the same arithmetic (see README.md, "Arithmetic").
#pragma once

#include <cstddef>
#include <cstdint>

#include "act.h"

namespace ls {

enum class Isa : int { Scalar = 0, Avx2 = 1, Avx512 = 2, Neon = 3 };

const char* isaName(Isa isa);

/**
 * Which of llama.cpp's CPU code paths an output reproduces (their f32 arithmetic differs; the
 * TypeScript reference picks the same, `WeightKernel.route` in src/engine/quant):
 * - VecDot: `ggml_vec_dot_*` (quants.c / vec.cpp of the x86 AVX-512 build).
 * - Tiled: llamafile's tinyBLAS (F32/F16/BF16 batches).
 * - RepackedGemv / RepackedGemm: the CPU_REPACK buffer's kernels (Q4_0, Q4_K with a multiple of
 *   8 rows); for Q4_0 both have the gemv arithmetic.
 */
enum class Arith : int { VecDot = 0, Tiled = 1, RepackedGemv = 2, RepackedGemm = 3 };

/** Tokens [0, nBatched) are computed with `batched`, the rest with `single`. */
struct Route {
  Arith batched;
  Arith single;
  int64_t nBatched;
};

/** The paths llama.cpp takes for this weight type and shape (mirrors the TypeScript routes). */
Route routeFor(int weightType, int64_t nCols, int64_t nRows, int64_t nTokens);

/** One matmul call: out f32 [nTokens, nRows] = x f32 [nTokens, nCols] · weight [nRows, nCols]ᵀ. */
struct MatmulProblem {
  float* out;
  const uint8_t* weight;
  size_t weightRowBytes;
  int weightType;
  int64_t nCols;
  int64_t nRows;
  int64_t nTokens;
  const uint8_t* act;  // quantized activations, `layout.tokenBytes` per token
  ActLayout layout;
  Route route;
  Arith arithFor(int64_t token) const { return token < route.nBatched ? route.batched : route.single; }
};

/** Computes out[t * nRows + r] for rows [rowBegin, rowEnd) and every token. */
typedef void (*RowsKernel)(const MatmulProblem& problem, int64_t rowBegin, int64_t rowEnd);

/** Quantizes activation tokens [tokenBegin, tokenEnd) (see quantizeActs in act.h). */
typedef void (*QuantizeKernel)(const ActLayout& layout, const float* x, uint8_t* act, int64_t tokenBegin, int64_t tokenEnd);

struct TypeKernel {
  RowsKernel rows;
  /** value the kernel subtracts from unsigned weight codes (ActLayout::corrBias); 0 for none */
  int actCorrBias;
  /** a faster quantizeActs with identical results, or nullptr for act.cc's */
  QuantizeKernel quantize;
};

/** The kernel for a weight type on an ISA; nullptr when that ISA has none (the caller falls back). */
const TypeKernel* scalarKernel(int weightType);
const TypeKernel* avx2Kernel(int weightType);
const TypeKernel* avx512Kernel(int weightType);
const TypeKernel* neonKernel(int weightType);

}  // namespace ls
