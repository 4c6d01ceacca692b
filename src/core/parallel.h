#pragma once
// Runs independent work items on a fixed number of threads.

#include <cstddef>
#include <functional>

namespace wharf {

// Calls fn(i) for every i in [0, n) using at most `workers` threads (the
// calling thread is one of them). Items are handed out in order, one at a
// time, so long items do not strand short ones behind them. fn must be
// thread-safe for distinct i. Returns when every call has returned.
void ParallelFor(std::size_t n, int workers, const std::function<void(std::size_t)>& fn);

// The number of hardware threads, at least 1.
int HardwareThreads();

}  // namespace wharf
