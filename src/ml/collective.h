#pragma once
// The ranks of a data-parallel fit. Each rank holds a shard of the rows; what
// the ranks must agree on (gradients, moments, counts, the classes) is
// combined through a Collective, so every rank computes the same model.
// Implementations: dist::MpiCollective (OpenMPI), and a single-rank one for
// tests. Not thread-safe: the fit calls it from one thread.

#include <span>
#include <string>
#include <vector>

#include "core/status.h"

namespace wharf::ml {

class Collective {
 public:
  virtual ~Collective() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;

  // Replaces every value with its sum over all ranks. Every rank receives
  // bit-identical sums (so identical optimizers take identical steps and
  // stop together). Every rank must call it with the same number of values.
  virtual Status Sum(std::span<double> values) = 0;

  // Every rank's `mine`, in rank order, on every rank.
  virtual Result<std::vector<std::string>> AllGather(const std::string& mine) = 0;
};

// OK when every rank's `mine` is OK. Otherwise a failed rank gets its own
// error back and the others Aborted naming how many ranks failed, so that
// all ranks stop together instead of waiting on each other.
Status AgreeAcrossRanks(Collective& collective, const Status& mine);

}  // namespace wharf::ml
