#include "engine.h"

#include <algorithm>
#include <initializer_list>
#include <atomic>
#include <cmath>
#include <vector>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <thread>
#if defined(_WIN32)
#include <malloc.h>
#endif

#include "act.h"
#include "attention.h"
#include "blocks.h"
#include "cpu.h"
#include "threadpool.h"

namespace ls {

namespace {

struct Engine {
  CpuFeatures cpu;
  Isa isa = Isa::Scalar;
  std::unique_ptr<ThreadPool> pool;
  uint8_t* scratch = nullptr;
  size_t scratchBytes = 0;
  std::mutex mutex;  // one call at a time (worker_threads may share the addon)
};

Engine& engine() {
  static Engine* instance = new Engine();  // never destroyed: workers may outlive static dtors
  return *instance;
}

const TypeKernel* kernelFor(Isa isa, int weightType) {
  const TypeKernel* kernel = nullptr;
  switch (isa) {
    case Isa::Avx512: kernel = avx512Kernel(weightType); if (kernel) break; [[fallthrough]];
    case Isa::Avx2: kernel = avx2Kernel(weightType); break;
    case Isa::Neon: kernel = neonKernel(weightType); break;
    default: break;
  }
  return kernel ? kernel : scalarKernel(weightType);
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

struct QuantizeJob {
  QuantizeKernel quantize;
  const ActLayout* layout;
  const float* x;
  uint8_t* act;
  int64_t nTokens;
  std::atomic<int64_t> nextToken;
};

/** Activation rows are claimed one token at a time by whichever threads take part. */
void runQuantizeJob(void* context, int, int) {
  QuantizeJob& job = *static_cast<QuantizeJob*>(context);
  for (;;) {
    const int64_t t = job.nextToken.fetch_add(1, std::memory_order_relaxed);
    if (t >= job.nTokens) return;
    job.quantize(*job.layout, job.x, job.act, t, t + 1);
  }
}

struct RowsJob {
  const MatmulProblem* problem;
  RowsKernel rows;
  int64_t rowsPerChunk;
  int64_t nChunks;
  std::atomic<int64_t> nextChunk;
};

void runRowsJob(void* context, int, int) {
  RowsJob& job = *static_cast<RowsJob*>(context);
  for (;;) {
    const int64_t chunk = job.nextChunk.fetch_add(1, std::memory_order_relaxed);
    if (chunk >= job.nChunks) return;
    const int64_t begin = chunk * job.rowsPerChunk;
    const int64_t end = std::min(begin + job.rowsPerChunk, job.problem->nRows);
    job.rows(*job.problem, begin, end);
  }
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

Status error(const char* code, std::string message) { return Status{code, std::move(message)}; }

struct AttentionJob {
  const AttentionProblem* problem;
  AttentionKernel kernel;
  int64_t nTasks;         // (token, group of headsPerTask query heads) pairs
  int64_t headsPerTask;   // query heads of one KV head (all of them, or 1)
  int64_t scratchFloats;
  std::atomic<int64_t> nextTask;
};

/** Tasks claimed one at a time; scratch per thread, kept between calls. */
void runAttentionJob(void* context, int, int) {
  AttentionJob& job = *static_cast<AttentionJob*>(context);
  thread_local std::vector<float> scratch;
  if (static_cast<int64_t>(scratch.size()) < job.scratchFloats) scratch.resize(job.scratchFloats);
  for (;;) {
    const int64_t task = job.nextTask.fetch_add(1, std::memory_order_relaxed);
    if (task >= job.nTasks) return;
    const int64_t groupsPerToken = job.problem->nHead / job.headsPerTask;
    job.kernel(*job.problem, task / groupsPerToken, task % groupsPerToken * job.headsPerTask, job.headsPerTask, scratch.data());
  }
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

/** multiply-adds (K·Q plus KQV) below which sleeping workers are left asleep */
constexpr int64_t kMinAttentionFmasToWake = 256 * 1024;
/** (token, KV head) tasks below which attention tasks take one query head each */
constexpr int64_t kMinAttentionGroupTasks = 8;

}  // namespace

Route routeFor(int weightType, int64_t nCols, int64_t nRows, int64_t nTokens) {
  const auto uniform = [](Arith arith) { return Route{arith, arith, 0}; };
  switch (weightType) {
    case kF32:
    case kF16:  // llamafile_sgemm takes batches of whole 16-value vectors and rows in fours
      return nTokens >= 2 && nCols % 16 == 0 && nRows % 4 == 0 ? Route{Arith::Tiled, Arith::VecDot, nTokens} : uniform(Arith::VecDot);
    case kBF16:
      return nTokens >= 2 && nCols % 32 == 0 && nRows % 4 == 0 ? Route{Arith::Tiled, Arith::VecDot, nTokens} : uniform(Arith::VecDot);
    case kQ4_0:  // the CPU_REPACK buffer holds Q4_0 weights with a multiple of 8 rows (q4_0_8x8)
      return uniform(nRows % 8 == 0 ? Arith::RepackedGemv : Arith::VecDot);
    case kQ4_K:  // q4_K_8x8: gemm for groups of 4 tokens when there are at least 4, gemv for the rest
      if (nRows % 8 != 0) return uniform(Arith::VecDot);
      return Route{Arith::RepackedGemm, Arith::RepackedGemv, nTokens > 3 ? nTokens - nTokens % 4 : 0};
    default:
      return uniform(Arith::VecDot);
  }
}

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

Status engineMatmul(float* out, size_t outLength, const uint8_t* weight, size_t weightBytes, int weightType,
                    const float* x, size_t xLength, int64_t nCols, int64_t nRows, int64_t nTokens) {
  const TypeShape shape = typeShape(weightType);
  if (shape.blockBytes == 0) return error("UNSUPPORTED_TYPE", "matmul: weight type " + std::to_string(weightType) + " has no native kernel");
  if (nCols < 0 || nRows < 0 || nTokens < 0) return error("SHAPE_MISMATCH", "matmul: nCols, nRows and nTokens must not be negative");
  const ActKind kind = actKindFor(weightType);
  const int actBlock = kind == ActKind::Q8_K ? kQK_K : (kind == ActKind::Q8_0 || kind == ActKind::Q8_1) ? kQK : 1;
  if (nCols % shape.blockValues != 0 || nCols % actBlock != 0) {
    return error("SHAPE_MISMATCH", "matmul: rows of " + std::to_string(nCols) + " values are not whole blocks of " + std::to_string(std::max(shape.blockValues, actBlock)));
  }
  const size_t rowBytes = static_cast<size_t>(nCols / shape.blockValues) * shape.blockBytes;
  if (weightBytes < rowBytes * static_cast<size_t>(nRows)) {
    return error("SHAPE_MISMATCH", "matmul: weight has " + std::to_string(weightBytes) + " bytes, needs " + std::to_string(rowBytes * nRows));
  }
  if (xLength < static_cast<size_t>(nTokens * nCols)) return error("SHAPE_MISMATCH", "matmul: x has " + std::to_string(xLength) + " values, needs " + std::to_string(nTokens * nCols));
  if (outLength < static_cast<size_t>(nTokens * nRows)) return error("SHAPE_MISMATCH", "matmul: out has " + std::to_string(outLength) + " values, needs " + std::to_string(nTokens * nRows));

  if (nRows == 0 || nTokens == 0) return {};
  if (nCols == 0) {  // empty dot products, like the TypeScript matmul
    std::fill(out, out + nTokens * nRows, 0.0f);
    return {};
  }

  Engine& e = engine();
  std::lock_guard<std::mutex> lock(e.mutex);
  const TypeKernel* kernel = kernelFor(e.isa, weightType);
  MatmulProblem problem{};
  problem.out = out;
  problem.weight = weight;
  problem.weightRowBytes = rowBytes;
  problem.weightType = weightType;
  problem.nCols = nCols;
  problem.nRows = nRows;
  problem.nTokens = nTokens;
  problem.route = routeFor(weightType, nCols, nRows, nTokens);
  problem.layout = actLayout(kind, nCols, kernel->actCorrBias);
  // ggml_quantize_mat_q8_K_4x8 (activations of the repacked Q4_K gemm) picks the extreme's sign differently
  if (problem.route.batched == Arith::RepackedGemm) problem.layout.q8kPositiveFirstTokens = problem.route.nBatched;
  uint8_t* act = ensureScratch(e, problem.layout.tokenBytes * nTokens + 64);
  if (!act) return error("OUT_OF_MEMORY", "matmul: cannot allocate activation scratch");
  problem.act = act;

  const int nThreads = e.pool->threadCount();
  const QuantizeKernel quantizeFn = kernel->quantize ? kernel->quantize : quantizeActs;
  if (nTokens >= 2 * nThreads && nThreads > 1) {
    QuantizeJob quantize;
    quantize.quantize = quantizeFn;
    quantize.layout = &problem.layout;
    quantize.x = x;
    quantize.act = act;
    quantize.nTokens = nTokens;
    quantize.nextToken.store(0);
    e.pool->run(runQuantizeJob, &quantize);
  } else {
    quantizeFn(problem.layout, x, act, 0, nTokens);
  }

  RowsJob rows;
  rows.problem = &problem;
  rows.rows = kernel->rows;
  rows.rowsPerChunk = rowsPerChunk(nRows, nThreads);
  rows.nChunks = (nRows + rows.rowsPerChunk - 1) / rows.rowsPerChunk;
  rows.nextChunk.store(0);
  if (rows.nChunks == 1) {
    kernel->rows(problem, 0, nRows);
  } else {
    // waking a sleeping worker costs the caller 15-30 µs here: not worth it below ~50 µs of work
    const int64_t nBlockDots = nRows * (nCols / 32 + 1) * nTokens;
    e.pool->run(runRowsJob, &rows, nBlockDots >= kMinBlockDotsToWake);
  }
  return {};
}

Status engineAttention(float* out, size_t outLength, const float* q, size_t qLength, const uint16_t* keys,
                       size_t keysLength, const uint16_t* values, size_t valuesLength, int64_t position,
                       int64_t nTokens, int64_t nHead, int64_t nHeadKv, int64_t headDim, int64_t maxPositions,
                       bool* computed) {
  *computed = false;
  if (nHead < 1 || nHeadKv < 1 || headDim < 1 || nHead % nHeadKv != 0) {
    return error("SHAPE_MISMATCH", "attention: nHead, nHeadKv and headDim must be positive, nHead a multiple of nHeadKv");
  }
  const int64_t nPositions = position + nTokens;
  if (nPositions > maxPositions) return error("SHAPE_MISMATCH", "attention: position + nTokens exceeds maxPositions");
  const uint64_t nQValues = static_cast<uint64_t>(nTokens * nHead * headDim);
  const uint64_t nKvValues = static_cast<uint64_t>(nPositions * nHeadKv * headDim);
  if (qLength < nQValues || outLength < nQValues) return error("SHAPE_MISMATCH", "attention: q and out need " + std::to_string(nQValues) + " values");
  if (keysLength < nKvValues || valuesLength < nKvValues) return error("SHAPE_MISMATCH", "attention: keys and values need " + std::to_string(nKvValues) + " values");
  if (nTokens == 0) {
    *computed = true;
    return {};
  }

  Engine& e = engine();
  std::lock_guard<std::mutex> lock(e.mutex);
  const AttentionKernel kernel = attentionKernelFor(e.isa);
  AttentionProblem problem{};
  problem.out = out;
  problem.q = q;
  problem.keys = keys;
  problem.values = values;
  problem.position = position;
  problem.nTokens = nTokens;
  problem.nHead = nHead;
  problem.nHeadKv = nHeadKv;
  problem.headDim = headDim;
  problem.nKvPadded = std::min(maxPositions, std::max<int64_t>(256, (nPositions + 255) / 256 * 256));
  problem.scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(headDim)));

  AttentionJob job;
  job.problem = &problem;
  job.kernel = kernel;
  // One task per (token, KV head) when that leaves enough tasks to share out (the AVX-512 kernel
  // then widens each K/V row once for all the group's query heads), else per (token, query head),
  // as for decode. Each head's output has the same bits either way (attention.h), so the split,
  // like the thread count, changes no result.
  job.headsPerTask = nTokens * nHeadKv >= kMinAttentionGroupTasks ? nHead / nHeadKv : 1;
  job.nTasks = nTokens * nHead / job.headsPerTask;
  job.scratchFloats = attentionScratchFloats(problem, job.headsPerTask);
  job.nextTask.store(0);
  if (e.pool->threadCount() == 1 || job.nTasks == 1) {
    runAttentionJob(&job, 0, 1);
  } else {
    const int64_t nFmas = nTokens * nHead * headDim * (2 * nPositions);
    e.pool->run(runAttentionJob, &job, nFmas >= kMinAttentionFmasToWake);
  }
  *computed = true;
  return {};
}

}  // namespace ls
