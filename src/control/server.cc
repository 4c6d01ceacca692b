#include "control/server.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "control/api.h"
#include "control/artifact_store.h"
#include "control/console.h"
#include "control/scheduler.h"
#include "core/file.h"
#include "net/bearer_token.h"
#include "control/executor_set.h"
#include "exec/local/local_executor.h"
#include "exec/slurm/slurm_executor.h"
#include "net/http_server.h"
#include "store/metadata_store.h"

namespace wharf::control {

namespace fs = std::filesystem;

struct ControlServer::Parts {
  int lock_fd = -1;
  fs::path server_json;
  std::string url;
  std::unique_ptr<ArtifactStore> artifacts;
  std::unique_ptr<exec::Executor> executor;
  nlohmann::json executor_info;  // for /api/health
  std::unique_ptr<Scheduler> scheduler;
  std::unique_ptr<EndpointController> endpoints;
  std::unique_ptr<ServiceController> services;
  std::unique_ptr<ControlApi> api;
  std::unique_ptr<ConsoleHandler> console;  // in front of the API
  std::unique_ptr<net::HttpServer> http;

  ~Parts() {
    if (lock_fd >= 0) ::close(lock_fd);  // releases the flock
  }
};

namespace {

// Holds HOME/server.lock for the server's life: one server per home.
Result<int> LockHome(const fs::path& home) {
  const fs::path path = home / "server.lock";
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return IoError(fmt::format("cannot open {}: {}", path.string(), std::strerror(errno)));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return FailedPrecondition(fmt::format("another wharf server is using {} (it holds {})", home.string(),
                                          path.string()));
  }
  return fd;
}

Status WriteServerJson(const fs::path& path, const std::string& url) {
  return WriteFileAtomically(path, nlohmann::json{{"url", url}, {"pid", ::getpid()}}.dump() + "\n");
}

// What /api/health tells about the executor: where memory, pids and cpu
// limits come from on this machine.
nlohmann::json LocalExecutorInfo(const exec::LocalExecutor& executor) {
  const auto& c = executor.cgroups();
  const std::string cgroup = "cgroup " + std::string(exec::local::CgroupVersionName(c.version));
  return {{"kind", "local"},
          {"memory_limit", c.has_memory() ? cgroup : "setrlimit(RLIMIT_AS)"},
          {"pids_limit", c.pids.empty() ? "none" : cgroup},
          {"cpu_limit", c.cpu.empty() ? "none" : cgroup}};
}

}  // namespace

ControlServer::ControlServer(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}

ControlServer::~ControlServer() { Shutdown(); }

