#pragma once
// Serving metrics: lock-free counters and a fixed-bucket latency histogram,
// rendered in the Prometheus text format on scrape.
// Thread-safe: any number of threads observe while one renders.

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace wharf::serve {

class LatencyHistogram {
 public:
  // Upper bounds of the buckets, in seconds (a +Inf bucket follows).
  static constexpr std::array<double, 14> kBounds = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                     0.025,  0.05,    0.1,    0.25,  0.5,    1.0,   2.5};

  void Observe(double seconds);
  // Appends `name`_bucket/_sum/_count lines with `labels` (e.g. `endpoint="wine"`).
  void Render(std::string_view name, std::string_view labels, std::string& out) const;
  // Observations per bucket (not cumulative), the +Inf bucket last.
  std::vector<std::uint64_t> Counts() const;

 private:
  std::array<std::atomic<std::uint64_t>, kBounds.size() + 1> counts_{};
  std::atomic<std::uint64_t> sum_ns_{0};
};

// What is counted for each endpoint variant: answered requests, how many of
// them were errors (status >= 400), and their latency.
class RequestMetrics {
 public:
  struct Counts {
    std::uint64_t requests = 0;
    std::uint64_t errors = 0;
  };
  // Counts one answered request.
  void Record(bool error);
  // Both counters as of one moment: errors never exceed requests, so a
  // variant that fails every request reads an error rate of exactly 1.
  Counts Read() const;

  LatencyHistogram latency;

 private:
  std::atomic<std::uint64_t> requests_{0};
  std::atomic<std::uint64_t> errors_{0};
};

// Escapes a Prometheus label value.
std::string LabelValue(std::string_view value);

}  // namespace wharf::serve
