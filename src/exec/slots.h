#pragma once
// Counts the cpus that running tasks declared against a capacity, so the
// control plane starts a task only when it fits.
//
// A task that declares more than the whole capacity is admitted only when
// nothing else runs: it can never fit, but it must not wait forever.
// Thread-safe: TryAcquire and Release may race from any thread.

#include "core/mutex.h"

namespace wharf::exec {

class SlotScheduler {
 public:
  // `capacity` in cpus; <= 0 means the number of hardware threads.
  explicit SlotScheduler(double capacity = 0);

  // Takes `cpus` (>= 0) if they fit (or if nothing runs) and returns true;
  // otherwise takes nothing and returns false.
  bool TryAcquire(double cpus);
  // Takes `cpus` whether or not they fit: for tasks already running that a
  // restarted server adopts. Release it like a TryAcquire.
  void Acquire(double cpus);
  // Gives back what one successful TryAcquire(cpus) or Acquire(cpus) took.
  void Release(double cpus);

  double capacity() const { return capacity_; }
  double used() const;
  int running() const;

 private:
  const double capacity_;
  mutable Mutex mu_;
  double used_ WHARF_GUARDED_BY(mu_) = 0;
  int running_ WHARF_GUARDED_BY(mu_) = 0;
};

}  // namespace wharf::exec
