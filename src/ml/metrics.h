#pragma once
// Classification metrics: accuracy, weighted and macro F1, per-class
// precision/recall/F1, confusion matrix. Definitions match scikit-learn's
// (averages run over the classes present in the truth or the predictions;
// an undefined precision or recall counts as 0).

#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace wharf::ml {

struct ClassMetrics {
  std::string label;
  double precision = 0, recall = 0, f1 = 0;
  std::size_t support = 0;  // rows whose true class is this one
};

struct Metrics {
  std::size_t rows = 0;
  double accuracy = 0, weighted_f1 = 0, macro_f1 = 0;
  std::vector<ClassMetrics> classes;
  std::vector<std::vector<std::size_t>> confusion;  // [true class][predicted class]
};

// Counts (true, predicted) pairs; feed it batch by batch, then Compute().
// Not thread-safe.
class ConfusionMatrix {
 public:
  explicit ConfusionMatrix(std::size_t num_classes);
  // Both are class indexes in [0, num_classes); `count` rows of that pair.
  void Add(int truth, int predicted, std::size_t count = 1);
  Metrics Compute(const std::vector<std::string>& class_labels) const;

 private:
  std::vector<std::vector<std::size_t>> counts_;
};

Metrics ComputeMetrics(const std::vector<int>& truth, const std::vector<int>& predicted,
                       const std::vector<std::string>& class_labels);

nlohmann::json ToJson(const Metrics& m);

// A per-class table followed by the confusion matrix, for results.txt and
// the terminal.
std::string FormatClassReport(const Metrics& m);

}  // namespace wharf::ml
