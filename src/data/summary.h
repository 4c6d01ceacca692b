#pragma once
// Per-feature summaries of a training set, stored in the Modelfile so that
// later drift reports can compare live inputs with what the model saw.

#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "data/dataset.h"

namespace wharf::data {

// What one feature column looked like. Missing values (NaN, and infinities,
// which the CSV readers never produce) are counted in `missing` only.
struct FeatureSummary {
  std::string name;
  std::size_t count = 0;    // non-missing values
  std::size_t missing = 0;
  // `std` is the sample standard deviation (divides by count - 1; 0 when
  // count is 1), like pandas' default.
  double mean = 0, std = 0, min = 0, max = 0;
  // Values at the probabilities in kSummaryQuantiles (linear interpolation,
  // as numpy's default method).
  std::vector<double> quantiles;
  // kSummaryBins equal-width bins over [min, max]: edges has bins+1 entries.
  // Bins are half-open [lo, hi) except the last, which also holds max. When
  // min == max every edge equals min and all values are in the first bin.
  std::vector<double> histogram_edges;
  std::vector<std::size_t> histogram_counts;
};

inline constexpr double kSummaryQuantiles[] = {0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99};
inline constexpr std::size_t kSummaryBins = 10;

// Summarizes column `col` of `data`. All-missing columns get count 0 and
// zeros elsewhere.
FeatureSummary Summarize(const Dataset& data, std::size_t col);
std::vector<FeatureSummary> SummarizeAll(const Dataset& data);

// JSON object with the fields' names as keys. FeatureSummaryFromJson is its
// inverse: InvalidArgument naming the field that is missing, mistyped or of
// the wrong length (never throws).
nlohmann::json ToJson(const FeatureSummary& s);
Result<FeatureSummary> FeatureSummaryFromJson(const nlohmann::json& j);

}  // namespace wharf::data
