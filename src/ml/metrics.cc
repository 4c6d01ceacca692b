#include "ml/metrics.h"

#include <algorithm>

#include <fmt/format.h>

#include "core/status.h"

namespace wharf::ml {

ConfusionMatrix::ConfusionMatrix(std::size_t num_classes)
    : counts_(num_classes, std::vector<std::size_t>(num_classes, 0)) {}

void ConfusionMatrix::Add(int truth, int predicted, std::size_t count) {
  WHARF_CHECK(truth >= 0 && predicted >= 0 && static_cast<std::size_t>(truth) < counts_.size() &&
              static_cast<std::size_t>(predicted) < counts_.size());
  counts_[static_cast<std::size_t>(truth)][static_cast<std::size_t>(predicted)] += count;
}

Metrics ConfusionMatrix::Compute(const std::vector<std::string>& class_labels) const {
  const std::size_t k = counts_.size();
  WHARF_CHECK(class_labels.size() == k);
  Metrics m;
  m.confusion = counts_;
  std::size_t correct = 0, present = 0;
  for (std::size_t c = 0; c < k; ++c) {
    std::size_t support = 0, predicted = 0;
    for (std::size_t o = 0; o < k; ++o) {
      support += counts_[c][o];
      predicted += counts_[o][c];
    }
    const std::size_t tp = counts_[c][c];
    ClassMetrics cm{class_labels[c], 0, 0, 0, support};
    if (predicted > 0) cm.precision = static_cast<double>(tp) / static_cast<double>(predicted);
    if (support > 0) cm.recall = static_cast<double>(tp) / static_cast<double>(support);
    if (cm.precision + cm.recall > 0) cm.f1 = 2 * cm.precision * cm.recall / (cm.precision + cm.recall);
    m.rows += support;
    correct += tp;
    if (support > 0 || predicted > 0) {
      ++present;
      m.macro_f1 += cm.f1;
    }
    m.weighted_f1 += cm.f1 * static_cast<double>(support);
    m.classes.push_back(cm);
  }
  if (m.rows > 0) {
    m.accuracy = static_cast<double>(correct) / static_cast<double>(m.rows);
    m.weighted_f1 /= static_cast<double>(m.rows);
  }
  if (present > 0) m.macro_f1 /= static_cast<double>(present);
  return m;
}

Metrics ComputeMetrics(const std::vector<int>& truth, const std::vector<int>& predicted,
                       const std::vector<std::string>& class_labels) {
  WHARF_CHECK(truth.size() == predicted.size());
  ConfusionMatrix matrix(class_labels.size());
  for (std::size_t i = 0; i < truth.size(); ++i) matrix.Add(truth[i], predicted[i]);
  return matrix.Compute(class_labels);
}

nlohmann::json ToJson(const Metrics& m) {
  nlohmann::json classes = nlohmann::json::array();
  for (const auto& c : m.classes) {
    classes.push_back(
        {{"label", c.label}, {"precision", c.precision}, {"recall", c.recall}, {"f1", c.f1}, {"support", c.support}});
  }
  return {{"rows", m.rows},         {"accuracy", m.accuracy}, {"weighted_f1", m.weighted_f1},
          {"macro_f1", m.macro_f1}, {"classes", classes},     {"confusion_matrix", m.confusion}};
}

std::string FormatClassReport(const Metrics& m) {
  std::size_t width = 5;
  for (const auto& c : m.classes) width = std::max(width, c.label.size());
  std::string out = fmt::format("{:>{}}  {:>9}  {:>6}  {:>6}  {:>7}\n", "class", width, "precision", "recall", "f1",
                                "support");
  for (const auto& c : m.classes) {
    out += fmt::format("{:>{}}  {:>9.4f}  {:>6.4f}  {:>6.4f}  {:>7}\n", c.label, width, c.precision, c.recall, c.f1,
                       c.support);
  }
  out += "\nConfusion matrix (rows: true class, columns: predicted class)\n";
  std::size_t cell = width;
  for (const auto& row : m.confusion) {
    for (std::size_t v : row) cell = std::max(cell, fmt::formatted_size("{}", v));
  }
  out += fmt::format("{:>{}}", "", width);
  for (const auto& c : m.classes) out += fmt::format("  {:>{}}", c.label, cell);
  out += "\n";
  for (std::size_t r = 0; r < m.confusion.size(); ++r) {
    out += fmt::format("{:>{}}", m.classes[r].label, width);
    for (std::size_t v : m.confusion[r]) out += fmt::format("  {:>{}}", v, cell);
    out += "\n";
  }
  return out;
}

}  // namespace wharf::ml
