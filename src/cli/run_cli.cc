#include <iostream>

#include "cli/commands.h"
#include "cli/dl_plugin.h"
#include "cli/exit_code.h"
#include "core/version.h"
#include "ml/pca_model.h"
#include "ml/pipeline.h"

namespace wharf::cli {

int RunCli(int argc, char** argv) {
  artifact::ModelRegistry registry;
  ml::Register(registry);
  ml::RegisterPca(registry);
  RegisterDlModels(registry);
  control::JobRegistry jobs;
  RegisterBuiltinJobs(jobs);
  int exit_code = kExitOk;
  const CommandContext context{&registry, &jobs, &exit_code};

  CLI::App app{"wharf: train, predict and serve machine-learning models from one binary"};
  app.name("wharf");
  app.set_version_flag("--version", std::string("wharf ") + kVersion);
  app.require_subcommand(1);
  AddTrainCommand(app, context);
  AddPluginCommand(app, "dl-train", "Train a CNN (LibTorch) on IDX files or image folders", "dl-train", &exit_code);
  AddPluginCommand(app, "featurize", "CNN features of image folders or IDX files, as CSV and .npy (sharded; merge)",
                   "featurize", &exit_code);
  AddPcaCommand(app, context);
  AddSecretCommand(app, context);
  AddServiceCommand(app, context);
  AddTrialCommand(app, context);
  AddPredictCommand(app, context);
  AddEvaluateCommand(app, context);
  AddModelCommand(app, context);
  AddCaptureCommand(app, context);
  AddServeCommand(app, context);
  AddDriftCommand(app, context);
  AddServerCommand(app, context);
  AddControlCommands(app, context);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? kExitOk : kExitBadInput;
  }
  return exit_code;
}

}  // namespace wharf::cli
