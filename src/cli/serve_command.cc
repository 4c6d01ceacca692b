// `wharf serve`: serve Modelfiles over HTTP until SIGTERM/SIGINT.

#include <atomic>
#include <csignal>
#include <memory>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/exit_code.h"
#include "control/model_registry.h"
#include "core/parallel.h"
#include "serve/capture_writer.h"
#include "serve/config.h"
#include "net/http_server.h"
#include "serve/model_service.h"
#include "store/capture_store.h"
#include "store/location.h"
#include "store/metadata_store.h"

namespace wharf::cli {

namespace {

struct ServeFlags {
  std::vector<std::string> models;
  std::string config, host = "127.0.0.1", capture, db;
  std::uint16_t port = 8080;
  int threads = 0;
  double sample = -1;
  std::size_t max_body_bytes = 1 << 20;
  int read_timeout_ms = 15000, grace_ms = 10000;
};

// "NAME=model:wine@production" becomes "NAME=<that version's Modelfile>",
// looked up in the registry at `location`; other flags pass through.
Result<std::vector<std::string>> ResolveRegistryModels(const std::vector<std::string>& models,
                                                       const std::string& location) {
  std::vector<std::string> out;
  std::unique_ptr<store::MetadataStore> registry;
  for (const auto& flag : models) {
    const auto eq = flag.find('=');
    if (eq == std::string::npos || flag.compare(eq + 1, 6, "model:") != 0) {
      out.push_back(flag);
      continue;
    }
    const std::string ref_text = flag.substr(eq + 7);
    WHARF_ASSIGN_OR_RETURN(control::ModelRef ref, control::ParseModelRef(ref_text));
    if (!registry) {
      std::error_code ec;
      if (!store::IsServerLocation(location) && !std::filesystem::exists(location, ec)) {
        return NotFound(fmt::format("--model {}: no model registry at {}", flag, location));
      }
      WHARF_ASSIGN_OR_RETURN(registry, store::OpenMetadataStore(location));
    }
    Result<store::ModelVersion> version = control::ResolveModelRef(*registry, ref);
    if (!version.ok()) return NotFound(fmt::format("--model {}: {}", flag, version.status().message()));
    out.push_back(flag.substr(0, eq + 1) + version->modelfile_path);
  }
  return out;
}

Result<serve::ServeConfig> LoadConfig(const ServeFlags& f) {
  if (!f.config.empty() && !f.models.empty()) return InvalidArgument("give either --config or --model, not both");
  WHARF_ASSIGN_OR_RETURN(std::vector<std::string> models, ResolveRegistryModels(f.models, store::StoreLocation(f.db)));
  WHARF_ASSIGN_OR_RETURN(serve::ServeConfig config, f.config.empty() ? serve::ServeConfigFromModelFlags(models)
                                                                      : serve::LoadServeConfig(f.config));
  for (auto& e : config.endpoints) {  // flags override every endpoint's capture settings
    if (!f.capture.empty()) {
      WHARF_ASSIGN_OR_RETURN(e.capture.mode, serve::ParseCaptureMode(f.capture));
    }
    if (f.sample >= 0) e.capture.sample_percent = f.sample;
  }
  WHARF_RETURN_IF_ERROR(serve::Validate(config));
  return config;
}

Status Run(const ServeFlags& f, const artifact::ModelRegistry& registry) {
  WHARF_ASSIGN_OR_RETURN(serve::ServeConfig config, LoadConfig(f));
  std::vector<std::unique_ptr<serve::Endpoint>> endpoints;
  bool capturing = false, durable = false;
  for (const auto& e : config.endpoints) {
    WHARF_ASSIGN_OR_RETURN(auto endpoint, serve::Endpoint::Load(e, registry));
    capturing = capturing || e.capture.mode != serve::CaptureMode::kOff;
    durable = durable || e.capture.mode == serve::CaptureMode::kDurable;
    endpoints.push_back(std::move(endpoint));
  }
  std::unique_ptr<serve::CaptureWriter> capture;
  const std::string location = store::StoreLocation(f.db);
  if (capturing) {
    // Durable capture promises that an answered request survives power loss;
    // async capture promises less, so it skips the fsync per commit.
    WHARF_ASSIGN_OR_RETURN(auto store, store::OpenCaptureStore(location, durable ? store::Durability::kPowerLoss
                                                                                 : store::Durability::kProcessCrash));
    capture = std::make_unique<serve::CaptureWriter>(std::move(store));
  }
  serve::ModelService service(std::move(endpoints), capture.get());

  // Loop threads inherit this mask, so only sigwait below sees the signals.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  net::HttpServerOptions options;
  options.host = f.host;
  options.port = f.port;
  options.threads = f.threads > 0 ? f.threads : HardwareThreads();
  options.max_body_bytes = f.max_body_bytes;
  options.read_timeout = std::chrono::milliseconds(f.read_timeout_ms);
  // The loops answer /metrics from the moment Start runs them, so the source
  // is set before it and reads the server through an atomic pointer.
  std::atomic<const net::HttpServer*> running{nullptr};
  service.set_in_flight_source([&running] {
    const net::HttpServer* s = running.load();
    return s ? s->in_flight() : 0;
  });
  WHARF_ASSIGN_OR_RETURN(auto server, net::HttpServer::Start(options, service));
  running.store(server.get());

  fmt::print("wharf serve: listening on http://{}:{} ({} threads)\n", f.host, server->port(), options.threads);
  for (const auto& e : config.endpoints) {
    double total = 0;
    for (const auto& v : e.variants) total += v.weight;
    std::vector<std::string> variants;
    for (const auto& v : e.variants) {
      variants.push_back(fmt::format("{} v{} ({:.4g}%)", v.name, v.version, 100 * v.weight / total));
    }
    fmt::print("  endpoint {}: {}{}; capture {}{}\n", e.name, fmt::join(variants, ", "),
               e.shadow ? fmt::format("; shadow {} v{}", e.shadow->name, e.shadow->version) : "",
               serve::CaptureModeName(e.capture.mode), capturing ? " -> " + store::DisplayLocation(location) : "");
  }
  std::fflush(stdout);

  int signal = 0;
  sigwait(&signals, &signal);
  fmt::print("wharf serve: {} received, finishing in-flight requests\n", signal == SIGTERM ? "SIGTERM" : "SIGINT");
  std::fflush(stdout);
  service.set_ready(false);
  server->Shutdown(std::chrono::milliseconds(f.grace_ms));
  if (capture) {
    capture->Close();
    fmt::print("wharf serve: capture written {}, dropped {}, failed {}\n", capture->written(), capture->dropped(),
               capture->failed());
  }
  return Status::Ok();
}

}  // namespace

void AddServeCommand(CLI::App& app, const CommandContext& context) {
  auto flags = std::make_shared<ServeFlags>();
  auto* cmd = app.add_subcommand("serve", "Serve models over HTTP: KServe v2 + the classic model app's routes");
  cmd->add_option("--model", flags->models, "NAME=PATH/Modelfile or NAME=model:MODEL[@VERSION|@ALIAS] (registry): one endpoint per flag (repeatable)");
  cmd->add_option("--config", flags->config, "Endpoint YAML: variants, weights, shadow, aliases, capture");
  cmd->add_option("--host", flags->host, "Address to bind")->capture_default_str();
  cmd->add_option("--port", flags->port, "Port (0 picks a free one)")->capture_default_str();
  cmd->add_option("--threads", flags->threads, "Event loops (default: one per core)");
  cmd->add_option("--capture", flags->capture, "off | async | durable (overrides the config)")
      ->check(CLI::IsMember({"off", "async", "durable"}));
  cmd->add_option("--sample", flags->sample, "Percent of requests captured (overrides the config)")
      ->check(CLI::Range(0.0, 100.0));
  cmd->add_option("--store,--db", flags->db,
                  "Capture store and model registry: a SQLite file or postgresql:// URL (default: $WHARF_STORE, else "
                  "$WHARF_HOME/wharf.db, else ~/.wharf/wharf.db)");
  cmd->add_option("--max-body-bytes", flags->max_body_bytes, "Largest request body accepted (413 beyond)")
      ->capture_default_str();
  cmd->add_option("--read-timeout-ms", flags->read_timeout_ms,
                  "Time to receive a whole request, idle keep-alive included")
      ->capture_default_str();
  cmd->add_option("--grace-ms", flags->grace_ms, "On SIGTERM, how long in-flight requests may take")
      ->capture_default_str();
  cmd->callback([flags, context] { *context.exit_code = ExitWith(Run(*flags, *context.registry)); });
}

}  // namespace wharf::cli
