#include "core/weight_sequence.h"

namespace ls {

WeightRange WeightSequence::observe(WeightRange weight) {
  if (last_ && last_ != weight.begin) {
    if (next_.size() >= kMaxEntries) next_.clear();
    next_[last_] = weight;
  }
  last_ = weight.begin;
  const auto found = next_.find(weight.begin);
  return found == next_.end() ? WeightRange{} : found->second;
}

}  // namespace ls
