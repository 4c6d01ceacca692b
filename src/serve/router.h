#pragma once
// Routes an endpoint's requests across its variants by weight (A/B tests).
// With a sticky key (a request header's value), the same key always gets the
// same variant; without one, each request draws independently.
// Immutable once built: Pick() is thread-safe and lock-free.

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace wharf::serve {

class TrafficRouter {
 public:
  // `weights` must be positive; variant i gets weights[i] / sum of the traffic.
  explicit TrafficRouter(const std::vector<double>& weights);

  // A variant index for a request without a sticky key.
  std::size_t Pick() const;
  // A variant index that depends only on `key` (and the weights).
  std::size_t PickSticky(std::string_view key) const;

  std::size_t size() const { return cumulative_.size(); }

 private:
  // Maps u in [0, 1) to the variant whose cumulative share covers it.
  std::size_t Select(double u) const;

  std::vector<double> cumulative_;  // cumulative shares, last == 1
};

}  // namespace wharf::serve
