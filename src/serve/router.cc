#include "serve/router.h"

#include <algorithm>
#include <random>

namespace wharf::serve {

namespace {

// SplitMix64: a well-mixed 64-bit hash step, used for sticky keys and as the
// per-thread generator (fast, no locks, good enough for traffic splitting).
std::uint64_t Mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

double ToUnit(std::uint64_t x) { return static_cast<double>(x >> 11) * 0x1.0p-53; }

}  // namespace

TrafficRouter::TrafficRouter(const std::vector<double>& weights) {
  double total = 0;
  for (double w : weights) total += w;
  double running = 0;
  for (double w : weights) {
    running += w;
    cumulative_.push_back(running / total);
  }
  if (!cumulative_.empty()) cumulative_.back() = 1.0;
}

std::size_t TrafficRouter::Select(double u) const {
  const auto it = std::upper_bound(cumulative_.begin(), cumulative_.end(), u);
  return std::min<std::size_t>(static_cast<std::size_t>(it - cumulative_.begin()), cumulative_.size() - 1);
}

std::size_t TrafficRouter::Pick() const {
  if (cumulative_.size() == 1) return 0;
  thread_local std::uint64_t state = std::random_device{}();
  state = Mix(state);
  return Select(ToUnit(state));
}

std::size_t TrafficRouter::PickSticky(std::string_view key) const {
  std::uint64_t h = 1469598103934665603ULL;  // FNV-1a, then mixed
  for (unsigned char c : key) h = (h ^ c) * 1099511628211ULL;
  return Select(ToUnit(Mix(h)));
}

}  // namespace wharf::serve
