#pragma once
// Maps an estimator kind named in a Modelfile header to the code that loads
// it. The composition root (cli) fills it with explicit calls such as
// ml::Register(registry); nothing registers itself.
// Not thread-safe while registering; Load may run from many threads after.

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "artifact/model.h"
#include "artifact/modelfile.h"
#include "core/status.h"

namespace wharf::artifact {

// How a model is loaded for its caller.
struct LoadOptions {
  // Threads one Predict call may use; 0 means all cores (batch jobs). A
  // server that calls Predict from one thread per core passes 1.
  int threads = 0;
  // Where a deep learning model runs: "cpu" or "cuda" (tabular models ignore it).
  std::string device = "cpu";
  // Which engine runs a model stored in several forms: empty for the
  // Modelfile's own (estimator.kind), or "torchscript" / "onnx".
  std::string engine;
};

using ModelLoader = std::function<Result<std::unique_ptr<Model>>(const Modelfile&, const LoadOptions&)>;

class ModelRegistry {
 public:
  // Registering a kind twice replaces the earlier loader.
  void Register(std::string kind, ModelLoader loader);

  // Loads by header["estimator"]["kind"]. InvalidArgument naming the kind and
  // the known kinds when none is registered for it.
  Result<std::unique_ptr<Model>> Load(const Modelfile& file, const LoadOptions& options = {}) const;

  std::vector<std::string> kinds() const;

 private:
  std::map<std::string, ModelLoader> loaders_;
};

// Reads the Modelfile at `path` and loads it through `registry`; errors name the path.
Result<std::unique_ptr<Model>> LoadModel(const std::filesystem::path& path, const ModelRegistry& registry,
                                         const LoadOptions& options = {});

}  // namespace wharf::artifact
