#pragma once
// Subcommands of the `wharf` binary. Each Add* declares its flags on `app`
// and installs a callback that runs the command; the callback stores the
// command's exit code in `*exit_code`. main.cc only dispatches.

#include <CLI/CLI.hpp>

#include "artifact/registry.h"
#include "control/job_registry.h"

namespace wharf::cli {

// What commands share: the model loaders and the built-in jobs, filled by
// the composition root.
struct CommandContext {
  const artifact::ModelRegistry* registry = nullptr;
  const control::JobRegistry* jobs = nullptr;
  int* exit_code = nullptr;
};

void AddTrainCommand(CLI::App& app, const CommandContext& context);
void AddTrialCommand(CLI::App& app, const CommandContext& context);  // internal: a task of train --executor
void AddPredictCommand(CLI::App& app, const CommandContext& context);
void AddEvaluateCommand(CLI::App& app, const CommandContext& context);
void AddModelCommand(CLI::App& app, const CommandContext& context);
// `wharf model register|list|describe|alias`, added under `model`.
void AddModelRegistryCommands(CLI::App& model, const CommandContext& context);
void AddCaptureCommand(CLI::App& app, const CommandContext& context);
void AddServeCommand(CLI::App& app, const CommandContext& context);
// `wharf drift`: captured inputs against the model's training data.
void AddDriftCommand(CLI::App& app, const CommandContext& context);
// `wharf pca fit|transform`: principal components of a feature table.
void AddPcaCommand(CLI::App& app, const CommandContext& context);
// `wharf secret set|list|rm|audit`: the local secret store.
void AddSecretCommand(CLI::App& app, const CommandContext& context);
// `wharf service create|list|describe|scale|stop`: services on a server.
void AddServiceCommand(CLI::App& app, const CommandContext& context);
// `wharf server`: the control plane.
void AddServerCommand(CLI::App& app, const CommandContext& context);
// Adds train, dl-train, featurize, pca, predict, evaluate and serve as jobs
// task definitions can name.
void RegisterBuiltinJobs(control::JobRegistry& jobs);
// `wharf taskdef|run|task|logs|artifact`: clients of a running `wharf server`.
void AddControlCommands(CLI::App& app, const CommandContext& context);

// Builds the whole command-line interface; returns the exit code of the
// command that ran (usage errors give 2).
int RunCli(int argc, char** argv);

}  // namespace wharf::cli
