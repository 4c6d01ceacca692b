#pragma once
// The control plane's artifact store: named files under one directory
// (datasets uploaded through the API, task outputs under tasks/TASK_ID/).
// A name can never reach outside the directory: names are validated, and a
// path whose real location (after following links) leaves the root is
// refused. Writes are atomic (temporary file, then rename).
// Thread-safe: the object holds only its root; the file system arbitrates.

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace wharf::control {

// One stored file.
struct ArtifactInfo {
  std::string name;  // "wine/TrainingDataset.csv"
  std::uint64_t size = 0;
  std::int64_t modified_us = 0;  // µs since the Unix epoch
};

class ArtifactStore {
 public:
  // Creates `root` (and parents) if needed. IoError if it cannot.
  static Result<ArtifactStore> Open(const std::filesystem::path& root);

  // OK when `name` is a relative path of segments of [A-Za-z0-9._-], with
  // no empty, "." or ".." segment, at most 512 bytes. InvalidArgument
  // quoting the name and the rule otherwise.
  static Status ValidateName(std::string_view name);

  // The absolute path `name` maps to (it need not exist). InvalidArgument
  // for a bad name or one whose existing part resolves outside the root.
  Result<std::filesystem::path> PathOf(std::string_view name) const;

  // Stores `bytes` under `name`, replacing it atomically; creates parent
  // directories.
  Status Put(std::string_view name, std::string_view bytes) const;
  // The bytes of `name`; NotFound naming it.
  Result<std::string> Get(std::string_view name) const;
  // Regular files whose name starts with `prefix` (a name prefix, not
  // necessarily a whole segment), sorted by name. Links are not followed.
  Result<std::vector<ArtifactInfo>> List(std::string_view prefix) const;

  // "tasks/TASK_ID" (the prefix of a task's outputs) and its directory,
  // emptied and recreated: each attempt starts with no outputs.
  static std::string TaskOutputPrefix(std::string_view task_id);
  Result<std::filesystem::path> ResetTaskOutputDir(std::string_view task_id) const;

  const std::filesystem::path& root() const { return root_; }

 private:
  explicit ArtifactStore(std::filesystem::path root) : root_(std::move(root)) {}
  std::filesystem::path root_;  // absolute, canonical
};

}  // namespace wharf::control
