// `wharf service create | list | describe | scale | stop`: long-running
// services on a running `wharf server` (docs/control-plane.md#services).

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/control_flags.h"
#include "cli/exit_code.h"

namespace wharf::cli {

namespace {

using nlohmann::json;

struct ServiceFlags : ConnectionFlags {
  std::string name, taskdef;
  int desired = -1;  // -1: the definition's
  bool wait = false;
  int timeout_s = 120;
};

// Polls until every desired instance runs and passes its checks.
Result<json> WaitHealthy(control::ControlClient& client, const std::string& name, int timeout_s) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  for (;;) {
    WHARF_ASSIGN_OR_RETURN(json service, client.Call("GET", "/api/services/" + Encode(name)));
    if (service.value("healthy", 0) == service.value("desired", 0) &&
        service.value("instances", json::array()).size() == static_cast<std::size_t>(service.value("desired", 0))) {
      return service;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      return Unavailable(fmt::format("service {}: {} of {} instances healthy after {} s", name,
                                     service.value("healthy", 0), service.value("desired", 0), timeout_s));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
}

void PrintService(const json& s) {
  fmt::print("Service {} ({}){}\n", Str(s, "name"), Str(s, "definition"), s.value("active", true) ? "" : " (stopped)");
  fmt::print("  Instances: {} desired, {} running, {} healthy\n", Str(s, "desired"), Str(s, "running"),
             Str(s, "healthy"));
  const json restarts = s.value("restarts", json::object());
  fmt::print("  Restarts:  {} after a crash, {} for failing health checks\n", Str(restarts, "crashed"),
             Str(restarts, "unhealthy"));
  std::vector<std::vector<std::string>> rows;
  for (const auto& i : s.value("instances", json::array())) {
    rows.push_back({Str(i, "task_id"), Str(i, "state"), Str(i, "health"), i.contains("url") ? Str(i, "url") : "-",
                    Str(i, "last_error")});
  }
  if (!rows.empty()) {
    fmt::print("\n");
    PrintTable({"TASK", "STATE", "HEALTH", "URL", "LAST ERROR"}, rows);
  }
  const json events = s.value("events", json::array());
  if (!events.empty()) fmt::print("\nEvents (newest first):\n");
  for (const auto& e : events) fmt::print("  {}  {}\n", Str(e, "time"), Str(e, "message"));
}

Status Answer(const ServiceFlags& f, const json& service) {
  if (f.json) {
    PrintJson(service);
  } else {
    PrintService(service);
  }
  return Status::Ok();
}

Status Create(const ServiceFlags& f) {
  WHARF_ASSIGN_OR_RETURN(control::ControlClient client, Connect(f));
  json body = {{"taskdef", f.taskdef}};
  if (!f.name.empty()) body["name"] = f.name;
  if (f.desired >= 0) body["desired"] = f.desired;
  WHARF_ASSIGN_OR_RETURN(json service, client.Call("POST", "/api/services", body));
  if (f.wait) {
    WHARF_ASSIGN_OR_RETURN(service, WaitHealthy(client, service["name"], f.timeout_s));
  }
  return Answer(f, service);
}

Status List(const ServiceFlags& f) {
  WHARF_ASSIGN_OR_RETURN(control::ControlClient client, Connect(f));
  WHARF_ASSIGN_OR_RETURN(json answer, client.Call("GET", "/api/services"));
  if (f.json) {
    PrintJson(answer);
    return Status::Ok();
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& s : answer.value("services", json::array())) {
    std::vector<std::string> urls;
    for (const auto& i : s.value("instances", json::array())) {
      if (i.contains("url")) urls.push_back(Str(i, "url"));
    }
    rows.push_back({Str(s, "name"), Str(s, "definition"), fmt::format("{}/{}", Str(s, "healthy"), Str(s, "desired")),
                    Str(s["restarts"], "crashed") + "+" + Str(s["restarts"], "unhealthy"), fmt::format("{}", fmt::join(urls, " "))});
  }
  if (rows.empty()) {
    fmt::print("No services at {}\n", client.url());
    return Status::Ok();
  }
  PrintTable({"NAME", "TASKDEF", "HEALTHY", "RESTARTS", "URLS"}, rows);
  return Status::Ok();
}

Status Describe(const ServiceFlags& f) {
  WHARF_ASSIGN_OR_RETURN(control::ControlClient client, Connect(f));
  WHARF_ASSIGN_OR_RETURN(json service, client.Call("GET", "/api/services/" + Encode(f.name)));
  return Answer(f, service);
}

Status Scale(const ServiceFlags& f) {
  WHARF_ASSIGN_OR_RETURN(control::ControlClient client, Connect(f));
  WHARF_ASSIGN_OR_RETURN(json service,
                         client.Call("POST", "/api/services/" + Encode(f.name) + "/scale", json{{"desired", f.desired}}));
  if (f.wait) {
    WHARF_ASSIGN_OR_RETURN(service, WaitHealthy(client, f.name, f.timeout_s));
  }
  return Answer(f, service);
}

Status StopService(const ServiceFlags& f) {
  WHARF_ASSIGN_OR_RETURN(control::ControlClient client, Connect(f));
  WHARF_ASSIGN_OR_RETURN(json service, client.Call("POST", "/api/services/" + Encode(f.name) + "/stop"));
  if (!f.json) fmt::print("Stopping service {}: its instances get SIGTERM, then SIGKILL after 10 s\n", f.name);
  return f.json ? Answer(f, service) : Status::Ok();
}

CLI::App* Add(CLI::App& parent, const char* name, const char* help, const CommandContext& context,
              std::shared_ptr<ServiceFlags> flags, Status (*run)(const ServiceFlags&)) {
  auto* cmd = parent.add_subcommand(name, help);
  AddConnectionFlags(*cmd, *flags);
  cmd->callback([flags, context, run] { *context.exit_code = ExitWith(run(*flags)); });
  return cmd;
}

void AddWait(CLI::App& cmd, ServiceFlags& flags) {
  cmd.add_flag("--wait", flags.wait, "Wait until every instance runs and passes its health check");
  cmd.add_option("--timeout", flags.timeout_s, "Seconds --wait waits")->capture_default_str();
}

}  // namespace

void AddServiceCommand(CLI::App& app, const CommandContext& context) {
  auto* service = app.add_subcommand("service", "Long-running services kept healthy by the server");
  service->require_subcommand(1);
  auto f = std::make_shared<ServiceFlags>();
  auto* cmd = Add(*service, "create", "Run a task definition (with a service block) as a service", context, f, Create);
  cmd->add_option("taskdef", f->taskdef, "Task definition")->required();
  cmd->add_option("--name", f->name, "Service name (default: the definition's)");
  cmd->add_option("--desired", f->desired, "Instances (default: the definition's service.desired)");
  AddWait(*cmd, *f);
  f = std::make_shared<ServiceFlags>();
  Add(*service, "list", "List services with their health and URLs", context, f, List);
  f = std::make_shared<ServiceFlags>();
  cmd = Add(*service, "describe", "Show a service's instances, health, restarts and events", context, f, Describe);
  cmd->add_option("name", f->name, "Service")->required();
  f = std::make_shared<ServiceFlags>();
  cmd = Add(*service, "scale", "Change a service's number of instances", context, f, Scale);
  cmd->add_option("name", f->name, "Service")->required();
  cmd->add_option("desired", f->desired, "Instances")->required()->check(CLI::Range(0, 1000));
  AddWait(*cmd, *f);
  f = std::make_shared<ServiceFlags>();
  cmd = Add(*service, "stop", "Stop every instance of a service", context, f, StopService);
  cmd->add_option("name", f->name, "Service")->required();
}

}  // namespace wharf::cli
