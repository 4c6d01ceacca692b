#pragma once
// Loads the deep learning plugin (libwharf-dl.so beside the binary, or
// $WHARF_DL_PLUGIN) the first time something needs it, and gives the
// binary its model loaders and commands. See dl/plugin_api.h for why this
// is a plugin.

#include <string>

#include <CLI/CLI.hpp>

#include "artifact/registry.h"
#include "core/status.h"
#include "dl/plugin_api.h"

namespace wharf::cli {

// The plugin, loaded once per process (thread-safe). FailedPrecondition
// saying how to get deep learning when this build has none.
Result<const dl::PluginApi*> DlPlugin();

// Registers the torchscript and onnx model kinds; the plugin is loaded when
// the first such Modelfile is.
void RegisterDlModels(artifact::ModelRegistry& registry);

// Adds `name` under `parent` as a command the plugin runs (`plugin_command`,
// e.g. "dl-train" or "model import"): every argument after it, --help
// included, goes to the plugin, which parses its own flags.
void AddPluginCommand(CLI::App& parent, const std::string& name, const std::string& description,
                      const std::string& plugin_command, int* exit_code);

}  // namespace wharf::cli
