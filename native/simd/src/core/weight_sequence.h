// Which weights follow which: a decode step calls matmul on the same matrices in the same order
// every token, so the matrix that followed this one last time is, almost always, the next one.
// The engine has idle workers read it ahead (ThreadPool::setReadAhead) while the caller does what
// is not a matmul. A wrong guess costs some memory traffic, never a result.
#pragma once

#include <cstddef>
#include <cstdint>
#include <unordered_map>

namespace ls {

/** A byte range of weights (also what ThreadPool::setReadAhead takes). */
struct WeightRange {
  const uint8_t* begin = nullptr;
  size_t nBytes = 0;
};

class WeightSequence {
 public:
  /**
   * Notes a matmul on `weight` and writes to `upcoming` the ranges that followed it last time,
   * in order, until they hold `maxBytes` (the last one cut short) or `maxRanges` are written, or
   * the chain ends or comes back to `weight`. Returns how many were written.
   */
  int observe(WeightRange weight, size_t maxBytes, WeightRange* upcoming, int maxRanges);

 private:
  /** Notes `weight` as following the previous one noted; returns what followed it last time ({nullptr, 0}: nothing yet). */
  WeightRange noteAndNext(WeightRange weight);

  /** more distinct matrices than any model has: past it the table starts over */
  static constexpr size_t kMaxEntries = 1 << 16;
  std::unordered_map<const uint8_t*, WeightRange> next_;
  const uint8_t* last_ = nullptr;
};

}  // namespace ls
