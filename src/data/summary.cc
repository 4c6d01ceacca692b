#include "data/summary.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <string_view>
#include <utility>

namespace wharf::data {
namespace {

constexpr std::size_t kNumQuantiles = std::size(kSummaryQuantiles);

// numpy's default ("linear") quantile of sorted, non-empty `v`.
double Quantile(const std::vector<double>& v, double p) {
  const double h = static_cast<double>(v.size() - 1) * p;
  const auto lo = static_cast<std::size_t>(std::floor(h));
  if (lo + 1 >= v.size()) return v.back();
  return v[lo] + (h - static_cast<double>(lo)) * (v[lo + 1] - v[lo]);
}

bool IsString(const nlohmann::json& v) { return v.is_string(); }
bool IsNumber(const nlohmann::json& v) { return v.is_number(); }
bool IsCount(const nlohmann::json& v) {
  return v.is_number_unsigned() || (v.is_number_integer() && v.get<long long>() >= 0);
}

// Reads FeatureSummary fields out of JSON, remembering the first bad one.
class JsonFields {
 public:
  using Predicate = bool (*)(const nlohmann::json&);

  explicit JsonFields(const nlohmann::json& j) : j_(j) {}

  // Empty when every field read so far was present and well-typed.
  const std::string& error() const { return error_; }

  std::string String(const char* key) {
    const auto* v = Find(key, "a string", IsString);
    return v ? v->get<std::string>() : std::string();
  }
  double Number(const char* key) {
    const auto* v = Find(key, "a number", IsNumber);
    return v ? v->get<double>() : 0.0;
  }
  std::size_t Count(const char* key) {
    const auto* v = Find(key, "a non-negative integer", IsCount);
    return v ? v->get<std::size_t>() : 0;
  }
  std::vector<double> Numbers(const char* key, std::size_t size) {
    return Array<double>(key, size, "numbers", IsNumber);
  }
  std::vector<std::size_t> Counts(const char* key, std::size_t size) {
    return Array<std::size_t>(key, size, "non-negative integers", IsCount);
  }

 private:
  const nlohmann::json* Find(const char* key, std::string_view expected, Predicate is) {
    if (!error_.empty()) return nullptr;
    const auto it = j_.find(key);
    if (it == j_.end()) return Fail(std::string("missing field '") + key + "'");
    if (!is(*it)) {
      return Fail(std::string("field '") + key + "' must be " + std::string(expected) + ", got " + it->type_name());
    }
    return &*it;
  }

  template <typename T>
  std::vector<T> Array(const char* key, std::size_t size, std::string_view expected, Predicate is) {
    std::vector<T> out;
    const nlohmann::json* v = Find(key, "an array", [](const nlohmann::json& a) { return a.is_array(); });
    if (!v) return out;
    if (v->size() != size) {
      Fail(std::string("field '") + key + "' must have " + std::to_string(size) + " entries, has " +
           std::to_string(v->size()));
      return out;
    }
    for (const nlohmann::json& e : *v) {
      if (!is(e)) {
        Fail(std::string("field '") + key + "' must hold " + std::string(expected) + ", found " + e.type_name());
        return {};
      }
      out.push_back(e.get<T>());
    }
    return out;
  }

  const nlohmann::json* Fail(std::string message) {
    if (error_.empty()) error_ = std::move(message);
    return nullptr;
  }

  const nlohmann::json& j_;
  std::string error_;
};

}  // namespace

FeatureSummary Summarize(const Dataset& data, std::size_t col) {
  WHARF_CHECK(col < data.cols());
  FeatureSummary s;
  s.name = data.features[col];
  std::vector<double> v;
  v.reserve(data.rows);
  for (std::size_t r = 0; r < data.rows; ++r) {
    const float value = data.row(r)[col];
    if (std::isfinite(value)) v.push_back(value);
  }
  s.count = v.size();
  s.missing = data.rows - v.size();
  s.quantiles.assign(kNumQuantiles, 0.0);
  s.histogram_edges.assign(kSummaryBins + 1, 0.0);
  s.histogram_counts.assign(kSummaryBins, 0);
  if (v.empty()) return s;

  std::sort(v.begin(), v.end());
  const double n = static_cast<double>(v.size());
  double sum = 0;
  for (double x : v) sum += x;
  s.mean = sum / n;
  double squares = 0;  // two passes: exact enough without Welford's update
  for (double x : v) squares += (x - s.mean) * (x - s.mean);
  s.std = v.size() > 1 ? std::sqrt(squares / (n - 1)) : 0.0;
  s.min = v.front();
  s.max = v.back();
  for (std::size_t q = 0; q < kNumQuantiles; ++q) s.quantiles[q] = Quantile(v, kSummaryQuantiles[q]);

  const double width = (s.max - s.min) / static_cast<double>(kSummaryBins);
  for (std::size_t b = 0; b <= kSummaryBins; ++b) s.histogram_edges[b] = s.min + width * static_cast<double>(b);
  s.histogram_edges[kSummaryBins] = s.max;  // exact, whatever the rounding above
  for (double x : v) {
    const auto bin = width > 0 ? static_cast<std::size_t>((x - s.min) / width) : 0;
    ++s.histogram_counts[std::min(bin, kSummaryBins - 1)];
  }
  return s;
}

std::vector<FeatureSummary> SummarizeAll(const Dataset& data) {
  std::vector<FeatureSummary> out;
  out.reserve(data.cols());
  for (std::size_t c = 0; c < data.cols(); ++c) out.push_back(Summarize(data, c));
  return out;
}

nlohmann::json ToJson(const FeatureSummary& s) {
  return {{"name", s.name},
          {"count", s.count},
          {"missing", s.missing},
          {"mean", s.mean},
          {"std", s.std},
          {"min", s.min},
          {"max", s.max},
          {"quantiles", s.quantiles},
          {"histogram_edges", s.histogram_edges},
          {"histogram_counts", s.histogram_counts}};
}

Result<FeatureSummary> FeatureSummaryFromJson(const nlohmann::json& j) {
  if (!j.is_object()) return InvalidArgument(std::string("feature summary: expected an object, got ") + j.type_name());
  try {
    JsonFields f(j);
    FeatureSummary s;
    s.name = f.String("name");
    s.count = f.Count("count");
    s.missing = f.Count("missing");
    s.mean = f.Number("mean");
    s.std = f.Number("std");
    s.min = f.Number("min");
    s.max = f.Number("max");
    s.quantiles = f.Numbers("quantiles", kNumQuantiles);
    s.histogram_edges = f.Numbers("histogram_edges", kSummaryBins + 1);
    s.histogram_counts = f.Counts("histogram_counts", kSummaryBins);
    if (!f.error().empty()) {
      const std::string what = s.name.empty() ? "feature summary" : "feature summary '" + s.name + "'";
      return InvalidArgument(what + ": " + f.error());
    }
    return s;
  } catch (const nlohmann::json::exception& e) {  // not expected after the checks above
    return InvalidArgument(std::string("feature summary: ") + e.what());
  }
}

}  // namespace wharf::data
