#pragma once
// A search's trials as tasks on an executor (`wharf train --trials N
// --executor local|slurm`): each trial runs `wharf trial` with its
// configuration, in DIR/trials/I, and writes its cross-validation score
// there; the search then ranks the scores as it would in-process, so the
// chosen model is the same. Stand-alone: no server, the executor library
// directly.

#include <filesystem>
#include <memory>
#include <string>

#include "core/status.h"
#include "exec/executor.h"
#include "ml/search.h"
#include "ml/train.h"

namespace wharf::cli {

struct TrialTasksOptions {
  std::string executor = "local";    // local | slurm
  std::filesystem::path slurm_conf;  // for slurm; empty: $SLURM_CONF
  std::string partition;
  std::filesystem::path dir;         // the train command's --out: tasks run in DIR/trials/I
  int threads_per_trial = 1;
};

// The executor `options` names. Unavailable naming what is missing.
Result<std::unique_ptr<exec::Executor>> MakeTrialExecutor(const TrialTasksOptions& options);

// A runner submitting one task per trial to `executor` (which must outlive
// it) and waiting for all of them; `train` holds the data, label, folds,
// split and seed every trial shares.
ml::TrialRunner TrialTasks(exec::Executor& executor, const TrialTasksOptions& options, const ml::TrainOptions& train);

}  // namespace wharf::cli
