// The engine: one ISA path and one thread pool per process, the activation scratch, and the
// matmul and attention drivers that split a call into tasks for the pool. The kernels come from
// each ISA's table (generic/kernels.h); results do not depend on the ISA or the thread count.
#include "core/engine.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <vector>
#if defined(_WIN32)
#include <malloc.h>
#endif

#include "core/threadpool.h"
#include "core/weight_sequence.h"
#include "generic/pack.h"
#include "generic/attention.h"
#include "generic/cpu.h"
#include "generic/kernels.h"

namespace ls {

namespace {

/**
 * When idle workers read the next weights ahead (ThreadPool::setReadAhead). A batched matmul (a
 * prompt) is compute-bound and leaves the memory idle, so reading the next matrix meanwhile costs
 * it nothing (a first prompt gains nothing either: the order is not known yet; fresh-process
 * TinyLlama Q8_0 prefill pairs were equal). A one-token matmul streams its weights at the
 * memory's pace alone, and the read-ahead's traffic then slows what runs between matmuls —
 * attention's KV reads, the JavaScript whose cache lines the streams evict: 7B-shaped Q4_0 decode
 * 1.05–1.09× faster without it (three in-process alternating runs), TinyLlama-shaped Q4_K 1.08×,
 * F16 1.04×, Q4_0, Q8_0 and Q6_K within the noise.
 */
enum class ReadAhead { Never, AfterBatches, Always };

struct Engine {
  CpuFeatures cpu;
  Isa isa = Isa::Scalar;
  std::unique_ptr<ThreadPool> pool;
  uint8_t* scratch = nullptr;
  size_t scratchBytes = 0;
  /**
   * the order of matmul weights, for reading the next one ahead (ReadAhead): after batched
   * matmuls only, unless LAYERSTREAM_READ_AHEAD says 0 (never) or 1 (after every matmul)
   */
  WeightSequence sequence;
  ReadAhead readAhead = ReadAhead::AfterBatches;
  /** NTA on AMD, T1 elsewhere (x86/avx512.h prefetchStream); LAYERSTREAM_STREAM_PREFETCH=none|nta|t1 overrides */
  StreamPrefetch streamPrefetch = StreamPrefetch::None;
  std::mutex mutex;  // one call at a time (worker_threads may share the addon)
};

Engine& engine() {
  static Engine* instance = new Engine();  // never destroyed: workers may outlive static dtors
  return *instance;
}

/** The ISA's kernel for a weight type; AVX-512 falls back to AVX2, every ISA to the scalar kernels. */
const TypeKernel* kernelFor(Isa isa, int weightType) {
  const TypeKernel* kernel = nullptr;
  switch (isa) {
    case Isa::Avx512: kernel = kernelIn(avx512Kernels(), weightType); if (kernel) break; [[fallthrough]];
    case Isa::Avx2: kernel = kernelIn(avx2Kernels(), weightType); break;
    case Isa::Neon: kernel = kernelIn(neonKernels(), weightType); break;
    default: break;
  }
  return kernel ? kernel : kernelIn(scalarKernels(), weightType);
}

/** The attention kernel of an ISA path: AVX-512 intrinsics, the portable lanes compiled for AVX2,
 *  or the portable lanes with baseline flags (scalar, NEON). */
AttentionKernel attentionKernelFor(Isa isa) {
  AttentionKernel kernel = nullptr;
  switch (isa) {
    case Isa::Avx512: kernel = avx512AttentionKernel(); if (kernel) break; [[fallthrough]];
    case Isa::Avx2: kernel = avx2AttentionKernel(); break;
    default: break;
  }
  return kernel ? kernel : scalarAttentionKernel();
}

void* alignedAlloc(size_t nBytes) {
#if defined(_WIN32)
  return _aligned_malloc(nBytes, 64);
#else
  return std::aligned_alloc(64, (nBytes + 63) & ~size_t(63));
#endif
}

void alignedFree(void* p) {
#if defined(_WIN32)
  _aligned_free(p);
#else
  std::free(p);
#endif
}

uint8_t* ensureScratch(Engine& e, size_t nBytes) {
  if (e.scratchBytes < nBytes) {
    const size_t grown = std::max(nBytes, e.scratchBytes * 2);
    alignedFree(e.scratch);
    e.scratch = static_cast<uint8_t*>(alignedAlloc(grown));
    e.scratchBytes = e.scratch ? grown : 0;
  }
  return e.scratch;
}

/** Rows per work item: whole tiles of 16 rows, about 8 items per thread (evens out load; smaller
 *  items cost decode speed: each item's first tile starts without the next-tile prefetch). */
int64_t rowsPerChunk(int64_t nRows, int nThreads) {
  if (nThreads == 1) return nRows;
  const int64_t target = (nRows + int64_t(nThreads) * 8 - 1) / (int64_t(nThreads) * 8);
  return std::max<int64_t>(16, (target + 15) & ~int64_t(15));
}

/** (row, 32-value block, token) products below which sleeping workers are left asleep */
constexpr int64_t kMinBlockDotsToWake = 64 * 1024;
/**
 * Most of the next matrices idle workers read ahead: more than most gaps between two matmuls of
 * a decode step let one thread fetch (~1 MB; ~10 MB while a token is sampled), far less than
 * the last-level cache.
 */
constexpr size_t kMaxReadAheadBytes = size_t(8) << 20;
/** multiply-adds (K·Q plus KQV) below which sleeping workers are left asleep */
constexpr int64_t kMinAttentionFmasToWake = 256 * 1024;
/**
 * (token, KV head) tasks per pool thread below which attention tasks take one query head each:
 * with 2 threads, decode of a model with 4 KV heads takes one task per KV head (TinyLlama-shaped
 * decode at position 128-160: 34 → 23 µs per layer).
 */
constexpr int64_t kMinAttentionGroupTasksPerThread = 2;

Status error(const char* code, std::string message) { return Status{code, std::move(message)}; }

/** Checks a matmul's type and sizes; sets the bytes of one weight row. */
Status checkMatmul(size_t outLength, size_t weightBytes, int weightType, size_t xLength, int64_t nCols, int64_t nRows,
                   int64_t nTokens, size_t* rowBytes) {
  const TypeShape shape = typeShape(weightType);
  if (shape.blockBytes == 0) return error("UNSUPPORTED_TYPE", "matmul: weight type " + std::to_string(weightType) + " has no native kernel");
  if (nCols < 0 || nRows < 0 || nTokens < 0) return error("SHAPE_MISMATCH", "matmul: nCols, nRows and nTokens must not be negative");
  const ActKind kind = actKindFor(weightType);
  const int actBlock = kind == ActKind::Q8_K ? kQK_K : (kind == ActKind::Q8_0 || kind == ActKind::Q8_1) ? kQK : 1;
  if (nCols % shape.blockValues != 0 || nCols % actBlock != 0) {
    return error("SHAPE_MISMATCH", "matmul: rows of " + std::to_string(nCols) + " values are not whole blocks of " + std::to_string(std::max(shape.blockValues, actBlock)));
  }
  *rowBytes = static_cast<size_t>(nCols / shape.blockValues) * shape.blockBytes;
  if (weightBytes < *rowBytes * static_cast<size_t>(nRows)) {
    return error("SHAPE_MISMATCH", "matmul: weight has " + std::to_string(weightBytes) + " bytes, needs " + std::to_string(*rowBytes * nRows));
  }
  if (xLength < static_cast<size_t>(nTokens * nCols)) return error("SHAPE_MISMATCH", "matmul: x has " + std::to_string(xLength) + " values, needs " + std::to_string(nTokens * nCols));
  if (outLength < static_cast<size_t>(nTokens * nRows)) return error("SHAPE_MISMATCH", "matmul: out has " + std::to_string(outLength) + " values, needs " + std::to_string(nTokens * nRows));
  return {};
}

/**
 * Rows [begin, end) of packed weights through a kernel that reads the file's row order: the
 * chunk's tiles unpacked into a per-thread buffer first (whole tiles: chunks are whole tiles).
 */
void unpackedRows(const TypeKernel& kernel, const MatmulProblem& problem, int64_t begin, int64_t end) {
  thread_local std::vector<uint8_t> rows;
  const size_t rowBytes = problem.weightRowBytes;
  rows.resize(static_cast<size_t>(end - begin) * rowBytes);
  unpackTiles16(problem.weightType, problem.weight, rows.data(), rowBytes, begin, end);
  MatmulProblem unpacked = problem;
  unpacked.weight = rows.data() - static_cast<ptrdiff_t>(begin * rowBytes);  // row `begin` at rows[0]
  unpacked.packedRows = 0;
  kernel.rows(unpacked, begin, end);
}

/** Quantizes the activations (tokens claimed one at a time when there are enough), then the rows
 *  in chunks of whole 16-row tiles. */
void runMatmul(ThreadPool& pool, const TypeKernel& kernel, const MatmulProblem& problem, const float* x, uint8_t* act) {
  const int nThreads = pool.threadCount();
  const int64_t nTokens = problem.nTokens;
  const QuantizeKernel quantize = kernel.quantize ? kernel.quantize : quantizeActs;
  if (nTokens >= 2 * nThreads && nThreads > 1) {
    pool.forEach(nTokens, true, [&](int64_t t) { quantize(problem.layout, x, act, t, t + 1); });
  } else {
    quantize(problem.layout, x, act, 0, nTokens);
  }
  const int64_t chunkRows = rowsPerChunk(problem.nRows, nThreads);
  const int64_t nChunks = (problem.nRows + chunkRows - 1) / chunkRows;
  // waking a sleeping worker costs the caller 15-30 µs here: not worth it below ~50 µs of work
  const int64_t nBlockDots = problem.nRows * (problem.nCols / 32 + 1) * nTokens;
  const auto rows = [&](int64_t chunk) {
    const int64_t begin = chunk * chunkRows;
    const int64_t end = std::min(begin + chunkRows, problem.nRows);
    if (problem.packedRows == 0 || problem.packedRows == kernel.packedRows) kernel.rows(problem, begin, end);
    else unpackedRows(kernel, problem, begin, end);
  };
  // decode streams the weights from memory: one contiguous run per thread (2-5% faster on a
  // decode-shaped sequence of packed Q4_0 matmuls than chunks handed out in one order)
  if (nTokens == 1) pool.forEachFromBothEnds(nChunks, nBlockDots >= kMinBlockDotsToWake, rows);
  else pool.forEach(nChunks, nBlockDots >= kMinBlockDotsToWake, rows);
}

/** Checks an attention call's shapes. */
Status checkAttention(size_t outLength, size_t qLength, size_t keysLength, size_t valuesLength, int64_t position, int64_t nTokens,
                      int64_t nHead, int64_t nHeadKv, int64_t headDim, int64_t maxPositions) {
  if (nHead < 1 || nHeadKv < 1 || headDim < 1 || nHead % nHeadKv != 0) {
    return error("SHAPE_MISMATCH", "attention: nHead, nHeadKv and headDim must be positive, nHead a multiple of nHeadKv");
  }
  const int64_t nPositions = position + nTokens;
  if (nPositions > maxPositions) return error("SHAPE_MISMATCH", "attention: position + nTokens exceeds maxPositions");
  const uint64_t nQValues = static_cast<uint64_t>(nTokens * nHead * headDim);
  const uint64_t nKvValues = static_cast<uint64_t>(nPositions * nHeadKv * headDim);
  if (qLength < nQValues || outLength < nQValues) return error("SHAPE_MISMATCH", "attention: q and out need " + std::to_string(nQValues) + " values");
  if (keysLength < nKvValues || valuesLength < nKvValues) return error("SHAPE_MISMATCH", "attention: keys and values need " + std::to_string(nKvValues) + " values");
  return {};
}

/**
 * Decoding without GQA: heads per task, consecutive (adjacent in every K and V row), as many as
 * leave every thread kMinAttentionGroupTasksPerThread tasks, at most 16; 1 when none divides nHead.
 */
int64_t headBlockFor(int64_t nHead, int threads) {
  for (int64_t block = 16; block >= 2; block /= 2) {
    if (nHead % block == 0 && nHead / block >= kMinAttentionGroupTasksPerThread * threads) return block;
  }
  return 1;
}

/**
 * One task per (token, KV head) when that leaves enough tasks to share out (the AVX-512 kernel
 * then widens each K/V row once for all the group's query heads), else per (token, query head);
 * a decode step without GQA in blocks of consecutive heads (headBlockFor: the AVX-512 kernel
 * reads their adjacent slices of each K row as one run; a 7B-shaped layer at position 150 from
 * L3, 2 threads: 75 → 53 µs; whole decode steps at depth ~400, alternating in one process: 1.03×).
 * Each head's output has the same bits either way (generic/attention.h), so the
 * split, like the thread count, changes no result. Scratch per thread, kept between calls.
 */
void runAttention(ThreadPool& pool, AttentionKernel kernel, const AttentionProblem& problem) {
  const bool grouped = problem.nTokens * problem.nHeadKv >= kMinAttentionGroupTasksPerThread * pool.threadCount();
  int64_t headsPerTask = grouped ? problem.nHead / problem.nHeadKv : 1;
  if (problem.nHead == problem.nHeadKv && problem.nTokens == 1) headsPerTask = headBlockFor(problem.nHead, pool.threadCount());
  const int64_t nTasks = problem.nTokens * problem.nHead / headsPerTask;
  const int64_t groupsPerToken = problem.nHead / headsPerTask;
  const size_t scratchFloats = static_cast<size_t>(attentionScratchFloats(problem, headsPerTask));
  const int64_t nFmas = problem.nTokens * problem.nHead * problem.headDim * (2 * (problem.position + problem.nTokens));
  pool.forEach(nTasks, nFmas >= kMinAttentionFmasToWake, [&](int64_t task) {
    thread_local std::vector<float> scratch;
    if (scratch.size() < scratchFloats) scratch.resize(scratchFloats);
    kernel(problem, task / groupsPerToken, task % groupsPerToken * headsPerTask, headsPerTask, scratch.data());
  });
}

/** The stream prefetch for this CPU (x86/avx512.h prefetchStream), or as `setting` says: none, nta or t1. */
StreamPrefetch streamPrefetchFor(const CpuFeatures& cpu, const char* setting) {
  if (setting && std::strcmp(setting, "none") == 0) return StreamPrefetch::None;
  if (setting && std::strcmp(setting, "nta") == 0) return StreamPrefetch::Nta;
  if (setting && std::strcmp(setting, "t1") == 0) return StreamPrefetch::T1;
  return cpu.amd ? StreamPrefetch::Nta : StreamPrefetch::T1;
}

}  // namespace

EngineLease leaseEngine() {
  Engine& e = engine();
  std::unique_lock<std::mutex> lock(e.mutex);
  return EngineLease{std::move(lock), e.isa, e.pool.get()};
}

void engineInit(int defaultThreads) {
  Engine& e = engine();
  std::lock_guard<std::mutex> lock(e.mutex);
  if (e.pool) return;
  e.cpu = detectCpuFeatures();
  e.isa = bestIsa(e.cpu);
  if (const char* forced = std::getenv("LAYERSTREAM_SIMD")) {
    Isa isa;
    if (parseIsa(forced, &isa) && isaAvailable(e.cpu, isa) && static_cast<int>(isa) <= static_cast<int>(e.isa)) e.isa = isa;
  }
  e.pool.reset(new ThreadPool(std::max(1, defaultThreads), kDefaultSpinMicros));
  if (const char* readAhead = std::getenv("LAYERSTREAM_READ_AHEAD")) e.readAhead = std::strcmp(readAhead, "0") == 0 ? ReadAhead::Never : ReadAhead::Always;
  e.streamPrefetch = streamPrefetchFor(e.cpu, std::getenv("LAYERSTREAM_STREAM_PREFETCH"));
}

Capabilities engineCapabilities() {
  Engine& e = engine();
  std::lock_guard<std::mutex> lock(e.mutex);
  Capabilities c{};
  c.isa = e.isa;
  c.threads = e.pool ? e.pool->threadCount() : 1;
  c.spinMicros = e.pool ? e.pool->spinMicros() : kDefaultSpinMicros;
  c.compiler = compilerDescription();
  for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512, Isa::Neon}) c.available[static_cast<int>(isa)] = isaAvailable(e.cpu, isa);
  return c;
}