Result<std::unique_ptr<ControlServer>> ControlServer::Start(const ServerOptions& options, const JobRegistry& jobs) {
  if (options.home.empty()) return InvalidArgument("the server needs a home directory");
  const fs::path home = fs::absolute(options.home);
  std::error_code ec;
  fs::create_directories(home, ec);
  if (ec) return IoError(fmt::format("cannot create {}: {}", home.string(), ec.message()));
  // The home holds the token, the secret key, the store and every task's
  // files: nobody else may even list it (a home made by an older wharf too).
  fs::permissions(home, fs::perms::owner_all, fs::perm_options::replace, ec);
  if (ec) return IoError(fmt::format("cannot make {} private (chmod 700): {}", home.string(), ec.message()));

  auto parts = std::make_unique<Parts>();
  WHARF_ASSIGN_OR_RETURN(parts->lock_fd, LockHome(home));
  const fs::path token_file = options.token_file.empty() ? home / "server.token" : options.token_file;
  WHARF_ASSIGN_OR_RETURN(std::string token, net::LoadOrCreateToken(token_file));

  const std::string location = options.store.empty() ? (home / "wharf.db").string() : options.store;
  WHARF_ASSIGN_OR_RETURN(auto api_store, store::OpenMetadataStore(location));
  WHARF_ASSIGN_OR_RETURN(auto scheduler_store, store::OpenMetadataStore(location));
  WHARF_ASSIGN_OR_RETURN(auto endpoints_api_store, store::OpenMetadataStore(location));
  WHARF_ASSIGN_OR_RETURN(auto endpoints_loop_store, store::OpenMetadataStore(location));
  WHARF_ASSIGN_OR_RETURN(auto services_api_store, store::OpenMetadataStore(location));
  WHARF_ASSIGN_OR_RETURN(auto services_loop_store, store::OpenMetadataStore(location));
  WHARF_ASSIGN_OR_RETURN(ArtifactStore artifacts, ArtifactStore::Open(home / "artifacts"));
  parts->artifacts = std::make_unique<ArtifactStore>(std::move(artifacts));

  if (options.executor != "local" && options.executor != "slurm") {
    return InvalidArgument(fmt::format("executor: unknown '{}' (known: local, slurm)", options.executor));
  }
  // Local processes always; Slurm when the default or given a cluster. A
  // task definition's "executor" picks one of them.
  std::map<std::string, std::unique_ptr<exec::Executor>> executors;
  exec::LocalExecutorOptions executor_options;
  executor_options.shim_executable = options.wharf_executable;
  WHARF_ASSIGN_OR_RETURN(auto local, exec::LocalExecutor::Create(executor_options));
  parts->executor_info = LocalExecutorInfo(*local);
  parts->executor_info["available"] = {"local"};
  executors["local"] = std::move(local);
  if (options.executor == "slurm" || !options.slurm_conf.empty()) {
    exec::SlurmExecutorOptions slurm;
    slurm.slurm_conf = options.slurm_conf;
    slurm.partition = options.slurm_partition;
    slurm.shim_executable = fs::canonical(options.wharf_executable, ec);  // the path the nodes run
    if (ec) return IoError(fmt::format("cannot resolve {}: {}", options.wharf_executable.string(), ec.message()));
    WHARF_ASSIGN_OR_RETURN(executors["slurm"], exec::SlurmExecutor::Create(slurm));
    parts->executor_info["available"].push_back("slurm");
    parts->executor_info["slurm"] = {{"slurm_conf", options.slurm_conf.string()},
                                     {"partition", options.slurm_partition},
                                     {"memory_limit", "Slurm --mem, and setrlimit(RLIMIT_AS) by the supervisor"}};
  }
  parts->executor_info["kind"] = options.executor;  // the default
  parts->executor = std::make_unique<ExecutorSet>(std::move(executors), options.executor);

  SchedulerOptions scheduler_options;
  scheduler_options.home = home;
  scheduler_options.store = location;
  scheduler_options.runs_dir = home / "runs";
  scheduler_options.models_dir = home / "models";
  scheduler_options.wharf_executable = fs::canonical(options.wharf_executable, ec);
  if (ec) return IoError(fmt::format("cannot resolve {}: {}", options.wharf_executable.string(), ec.message()));
  scheduler_options.capacity_cpus = options.cpus;
  parts->scheduler = std::make_unique<Scheduler>(std::move(scheduler_store), *parts->executor, *parts->artifacts,
                                                 jobs, scheduler_options);
  WHARF_RETURN_IF_ERROR(parts->scheduler->Start());
  parts->endpoints = std::make_unique<EndpointController>(
      std::move(endpoints_api_store), std::move(endpoints_loop_store), *parts->scheduler, jobs, *parts->artifacts,
      EndpointOptions{.home = home});
  parts->endpoints->Start();
  parts->services = std::make_unique<ServiceController>(std::move(services_api_store), std::move(services_loop_store),
                                                        *parts->scheduler, jobs, *parts->artifacts, ServiceOptions{});
  parts->services->Start();

  WHARF_ASSIGN_OR_RETURN(secret::Vault vault, secret::Vault::Open(secret::KeyFile(home)));
  parts->api = std::make_unique<ControlApi>(std::move(api_store), location, *parts->executor, *parts->artifacts, jobs,
                                            *parts->scheduler, *parts->endpoints, *parts->services, std::move(token),
                                            parts->executor_info, std::move(vault), options.drift);
  net::HttpServerOptions http;
  http.host = options.host;
  http.port = options.port;
  http.threads = std::max(1, options.threads);
  http.max_body_bytes = options.max_body_bytes;
  http.read_timeout = options.read_timeout;
  parts->console = std::make_unique<ConsoleHandler>(*parts->api);
  WHARF_ASSIGN_OR_RETURN(parts->http, net::HttpServer::Start(http, *parts->console));
  const std::string host = options.host.find(':') != std::string::npos ? "[" + options.host + "]" : options.host;
  parts->url = fmt::format("http://{}:{}", host, parts->http->port());
  parts->server_json = home / "server.json";
  WHARF_RETURN_IF_ERROR(WriteServerJson(parts->server_json, parts->url));
  return std::unique_ptr<ControlServer>(new ControlServer(std::move(parts)));
}

const std::string& ControlServer::url() const { return parts_->url; }

double ControlServer::capacity() const { return parts_->scheduler->capacity(); }

void ControlServer::Shutdown() {
  if (!parts_) return;
  if (parts_->http) parts_->http->Shutdown(std::chrono::seconds(5));
  if (parts_->endpoints) parts_->endpoints->Stop();
  if (parts_->services) parts_->services->Stop();
  if (parts_->scheduler) parts_->scheduler->Stop();
  std::error_code ec;
  fs::remove(parts_->server_json, ec);
  parts_.reset();
}

}  // namespace wharf::control
