// The contract between the engine and every ISA's matmul kernels, and what they all read: ggml's
// block layouts (pinned by static_asserts, ggml-common.h) with exact f16/bf16 conversions, the
// layout of the quantized activations, one matmul problem with its route, and the kernel tables.
//
// Includes only standard headers. It is compiled into translation units with different target
// flags (baseline, AVX2, AVX-512, NEON), so every function defined here is `static inline`
// (internal linkage): the linker never picks one ISA's copy of it for another.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace ls {

// =================================================================================================
// weight types and their blocks
// =================================================================================================

// ggml type numbers (GgmlType in src/engine/ggml/types.ts)
enum WeightType : int {
  kF32 = 0,
  kF16 = 1,
  kQ4_0 = 2,
  kQ4_1 = 3,
  kQ5_0 = 6,
  kQ5_1 = 7,
  kQ8_0 = 8,
  kQ2_K = 10,
  kQ3_K = 11,
  kQ4_K = 12,
  kQ5_K = 13,
  kQ6_K = 14,
  kIQ4_NL = 20,
  kIQ4_XS = 23,
  kBF16 = 30,
};

constexpr int kQK = 32;    // values per block of the _0/_1 types
constexpr int kQK_K = 256; // values per super-block of the K-quants

typedef uint16_t f16_bits;

struct BlockQ4_0 { f16_bits d; uint8_t qs[kQK / 2]; };
struct BlockQ4_1 { f16_bits d; f16_bits m; uint8_t qs[kQK / 2]; };
struct BlockQ5_0 { f16_bits d; uint8_t qh[4]; uint8_t qs[kQK / 2]; };
struct BlockQ5_1 { f16_bits d; f16_bits m; uint8_t qh[4]; uint8_t qs[kQK / 2]; };
struct BlockQ8_0 { f16_bits d; int8_t qs[kQK]; };
struct BlockQ2_K { uint8_t scales[kQK_K / 16]; uint8_t qs[kQK_K / 4]; f16_bits d; f16_bits dmin; };
struct BlockQ3_K { uint8_t hmask[kQK_K / 8]; uint8_t qs[kQK_K / 4]; uint8_t scales[12]; f16_bits d; };
struct BlockQ4_K { f16_bits d; f16_bits dmin; uint8_t scales[12]; uint8_t qs[kQK_K / 2]; };
struct BlockQ5_K { f16_bits d; f16_bits dmin; uint8_t scales[12]; uint8_t qh[kQK_K / 8]; uint8_t qs[kQK_K / 2]; };
struct BlockQ6_K { uint8_t ql[kQK_K / 2]; uint8_t qh[kQK_K / 4]; int8_t scales[kQK_K / 16]; f16_bits d; };
struct BlockIQ4_XS { f16_bits d; uint16_t scales_h; uint8_t scales_l[kQK_K / 64]; uint8_t qs[kQK_K / 2]; };

static_assert(sizeof(BlockQ4_0) == 18, "block_q4_0 is 18 bytes");
static_assert(sizeof(BlockQ4_1) == 20, "block_q4_1 is 20 bytes");
static_assert(sizeof(BlockQ5_0) == 22, "block_q5_0 is 22 bytes");
static_assert(sizeof(BlockQ5_1) == 24, "block_q5_1 is 24 bytes");
static_assert(sizeof(BlockQ8_0) == 34, "block_q8_0 is 34 bytes");
static_assert(sizeof(BlockQ2_K) == 84, "block_q2_K is 84 bytes");
static_assert(sizeof(BlockQ3_K) == 110, "block_q3_K is 110 bytes");
static_assert(sizeof(BlockQ4_K) == 144, "block_q4_K is 144 bytes");
static_assert(sizeof(BlockQ5_K) == 176, "block_q5_K is 176 bytes");
static_assert(sizeof(BlockQ6_K) == 210, "block_q6_K is 210 bytes");
static_assert(sizeof(BlockIQ4_XS) == 136, "block_iq4_xs is 136 bytes");

/** Values per block and bytes per block of a weight type; blockBytes 0 for unsupported types. */
struct TypeShape { int blockValues; int blockBytes; };

