// Which weights follow which: a decode step calls matmul on the same matrices in the same order
// every token, so the matrix that followed this one last time is, almost always, the next one.
// The engine has idle workers read it ahead (ThreadPool::setReadAhead) while the caller does what
// is not a matmul. A wrong guess costs some memory traffic, never a result.
#pragma once

#include <cstddef>
#include <cstdint>
#include <unordered_map>

namespace ls {

/** A byte range of weights. */
struct WeightRange {
  const uint8_t* begin = nullptr;
  size_t nBytes = 0;
};

class WeightSequence {
 public:
  /**
   * Notes a matmul on `weight` (after the previous one noted) and returns the range that
   * followed `weight` last time ({nullptr, 0} when none has yet).
   */
  WeightRange observe(WeightRange weight);

 private:
  /** more distinct matrices than any model has: past it the table starts over */
  static constexpr size_t kMaxEntries = 1 << 16;
  std::unordered_map<const uint8_t*, WeightRange> next_;
  const uint8_t* last_ = nullptr;
};

}  // namespace ls
