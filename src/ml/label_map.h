#pragma once
// Maps a label column's text values to contiguous class indexes and back.
// Quality labels 3..8 become 0..5; predictions are written as "3".."8".

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace wharf::ml {

// Immutable once built; thread-safe.
class LabelMap {
 public:
  // The distinct labels, ordered numerically when every label is a number
  // (so the order is meaningful for ordinal models), otherwise as text.
  // Numeric labels are written in their shortest form ("5.0" becomes "5").
  static LabelMap FromLabels(const std::vector<std::string>& labels);
  explicit LabelMap(std::vector<std::string> classes) : classes_(std::move(classes)) {}
  LabelMap() = default;

  const std::vector<std::string>& classes() const { return classes_; }
  std::size_t size() const { return classes_.size(); }

  // The class index of `label`, or nullopt if it was not seen in training.
  std::optional<int> Find(std::string_view label) const;

  // Maps every label; InvalidArgument naming the first unknown label, its
  // 1-based row and the known classes.
  Result<std::vector<int>> EncodeAll(const std::vector<std::string>& labels) const;

 private:
  std::vector<std::string> classes_;
};

}  // namespace wharf::ml
