// The control plane's client commands: `wharf taskdef`, `wharf run`,
// `wharf task`, `wharf logs` and `wharf artifact`, each a few requests to a
// running `wharf server` (see docs/control-plane.md). With --json a command
// prints the server's answer as is; otherwise a compact table or summary.
// `wharf endpoint` is in endpoint_command.cc.

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/control_flags.h"
#include "cli/endpoint_command.h"
#include "cli/exit_code.h"
#include "control/client.h"
#include "core/file.h"
#include "core/json_depth.h"

namespace wharf::cli {

namespace {

using control::ControlClient;
using nlohmann::json;

constexpr auto kPollInterval = std::chrono::milliseconds(200);

// The connection flags and those of each command.
struct ControlFlags : ConnectionFlags {
  std::string arg, file, name, state, taskdef, output, prefix, grace, executor;
  std::vector<std::string> overrides;
  std::optional<int> count, limit;
  bool all = false, wait = false, follow = false, stderr_stream = false;
};

Result<std::string> ReadInput(const std::string& path) {
  std::ostringstream bytes;
  if (path == "-") {
    bytes << std::cin.rdbuf();
    return bytes.str();
  }
  return ReadFile(path);
}

// "NAME:REV" splits at the last ':' when what follows is all digits.
std::pair<std::string, std::optional<int>> SplitRevision(const std::string& spec) {
  const auto colon = spec.rfind(':');
  if (colon == std::string::npos || colon + 1 == spec.size() || spec.size() - colon > 10) return {spec, std::nullopt};
  const std::string digits = spec.substr(colon + 1);
  if (!std::all_of(digits.begin(), digits.end(), [](unsigned char c) { return std::isdigit(c); })) {
    return {spec, std::nullopt};
  }
  return {spec.substr(0, colon), std::stoi(digits)};
}

// `--override a.b.c=VALUE`s as one merge patch; VALUE is JSON if it parses
// (except under env, whose values are always strings).
Result<json> BuildOverrides(const std::vector<std::string>& overrides) {
  json patch = json::object();
  for (const auto& o : overrides) {
    const auto eq = o.find('=');
    if (eq == std::string::npos || eq == 0) {
      return InvalidArgument(fmt::format("--override '{}': expected KEY=VALUE (params.seed=7, env.X=1)", o));
    }
    std::vector<std::string> keys;
    std::string_view rest = std::string_view(o).substr(0, eq);
    for (std::size_t dot; (dot = rest.find('.')) != std::string_view::npos; rest.remove_prefix(dot + 1)) {
      keys.emplace_back(rest.substr(0, dot));
    }
    keys.emplace_back(rest);
    if (std::any_of(keys.begin(), keys.end(), [](const std::string& k) { return k.empty(); })) {
      return InvalidArgument(fmt::format("--override '{}': empty key segment", o));
    }
    const std::string text = o.substr(eq + 1);
    // Environment values are strings whatever they look like (env.THREADS=4).
    if (keys.size() > static_cast<std::size_t>(kMaxJsonDepth)) {
      return InvalidArgument(fmt::format("--override: a key of {} segments nests deeper than {} levels", keys.size(),
                                         kMaxJsonDepth));
    }
    if (keys.front() != "env") WHARF_RETURN_IF_ERROR(CheckJsonDepth(text, "--override " + keys.front()));
    json value = keys.front() == "env" ? json() : json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (value.is_discarded() || keys.front() == "env") value = text;
    json* node = &patch;
    for (std::size_t i = 0; i + 1 < keys.size(); ++i) {
      if (!(*node)[keys[i]].is_object()) (*node)[keys[i]] = json::object();
      node = &(*node)[keys[i]];
    }
    (*node)[keys.back()] = std::move(value);
  }
  return patch;
}

// "500ms", "30s", "10m", "2h" or a number of seconds, in milliseconds.
Result<long long> ParseDurationMs(const std::string& text) {
  std::size_t end = 0;
  double number = 0;
  try {
    number = std::stod(text, &end);
  } catch (const std::exception&) {
    end = 0;
  }
  const std::string unit = text.substr(end);
  double scale = -1;
  if (unit.empty() || unit == "s") scale = 1000;
  if (unit == "ms") scale = 1;
  if (unit == "m") scale = 60'000;
  if (unit == "h") scale = 3'600'000;
  if (end == 0 || scale < 0 || number < 0) {
    return InvalidArgument(fmt::format("--grace '{}': expected a duration like 500ms, 10s, 2m or 1h", text));
  }
  return static_cast<long long>(number * scale);
}

bool IsFinal(const std::string& state) { return state == "SUCCEEDED" || state == "FAILED" || state == "CANCELLED"; }

std::string Revision(const json& j) { return fmt::format("{}:{}", Str(j, "taskdef"), Str(j, "revision")); }

std::string Attempts(const json& task) { return fmt::format("{}/{}", Str(task, "attempt"), Str(task, "max_attempts")); }

std::string WhatRuns(const json& spec) {
  if (spec.contains("job")) return "job " + Str(spec, "job");
  if (spec.contains("command") && spec["command"].is_array()) {
    std::vector<std::string> argv;
    for (const auto& a : spec["command"]) argv.push_back(a.is_string() ? a.get<std::string>() : a.dump());
    std::string line = fmt::format("{}", fmt::join(argv, " "));
    return line.size() > 60 ? line.substr(0, 57) + "..." : line;
  }
  return "";
}

// --- taskdef --------------------------------------------------------------

Status TaskdefRegister(const ControlFlags& f) {
  WHARF_ASSIGN_OR_RETURN(std::string text, ReadInput(f.file));
  WHARF_RETURN_IF_ERROR(CheckJsonDepth(text, f.file == "-" ? "stdin" : f.file));
  json def = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (def.is_discarded() || !def.is_object()) {
    return InvalidArgument(fmt::format("{}: not a JSON object (a task definition)", f.file == "-" ? "stdin" : f.file));
  }
  if (!f.name.empty()) def["name"] = f.name;
  WHARF_ASSIGN_OR_RETURN(ControlClient client, Connect(f));
  // The latest revision before, to tell a new revision from an unchanged one.
  std::optional<json> before;
  if (def.contains("name") && def["name"].is_string()) {
    auto latest = client.Call("GET", "/api/taskdefs/" + Encode(def["name"].get<std::string>()));
    if (latest.ok()) before = std::move(latest).value();
  }
  WHARF_ASSIGN_OR_RETURN(json taskdef, client.Call("POST", "/api/taskdefs", def));
  if (f.json) {
    PrintJson(taskdef);
  } else if (before && Str(*before, "revision") == Str(taskdef, "revision")) {
    fmt::print("{} unchanged at revision {}\n", Str(taskdef, "name"), Str(taskdef, "revision"));
  } else {
    fmt::print("Registered {} revision {}\n", Str(taskdef, "name"), Str(taskdef, "revision"));
  }
  return Status::Ok();
}

Status TaskdefList(const ControlFlags& f) {
  WHARF_ASSIGN_OR_RETURN(ControlClient client, Connect(f));
  WHARF_ASSIGN_OR_RETURN(json answer, client.Call("GET", f.all ? "/api/taskdefs?all=true" : "/api/taskdefs"));
  if (f.json) {
    PrintJson(answer);
    return Status::Ok();
  }
  const json& defs = answer.value("taskdefs", json::array());
  if (defs.empty()) {
    fmt::print("No task definitions at {}\n", client.url());
    return Status::Ok();
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& d : defs) {
    const json spec = d.value("spec", json::object());
    rows.push_back({Str(d, "name"), Str(d, "revision"), d.value("active", true) ? "yes" : "no",
                    Str(d, "created_at"), WhatRuns(spec)});
  }
  PrintTable({"NAME", "REV", "ACTIVE", "CREATED", "RUNS"}, rows);
  return Status::Ok();
}

Status TaskdefDescribe(const ControlFlags& f) {
  const auto [name, revision] = SplitRevision(f.arg);
  WHARF_ASSIGN_OR_RETURN(ControlClient client, Connect(f));
  std::string target = "/api/taskdefs/" + Encode(name);
  if (revision) target += fmt::format("/revisions/{}", *revision);
  WHARF_ASSIGN_OR_RETURN(json d, client.Call("GET", target));
  if (f.json) {
    PrintJson(d);
    return Status::Ok();
  }
  fmt::print("Task definition {}:{}{}\n", Str(d, "name"), Str(d, "revision"),
             d.value("active", true) ? "" : " (deregistered)");
  fmt::print("  Created:  {}\n", Str(d, "created_at"));
  fmt::print("  SHA-256:  {}\n", Str(d, "sha256"));
  fmt::print("  Spec:\n");
  std::istringstream spec(d.value("spec", json::object()).dump(2, ' ', false, json::error_handler_t::replace));
  for (std::string line; std::getline(spec, line);) fmt::print("    {}\n", line);
  return Status::Ok();
}

Status TaskdefDeregister(const ControlFlags& f) {
  WHARF_ASSIGN_OR_RETURN(ControlClient client, Connect(f));
  WHARF_ASSIGN_OR_RETURN(json d, client.Call("DELETE", "/api/taskdefs/" + Encode(f.arg)));
  if (f.json) {
    PrintJson(d);
  } else {
    fmt::print("Deregistered {} (its revisions stay runnable as {}:REV; latest {})\n", Str(d, "name"), Str(d, "name"),
               Str(d, "revision"));
  }
  return Status::Ok();
}

Status TaskdefJobs(const ControlFlags& f) {
  WHARF_ASSIGN_OR_RETURN(ControlClient client, Connect(f));
  WHARF_ASSIGN_OR_RETURN(json answer, client.Call("GET", "/api/jobs"));
  if (f.json) {
    PrintJson(answer);
    return Status::Ok();
  }
  for (const auto& job : answer.value("jobs", json::array())) {
    fmt::print("{}: {}\n", Str(job, "name"), Str(job, "description"));
    std::vector<std::vector<std::string>> rows;
    for (const auto& p : job.value("params", json::array())) {
      rows.push_back({"  " + Str(p, "name"), p.value("required", false) ? "required" : "", Str(p, "description")});
    }
    PrintTable({"", "", ""}, rows);
  }
  return Status::Ok();
}

// --- run, task, logs ------------------------------------------------------

// Polls the run's tasks (one request per poll, whatever their number)
// until all are final, printing each as it ends. Returns the final tasks in
// the order given.
Result<std::vector<json>> WaitForTasks(ControlClient& client, const std::string& group, std::vector<json> tasks,
                                       bool print) {
  for (;;) {
    WHARF_ASSIGN_OR_RETURN(json answer, client.Call("GET", "/api/tasks?limit=0&group=" + Encode(group)));
    std::map<std::string, json> latest;
    for (auto& t : answer.value("tasks", json::array())) {
      std::string id = Str(t, "id");  // before the move: `=` evaluates its right side first
      latest.emplace(std::move(id), std::move(t));
    }
    bool pending = false;
    for (auto& task : tasks) {
      if (IsFinal(Str(task, "state"))) continue;
      if (auto it = latest.find(Str(task, "id")); it != latest.end()) task = std::move(it->second);
      if (!IsFinal(Str(task, "state"))) {
        pending = true;
      } else if (print) {
        const std::string reason = Str(task, "reason");
        fmt::print("{}  {}{}\n", Str(task, "id"), Str(task, "state"), reason.empty() ? "" : "  " + reason);
        std::fflush(stdout);
      }
    }
    if (!pending) return tasks;
    std::this_thread::sleep_for(kPollInterval);
  }
}

Status Run(const ControlFlags& f, int* exit_code) {
  const auto [name, revision] = SplitRevision(f.arg);
  json body = {{"taskdef", name}};
  if (revision) body["revision"] = *revision;
  if (f.count) body["count"] = *f.count;
  WHARF_ASSIGN_OR_RETURN(json overrides, BuildOverrides(f.overrides));
  if (!f.executor.empty()) overrides["executor"] = f.executor;
  if (!overrides.empty()) body["overrides"] = std::move(overrides);
  WHARF_ASSIGN_OR_RETURN(ControlClient client, Connect(f));
  WHARF_ASSIGN_OR_RETURN(json run, client.Call("POST", "/api/runs", body));
  std::vector<json> tasks = run.value("tasks", json::array()).get<std::vector<json>>();
  if (!f.json) {
    fmt::print("Started {} task{} of {} (group {})\n", tasks.size(), tasks.size() == 1 ? "" : "s",
               tasks.empty() ? name : Revision(tasks.front()), Str(run, "group_id"));
    if (!f.wait) {
      for (const auto& t : tasks) fmt::print("{}\n", Str(t, "id"));
    }
    std::fflush(stdout);
  }
  if (f.wait) {
    WHARF_ASSIGN_OR_RETURN(tasks, WaitForTasks(client, Str(run, "group_id"), std::move(tasks), !f.json));
    run["tasks"] = tasks;
    const auto succeeded = std::count_if(tasks.begin(), tasks.end(),
                                         [](const json& t) { return Str(t, "state") == "SUCCEEDED"; });
    if (!f.json) fmt::print("{} of {} succeeded\n", succeeded, tasks.size());
    if (static_cast<std::size_t>(succeeded) != tasks.size()) *exit_code = kExitInternal;
  }
  if (f.json) PrintJson(run);
  return Status::Ok();
}

Status TaskList(const ControlFlags& f) {
  std::vector<std::string> query;
  if (!f.state.empty()) query.push_back("state=" + Encode(f.state));
  if (!f.taskdef.empty()) query.push_back("taskdef=" + Encode(f.taskdef));
  if (f.limit) query.push_back(fmt::format("limit={}", *f.limit));
  const std::string target =
      query.empty() ? "/api/tasks" : fmt::format("/api/tasks?{}", fmt::join(query, "&"));
  WHARF_ASSIGN_OR_RETURN(ControlClient client, Connect(f));
  WHARF_ASSIGN_OR_RETURN(json answer, client.Call("GET", target));
  if (f.json) {
    PrintJson(answer);
    return Status::Ok();
  }
  const json& tasks = answer.value("tasks", json::array());
  if (tasks.empty()) {
    fmt::print("No tasks\n");
    return Status::Ok();
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& t : tasks) {
    rows.push_back({Str(t, "id"), Revision(t), Str(t, "state"), Attempts(t), Str(t, "created_at"), Str(t, "reason")});
  }
  PrintTable({"ID", "TASKDEF", "STATE", "ATTEMPT", "CREATED", "REASON"}, rows);
  return Status::Ok();
}

Status TaskDescribe(const ControlFlags& f) {
  WHARF_ASSIGN_OR_RETURN(ControlClient client, Connect(f));
  WHARF_ASSIGN_OR_RETURN(json t, client.Call("GET", "/api/tasks/" + Encode(f.arg)));
  if (f.json) {
    PrintJson(t);
    return Status::Ok();
  }
  fmt::print("Task {}\n", Str(t, "id"));
  const std::pair<const char*, std::string> fields[] = {
      {"Taskdef", Revision(t)},          {"Group", Str(t, "group_id")},       {"State", Str(t, "state")},
      {"Attempt", Attempts(t)},          {"Exit code", Str(t, "exit_code")},  {"Reason", Str(t, "reason")},
      {"Created", Str(t, "created_at")}, {"Started", Str(t, "started_at")},   {"Finished", Str(t, "finished_at")},
      {"Outputs", Str(t, "output_prefix")}};
  for (const auto& [label, value] : fields) {
    if (!value.empty()) fmt::print("  {:<10} {}\n", fmt::format("{}:", label), value);
  }
  fmt::print("  Spec:\n");
  std::istringstream spec(t.value("spec", json::object()).dump(2, ' ', false, json::error_handler_t::replace));
  for (std::string line; std::getline(spec, line);) fmt::print("    {}\n", line);
  return Status::Ok();
}

Status TaskStop(const ControlFlags& f) {
  json body = json::object();
  if (!f.grace.empty()) {
    WHARF_ASSIGN_OR_RETURN(body["grace_ms"], ParseDurationMs(f.grace));
  }
  WHARF_ASSIGN_OR_RETURN(ControlClient client, Connect(f));
  WHARF_ASSIGN_OR_RETURN(json t, client.Call("POST", "/api/tasks/" + Encode(f.arg) + "/stop", body));
  if (f.json) {
    PrintJson(t);
  } else {
    fmt::print("Stopping {} (now {})\n", Str(t, "id"), Str(t, "state"));
  }
  return Status::Ok();
}

// Prints the task's log from the start; with --follow, until the task has
// ended and everything is read. --json prints one object per chunk read.
Status Logs(const ControlFlags& f) {
  WHARF_ASSIGN_OR_RETURN(ControlClient client, Connect(f));
  const std::string stream = f.stderr_stream ? "stderr" : "stdout";
  const std::string base = fmt::format("/api/tasks/{}/logs?stream={}&offset=", Encode(f.arg), stream);
  long long offset = 0;
  json collected = {{"id", f.arg}, {"stream", stream}, {"data", ""}, {"offset", 0}};
  for (;;) {
    WHARF_ASSIGN_OR_RETURN(json chunk, client.Call("GET", base + std::to_string(offset)));
    const std::string data = chunk.value("data", "");
    const long long next = chunk.value("next_offset", offset + static_cast<long long>(data.size()));
    const bool final = chunk.value("final", false);
    if (f.json && f.follow) {
      if (!data.empty() || final) fmt::print("{}\n", chunk.dump(-1, ' ', false, json::error_handler_t::replace));
    } else if (f.json) {
      collected["data"] = collected["data"].get<std::string>() + data;
      collected["next_offset"] = next;
      collected["final"] = final;
    } else {
      std::fwrite(data.data(), 1, data.size(), stdout);
    }
    std::fflush(stdout);
    const bool progressed = next > offset;
    offset = next;
    if (progressed) continue;  // more may be waiting right away
    if (final || !f.follow) break;
    std::this_thread::sleep_for(kPollInterval);
  }
  if (f.json && !f.follow) PrintJson(collected);
  return Status::Ok();
}

// --- artifact -------------------------------------------------------------

Status ArtifactPut(const ControlFlags& f) {
  WHARF_ASSIGN_OR_RETURN(std::string bytes, ReadInput(f.file));
  WHARF_ASSIGN_OR_RETURN(ControlClient client, Connect(f));
  WHARF_ASSIGN_OR_RETURN(std::string text, client.CallRaw("PUT", "/api/artifacts/" + Encode(f.arg, true), bytes));
  json a = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (a.is_discarded()) a = {{"name", f.arg}, {"size", bytes.size()}};
  if (f.json) {
    PrintJson(a);
  } else {
    fmt::print("Stored {} ({} bytes, sha256 {})\n", Str(a, "name"), Str(a, "size"), Str(a, "sha256"));
  }
  return Status::Ok();
}

Status ArtifactGet(const ControlFlags& f) {
  if (f.json && f.output.empty()) {
    return InvalidArgument("artifact get --json needs --output FILE (the bytes would go to stdout)");
  }
  WHARF_ASSIGN_OR_RETURN(ControlClient client, Connect(f));
  WHARF_ASSIGN_OR_RETURN(std::string bytes, client.CallRaw("GET", "/api/artifacts/" + Encode(f.arg, true)));
  if (f.output.empty()) {
    std::fwrite(bytes.data(), 1, bytes.size(), stdout);
    std::fflush(stdout);
    return std::ferror(stdout) ? IoError("stdout: write failed") : Status::Ok();
  }
  std::ofstream out(f.output, std::ios::binary | std::ios::trunc);
  out << bytes;
  out.close();
  if (!out) return IoError(fmt::format("{}: cannot write", f.output));
  if (f.json) {
    PrintJson({{"name", f.arg}, {"size", bytes.size()}, {"output", f.output}});
  } else {
    fmt::print("Wrote {} ({} bytes) -> {}\n", f.arg, bytes.size(), f.output);
  }
  return Status::Ok();
}

Status ArtifactList(const ControlFlags& f) {
  WHARF_ASSIGN_OR_RETURN(ControlClient client, Connect(f));
  const std::string target = f.prefix.empty() ? "/api/artifacts" : "/api/artifacts?prefix=" + Encode(f.prefix);
  WHARF_ASSIGN_OR_RETURN(json answer, client.Call("GET", target));
  if (f.json) {
    PrintJson(answer);
    return Status::Ok();
  }
  const json& artifacts = answer.value("artifacts", json::array());
  if (artifacts.empty()) {
    fmt::print("No artifacts{} at {}\n", f.prefix.empty() ? "" : " under '" + f.prefix + "'", client.url());
    return Status::Ok();
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& a : artifacts) rows.push_back({Str(a, "name"), Str(a, "size"), Str(a, "modified_at")});
  PrintTable({"NAME", "SIZE", "MODIFIED"}, rows);
  return Status::Ok();
}

// --- wiring ---------------------------------------------------------------

// Adds a subcommand with the flags every control command shares; running it
// calls `run` with its flags and stores the exit code.
CLI::App* AddCommand(CLI::App& parent, const char* name, const char* help, const CommandContext& context,
                     const std::shared_ptr<ControlFlags>& flags, Status (*run)(const ControlFlags&)) {
  auto* cmd = parent.add_subcommand(name, help);
  AddConnectionFlags(*cmd, *flags);
  if (run != nullptr) cmd->callback([flags, context, run] { *context.exit_code = ExitWith(run(*flags)); });
  return cmd;
}

}  // namespace

void AddControlCommands(CLI::App& app, const CommandContext& context) {
  auto* taskdef = app.add_subcommand("taskdef", "Register, list and describe task definitions on the server");
  taskdef->require_subcommand(1);
  auto f = std::make_shared<ControlFlags>();
  auto* cmd = AddCommand(*taskdef, "register", "Register a task definition (a new revision if it changed)", context,
                         f, TaskdefRegister);
  cmd->add_option("file", f->file, "JSON file ('-' reads stdin)")->required();
  cmd->add_option("--name", f->name, "Register under this name instead of the file's");
  f = std::make_shared<ControlFlags>();
  cmd = AddCommand(*taskdef, "list", "List task definitions (latest revision of each)", context, f, TaskdefList);
  cmd->add_flag("--all", f->all, "Include deregistered definitions");
  f = std::make_shared<ControlFlags>();
  cmd = AddCommand(*taskdef, "describe", "Show a task definition", context, f, TaskdefDescribe);
  cmd->add_option("name", f->arg, "NAME or NAME:REV")->required();
  f = std::make_shared<ControlFlags>();
  cmd = AddCommand(*taskdef, "deregister", "Hide a task definition from list (its revisions stay runnable)", context,
                   f, TaskdefDeregister);
  cmd->add_option("name", f->arg, "NAME")->required();
  AddCommand(*taskdef, "jobs", "List the built-in jobs and their parameters", context,
             std::make_shared<ControlFlags>(), TaskdefJobs);

  f = std::make_shared<ControlFlags>();
  cmd = AddCommand(app, "run", "Start tasks from a task definition", context, f, nullptr);
  cmd->add_option("taskdef", f->arg, "NAME or NAME:REV")->required();
  cmd->add_option("--count", f->count, "Tasks to start (default: the definition's count)");
  cmd->add_option("--override", f->overrides,
                  "KEY=VALUE: set a dotted key of the definition (params.seed=7, env.X=1, command=[\"echo\",\"hi\"]); "
                  "VALUE is JSON if it parses, else a string")
      ->allow_extra_args(false);  // one KEY=VALUE per --override, and no splitting of "[...]"
  cmd->add_option("--executor", f->executor, "Where these tasks run (default: the definition's, else the server's)")
      ->check(CLI::IsMember({"local", "slurm"}));
  cmd->add_flag("--wait", f->wait, "Wait until every task has ended; exit 0 only if all succeeded");
  // Run() sets the exit code to 1 when a task failed; ExitWith(OK) must not reset it.
  cmd->callback([f, context] {
    int failed = kExitOk;
    const Status s = Run(*f, &failed);
    *context.exit_code = s.ok() ? failed : ExitWith(s);
  });

  auto* task = app.add_subcommand("task", "List, describe and stop tasks on the server");
  task->require_subcommand(1);
  f = std::make_shared<ControlFlags>();
  cmd = AddCommand(*task, "list", "List tasks, newest first", context, f, TaskList);
  cmd->add_option("--state", f->state, "Only tasks in these states (PENDING,RUNNING,...)");
  cmd->add_option("--taskdef", f->taskdef, "Only tasks of this definition");
  cmd->add_option("--limit", f->limit, "At most this many (server default 100; 0 for all)");
  f = std::make_shared<ControlFlags>();
  cmd = AddCommand(*task, "describe", "Show a task", context, f, TaskDescribe);
  cmd->add_option("id", f->arg, "Task id")->required();
  f = std::make_shared<ControlFlags>();
  cmd = AddCommand(*task, "stop", "Stop a task: SIGTERM, then SIGKILL after the grace period", context, f, TaskStop);
  cmd->add_option("id", f->arg, "Task id")->required();
  cmd->add_option("--grace", f->grace, "Grace period before SIGKILL (500ms, 10s, 2m; default 10s)");

  f = std::make_shared<ControlFlags>();
  cmd = AddCommand(app, "logs", "Print a task's output", context, f, Logs);
  cmd->add_option("id", f->arg, "Task id")->required();
  cmd->add_flag("--follow,-f", f->follow, "Keep printing until the task has ended");
  cmd->add_flag("--stderr", f->stderr_stream, "Print standard error instead of standard output");

  auto* artifact = app.add_subcommand("artifact", "Upload, download and list artifacts on the server");
  artifact->require_subcommand(1);
  f = std::make_shared<ControlFlags>();
  cmd = AddCommand(*artifact, "put", "Upload a file as an artifact", context, f, ArtifactPut);
  cmd->add_option("name", f->arg, "Artifact name (wine/TrainingDataset.csv)")->required();
  cmd->add_option("file", f->file, "File to upload ('-' reads stdin)")->required();
  f = std::make_shared<ControlFlags>();
  cmd = AddCommand(*artifact, "get", "Download an artifact", context, f, ArtifactGet);
  cmd->add_option("name", f->arg, "Artifact name")->required();
  cmd->add_option("--output,-o", f->output, "Write to this file instead of stdout");
  f = std::make_shared<ControlFlags>();
  cmd = AddCommand(*artifact, "list", "List artifacts", context, f, ArtifactList);
  cmd->add_option("--prefix", f->prefix, "Only names starting with this");

  AddEndpointCommands(app, context);
}

}  // namespace wharf::cli
