// `wharf serve`: serve Modelfiles over HTTP until SIGTERM/SIGINT; SIGHUP or
// POST /admin/config (the admin port) switches to a new configuration
// without dropping a request.

#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <memory>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/exit_code.h"
#include "cli/registry_model.h"
#include "core/file.h"
#include "core/parallel.h"
#include "core/random.h"
#include "net/bearer_token.h"
#include "net/http_server.h"
#include "serve/admin_service.h"
#include "serve/config.h"
#include "serve/deployment.h"
#include "serve/model_service.h"
#include "store/location.h"
#include "store/sqlite_database.h"

namespace wharf::cli {

namespace {

// The capture store's page cache (32 MiB) and the registry's (2 MB), and some room.
constexpr std::size_t kSqlitePageCacheBytes = 40 << 20;

struct ServeFlags {
  std::vector<std::string> models;
  std::string config, host = "127.0.0.1", capture, db;
  std::uint16_t port = 8080;
  int threads = 0;
  double sample = -1;
  int max_batch_size = -1;            // -1: as the config says
  std::int64_t max_queue_delay_us = -1;
  std::size_t max_body_bytes = 1 << 20;
  int read_timeout_ms = 15000, grace_ms = 10000;
  int admin_port = -1;  // -1: no admin port
  std::string admin_token_file, announce, replica_group;
};

// "NAME=model:wine@production" becomes "NAME=<that version's Modelfile>",
// looked up in the registry at `location`; other flags pass through.
Result<std::vector<std::string>> ResolveRegistryModels(const std::vector<std::string>& models,
                                                       const std::string& location) {
  std::vector<std::string> out;
  for (const auto& flag : models) {
    const auto eq = flag.find('=');
    if (eq == std::string::npos || flag.compare(eq + 1, 6, "model:") != 0) {
      out.push_back(flag);
      continue;
    }
    WHARF_ASSIGN_OR_RETURN(std::string modelfile, RegistryModelfile(flag.substr(eq + 7), location, flag));
    out.push_back(flag.substr(0, eq + 1) + modelfile);
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
    if (f.max_batch_size >= 0) e.batching.max_batch_size = static_cast<std::size_t>(f.max_batch_size);
    if (f.max_queue_delay_us >= 0) e.batching.max_queue_delay_us = f.max_queue_delay_us;
  }
  WHARF_RETURN_IF_ERROR(serve::Validate(config));
  return config;
}

// Capturing into a SQLite file: its 32 MiB page cache (and the registry's
// 2 MB one) live in a slab, so a replica's memory stays put while other
// replicas' commits keep emptying its cache (see ReserveSqlitePageCache).
// Must run before the capture store is opened; where --model resolved a
// registry model, SQLite is in use already and the caches stay on the heap.
void ReservePageCacheForCapture(const serve::ServeConfig& config, const std::string& location) {
  const bool captures = std::any_of(config.endpoints.begin(), config.endpoints.end(),
                                    [](const auto& e) { return e.capture.mode != serve::CaptureMode::kOff; });
  if (!captures || store::IsServerLocation(location)) return;
  const Status reserved = store::ReserveSqlitePageCache(kSqlitePageCacheBytes);
  if (!reserved.ok() && reserved.code() != StatusCode::kFailedPrecondition) {
    fmt::print(stderr, "wharf serve: SQLite's page caches stay on the heap: {}\n", reserved.message());
  }
}

// Writes what a supervisor needs to find and drive this replica (its admin
// token too, when it made its own); a reader never sees half of it.
Status Announce(const std::filesystem::path& path, std::string_view host, std::uint16_t port,
                std::uint16_t admin_port, std::string_view own_token) {
  nlohmann::json announced = {{"pid", ::getpid()},
                              {"url", fmt::format("http://{}:{}", host, port)},
                              {"admin_url", fmt::format("http://127.0.0.1:{}", admin_port)}};
  if (!own_token.empty()) announced["admin_token"] = own_token;
  return WriteFileAtomically(path, announced.dump() + "\n", 0600);
}

void PrintEndpoints(const serve::ServeConfig& config, const serve::Deployment& deployment, const std::string& location) {
  for (const auto& e : config.endpoints) {
    double total = 0;
    for (const auto& v : e.variants) total += v.weight;
    std::vector<std::string> variants;
    for (const auto& v : e.variants) {
      variants.push_back(fmt::format("{} v{} ({:.4g}%)", v.name, v.version, 100 * v.weight / total));
    }
    fmt::print("  endpoint {}{}: {}{}; capture {}{}\n", e.name, e.revision ? fmt::format(" (revision {})", e.revision) : "",
               fmt::join(variants, ", "),
               e.shadow ? fmt::format("; shadow {} v{}", e.shadow->name, e.shadow->version) : "",
               serve::CaptureModeName(e.capture.mode),
               deployment.capture ? " -> " + store::DisplayLocation(location) : "");
  }
  std::fflush(stdout);
}

Status Run(const ServeFlags& f, const artifact::ModelRegistry& registry) {
  // Blocked before any thread starts (the capture writer starts in
  // Deployer::Load), so every thread inherits the mask and only sigwait below
  // sees the signals: a thread without it would take SIGTERM's default
  // action and end the process without draining requests or captures.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  WHARF_ASSIGN_OR_RETURN(serve::ServeConfig config, LoadConfig(f));
  const std::string location = store::StoreLocation(f.db);
  ReservePageCacheForCapture(config, location);
  std::string token, own_token;
  if (!f.admin_token_file.empty()) {
    WHARF_ASSIGN_OR_RETURN(token, net::ReadToken(f.admin_token_file));
  } else if (!f.announce.empty() && f.admin_port >= 0) {
    // A replica a supervisor drives: reloads carry a token of its own, which
    // only the announcement tells (no other process's token is needed).
    token = own_token = RandomHex(32);
  }
  if (!token.empty()) ::prctl(PR_SET_DUMPABLE, 0);  // no core dump carries the token
  serve::Deployer deployer(registry, store::CaptureLocation(location), std::chrono::milliseconds(f.grace_ms));
  WHARF_ASSIGN_OR_RETURN(auto deployment, deployer.Load(config));
  serve::ModelService service(deployment);

  net::HttpServerOptions options;
  options.host = f.host;
  options.port = f.port;
  options.threads = f.threads > 0 ? f.threads : HardwareThreads();
  options.max_body_bytes = f.max_body_bytes;
  options.read_timeout = std::chrono::milliseconds(f.read_timeout_ms);
  options.replica_group = f.replica_group;
  // The loops answer /metrics from the moment Start runs them, so the source
  // is set before it and reads the server through an atomic pointer.
  std::atomic<const net::HttpServer*> running{nullptr};
  service.set_in_flight_source([&running] {
    const net::HttpServer* s = running.load();
    return s ? s->in_flight() : 0;
  });
  WHARF_ASSIGN_OR_RETURN(auto server, net::HttpServer::Start(options, service));
  running.store(server.get());

  serve::AdminService admin_service(service, deployer, token);
  std::unique_ptr<net::HttpServer> admin;
  if (f.admin_port >= 0) {
    net::HttpServerOptions admin_options = options;
    admin_options.replica_group.clear();  // the admin port is this replica's alone
    admin_options.host = "127.0.0.1";
    admin_options.port = static_cast<std::uint16_t>(f.admin_port);
    admin_options.threads = 2;  // status and metrics answer while a reload loads models
    WHARF_ASSIGN_OR_RETURN(admin, net::HttpServer::Start(admin_options, admin_service));
  }

  fmt::print("wharf serve: listening on http://{}:{} ({} threads){}\n", f.host, server->port(), options.threads,
             admin ? fmt::format("; admin on http://127.0.0.1:{}", admin->port()) : "");
  PrintEndpoints(config, *deployment, location);
  if (!f.announce.empty()) {
    WHARF_RETURN_IF_ERROR(Announce(f.announce, f.host, server->port(), admin ? admin->port() : 0, own_token));
  }
  deployment.reset();  // the service holds it; a reload must be able to drain it

  int signal = 0;
  while (true) {
    sigwait(&signals, &signal);
    if (signal != SIGHUP) break;
    // SIGHUP: read the configuration again (--config file, registry aliases)
    // and switch to it without dropping a request.
    auto reloaded = LoadConfig(f);
    const Status deployed = reloaded.ok() ? deployer.Deploy(service, *reloaded) : reloaded.status();
    if (!deployed.ok()) {
      fmt::print(stderr, "wharf serve: reload failed, still serving the previous configuration: {}\n",
                 deployed.message());
      std::fflush(stderr);
      continue;
    }
    fmt::print("wharf serve: reloaded\n");
    PrintEndpoints(*reloaded, *service.current(), location);
  }
  fmt::print("wharf serve: {} received, finishing in-flight requests\n", signal == SIGTERM ? "SIGTERM" : "SIGINT");
  std::fflush(stdout);
  service.set_ready(false);
  server->Shutdown(std::chrono::milliseconds(f.grace_ms));
  if (admin) admin->Shutdown(std::chrono::milliseconds(1000));
  if (const auto capture = service.current()->capture) {
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
  cmd->add_option("--max-batch-size", flags->max_batch_size,
                  "Dynamic batching: rows per forward pass, gathered from concurrent requests (overrides the config; "
                  "0 or 1: off)")
      ->check(CLI::Range(0, 4096));
  cmd->add_option("--max-queue-delay-us", flags->max_queue_delay_us,
                  "Dynamic batching: longest a request waits for others, in microseconds (default 1000)")
      ->check(CLI::Range(std::int64_t{0}, std::int64_t{1000000}));
  cmd->add_option("--max-body-bytes", flags->max_body_bytes, "Largest request body accepted (413 beyond)")
      ->capture_default_str();
  cmd->add_option("--read-timeout-ms", flags->read_timeout_ms,
                  "Time to receive a whole request, idle keep-alive included")
      ->capture_default_str();
  cmd->add_option("--grace-ms", flags->grace_ms,
                  "On SIGTERM, how long in-flight requests may take (and how long a reload waits for them)")
      ->capture_default_str();
  cmd->add_option("--admin-port", flags->admin_port,
                  "Also serve /admin/status, /metrics and POST /admin/config on 127.0.0.1:PORT (0 picks a free one)")
      ->check(CLI::Range(0, 65535));
  cmd->add_option("--admin-token-file", flags->admin_token_file,
                  "Bearer token that POST /admin/config must carry (without it, reloads over HTTP are refused)");
  cmd->add_option("--replica-group", flags->replica_group,
                  "Share --port with the other replicas of this group only (the control plane sets it for an "
                  "endpoint's replicas); without it, a port already served is refused");
  cmd->add_option("--announce", flags->announce,
                  "Once listening, write {pid, url, admin_url} as JSON to this file (for a supervisor); without "
                  "--admin-token-file, also admin_token, a fresh one that POST /admin/config must carry");
  cmd->callback([flags, context] { *context.exit_code = ExitWith(Run(*flags, *context.registry)); });
}

}  // namespace wharf::cli
