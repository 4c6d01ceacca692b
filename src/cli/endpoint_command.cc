#include "cli/endpoint_command.h"

#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/control_flags.h"
#include "cli/endpoint_format.h"
#include "cli/exit_code.h"
#include "cli/yaml_json.h"
#include "control/client.h"
#include "control/task_definition.h"
#include "core/file.h"
#include "core/json_depth.h"

namespace wharf::cli {

namespace {

using control::ControlClient;
using nlohmann::json;

constexpr auto kPollInterval = std::chrono::milliseconds(200);

// The connection flags and those of each endpoint command.
struct EndpointFlags : ConnectionFlags {
  std::string name, file, timeout = "120s";
  std::optional<long long> to;
  std::optional<int> limit;
  bool wait = false;
};

std::string Path(const std::string& endpoint) { return "/api/endpoints/" + Encode(endpoint); }

// FILE as a JSON object: JSON when it is named *.json or starts with '{',
// else YAML. Errors name the file (and the line and column for YAML).
Result<json> ReadSpec(const std::string& file) {
  WHARF_ASSIGN_OR_RETURN(std::string text, ReadFile(file));
  const auto first = text.find_first_not_of(" \t\r\n");
  json spec;
  if (file.ends_with(".json") || (first != std::string::npos && text[first] == '{')) {
    WHARF_RETURN_IF_ERROR(CheckJsonDepth(text, file));
    try {
      spec = json::parse(text);
    } catch (const json::parse_error& e) {
      const std::string what = e.what();  // "[json.exception.parse_error.101] parse error at line 3, ..."
      return InvalidArgument(fmt::format("{}: {}", file, what.substr(what.find(']') + 2)));
    }
  } else {
    WHARF_ASSIGN_OR_RETURN(spec, YamlToJson(text, file));
  }
  if (!spec.is_object()) {
    return InvalidArgument(fmt::format("{}: an endpoint spec must be a mapping (name, port, variants, ...)", file));
  }
  return spec;
}

// Polls the endpoint until every replica serves `target` (a REVISION) and
// is ready, and at least the desired number are (see CheckRollout); prints
// a line whenever the count of ready replicas changes. Unavailable (exit 1)
// naming the replicas still missing when `timeout` passes first.
Status WaitForRollout(ControlClient& client, const json& target, std::chrono::milliseconds timeout,
                      const std::string& timeout_text, bool print) {
  const std::string name = Str(target, "endpoint");
  const long long revision = RevisionNumber(target);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string last_progress;
  for (;;) {
    WHARF_ASSIGN_OR_RETURN(json status, client.Call("GET", Path(name)));
    if (status.is_object() && status.value("active", true) == false) {
      return FailedPrecondition(fmt::format("endpoint {} was deleted while waiting for revision {}", name, revision));
    }
    const Rollout rollout = CheckRollout(status, target);
    const std::string progress = fmt::format("endpoint {}: {}/{} replicas ready at revision {}", name, rollout.ready,
                                             rollout.desired, revision);
    if (print && progress != last_progress) {
      fmt::print("{}\n", progress);
      std::fflush(stdout);
      last_progress = progress;
    }
    if (rollout.done()) return Status::Ok();
    if (std::chrono::steady_clock::now() >= deadline) {
      return Unavailable(fmt::format("endpoint {}: revision {} not rolled out after {}: {} of {} desired replicas ready{}",
                                     name, revision, timeout_text, rollout.ready, rollout.desired,
                                     rollout.waiting.empty() ? ""
                                                             : fmt::format("; waiting for {}",
                                                                           fmt::join(rollout.waiting, ", "))));
    }
    std::this_thread::sleep_for(kPollInterval);
  }
}

// --timeout when --wait is given, parsed before anything changes; else nullopt.
Result<std::optional<std::chrono::milliseconds>> WaitLimit(const EndpointFlags& f) {
  if (!f.wait) return std::optional<std::chrono::milliseconds>();
  WHARF_ASSIGN_OR_RETURN(std::chrono::milliseconds limit, control::ParseDuration(json(f.timeout), "--timeout"));
  return std::optional(limit);
}

// Reports a revision that apply or rollback produced, waits for it up to
// `wait` when set, then prints the revision itself with --json.
Status Report(ControlClient& client, const EndpointFlags& f, const json& revision, bool unchanged,
              std::optional<std::chrono::milliseconds> wait) {
  const std::string name = Str(revision, "endpoint");
  const long long number = RevisionNumber(revision);
  if (!f.json) {
    if (unchanged) {
      fmt::print("endpoint {}: unchanged at revision {}\n", name, number);
    } else {
      fmt::print("endpoint {}: revision {} ({})\n", name, number, Str(revision, "reason"));
    }
    std::fflush(stdout);
  }
  if (wait) WHARF_RETURN_IF_ERROR(WaitForRollout(client, revision, *wait, f.timeout, !f.json));
  if (f.json) PrintJson(revision);
  return Status::Ok();
}

Status Apply(const EndpointFlags& f) {
  WHARF_ASSIGN_OR_RETURN(json spec, ReadSpec(f.file));
  WHARF_ASSIGN_OR_RETURN(auto wait, WaitLimit(f));
  WHARF_ASSIGN_OR_RETURN(ControlClient client, Connect(f));
  // The latest revision before, to tell a new revision from an unchanged one.
  long long before = 0;
  if (spec.contains("name") && spec["name"].is_string()) {
    auto status = client.Call("GET", Path(spec["name"].get<std::string>()));
    if (status.ok()) before = RevisionNumber(*status);
  }
  WHARF_ASSIGN_OR_RETURN(json revision, client.Call("POST", "/api/endpoints", spec));
  return Report(client, f, revision, before != 0 && before == RevisionNumber(revision), wait);
}

Status Rollback(const EndpointFlags& f) {
  WHARF_ASSIGN_OR_RETURN(auto wait, WaitLimit(f));
  json body = json::object();
  if (f.to) body["to"] = *f.to;
  WHARF_ASSIGN_OR_RETURN(ControlClient client, Connect(f));
  WHARF_ASSIGN_OR_RETURN(json revision, client.Call("POST", Path(f.name) + "/rollback", body));
  return Report(client, f, revision, /*unchanged=*/false, wait);
}

Status List(const EndpointFlags& f) {
  WHARF_ASSIGN_OR_RETURN(ControlClient client, Connect(f));
  WHARF_ASSIGN_OR_RETURN(json answer, client.Call("GET", "/api/endpoints"));
  if (f.json) {
    PrintJson(answer);
  } else {
    PrintEndpointList(answer, client.url());
  }
  return Status::Ok();
}

Status ShowStatus(const EndpointFlags& f) {
  WHARF_ASSIGN_OR_RETURN(ControlClient client, Connect(f));
  WHARF_ASSIGN_OR_RETURN(json status, client.Call("GET", Path(f.name)));
  if (f.json) {
    PrintJson(status);
  } else {
    PrintEndpointStatus(status);
  }
  return Status::Ok();
}

Status History(const EndpointFlags& f) {
  WHARF_ASSIGN_OR_RETURN(ControlClient client, Connect(f));
  WHARF_ASSIGN_OR_RETURN(json answer, client.Call("GET", Path(f.name) + "/revisions"));
  if (f.json) {
    PrintJson(answer);
  } else {
    PrintHistory(answer);
  }
  return Status::Ok();
}

Status Delete(const EndpointFlags& f) {
  WHARF_ASSIGN_OR_RETURN(ControlClient client, Connect(f));
  WHARF_ASSIGN_OR_RETURN(json status, client.Call("DELETE", Path(f.name)));
  if (f.json) {
    PrintJson(status);
  } else {
    fmt::print("endpoint {}: deleted at revision {}\n", f.name, RevisionNumber(status));
  }
  return Status::Ok();
}

Status Metrics(const EndpointFlags& f) {
  WHARF_ASSIGN_OR_RETURN(ControlClient client, Connect(f));
  WHARF_ASSIGN_OR_RETURN(json metrics, client.Call("GET", Path(f.name) + "/metrics"));
  if (f.json) {
    PrintJson(metrics);
  } else {
    PrintMetrics(metrics);
  }
  return Status::Ok();
}

Status Events(const EndpointFlags& f) {
  WHARF_ASSIGN_OR_RETURN(ControlClient client, Connect(f));
  std::string target = Path(f.name) + "/events";
  if (f.limit) target += fmt::format("?limit={}", *f.limit);
  WHARF_ASSIGN_OR_RETURN(json answer, client.Call("GET", target));
  if (f.json) {
    PrintJson(answer);
  } else {
    PrintEvents(answer);
  }
  return Status::Ok();
}

// Adds `endpoint COMMAND` with the connection flags; running it calls `run`
// with `flags` and stores the exit code.
CLI::App* AddCommand(CLI::App& endpoint, const char* name, const char* help, const CommandContext& context,
                     const std::shared_ptr<EndpointFlags>& flags, Status (*run)(const EndpointFlags&)) {
  auto* cmd = endpoint.add_subcommand(name, help);
  AddConnectionFlags(*cmd, *flags);
  cmd->callback([flags, context, run] { *context.exit_code = ExitWith(run(*flags)); });
  return cmd;
}

// The same for a command about one endpoint: `endpoint COMMAND NAME`.
CLI::App* AddNamedCommand(CLI::App& endpoint, const char* name, const char* help, const CommandContext& context,
                          const std::shared_ptr<EndpointFlags>& flags, Status (*run)(const EndpointFlags&)) {
  auto* cmd = AddCommand(endpoint, name, help, context, flags, run);
  cmd->add_option("name", flags->name, "Endpoint name")->required();
  return cmd;
}

void AddWaitFlags(CLI::App& cmd, EndpointFlags& f) {
  cmd.add_flag("--wait", f.wait,
               "Wait until every replica serves the new revision and is ready (exit 1 if --timeout passes first)");
  cmd.add_option("--timeout", f.timeout, "How long --wait waits (500ms, 30s, 2m; default 120s)");
}

}  // namespace

void AddEndpointCommands(CLI::App& app, const CommandContext& context) {
  auto* endpoint = app.add_subcommand("endpoint", "Apply, inspect and roll back served endpoints on the server");
  endpoint->require_subcommand(1);

  auto f = std::make_shared<EndpointFlags>();
  auto* cmd = AddCommand(*endpoint, "apply", "Apply an endpoint spec (a new revision if it changed)", context, f,
                         Apply);
  cmd->add_option("file", f->file, "The spec: YAML, or JSON (a .json file or one starting with '{')")->required();
  AddWaitFlags(*cmd, *f);

  AddCommand(*endpoint, "list", "List endpoints", context, std::make_shared<EndpointFlags>(), List);
  AddNamedCommand(*endpoint, "status", "Show an endpoint and its replicas", context,
                  std::make_shared<EndpointFlags>(), ShowStatus);
  AddNamedCommand(*endpoint, "history", "List an endpoint's revisions, oldest first", context,
                  std::make_shared<EndpointFlags>(), History);

  f = std::make_shared<EndpointFlags>();
  cmd = AddNamedCommand(*endpoint, "rollback", "Make a new revision with an earlier revision's spec", context, f,
                        Rollback);
  cmd->add_option("--to", f->to, "The revision to go back to (default: the one before the latest, or before a canary rollout in progress)");
  AddWaitFlags(*cmd, *f);

  AddNamedCommand(*endpoint, "delete", "Stop an endpoint's replicas and mark it deleted", context,
                  std::make_shared<EndpointFlags>(), Delete);
  AddNamedCommand(*endpoint, "metrics", "Show an endpoint's traffic: totals, per variant, per replica", context,
                  std::make_shared<EndpointFlags>(), Metrics);

  f = std::make_shared<EndpointFlags>();
  cmd = AddNamedCommand(*endpoint, "events", "List an endpoint's events, newest first", context, f, Events);
  cmd->add_option("--limit", f->limit, "At most this many events");
}

}  // namespace wharf::cli
