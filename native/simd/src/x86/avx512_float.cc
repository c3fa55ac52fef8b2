// AVX-512 kernels for F32, F16 and BF16 rows (built into the AVX-512 library): llamafile's
// tinyBLAS and ggml's vec_dot arithmetic are 16 f32 lanes, exactly one zmm (Zmm16), which the
// width-generic kernels of x86/ymm_float.h take as their lane type; BF16's vec_dot is the ymm one.
// F16 batches widen the activations first (tiledF16RowsZ).
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "generic/kernels.h"
#include "x86/avx512.h"
#include "x86/ymm.h"
#include "x86/ymm_float.h"

namespace ls {
namespace x86 {
namespace avx512 {
namespace {

/** GCC's _mm512_reduce_add_ps, spelled out so the association order is pinned. */
inline float reduceAdd16z(__m512 x) { return reduceAdd16(_mm512_castps512_ps256(x), _mm512_extractf32x8_ps(x, 1)); }

/** 16 f32 lanes as one zmm (the AVX2 build's Ymm16), for vec64 and the tinyBLAS tiles of x86/ymm_float.h. */
struct Zmm16 {
  __m512 v;
  static Zmm16 zero() { return {_mm512_setzero_ps()}; }
  static Zmm16 add(Zmm16 a, Zmm16 b) { return {_mm512_add_ps(a.v, b.v)}; }
  static Zmm16 fmadd(Zmm16 a, Zmm16 b, Zmm16 c) { return {_mm512_fmadd_ps(a.v, b.v, c.v)}; }
  /** vdpbf16ps on 32 bf16 values: lane j += odd·odd, then even·even of pair j */
  static Zmm16 dpbf16(Zmm16 acc, const uint8_t* w, const uint8_t* a) {
    const __m512i wx = _mm512_loadu_si512(w);
    const __m512i ax = _mm512_loadu_si512(a);
    const __m512i high = _mm512_set1_epi32(static_cast<int>(0xFFFF0000u));
    const __m512 odd = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_and_si512(wx, high)), _mm512_castsi512_ps(_mm512_and_si512(ax, high)), acc.v);
    return {_mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_slli_epi32(wx, 16)), _mm512_castsi512_ps(_mm512_slli_epi32(ax, 16)), odd)};
  }
  static float reduce(Zmm16 x) { return reduceAdd16z(x.v); }
};

struct F32Src16 {
  static __m512 load(const uint8_t* p, int64_t i) { return _mm512_loadu_ps(reinterpret_cast<const float*>(p) + i); }
  static Zmm16 load16(const uint8_t* p, int64_t i) { return {load(p, i)}; }
};
struct F16Src16 {
  static __m512 load(const uint8_t* p, int64_t i) { return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 2 * i))); }
  static Zmm16 load16(const uint8_t* p, int64_t i) { return {load(p, i)}; }
};

/**
 * tinyBLAS F16 with the activations widened to f32 beforehand (exact: every f16 is an f32), so
 * the inner loop converts only the weights: R rows × TT tokens; act f32 [nTokens, nCols].
 */
template <int R, int TT>
void tiledF16WideTileZ(const MatmulProblem& p, const float* act, int64_t row0, int64_t token0) {
  __m512 acc[R][TT];
  for (int r = 0; r < R; r++) for (int t = 0; t < TT; t++) acc[r][t] = _mm512_setzero_ps();
  const uint8_t* rows[R];
  for (int r = 0; r < R; r++) rows[r] = p.weight + (row0 + r) * p.weightRowBytes;
  const float* acts[TT];
  for (int t = 0; t < TT; t++) acts[t] = act + (token0 + t) * p.nCols;
  for (int64_t i = 0; i < p.nCols; i += 16) {
    __m512 w[R];
    for (int r = 0; r < R; r++) w[r] = F16Src16::load(rows[r], i);
    for (int t = 0; t < TT; t++) {
      const __m512 a = _mm512_loadu_ps(acts[t] + i);
      for (int r = 0; r < R; r++) acc[r][t] = _mm512_fmadd_ps(w[r], a, acc[r][t]);
    }
  }
  for (int t = 0; t < TT; t++) for (int r = 0; r < R; r++) p.out[(token0 + t) * p.nRows + row0 + r] = reduceAdd16z(acc[r][t]);
}

/**
 * F16 batches: each call widens all tokens' activations into a per-thread f32 buffer (about
 * 1/nRows of the chunk's work), then 4-row × 6-token tiles (24 accumulators: one weight
 * conversion per 6 FMAs instead of one conversion per FMA), 4-token tiles, single tokens.
 */
