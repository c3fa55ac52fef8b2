#include "core/threadpool.h"

#include <chrono>

#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__)
#include <immintrin.h>
static inline void cpuRelax() { _mm_pause(); }
#elif defined(__aarch64__)
static inline void cpuRelax() { __asm__ __volatile__("yield"); }
#else
static inline void cpuRelax() {}
#endif

namespace ls {

namespace {

/** While polling, an idle worker yields its core this often (a no-op when nobody else wants it). */
constexpr auto kYieldEvery = std::chrono::microseconds(100);
/** Polls of the caller for joined workers before it starts yielding its core to them. */
constexpr int kWaitPollsBeforeYield = 2000;

/** Bytes a worker claims of the read-ahead range at a time, and cache lines between its checks for a new job. */
constexpr size_t kReadAheadSliceBytes = 64 * 1024;
constexpr int kReadAheadLinesPerCheck = 16;
constexpr size_t kCacheLineBytes = 64;

constexpr uint64_t kClosed = uint64_t(1) << 31;
constexpr uint64_t kCountMask = kClosed - 1;

uint32_t generationOf(uint64_t state) { return static_cast<uint32_t>(state >> 32); }

}  // namespace

ThreadPool::ThreadPool(int nThreads, int spinMicros) : nThreads_(nThreads < 1 ? 1 : nThreads), spinMicros_(spinMicros < 0 ? 0 : spinMicros) {
  workers_.reserve(nThreads_ - 1);
  for (int i = 1; i < nThreads_; i++) workers_.emplace_back(&ThreadPool::workerLoop, this, i);
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_.store(true);
    generation_.fetch_add(1);
  }
  wake_.notify_all();
  for (auto& worker : workers_) worker.join();
}

void ThreadPool::run(JobFn job, void* context, bool wakeSleepers) {
  if (nThreads_ == 1) {
    job(context, 0, 1);
    return;
  }
  job_ = job;
  context_ = context;
  const uint32_t generation = generation_.load(std::memory_order_relaxed) + 1;
  state_.store(static_cast<uint64_t>(generation) << 32);  // open, nobody joined; publishes job_
  generation_.store(generation);                          // seq_cst: ordered against sleepers_
  if (wakeSleepers && sleepers_.load() > 0) {
    std::lock_guard<std::mutex> lock(mutex_);
    wake_.notify_all();
  }
  job(context, 0, nThreads_);
  state_.fetch_or(kClosed);  // late workers will not join
  for (int polls = 0; (state_.load(std::memory_order_acquire) & kCountMask) != 0; polls++) {
    if (polls < kWaitPollsBeforeYield) cpuRelax();
    else std::this_thread::yield();
  }
}

void ThreadPool::setReadAhead(const WeightRange* ranges, int nRanges) {
  if (nThreads_ == 1) return;
  std::lock_guard<std::mutex> lock(readAheadMutex_);
  readAheadRange_ = 0;
  readAheadCount_ = 0;
  for (int i = 0; i < nRanges && readAheadCount_ < kMaxReadAheadRanges; i++) {
    if (!ranges[i].begin || ranges[i].nBytes == 0) continue;
    readAheadNext_[readAheadCount_] = ranges[i].begin;
    readAheadEnd_[readAheadCount_++] = ranges[i].begin + ranges[i].nBytes;
  }
  readAheadPending_.store(readAheadCount_ > 0, std::memory_order_relaxed);
}

bool ThreadPool::readAheadSlice(uint32_t seen) {
  const uint8_t* line;
  const uint8_t* end;
  {
    std::lock_guard<std::mutex> lock(readAheadMutex_);
    while (readAheadRange_ < readAheadCount_ && readAheadNext_[readAheadRange_] >= readAheadEnd_[readAheadRange_]) readAheadRange_++;
    if (readAheadRange_ == readAheadCount_) {
      readAheadPending_.store(false, std::memory_order_relaxed);
      return false;
    }
    const int r = readAheadRange_;
    line = readAheadNext_[r];
    end = readAheadEnd_[r] - line > static_cast<ptrdiff_t>(kReadAheadSliceBytes) ? line + kReadAheadSliceBytes : readAheadEnd_[r];
    readAheadNext_[r] = end;
  }
  while (line < end) {
    if (generation_.load(std::memory_order_relaxed) != seen) return true;  // a job: the rest of the slice is left to it
    for (int i = 0; i < kReadAheadLinesPerCheck && line < end; i++, line += kCacheLineBytes) __builtin_prefetch(line, 0, 3);
  }
  return true;
}

void ThreadPool::workerLoop(int threadIndex) {
  uint32_t seen = 0;
  for (;;) {
    uint32_t current = generation_.load(std::memory_order_acquire);
    if (current == seen) {
      auto now = std::chrono::steady_clock::now();
      const auto spinUntil = now + std::chrono::microseconds(spinMicros_);
      auto nextYield = now + kYieldEvery;
      int polls = 0;
      while ((current = generation_.load(std::memory_order_acquire)) == seen) {
        if (readAheadPending_.load(std::memory_order_relaxed) && readAheadSlice(seen)) continue;
        cpuRelax();
        if (++polls == 64) {
          polls = 0;
          now = std::chrono::steady_clock::now();
          if (now > spinUntil) break;
          if (now > nextYield) {
            std::this_thread::yield();
            nextYield = now + kYieldEvery;
          }
        }
      }
      if (current == seen) {
        std::unique_lock<std::mutex> lock(mutex_);
        sleepers_.fetch_add(1);
        wake_.wait(lock, [&] { return generation_.load() != seen; });
        sleepers_.fetch_sub(1);
        current = generation_.load();
      }
    }
    seen = current;
    if (stop_.load()) return;
    // join the job of generation `current` if it is still open
    uint64_t state = state_.load(std::memory_order_acquire);
    bool joined = false;
    while (generationOf(state) == current && (state & kClosed) == 0) {
      if (state_.compare_exchange_weak(state, state + 1, std::memory_order_acq_rel)) {
        joined = true;
        break;
      }
    }
    if (!joined) continue;
    job_(context_, threadIndex, nThreads_);
    state_.fetch_sub(1, std::memory_order_release);
  }
}

}  // namespace ls
