#pragma once
// `wharf train --ranks N`: starts N wharf-rank processes through MPI's
// launcher (mpirun on this host; `srun --mpi=pmix` inside a Slurm
// allocation), first starting XGBoost's tracker (python3-xgboost's
// RabitTracker) when the estimator's trees need it, and waits for them.

#include <string>
#include <vector>

#include "core/status.h"

namespace wharf::cli {

struct RanksOptions {
  int ranks = 1;
  std::string launcher;      // "mpirun" | "srun"; empty: srun inside a Slurm allocation, else mpirun
  std::string tracker_host;  // where XGBoost's tracker listens; empty: 127.0.0.1 (mpirun) or the host's address (srun)
  bool needs_tracker = false;
  std::string out;                     // the output directory (the tracker's log goes there)
  std::vector<std::string> rank_args;  // wharf-rank's flags
};

// Runs the ranks to completion. OK when every rank succeeded; otherwise an
// error whose code follows the ranks' exit code (2: bad input), their own
// messages having gone to stderr already.
Status RunRanks(const RanksOptions& options);

}  // namespace wharf::cli