static inline TypeShape typeShape(int type) {
  switch (type) {
    case kF32: return {1, 4};
    case kF16: return {1, 2};
    case kBF16: return {1, 2};
    case kQ4_0: return {kQK, 18};
    case kQ4_1: return {kQK, 20};
    case kQ5_0: return {kQK, 22};
    case kQ5_1: return {kQK, 24};
    case kQ8_0: return {kQK, 34};
    case kQ2_K: return {kQK_K, 84};
    case kQ3_K: return {kQK_K, 110};
    case kQ4_K: return {kQK_K, 144};
    case kQ5_K: return {kQK_K, 176};
    case kQ6_K: return {kQK_K, 210};
    case kIQ4_NL: return {kQK, 18};
    case kIQ4_XS: return {kQK_K, 136};
    default: return {0, 0};
  }
}

static inline uint16_t loadU16(const void* p) { uint16_t v; std::memcpy(&v, p, 2); return v; }
static inline uint32_t loadU32(const void* p) { uint32_t v; std::memcpy(&v, p, 4); return v; }
static inline float loadF32(const void* p) { float v; std::memcpy(&v, p, 4); return v; }

static inline float bitsToF32(uint32_t bits) { float f; std::memcpy(&f, &bits, 4); return f; }
static inline uint32_t f32ToBits(float f) { uint32_t bits; std::memcpy(&bits, &f, 4); return bits; }

/** IEEE half → f32, exact for every pattern (subnormals, inf, NaN payload kept). */
static inline float f16ToF32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t exponent = (h >> 10) & 0x1fu;
  uint32_t mantissa = h & 0x3ffu;
  if (exponent == 0x1f) return bitsToF32(sign | 0x7f800000u | (mantissa << 13));
  if (exponent == 0) {
    if (mantissa == 0) return bitsToF32(sign);
    // subnormal: normalize
    int shift = 0;
    while ((mantissa & 0x400u) == 0) { mantissa <<= 1; shift++; }
    mantissa &= 0x3ffu;
    return bitsToF32(sign | (static_cast<uint32_t>(113 - shift) << 23) | (mantissa << 13));
  }
  return bitsToF32(sign | ((exponent + 112) << 23) | (mantissa << 13));
}