void tiledF16RowsZ(const MatmulProblem& p, int64_t r0, int64_t r1) {
  thread_local std::vector<float> wide;
  const size_t nValues = static_cast<size_t>(p.nTokens * p.nCols);
  if (wide.size() < nValues) wide.resize(nValues);
  for (int64_t t = 0; t < p.nTokens; t++) {
    const uint8_t* a = p.act + t * p.layout.tokenBytes;
    float* out = wide.data() + t * p.nCols;
    for (int64_t i = 0; i < p.nCols; i += 16) _mm512_storeu_ps(out + i, F16Src16::load(a, i));
  }
  const float* act = wide.data();
  constexpr int R = 4;
  const int64_t rTiled = r0 + (r1 - r0) / R * R;
  // blocks of rows holding ≤ 512 KiB of weights, token groups inside, rows innermost: a block's
  // weights stay in L2 while one group's f32 activations stay in L1/L2 (all tokens' f32
  // activations may not fit in L2)
  const int64_t rowsPerBlock = std::max<int64_t>(R, static_cast<int64_t>((512 * 1024) / p.weightRowBytes) / R * R);
  for (int64_t b0 = r0; b0 < rTiled; b0 += rowsPerBlock) {
    const int64_t b1 = std::min(rTiled, b0 + rowsPerBlock);
    int64_t t = 0;
    for (; t + 6 <= p.nTokens; t += 6) for (int64_t r = b0; r < b1; r += R) tiledF16WideTileZ<R, 6>(p, act, r, t);
    for (; t + 4 <= p.nTokens; t += 4) for (int64_t r = b0; r < b1; r += R) tiledF16WideTileZ<R, 4>(p, act, r, t);
    for (; t < p.nTokens; t++) for (int64_t r = b0; r < b1; r += R) tiledF16WideTileZ<R, 1>(p, act, r, t);
  }
  for (int64_t r = rTiled; r < r1; r++) for (int64_t u = 0; u < p.nTokens; u++) tiledF16WideTileZ<1, 1>(p, act, r, u);
}

/**
 * vec64<F16Src16> over R rows at once: out[r] = row r's lanes reduced, each row with its own four
 * accumulators and exactly vec64's order of sums; one load of the activations serves all R rows.
 */
template <int R>
void vec64F16Rows(const uint8_t* const* w, const uint8_t* a, int64_t np, float* out) {
  Zmm16 acc[R][4];
  for (int r = 0; r < R; r++) for (int k = 0; k < 4; k++) acc[r][k] = Zmm16::zero();
  for (int64_t i = 0; i < np; i += 64) {
    for (int k = 0; k < 4; k++) {
      const Zmm16 x = F16Src16::load16(a, i + 16 * k);
      for (int r = 0; r < R; r++) acc[r][k] = Zmm16::fmadd(F16Src16::load16(w[r], i + 16 * k), x, acc[r][k]);
    }
  }
  for (int r = 0; r < R; r++) out[r] = Zmm16::reduce(Zmm16::add(Zmm16::add(acc[r][0], acc[r][2]), Zmm16::add(acc[r][1], acc[r][3])));
}

/** Rows row0 .. row0 + R - 1 × every token, each output one ggml_vec_dot_f16 (vecDotF16). */
template <int R>
void f16VecTile(const MatmulProblem& p, int64_t row0) {
  const int64_t np = p.nCols & ~int64_t(63);
  const uint8_t* w[R];
  for (int r = 0; r < R; r++) w[r] = p.weight + (row0 + r) * p.weightRowBytes;
  for (int64_t t = 0; t < p.nTokens; t++) {
    const uint8_t* a = p.act + t * p.layout.tokenBytes;
    float lanes[R];
    vec64F16Rows<R>(w, a, np, lanes);
    for (int r = 0; r < R; r++) p.out[t * p.nRows + row0 + r] = dotF16Tail(lanes[r], w[r], a, np, p.nCols);
  }
}

/**
 * F16 rows on the vec_dot route (one token; small batches), 8 rows at a time: a one-token matmul
 * only streams weights, and 8 rows are 8 streams in flight where one row at a time was one
 * (TinyLlama-shaped F16 decode on a 2-core Xeon, in one process alternating: 1 row → 4 rows
 * +15-25%, 8 rows a further ~5%; 8 rows plus a T1 prefetch of the next 8, as the block-32 kernels
 * do, 4-15% slower).
 */
void f16VecRows(const MatmulProblem& p, int64_t r0, int64_t r1) {
  constexpr int R = 8;
  int64_t r = r0;
  for (; r + R <= r1; r += R) f16VecTile<R>(p, r);
  floatDotRows<vecDotF16<vec64<F16Src16>>>(p, r, r1);  // the rows left over, one at a time
}

/** tinyBLAS tiles: 4 rows × 4 tokens (16 zmm accumulators). */
constexpr int kFloatRows = 4, kFloatTokens = 4;

}  // namespace

void f32Rows(const MatmulProblem& p, int64_t r0, int64_t r1) { floatRows<vecDotF32<vec64<F32Src16>>, forEachTile<Tiled16<F32Src16>, kFloatRows, kFloatTokens>>(p, r0, r1); }
void f16Rows(const MatmulProblem& p, int64_t r0, int64_t r1) {
  if (p.route.nBatched > 0) tiledF16RowsZ(p, r0, r1);
  else f16VecRows(p, r0, r1);
}
void bf16Rows(const MatmulProblem& p, int64_t r0, int64_t r1) { floatRows<dotBF16Vec, forEachTile<TiledBF16<Zmm16>, kFloatRows, kFloatTokens>>(p, r0, r1); }

}  // namespace avx512
}  // namespace x86
}  // namespace ls
