#include "serve/metrics.h"

#include <algorithm>

#include <fmt/format.h>

namespace wharf::serve {

void LatencyHistogram::Observe(double seconds) {
  const auto it = std::lower_bound(kBounds.begin(), kBounds.end(), seconds);
  counts_[static_cast<std::size_t>(it - kBounds.begin())].fetch_add(1, std::memory_order_relaxed);
  sum_ns_.fetch_add(static_cast<std::uint64_t>(std::max(seconds, 0.0) * 1e9), std::memory_order_relaxed);
}

void LatencyHistogram::Render(std::string_view name, std::string_view labels, std::string& out) const {
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i <= kBounds.size(); ++i) {
    cumulative += counts_[i].load(std::memory_order_relaxed);
    const std::string le = i < kBounds.size() ? fmt::format("{}", kBounds[i]) : "+Inf";
    fmt::format_to(std::back_inserter(out), "{}_bucket{{{},le=\"{}\"}} {}\n", name, labels, le, cumulative);
  }
  fmt::format_to(std::back_inserter(out), "{}_sum{{{}}} {}\n{}_count{{{}}} {}\n", name, labels,
                 static_cast<double>(sum_ns_.load(std::memory_order_relaxed)) / 1e9, name, labels, cumulative);
}

std::vector<std::uint64_t> LatencyHistogram::Counts() const {
  std::vector<std::uint64_t> counts;
  for (const auto& c : counts_) counts.push_back(c.load(std::memory_order_relaxed));
  return counts;
}

void RequestMetrics::Record(bool error) {
  // The error is counted first and published by the request's count, so a
  // reader that sees the request sees its error too.
  if (error) errors_.fetch_add(1, std::memory_order_relaxed);
  requests_.fetch_add(1, std::memory_order_release);
}

RequestMetrics::Counts RequestMetrics::Read() const {
  const std::uint64_t requests = requests_.load(std::memory_order_acquire);
  // An error whose request is not yet counted may show: leave it to the next read.
  return {requests, std::min(errors_.load(std::memory_order_relaxed), requests)};
}

std::string LabelValue(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace wharf::serve
