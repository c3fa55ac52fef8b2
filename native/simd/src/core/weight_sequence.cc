#include "core/weight_sequence.h"

namespace ls {

WeightRange WeightSequence::noteAndNext(WeightRange weight) {
  if (last_ && last_ != weight.begin) {
    if (next_.size() >= kMaxEntries) next_.clear();
    next_[last_] = weight;
  }
  last_ = weight.begin;
  const auto found = next_.find(weight.begin);
  return found == next_.end() ? WeightRange{} : found->second;
}

int WeightSequence::observe(WeightRange weight, size_t maxBytes, WeightRange* upcoming, int maxRanges) {
  WeightRange next = noteAndNext(weight);
  int n = 0;
  while (n < maxRanges && next.begin && next.begin != weight.begin && maxBytes > 0) {
    if (next.nBytes > maxBytes) next.nBytes = maxBytes;
    upcoming[n++] = next;
    maxBytes -= next.nBytes;
    const auto found = next_.find(next.begin);
    next = found == next_.end() ? WeightRange{} : found->second;
  }
  return n;
}

}  // namespace ls
