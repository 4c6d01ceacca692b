#include "core/parallel.h"

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

namespace wharf {

void ParallelFor(std::size_t n, int workers, const std::function<void(std::size_t)>& fn) {
  std::atomic<std::size_t> next{0};
  auto drain = [&] {
    for (std::size_t i = next++; i < n; i = next++) fn(i);
  };
  const std::size_t extra = std::min<std::size_t>(n, static_cast<std::size_t>(std::max(workers, 1))) - (n > 0);
  std::vector<std::jthread> threads;
  threads.reserve(extra);
  for (std::size_t t = 0; t < extra; ++t) threads.emplace_back(drain);
  drain();
}

int HardwareThreads() { return std::max(1u, std::thread::hardware_concurrency()); }

}  // namespace wharf
