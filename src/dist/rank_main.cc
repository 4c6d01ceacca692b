// wharf-rank: one rank of a data-parallel `wharf train --ranks N`, started by
// mpirun or `srun --mpi=pmix` (cli/ranks.cc starts them, with XGBoost's
// tracker when the estimator needs it). Every rank reads its shard of the
// CSVs; rank 0 writes the Modelfile, results.txt and metrics.json and prints
// what `wharf train` prints.

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/exit_code.h"
#include "cli/params.h"
#include "core/parallel.h"
#include "dist/mpi_collective.h"
#include "dist/xgboost_collective.h"
#include "ml/report.h"
#include "ml/train.h"

namespace wharf::dist {

namespace {

struct RankFlags {
  std::string train, validation, label = "quality", out, estimator = "logistic";
  std::vector<std::string> params;
  int threads = 0;
  std::uint64_t seed = 1;
};

Status Train(const RankFlags& f, MpiCollective& collective) {
  ml::TrainOptions options;
  options.train = f.train;
  if (!f.validation.empty()) options.validation = f.validation;
  options.label = f.label;
  options.estimator = f.estimator;
  WHARF_ASSIGN_OR_RETURN(options.params, cli::ParseParams(f.params));
  options.seed = f.seed;
  // The host's cores, split between the ranks that share it.
  options.threads = f.threads > 0 ? f.threads : std::max(1, HardwareThreads() / collective.ranks_on_host());

  std::unique_ptr<XgboostCollective> trees;
  auto family = ml::FindFamily(f.estimator);
  if (family.ok() && (*family)->data_parallel == ml::DataParallel::kXgboost && collective.size() > 1) {
    auto joined = XgboostCollective::Join(collective.rank());
    WHARF_RETURN_IF_ERROR(ml::AgreeAcrossRanks(collective, joined.status()));
    trees = std::move(*joined);
  }
  WHARF_ASSIGN_OR_RETURN(const ml::TrainResult result, ml::TrainDataParallel(options, collective));
  if (collective.rank() != 0) return Status::Ok();
  WHARF_RETURN_IF_ERROR(ml::WriteTrainOutputs(result, f.out));
  fmt::print("{}", ml::FormatTrainSummary(result, f.out));
  std::fflush(stdout);
  return Status::Ok();
}

}  // namespace

}  // namespace wharf::dist

int main(int argc, char** argv) {
  using namespace wharf;
  auto collective = dist::MpiCollective::Init(&argc, &argv);
  if (!collective.ok()) return cli::ExitWith(collective.status());

  dist::RankFlags flags;
  CLI::App app{"One rank of a data-parallel `wharf train --ranks N` (started by mpirun or srun)", "wharf-rank"};
  app.add_option("--train", flags.train, "Training CSV (this rank reads its shard)")->required();
  app.add_option("--validation", flags.validation, "Validation CSV (sharded the same way)");
  app.add_option("--label", flags.label, "Label column")->capture_default_str();
  app.add_option("--out", flags.out, "Output directory (written by rank 0)")->required();
  app.add_option("--estimator", flags.estimator, "logistic | xgboost | rf")->capture_default_str();
  app.add_option("--param", flags.params, "Hyperparameter name=value (repeatable)");
  app.add_option("--threads", flags.threads, "Cores per rank (default: the host's cores / its ranks)");
  app.add_option("--seed", flags.seed, "Seed")->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : cli::kExitBadInput;
  }
  const Status status = dist::Train(flags, **collective);
  if (!status.ok()) {
    std::fprintf(stderr, "wharf-rank %d/%d: %s\n", (*collective)->rank(), (*collective)->size(),
                 status.message().c_str());
  }
  collective->reset();  // MPI_Finalize
  std::fflush(nullptr);
  // Open MPI unloads its components at MPI_Finalize and leaves what they
  // allocated to the exit: a sanitizer build's leak check would blame
  // "unknown modules". Skipping exit handlers skips that check; wharf's own
  // training code is leak-checked in-process (tests/unit/ml).
  std::_Exit(status.ok() ? 0 : cli::ExitCode(status));
}