Status engineSetThreads(int nThreads, int spinMicros) {
  if (nThreads < 1 || nThreads > 1024) return error("INVALID_ARGUMENT", "setThreads: nThreads must be an integer in 1..1024, got " + std::to_string(nThreads));
  if (spinMicros > 1000000) return error("INVALID_ARGUMENT", "setThreads: spinMicros must be an integer in 0..1000000");
  Engine& e = engine();
  std::lock_guard<std::mutex> lock(e.mutex);
  const int spin = spinMicros >= 0 ? spinMicros : (e.pool ? e.pool->spinMicros() : kDefaultSpinMicros);
  if (!e.pool || e.pool->threadCount() != nThreads || e.pool->spinMicros() != spin) {
    e.pool.reset();
    e.pool.reset(new ThreadPool(nThreads, spin));
  }
  return {};
}

Status engineSetIsa(const char* name) {
  Engine& e = engine();
  std::lock_guard<std::mutex> lock(e.mutex);
  Isa isa;
  if (!parseIsa(name, &isa)) return error("INVALID_ARGUMENT", std::string("setIsa: unknown ISA \"") + name + "\" (expected avx512, avx2, neon or scalar)");
  if (!isaAvailable(e.cpu, isa)) return error("ISA_UNAVAILABLE", std::string("setIsa: ") + name + " is not supported by this CPU or build");
  e.isa = isa;
  return {};
}

