#pragma once
// A private Slurm cluster for the tests of one process: scripts/slurm-up in
// a fresh directory under TMPDIR, stopped with scripts/slurm-down and removed
// with the object. Slurm tests run as one ctest entry (one process, one
// cluster), since a controller takes a few seconds to schedule its first job.

#include <filesystem>
#include <memory>

#include "core/status.h"

namespace wharf::testing {

class SlurmCluster {
 public:
  // Unavailable with the reason when no cluster can start here (Slurm not
  // installed, not root): the caller skips with it.
  static Result<std::unique_ptr<SlurmCluster>> Start(int nodes);
  ~SlurmCluster();  // slurm-down, then the directory is removed

  // Its slurm.conf: what SLURM_CONF must name for every Slurm command.
  std::filesystem::path conf() const { return dir_ / "slurm.conf"; }
  const std::filesystem::path& dir() const { return dir_; }

 private:
  explicit SlurmCluster(std::filesystem::path dir) : dir_(std::move(dir)) {}
  std::filesystem::path dir_;
};

}  // namespace wharf::testing
