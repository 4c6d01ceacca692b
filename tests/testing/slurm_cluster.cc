#include "testing/slurm_cluster.h"

#include <unistd.h>

#include <cstdlib>

#include "testing/process.h"

namespace wharf::testing {
namespace {

const std::string kSlurmUp = WHARF_SOURCE_DIR "/scripts/slurm-up";
const std::string kSlurmDown = WHARF_SOURCE_DIR "/scripts/slurm-down";

}  // namespace

Result<std::unique_ptr<SlurmCluster>> SlurmCluster::Start(int nodes) {
  if (::geteuid() != 0) return Unavailable("Slurm tests need root (slurmd starts jobs as their user)");
  if (::access("/usr/sbin/slurmctld", X_OK) != 0) {
    return Unavailable("Slurm is not installed (scripts/install-deps installs it)");
  }
  // Under TMPDIR: scripts/test then sees (and names) any daemon or job of it left running.
  std::string pattern = (std::filesystem::temp_directory_path() / "wharf-slurm-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) return IoError("mkdtemp " + pattern + " failed");
  std::unique_ptr<SlurmCluster> cluster(new SlurmCluster(pattern));
  const ProcessResult up = RunProcess({kSlurmUp, pattern, std::to_string(nodes)});
  if (up.exit_code != 0) return Unavailable("scripts/slurm-up could not start a cluster: " + up.err + up.out);
  return cluster;
}

SlurmCluster::~SlurmCluster() {
  RunProcess({kSlurmDown, dir_.string()});
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

}  // namespace wharf::testing