Status engineRoute(int weightType, int64_t nCols, int64_t nRows, int64_t nTokens, Route* route) {
  if (typeShape(weightType).blockBytes == 0) return error("UNSUPPORTED_TYPE", "route: weight type " + std::to_string(weightType) + " has no native kernel");
  if (nCols < 0 || nRows < 0 || nTokens < 0) return error("INVALID_ARGUMENT", "route: nCols, nRows and nTokens must not be negative");
  *route = routeFor(weightType, nCols, nRows, nTokens);
  return {};
}

Status engineMatmul(float* out, size_t outLength, const uint8_t* weight, size_t weightBytes, int weightType,
                    const float* x, size_t xLength, int64_t nCols, int64_t nRows, int64_t nTokens) {
  const bool packed = (weightType & kPackedTypeFlag) != 0;
  if (packed) {
    weightType &= ~kPackedTypeFlag;
    if (!packable(weightType, nCols, nRows)) return error("UNSUPPORTED_TYPE", "matmul: weight type " + std::to_string(weightType) + " with " + std::to_string(nRows) + " rows of " + std::to_string(nCols) + " has no packed layout");
  }
  size_t rowBytes = 0;
  const Status checked = checkMatmul(outLength, weightBytes, weightType, xLength, nCols, nRows, nTokens, &rowBytes);
  if (!checked.ok()) return checked;
  if (nRows == 0 || nTokens == 0) return {};
  if (nCols == 0) {  // empty dot products, like the TypeScript matmul
    std::fill(out, out + nTokens * nRows, 0.0f);
    return {};
  }

  Engine& e = engine();
  std::lock_guard<std::mutex> lock(e.mutex);
  const TypeKernel* kernel = kernelFor(e.isa, weightType);
  const Route route = routeFor(weightType, nCols, nRows, nTokens);
  ActLayout layout = actLayout(actKindFor(weightType), nCols, kernel->actCorrBias);
  // ggml_quantize_mat_q8_K_4x8 (activations of the repacked Q4_K gemm) picks the extreme's sign differently
  if (route.batched == Arith::RepackedGemm) layout.q8kPositiveFirstTokens = route.nBatched;
  uint8_t* act = ensureScratch(e, layout.tokenBytes * nTokens + 64);
  if (!act) return error("OUT_OF_MEMORY", "matmul: cannot allocate activation scratch");
  const MatmulProblem problem{out, weight, rowBytes, weightType, nCols, nRows, nTokens, act, layout, route, packed ? kPackRows : 0, e.streamPrefetch};
  if (e.readAhead != ReadAhead::Never) {
    // every call teaches the order, so a later prompt finds it learnt by the decode before it
    WeightRange upcoming[ThreadPool::kMaxReadAheadRanges];
    const int nUpcoming = e.sequence.observe({weight, rowBytes * static_cast<size_t>(nRows)}, kMaxReadAheadBytes, upcoming, ThreadPool::kMaxReadAheadRanges);
    if (e.readAhead == ReadAhead::Always || nTokens > 1) e.pool->setReadAhead(upcoming, nUpcoming);
  }
  runMatmul(*e.pool, *kernel, problem, x, act);
  return {};
}

