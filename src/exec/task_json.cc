#include "exec/task_json.h"

#include <nlohmann/json.hpp>

#include "core/json_depth.h"

namespace wharf::exec {
namespace {

using nlohmann::json;

json SpecToJson(const TaskSpec& spec) {
  json resources = {{"cpus", spec.resources.cpus}};
  if (spec.resources.memory_bytes) resources["memory_bytes"] = *spec.resources.memory_bytes;
  if (spec.resources.max_pids) resources["max_pids"] = *spec.resources.max_pids;
  if (spec.resources.ranks != 1) resources["ranks"] = spec.resources.ranks;
  if (spec.resources.gpus != 0) resources["gpus"] = spec.resources.gpus;
  json out = {{"id", spec.id},
              {"argv", spec.argv},
              {"env", spec.env},
              {"work_dir", spec.work_dir.string()},
              {"run_dir", spec.run_dir.string()},
              {"resources", std::move(resources)}};
  if (spec.timeout) out["timeout_ms"] = spec.timeout->count();
  if (!spec.env_files.empty()) {
    json files = json::object();
    for (const auto& [name, file] : spec.env_files) files[name] = file.string();
    out["env_files"] = std::move(files);
  }
  if (!spec.secrets_dir.empty()) out["secrets_dir"] = spec.secrets_dir.string();
  return out;
}

TaskSpec SpecFromJson(const json& in) {
  TaskSpec spec;
  spec.id = in.at("id").get<std::string>();
  spec.argv = in.at("argv").get<std::vector<std::string>>();
  spec.env = in.at("env").get<std::map<std::string, std::string>>();
  spec.work_dir = in.at("work_dir").get<std::string>();
  spec.run_dir = in.at("run_dir").get<std::string>();
  const json& resources = in.at("resources");
  spec.resources.cpus = resources.at("cpus").get<double>();
  if (resources.contains("memory_bytes")) spec.resources.memory_bytes = resources["memory_bytes"].get<std::uint64_t>();
  if (resources.contains("max_pids")) spec.resources.max_pids = resources["max_pids"].get<std::uint32_t>();
  spec.resources.ranks = resources.value("ranks", 1u);
  spec.resources.gpus = resources.value("gpus", 0u);
  if (in.contains("timeout_ms")) spec.timeout = std::chrono::milliseconds(in["timeout_ms"].get<std::int64_t>());
  if (in.contains("env_files")) {
    for (const auto& [name, file] : in["env_files"].items()) spec.env_files[name] = file.get<std::string>();
  }
  spec.secrets_dir = in.value("secrets_dir", std::string());
  return spec;
}

}  // namespace

std::string TaskSpecToJson(const TaskSpec& spec) { return SpecToJson(spec).dump(2); }

Result<TaskSpec> TaskSpecFromJson(std::string_view text) {
  WHARF_RETURN_IF_ERROR(CheckJsonDepth(text, "task spec"));
  try {
    return SpecFromJson(json::parse(text));
  } catch (const json::exception& e) {
    return DataLoss(std::string("bad task spec JSON: ") + e.what());
  }
}

std::string TaskStatusToJson(const TaskStatus& status) {
  json out = {{"outcome", TaskOutcomeName(status.outcome)},
              {"exit_code", nullptr},
              {"signal", nullptr},
              {"reason", status.reason},
              {"started_us", status.started_us},
              {"finished_us", status.finished_us}};
  if (status.exit_code) out["exit_code"] = *status.exit_code;
  if (status.signal) out["signal"] = *status.signal;
  return out.dump(2);
}

Result<TaskStatus> TaskStatusFromJson(std::string_view text) {
  TaskStatus status;
  std::string outcome;
  try {
    const json in = json::parse(text);
    outcome = in.at("outcome").get<std::string>();
    if (!in.at("exit_code").is_null()) status.exit_code = in["exit_code"].get<int>();
    if (!in.at("signal").is_null()) status.signal = in["signal"].get<int>();
    status.reason = in.at("reason").get<std::string>();
    status.started_us = in.at("started_us").get<std::int64_t>();
    status.finished_us = in.at("finished_us").get<std::int64_t>();
  } catch (const json::exception& e) {
    return DataLoss(std::string("bad task status JSON: ") + e.what());
  }
  Result<TaskOutcome> parsed = ParseTaskOutcome(outcome);
  if (!parsed.ok()) return DataLoss("bad task status JSON: " + parsed.status().message());
  status.outcome = *parsed;
  return status;
}

}  // namespace wharf::exec
