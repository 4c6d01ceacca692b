#include "control/runs.h"

#include <fmt/format.h>

#include "control/scheduler.h"
#include "control/task_definition.h"
#include "core/clock.h"

namespace wharf::control {

using nlohmann::json;

Result<std::vector<store::TaskRecord>> SubmitRun(store::MetadataStore& store, const JobRegistry& jobs,
                                                 const ArtifactStore& artifacts, const RunRequest& request) {
  WHARF_ASSIGN_OR_RETURN(store::TaskDefinition def, store.GetDefinition(request.definition, request.revision));
  if (!def.active && !request.revision) {
    return FailedPrecondition(fmt::format("task definition '{}' is deregistered: run a revision explicitly ({}:{})",
                                          def.name, def.name, def.revision));
  }
  json spec_json = json::parse(def.spec_json, nullptr, false);
  const bool overridden = !request.overrides.is_null();
  if (overridden) {
    if (!request.overrides.is_object()) return InvalidArgument("overrides: must be an object (a JSON merge patch)");
    MergePatch(spec_json, request.overrides);
  }
  Result<DefinitionSpec> spec = ParseDefinition(spec_json, jobs);
  if (!spec.ok()) return InvalidArgument((overridden ? "after overrides: " : "") + spec.status().message());
  const int count = request.count.value_or(spec->count);
  if (count < 1 || count > kMaxCount) {
    return InvalidArgument(fmt::format("count: must be an integer between 1 and {}", kMaxCount));
  }
  // Fail now, not in every task, when a reference names nothing.
  WHARF_RETURN_IF_ERROR(ResolveReferences(spec->params, "params", artifacts, store).status());
  for (const auto& [input, artifact] : spec->inputs) {
    WHARF_RETURN_IF_ERROR(ResolveReferences(json("artifact:" + artifact), "inputs." + input, artifacts, store).status());
  }

  const std::string spec_text = DefinitionToJson(*spec).dump();
  const std::int64_t now = NowMicros();
  const std::string group = request.group_id.empty() ? store::NewTaskId(now) : request.group_id;
  std::vector<store::TaskRecord> tasks(static_cast<std::size_t>(count));
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    store::TaskRecord& t = tasks[i];
    t.id = store::NewTaskId(now);
    t.index = static_cast<int>(i);
    t.count = count;
    t.created_us = now;  // as stored, so the caller needs no read back
    t.definition = def.name;
    t.revision = def.revision;
    t.spec_json = spec_text;
    t.max_attempts = spec->retries + 1;
    t.group_id = group;
  }
  WHARF_RETURN_IF_ERROR(store.CreateTasks(tasks));
  return tasks;
}

}  // namespace wharf::control