Status engineAttention(float* out, size_t outLength, const float* q, size_t qLength, const uint16_t* keys,
                       size_t keysLength, const uint16_t* values, size_t valuesLength, int64_t position,
                       int64_t nTokens, int64_t nHead, int64_t nHeadKv, int64_t headDim, int64_t maxPositions,
                       bool* computed) {
  *computed = false;
  const Status checked = checkAttention(outLength, qLength, keysLength, valuesLength, position, nTokens, nHead, nHeadKv, headDim, maxPositions);
  if (!checked.ok()) return checked;
  if (nTokens == 0) {
    *computed = true;
    return {};
  }

  Engine& e = engine();
  std::lock_guard<std::mutex> lock(e.mutex);
  const int64_t nKvPadded = std::min(maxPositions, std::max<int64_t>(256, (position + nTokens + 255) / 256 * 256));
  const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(headDim)));
  const AttentionProblem problem{out, q, keys, values, position, nTokens, nHead, nHeadKv, headDim, nKvPadded, scale};
  runAttention(*e.pool, attentionKernelFor(e.isa), problem);
  *computed = true;
  return {};
}

Status engineFlashAttention(float* out, size_t outLength, const float* q, size_t qLength, const uint16_t* keys,
                            size_t keysLength, const uint16_t* values, size_t valuesLength, int64_t position,
                            int64_t nTokens, int64_t nHead, int64_t nHeadKv, int64_t headDim, int64_t maxPositions,
                            float scale, int64_t window, int64_t kvChunks) {
  const Status checked = checkAttention(outLength, qLength, keysLength, valuesLength, position, nTokens, nHead, nHeadKv, headDim, maxPositions);
  if (!checked.ok()) return checked;
  if (window < 0 || kvChunks < 1) return error("INVALID_ARGUMENT", "flashAttention: window must be ≥ 0 and kvChunks ≥ 1");
  if (nTokens == 0) return {};
  Engine& e = engine();
  std::lock_guard<std::mutex> lock(e.mutex);
  const int64_t nKvPadded = std::min(maxPositions, std::max<int64_t>(256, (position + nTokens + 255) / 256 * 256));
  const FlashProblem problem{out, q, keys, values, position, nTokens, nHead, nHeadKv, headDim, nKvPadded, scale, window, kvChunks};
  FlashKernel kernel = e.isa == Isa::Avx512 ? avx512FlashKernel() : nullptr;
  if (!kernel && (e.isa == Isa::Avx512 || e.isa == Isa::Avx2)) kernel = avx2FlashKernel();
  if (!kernel) kernel = scalarFlashKernel();
  const size_t scratchFloats = static_cast<size_t>(flashScratchFloats(problem));
  const int64_t nFmas = nTokens * nHead * headDim * (2 * (position + nTokens));
  // tasks of (block of tokens, head): blocks of kFlashBlockRows on the tiled path, else single rows;
  // a row's bits do not depend on the split or the thread count
  const int64_t blockRows = flashTiled(problem) ? kFlashBlockRows : 1;
  const int64_t nBlocks = (nTokens + blockRows - 1) / blockRows;
  e.pool->forEach(nBlocks * nHead, nFmas >= kMinAttentionFmasToWake, [&](int64_t task) {
    thread_local std::vector<float> scratch;
    if (scratch.size() < scratchFloats) scratch.resize(scratchFloats);
    const int64_t t0 = task / nHead * blockRows;
    kernel(problem, t0, std::min(blockRows, nTokens - t0), task % nHead, scratch.data());
  });
  return {};
}

