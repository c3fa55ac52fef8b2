// A persistent pool of worker threads, created once and reused for every call. The calling
// thread takes part as worker 0. Idle workers poll for the next job for a while (yielding their
// core now and then, in case other processes want it), then sleep: waking a sleeping thread costs
// the caller tens of microseconds in a VM, more than a whole decode-sized matmul gains. Jobs hand out their work in chunks that any participant claims,
// so a worker that is slow to wake (an oversubscribed machine) simply misses the job: the caller
// closes the job when it has no chunks left and waits only for workers that already joined.
// Between jobs, an idle worker reads ahead (setReadAhead): it prefetches the memory the caller
// said comes next, a slice at a time, and drops it the moment a job arrives — so the memory bus
// keeps working while the caller runs what is not a matmul (attention, norms, JavaScript).
#pragma once

#include <atomic>
#include <cstddef>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "core/weight_sequence.h"

namespace ls {

class ThreadPool {
 public:
  /**
   * A job: called on the calling thread and on every worker that joins in time, each time with
   * a distinct threadIndex < nThreads. It must claim its work dynamically (e.g. an atomic chunk
   * counter): nothing guarantees that more than the calling thread takes part.
   */
  typedef void (*JobFn)(void* context, int threadIndex, int nThreads);

  /** spinMicros: how long an idle worker polls for the next job before it sleeps */
  ThreadPool(int nThreads, int spinMicros);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int threadCount() const { return nThreads_; }
  int spinMicros() const { return spinMicros_; }

  /**
   * Runs job and returns when it is done. Not reentrant. With wakeSleepers false, workers that
   * have gone to sleep are not woken (they may still join if they are polling): for jobs smaller
   * than the cost of a wake-up.
   */
  void run(JobFn job, void* context, bool wakeSleepers = true);

  /** Most ranges setReadAhead takes. */
  static constexpr int kMaxReadAheadRanges = 8;

  /**
   * Memory for idle workers to bring into cache, range after range, until it is all fetched or
   * replaced: a hint, fetched with prefetch instructions, which never fault (a range unmapped
   * meanwhile is harmless). Replaces the previous ranges; nRanges 0 clears them (at most
   * kMaxReadAheadRanges are kept). Polling workers only (no wake).
   */
  void setReadAhead(const WeightRange* ranges, int nRanges);

  /**
   * fn(item) for every item of [0, nItems), each claimed once through an atomic counter by the
   * calling thread and whichever workers join (see run). One item runs on the calling thread alone.
   */
  template <typename Fn>
  void forEach(int64_t nItems, bool wakeSleepers, const Fn& fn) {
    if (nItems <= 1 || nThreads_ == 1) {
      for (int64_t item = 0; item < nItems; item++) fn(item);
      return;
    }
    struct Job {
      const Fn* fn;
      int64_t nItems;
      std::atomic<int64_t> next{0};
      static void claim(void* context, int, int) {
        Job& job = *static_cast<Job*>(context);
        for (;;) {
          const int64_t item = job.next.fetch_add(1, std::memory_order_relaxed);
          if (item >= job.nItems) return;
          (*job.fn)(item);
        }
      }
    };
    Job job;
    job.fn = &fn;
    job.nItems = nItems;
    run(&Job::claim, &job, wakeSleepers);
  }

  /**
   * forEach with items claimed from both ends: the calling thread and even-numbered workers take
   * them in increasing order from the front, odd-numbered workers in decreasing order from the
   * back. With two threads each reads one contiguous run of memory (as a memory-bound pass over
   * weights wants: the hardware prefetchers follow one stream each) and they meet wherever the
   * work balances.
   */
  template <typename Fn>
  void forEachFromBothEnds(int64_t nItems, bool wakeSleepers, const Fn& fn) {
    if (nItems <= 1 || nThreads_ == 1 || nItems >= (int64_t(1) << 31)) return forEach(nItems, wakeSleepers, fn);
    struct Job {
      const Fn* fn;
      std::atomic<uint64_t> ends{0};  // [back: 32][front: 32], items [front, back) left
      static void claim(void* context, int threadIndex, int) {
        Job& job = *static_cast<Job*>(context);
        const bool fromBack = threadIndex % 2 == 1;
        uint64_t ends = job.ends.load(std::memory_order_relaxed);
        for (;;) {
          const uint64_t front = ends & 0xffffffffu, back = ends >> 32;
          if (front >= back) return;
          const uint64_t next = fromBack ? ((back - 1) << 32 | front) : (back << 32 | (front + 1));
          if (!job.ends.compare_exchange_weak(ends, next, std::memory_order_relaxed)) continue;
          (*job.fn)(static_cast<int64_t>(fromBack ? back - 1 : front));
          ends = job.ends.load(std::memory_order_relaxed);
        }
      }
    };
    Job job;
    job.fn = &fn;
    job.ends.store(static_cast<uint64_t>(nItems) << 32);
    run(&Job::claim, &job, wakeSleepers);
  }

 private:
  void workerLoop(int threadIndex);
  /** Prefetches one slice of the read-ahead range, stopping early when the generation moves on from `seen`; false when there was none. */
  bool readAheadSlice(uint32_t seen);

  const int nThreads_;
  const int spinMicros_;
  std::vector<std::thread> workers_;
  /** bumped for every job (and at shutdown): what idle workers watch */
  std::atomic<uint32_t> generation_{0};
  /** [generation:32][closed:1][joined workers:31] of the current job */
  std::atomic<uint64_t> state_{0};
  std::atomic<int> sleepers_{0};
  std::atomic<bool> stop_{false};
  JobFn job_ = nullptr;
  void* context_ = nullptr;
  std::mutex mutex_;
  std::condition_variable wake_;
  /** what is left to read ahead: [next, end) of ranges [readAheadRange_, readAheadCount_) (under readAheadMutex_) */
  std::mutex readAheadMutex_;
  const uint8_t* readAheadNext_[kMaxReadAheadRanges] = {};
  const uint8_t* readAheadEnd_[kMaxReadAheadRanges] = {};
  int readAheadRange_ = 0;
  int readAheadCount_ = 0;
  /** whether anything is left, read without the lock */
  std::atomic<bool> readAheadPending_{false};
};

}  // namespace ls