/** f32 → IEEE half with round-to-nearest-even (what F16C `vcvtps2ph imm=0` and ggml compute). */
static inline uint16_t f32ToF16(float value) {
  const uint32_t bits = f32ToBits(value);
  const uint32_t sign = (bits >> 16) & 0x8000u;
  const uint32_t absBits = bits & 0x7fffffffu;
  if (absBits >= 0x7f800000u) {  // inf or NaN (NaN stays quiet NaN)
    return static_cast<uint16_t>(sign | 0x7c00u | (absBits > 0x7f800000u ? (0x200u | ((absBits >> 13) & 0x3ffu)) : 0u));
  }
  if (absBits >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // rounds to ≥ 65520 → inf
  const int32_t exponent = static_cast<int32_t>(absBits >> 23) - 127;
  if (exponent >= -14) {  // normal half
    uint32_t mant = absBits & 0x7fffffu;
    uint32_t half = (static_cast<uint32_t>(exponent + 15) << 10) | (mant >> 13);
    const uint32_t rest = mant & 0x1fffu;
    if (rest > 0x1000u || (rest == 0x1000u && (half & 1u))) half++;  // carry into exponent is correct
    return static_cast<uint16_t>(sign | half);
  }
  if (exponent < -25) return static_cast<uint16_t>(sign);  // below half the smallest subnormal
  // subnormal half: value = m × 2^-24, m = round(absValue × 2^24)
  const uint32_t mant = (absBits & 0x7fffffu) | 0x800000u;
  const int shift = -exponent - 1;  // 14..24 : mant × 2^(exponent-23) × 2^24 = mant >> (-exponent-1)
  uint32_t m = mant >> shift;
  const uint32_t rest = mant & ((1u << shift) - 1u);
  const uint32_t halfway = 1u << (shift - 1);
  if (rest > halfway || (rest == halfway && (m & 1u))) m++;
  return static_cast<uint16_t>(sign | m);
}

static inline float bf16ToF32(uint16_t h) { return bitsToF32(static_cast<uint32_t>(h) << 16); }

/** f32 → bf16 like ggml's GGML_FP32_TO_BF16: NaN → quiet NaN, else round-to-nearest-even. */
static inline uint16_t f32ToBf16(float value) {
  const uint32_t bits = f32ToBits(value);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((bits >> 16) | 64u);
  return static_cast<uint16_t>((bits + (0x7fffu + ((bits >> 16) & 1u))) >> 16);
}

/** The 6-bit scale and min of sub-block j (0..7) of a Q4_K super-block (ggml get_scale_min_k4). */
static inline void q4kScaleMin(int j, const uint8_t* q, uint8_t* scale, uint8_t* min) {
  if (j < 4) {
    *scale = q[j] & 63;
    *min = q[j + 4] & 63;
  } else {
    *scale = static_cast<uint8_t>((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
    *min = static_cast<uint8_t>((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
  }
}

// ---- the scalar tails of ggml_vec_dot_f32 / _f16 (AVX-512 build), the same on every ISA --------

/**
 * ggml_vec_dot_f32 after its 64-value lanes (sum): GCC vectorised the leftover loop, so groups of
 * 8 values are multiplied then added, the last n % 8 fused. w, a: f32 rows (any alignment).
 */
static inline float dotF32Tail(float sum, const uint8_t* w, const uint8_t* a, int64_t np, int64_t n) {
  const int64_t split = np + ((n - np) & ~int64_t(7));
  int64_t i = np;
  for (; i < split; i++) sum = sum + loadF32(w + 4 * i) * loadF32(a + 4 * i);
  for (; i < n; i++) sum = std::fma(loadF32(w + 4 * i), loadF32(a + 4 * i), sum);
  return sum;
}

/** ggml_vec_dot_f16 after its 64-value lanes (sum): the leftover products (exact in f32) in double. */
static inline float dotF16Tail(double sum, const uint8_t* w, const uint8_t* a, int64_t np, int64_t n) {
  for (int64_t i = np; i < n; i++) sum += static_cast<double>(f16ToF32(loadU16(w + 2 * i)) * f16ToF32(loadU16(a + 2 * i)));
  return static_cast<float>(sum);
}

/** An ISA's 64-value lanes of ggml_vec_dot_f32 / _f16 over values [0, np), reduced to one f32. */
typedef float (*Lanes64)(const uint8_t* w, const uint8_t* a, int64_t np);

/** ggml_vec_dot_f32: the ISA's lanes over whole 64-value steps, then dotF32Tail. */
template <Lanes64 kLanes>
static float vecDotF32(const uint8_t* w, const uint8_t* a, int64_t n) {
  const int64_t np = n & ~int64_t(63);
  return dotF32Tail(kLanes(w, a, np), w, a, np, n);
}

/** ggml_vec_dot_f16: the ISA's lanes over whole 64-value steps, then dotF16Tail. */
template <Lanes64 kLanes>
static float vecDotF16(const uint8_t* w, const uint8_t* a, int64_t n) {
  const int64_t np = n & ~int64_t(63);
  return dotF16Tail(kLanes(w, a, np), w, a, np, n);
}

// =================================================================================================
// paths, routes and activations
// =================================================================================================

enum class Isa : int { Scalar = 0, Avx2 = 1, Avx512 = 2, Neon = 3 };

const char* isaName(Isa isa);

/**
 * Which of llama.cpp's CPU code paths an output reproduces (their f32 arithmetic differs; the
 * TypeScript reference picks the same, `WeightKernel.route` in src/engine/quant):
 * - VecDot: `ggml_vec_dot_*` (quants.c / vec.cpp of the x86 AVX-512 build).
 * - Tiled: llamafile's tinyBLAS (F32/F16/BF16 batches).
 * - RepackedGemv / RepackedGemm: the CPU_REPACK buffer's kernels (Q4_0, Q4_K, Q2_K with a multiple
 *   of 8 rows); for Q4_0 both have the gemv arithmetic. IQ4_XS's RepackedGemv is the IQ panel gemm
 *   (ggml-cpu/iqp.cpp: weights decoded to int8 panels of 8 rows, batches of at least 8 tokens).
 */
enum class Arith : int { VecDot = 0, Tiled = 1, RepackedGemv = 2, RepackedGemm = 3 };

/** Stable name of an arithmetic, as the addon's `route()` reports it: "vecDot", "tiled", "repackedGemv", "repackedGemm". */
const char* arithName(Arith arith);

/** Tokens [0, nBatched) are computed with `batched`, the rest with `single`. */
struct Route {
  Arith batched;
  Arith single;
  int64_t nBatched;
};

/** The paths llama.cpp takes for this weight type and shape (mirrors the TypeScript routes). */
Route routeFor(int weightType, int64_t nCols, int64_t nRows, int64_t nTokens);

enum class ActKind { F32, F16, BF16, Q8_0, Q8_1, Q8_K };

/**
 * Activations quantized to a weight type's partner type (ggml `vec_dot_type`), in a per-token
 * layout of our own (struct-of-arrays, 64-byte aligned parts) that every ISA's kernels read.
 * Where each part of one token's activations lives, in bytes from the token's start:
 * - F32/F16/BF16: `values` holds nCols values of 4/2/2 bytes.
 * - Q8_0/Q8_1: `qs` int8 [nCols]; `d` f32 [nBlocks] (the f16 scale, widened); Q8_1 also `s` f32
 *   [nBlocks] (f16 d·Σq, widened); `corr` int32 [nBlocks][8] = -corrBias · (sum of each 4
 *   consecutive qs), present when corrBias != 0 (lets kernels dot unsigned weight codes), and then
 *   `corrSum` int32 [nBlocks] = the sum of each block's 8 `corr` (for whole-block integer dots).
 * - Q8_K: `qs` int8 [nCols]; `d` f32 [nBlocks]; `bsums` int16 [nBlocks][16].
 */
struct ActLayout {
  ActKind kind;
  int64_t nCols;
  int64_t nBlocks;
  int corrBias;
  /**
   * Q8_K: tokens [0, q8kPositiveFirstTokens) use the x86 `ggml_quantize_mat_q8_K_4x8` rule for
   * the block's extreme (+amax when any value equals +amax), the rest `quantize_row_q8_K_ref`'s
   * (the first value of largest magnitude).
   */
  int64_t q8kPositiveFirstTokens;
  size_t tokenBytes;
  size_t values, qs, d, s, corr, corrSum, bsums;
};

/** The partner activation kind of a weight type (F32 for unknown types: callers validate first). */
ActKind actKindFor(int weightType);

/** Layout for one token of nCols values (nCols must be whole blocks of the kind). */
ActLayout actLayout(ActKind kind, int64_t nCols, int corrBias);

/**
 * Quantizes tokens [tokenBegin, tokenEnd) of x (f32 [nTokens, nCols]) into act
 * (tokenBytes per token), with the semantics of llama.cpp's x86 build: Q8_0/Q8_1 as the AVX2
 * `quantize_row_q8_0/1` (id = 127/amax, round half to even), Q8_K as `quantize_row_q8_K_ref`
 * (nearest_int), F16/BF16 round to nearest even.
 */
void quantizeActs(const ActLayout& layout, const float* x, uint8_t* act, int64_t tokenBegin, int64_t tokenEnd);

// =================================================================================================
// the matmul problem and the kernel tables
// =================================================================================================

/** A software prefetch hint for weights streamed once per token (the engine picks it per CPU vendor). */
enum class StreamPrefetch : uint8_t { None, Nta, T1 };

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
  /** 0: weight rows in the file's order; kPackRows: packed in tiles (generic/pack.h) */
  int packedRows = 0;
  /** how one-token passes over packed tiles prefetch their stream (x86/avx512.h prefetchStream) */
  StreamPrefetch streamPrefetch = StreamPrefetch::None;
};

/** The arithmetic of token `token`'s outputs. */
static inline Arith arithFor(const MatmulProblem& p, int64_t token) {
  return token < p.route.nBatched ? p.route.batched : p.route.single;
}

/** Computes out[t * nRows + r] for rows [rowBegin, rowEnd) and every token. */
typedef void (*RowsKernel)(const MatmulProblem& problem, int64_t rowBegin, int64_t rowEnd);

/** Quantizes activation tokens [tokenBegin, tokenEnd) (see quantizeActs). */
typedef void (*QuantizeKernel)(const ActLayout& layout, const float* x, uint8_t* act, int64_t tokenBegin, int64_t tokenEnd);

struct TypeKernel {
  RowsKernel rows;
  /** value the kernel subtracts from unsigned weight codes (ActLayout::corrBias); 0 for none */
  int actCorrBias;
  /** a faster quantizeActs with identical results, or nullptr for quantizeActs */
  QuantizeKernel quantize;
  /** the packed layout `rows` reads (kPackRows), or 0: the engine unpacks tiles for it */
  int packedRows = 0;
};

/** One dot product of a float weight row with one token's activations (n values). */
typedef float (*FloatDot)(const uint8_t* w, const uint8_t* act, int64_t n);

/** Rows [r0, r1) × every token, one kDot per output. */
template <FloatDot kDot>
static void floatDotRows(const MatmulProblem& p, int64_t r0, int64_t r1) {
  for (int64_t r = r0; r < r1; r++) {
    const uint8_t* w = p.weight + r * p.weightRowBytes;
    for (int64_t t = 0; t < p.nTokens; t++) p.out[t * p.nRows + r] = kDot(w, p.act + t * p.layout.tokenBytes, p.nCols);
  }
}

/** F32/F16/BF16 rows: kTiled computes every token when the route batches them (tinyBLAS takes the
 *  whole batch), else each output is one ggml_vec_dot (kVec). */
template <FloatDot kVec, RowsKernel kTiled>
static void floatRows(const MatmulProblem& p, int64_t r0, int64_t r1) {
  if (p.route.nBatched > 0) kTiled(p, r0, r1);
  else floatDotRows<kVec>(p, r0, r1);
}

/**
 * Rows [r0, r1) × every token through tiles of R rows × TT tokens, `Tiles::tile<R, TT>(p, row0,
 * token0)`: the tokens left over in tiles of R rows × 1, the rows left over one output at a time.
 * Which tile computes an output never changes its arithmetic, only the speed.
 */
template <class Tiles, int R, int TT>
static void forEachTile(const MatmulProblem& p, int64_t r0, int64_t r1) {
  int64_t r = r0;
  for (; r + R <= r1; r += R) {
    int64_t t = 0;
    for (; t + TT <= p.nTokens; t += TT) Tiles::template tile<R, TT>(p, r, t);
    for (; t < p.nTokens; t++) Tiles::template tile<R, 1>(p, r, t);
  }
  for (; r < r1; r++) for (int64_t t = 0; t < p.nTokens; t++) Tiles::template tile<1, 1>(p, r, t);
}

/** One ISA's kernels by weight type; nullptr where that ISA has none (the scalar kernel runs). */
struct KernelTable {
  const TypeKernel* f32;
  const TypeKernel* f16;
  const TypeKernel* bf16;
  const TypeKernel* q4_0;
  const TypeKernel* q4_1;
  const TypeKernel* q5_0;
  const TypeKernel* q5_1;
  const TypeKernel* q8_0;
  const TypeKernel* q4_K;
  const TypeKernel* q6_K;
  const TypeKernel* q2_K;
  const TypeKernel* q3_K;
  const TypeKernel* q5_K;
  const TypeKernel* iq4_NL;
  const TypeKernel* iq4_XS;
};

/** The table's kernel for a weight type; nullptr for a null table or a type it lacks. */
static inline const TypeKernel* kernelIn(const KernelTable* table, int weightType) {
  if (!table) return nullptr;
  switch (weightType) {
    case kF32: return table->f32;
    case kF16: return table->f16;
    case kBF16: return table->bf16;
    case kQ4_0: return table->q4_0;
    case kQ4_1: return table->q4_1;
    case kQ5_0: return table->q5_0;
    case kQ5_1: return table->q5_1;
    case kQ8_0: return table->q8_0;
    case kQ4_K: return table->q4_K;
    case kQ6_K: return table->q6_K;
    case kQ2_K: return table->q2_K;
    case kQ3_K: return table->q3_K;
    case kQ5_K: return table->q5_K;
    case kIQ4_NL: return table->iq4_NL;
    case kIQ4_XS: return table->iq4_XS;
    default: return nullptr;
  }
}

/** Each ISA's table (generic/scalar_kernels.cc, x86/, arm/); nullptr when the build has none. */
const KernelTable* scalarKernels();
const KernelTable* avx2Kernels();
const KernelTable* avx512Kernels();
const KernelTable* neonKernels();

}  // namespace ls