/** Whether the path packs this type and shape: only where its kernel reads the layout (elsewhere every call would unpack it). */
bool packsOn(Isa isa, int weightType, int64_t nCols, int64_t nRows) {
  return packable(weightType, nCols, nRows) && kernelFor(isa, weightType)->packedRows == kPackRows;
}

bool enginePacks(int weightType, int64_t nCols, int64_t nRows) {
  Engine& e = engine();
  std::lock_guard<std::mutex> lock(e.mutex);
  return packsOn(e.isa, weightType, nCols, nRows);
}

Status enginePack(const uint8_t* src, size_t srcBytes, uint8_t* dst, size_t dstBytes, int weightType, int64_t nCols, int64_t nRows, bool* packed) {
  *packed = false;
  size_t rowBytes = 0;
  const Status checked = checkMatmul(0, srcBytes, weightType, 0, nCols, nRows, 0, &rowBytes);
  if (!checked.ok()) return checked;
  if (dstBytes < rowBytes * static_cast<size_t>(nRows)) return error("SHAPE_MISMATCH", "pack: the destination has " + std::to_string(dstBytes) + " bytes, needs " + std::to_string(rowBytes * nRows));
  Engine& e = engine();
  std::lock_guard<std::mutex> lock(e.mutex);
  if (!packsOn(e.isa, weightType, nCols, nRows)) return {};
  const int64_t nTiles = nRows / kPackRows;
  e.pool->forEach(nTiles, true, [&](int64_t tile) { packTiles16(weightType, src, dst, rowBytes, tile, tile + 1); });
  *packed = true;
  return {};
}

}  // namespace ls
