#include "cli/dl_plugin.h"

#include <dlfcn.h>

#include <cstdlib>
#include <filesystem>
#include <mutex>

#include <fmt/format.h>

#include "cli/exit_code.h"

namespace wharf::cli {

namespace fs = std::filesystem;

namespace {

fs::path PluginPath() {
  if (const char* path = std::getenv("WHARF_DL_PLUGIN"); path != nullptr && *path != '\0') return path;
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  return (ec ? fs::path(".") : self.parent_path()) / "libwharf-dl.so";
}

Result<const dl::PluginApi*> Load() {
  const fs::path path = PluginPath();
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    return FailedPrecondition(fmt::format(
        "this wharf was built without deep learning ({} is missing): install libtorch-dev and rebuild "
        "(sanitizer builds leave it out)",
        path.string()));
  }
  // Never unloaded: models and threads it made live until the process ends.
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) return FailedPrecondition(fmt::format("loading {}: {}", path.string(), dlerror()));
  using Entry = const dl::PluginApi* (*)();
  auto entry = reinterpret_cast<Entry>(dlsym(handle, "wharf_dl_plugin"));
  if (entry == nullptr) return FailedPrecondition(fmt::format("{}: no wharf_dl_plugin symbol", path.string()));
  const dl::PluginApi* api = entry();
  if (api == nullptr || api->abi != dl::kPluginAbi) {
    return FailedPrecondition(fmt::format("{} was built for another wharf (plugin ABI {}, this binary {})", path.string(),
                                          api ? api->abi : -1, dl::kPluginAbi));
  }
  return api;
}

}  // namespace

Result<const dl::PluginApi*> DlPlugin() {
  static const Result<const dl::PluginApi*> plugin = Load();
  return plugin;
}

void RegisterDlModels(artifact::ModelRegistry& registry) {
  for (const char* kind : {dl::kTorchScriptKind, dl::kOnnxKind}) {
    registry.Register(kind, [](const artifact::Modelfile& file,
                               const artifact::LoadOptions& options) -> Result<std::unique_ptr<artifact::Model>> {
      WHARF_ASSIGN_OR_RETURN(const dl::PluginApi* plugin, DlPlugin());
      return plugin->load_model(file, options);
    });
  }
}

void AddPluginCommand(CLI::App& parent, const std::string& name, const std::string& description,
                      const std::string& plugin_command, int* exit_code) {
  auto* cmd = parent.add_subcommand(name, description + " (wharf " + plugin_command + " --help)");
  cmd->prefix_command();
  cmd->set_help_flag();
  cmd->callback([cmd, plugin_command, exit_code] {
    auto plugin = DlPlugin();
    if (!plugin.ok()) {
      *exit_code = ExitWith(plugin.status());
      return;
    }
    std::vector<std::string> args = cmd->remaining();
    std::string program = "wharf " + plugin_command;
    std::vector<char*> argv{program.data()};
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    *exit_code = (*plugin)->run_command(plugin_command.c_str(), static_cast<int>(args.size() + 1), argv.data());
  });
}

}  // namespace wharf::cli
