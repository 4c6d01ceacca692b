#include "cli/trial_tasks.h"

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/file.h"
#include "data/query_source.h"
#include "exec/local/local_executor.h"
#include "exec/slurm/slurm_executor.h"

namespace wharf::cli {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// A CSV's path as a task in another directory must name it; a database
// location as it is.
std::string TaskPath(const fs::path& source) {
  return data::IsQueryLocation(source.string()) ? source.string() : fs::absolute(source).string();
}

}  // namespace

Result<std::unique_ptr<exec::Executor>> MakeTrialExecutor(const TrialTasksOptions& options) {
  if (options.executor == "slurm") {
    exec::SlurmExecutorOptions slurm;
    slurm.slurm_conf = options.slurm_conf;
    slurm.partition = options.partition;
    WHARF_ASSIGN_OR_RETURN(auto executor, exec::SlurmExecutor::Create(slurm));
    return std::unique_ptr<exec::Executor>(std::move(executor));
  }
  WHARF_ASSIGN_OR_RETURN(auto executor, exec::LocalExecutor::Create({}));
  return std::unique_ptr<exec::Executor>(std::move(executor));
}

ml::TrialRunner TrialTasks(exec::Executor& executor, const TrialTasksOptions& options, const ml::TrainOptions& train) {
  return [&executor, options, train](std::vector<ml::Trial>& trials) -> Status {
    std::error_code error;
    const fs::path self = fs::read_symlink("/proc/self/exe", error);
    if (error) return Internal("cannot resolve /proc/self/exe: " + error.message());
    const fs::path dir = fs::absolute(options.dir / "trials");
    fs::remove_all(dir, error);  // a new search: no run_dir of an earlier one stays claimed
    const std::string tag = fmt::format("trial-{}", ::getpid());
    std::vector<exec::TaskSpec> tasks;
    for (const ml::Trial& trial : trials) {
      exec::TaskSpec task;
      task.id = fmt::format("{}-{}", tag, trial.index);
      task.run_dir = dir / std::to_string(trial.index);
      task.argv = {self.string(), "trial", "--train", TaskPath(train.train), "--label", train.label,
                   "--estimator", trial.family->kind, "--params", json(trial.params).dump(), "--folds",
                   std::to_string(train.folds), "--cv-split",
                   train.cv_split == ml::CvSplit::kBlocked ? "blocked" : "stratified", "--seed",
                   std::to_string(train.seed), "--threads", std::to_string(options.threads_per_trial), "--out",
                   (task.run_dir / "score.json").string()};
      for (const auto& column : train.ignore) task.argv.insert(task.argv.end(), {"--ignore", column});
      task.env = {{"PATH", "/usr/local/bin:/usr/bin:/bin"}};
      if (const char* home = std::getenv("HOME")) task.env["HOME"] = home;
      task.resources.cpus = options.threads_per_trial;
      tasks.push_back(std::move(task));
    }
    // On Slurm, one job array.
    WHARF_ASSIGN_OR_RETURN(const std::vector<std::string> handles, executor.SubmitAll(tasks));
    std::vector<bool> done(trials.size(), false);
    std::size_t finished = 0;
    while (finished < trials.size()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      for (std::size_t i = 0; i < trials.size(); ++i) {
        if (done[i]) continue;
        WHARF_ASSIGN_OR_RETURN(exec::TaskStatus status, executor.Poll(handles[i]));
        if (!exec::IsFinal(status.outcome)) continue;
        done[i] = true;
        ++finished;
        ml::Trial& trial = trials[i];
        trial.seconds = static_cast<double>(status.finished_us - status.started_us) / 1e6;
        Result<std::string> text = ReadFile(dir / std::to_string(trial.index) / "score.json");
        const json score = text.ok() ? json::parse(*text, nullptr, false) : json();
        if (status.outcome == exec::TaskOutcome::kSucceeded && score.is_object()) {
          trial.score = {score.value("weighted_f1", 0.0), score.value("weighted_f1_std", 0.0),
                         score.value("accuracy", 0.0)};
        } else {
          Result<std::string> err = executor.ReadLog(handles[i], exec::LogStream::kStderr, 0, 4096);
          std::string why = err.ok() ? *err : "";
          while (!why.empty() && why.back() == '\n') why.pop_back();
          trial.status = Internal(fmt::format("trial {} on {}: {}{}", trial.index, options.executor, status.reason,
                                              why.empty() ? "" : ": " + why));
        }
        if (train.on_trial) train.on_trial(trial, finished, trials.size());
      }
    }
    return Status::Ok();
  };
}

}  // namespace wharf::cli
