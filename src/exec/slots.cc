#include "exec/slots.h"

#include <algorithm>
#include <cmath>

#include "core/parallel.h"
#include "core/status.h"

namespace wharf::exec {
namespace {

// Fractional cpus add up with rounding error (0.1 * 10 != 1.0); allow it.
constexpr double kEpsilon = 1e-9;

}  // namespace

SlotScheduler::SlotScheduler(double capacity)
    : capacity_(capacity > 0 ? capacity : static_cast<double>(HardwareThreads())) {}

bool SlotScheduler::TryAcquire(double cpus) {
  WHARF_CHECK(std::isfinite(cpus) && cpus >= 0);
  MutexLock lock(mu_);
  if (running_ > 0 && used_ + cpus > capacity_ + kEpsilon) return false;
  used_ += cpus;
  ++running_;
  return true;
}

void SlotScheduler::Acquire(double cpus) {
  WHARF_CHECK(std::isfinite(cpus) && cpus >= 0);
  MutexLock lock(mu_);
  used_ += cpus;
  ++running_;
}

void SlotScheduler::Release(double cpus) {
  MutexLock lock(mu_);
  WHARF_CHECK(running_ > 0);
  --running_;
  used_ = running_ == 0 ? 0 : std::max(0.0, used_ - cpus);
}

double SlotScheduler::used() const {
  MutexLock lock(mu_);
  return used_;
}

int SlotScheduler::running() const {
  MutexLock lock(mu_);
  return running_;
}

}  // namespace wharf::exec
