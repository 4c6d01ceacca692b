// `wharf server`: the control plane (REST API, scheduler, artifact store)
// over one home directory, until SIGTERM or SIGINT.

#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdlib>
#include <memory>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/endpoint_drift.h"
#include "cli/exit_code.h"
#include "control/client.h"
#include "control/server.h"
#include "store/location.h"

namespace wharf::cli {

namespace {

struct ServerFlags {
  std::string home, host = "127.0.0.1", token_file, store, executor = "local", slurm_conf, partition;
  int port = 8765;
  double cpus = 0;
  int threads = 2;
  int read_timeout_ms = 15000;
};

Status Run(const ServerFlags& f, const CommandContext& context) {
  control::ServerOptions options;
  options.home = control::ResolveHome(f.home);
  options.host = f.host;
  options.port = static_cast<std::uint16_t>(f.port);
  options.token_file = f.token_file;
  options.store = f.store;
  if (const char* env = std::getenv("WHARF_STORE"); options.store.empty() && env != nullptr) options.store = env;
  options.cpus = f.cpus;
  options.threads = f.threads;
  options.read_timeout = std::chrono::milliseconds(f.read_timeout_ms);
  options.executor = f.executor;
  options.slurm_conf = f.slurm_conf;
  options.slurm_partition = f.partition;
  options.drift = MakeDriftReporter(*context.registry);

  // This process holds the token and the secret key: no core dump may carry
  // them (a task that wants one raises its own limit: the hard one stays), and
  // what it writes under the home is its own alone (0600 files, 0700 folders).
  ::prctl(PR_SET_DUMPABLE, 0);
  rlimit core{};
  ::getrlimit(RLIMIT_CORE, &core);
  core.rlim_cur = 0;
  ::setrlimit(RLIMIT_CORE, &core);
  ::umask(077);

  // Loop and scheduler threads inherit this mask, so only sigwait sees the signals.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  WHARF_ASSIGN_OR_RETURN(auto server, control::ControlServer::Start(options, *context.jobs));
  const std::filesystem::path token_file =
      f.token_file.empty() ? options.home / "server.token" : std::filesystem::path(f.token_file);
  fmt::print("wharf server: listening on {} (home {}, store {}, {} executor, {} cpus, token in {})\n", server->url(),
             options.home.string(),
             options.store.empty() ? (options.home / "wharf.db").string() : store::DisplayLocation(options.store),
             options.executor, server->capacity(), token_file.string());
  fmt::print("wharf server: web console at {}/ (log in with the token)\n", server->url());
  std::fflush(stdout);

  int signal = 0;
  sigwait(&signals, &signal);
  fmt::print("wharf server: {} received; stopping (running tasks carry on and are adopted by the next server)\n",
             signal == SIGTERM ? "SIGTERM" : "SIGINT");
  std::fflush(stdout);
  server->Shutdown();
  return Status::Ok();
}

}  // namespace

void AddServerCommand(CLI::App& app, const CommandContext& context) {
  auto flags = std::make_shared<ServerFlags>();
  auto* cmd = app.add_subcommand("server", "Run the control plane: task definitions, tasks, artifacts, REST API");
  cmd->add_option("--home", flags->home, "State directory (default: $WHARF_HOME, else ~/.wharf)");
  cmd->add_option("--host", flags->host, "Address to bind")->capture_default_str();
  cmd->add_option("--port", flags->port, "Port (0 picks a free one)")->capture_default_str()->check(CLI::Range(0, 65535));
  cmd->add_option("--store", flags->store, "Metadata store: a SQLite file or postgresql:// URL (default $WHARF_STORE, else HOME/wharf.db)");
  cmd->add_option("--token-file", flags->token_file, "Bearer token file, created 0600 if missing (default HOME/server.token)");
  cmd->add_option("--cpus", flags->cpus, "CPUs the scheduler fills (default: the hardware threads)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--threads", flags->threads, "HTTP event loops")->capture_default_str()->check(CLI::Range(1, 64));
  cmd->add_option("--read-timeout-ms", flags->read_timeout_ms,
                  "Time allowed to receive a whole request; slower and idle clients are cut off")
      ->capture_default_str()
      ->check(CLI::Range(1, 3600000));
  cmd->add_option("--executor", flags->executor, "Where tasks run: local processes, or Slurm batch jobs")
      ->capture_default_str()
      ->check(CLI::IsMember({"local", "slurm"}));
  cmd->add_option("--slurm-conf", flags->slurm_conf, "With --executor slurm: the cluster's slurm.conf (default $SLURM_CONF)");
  cmd->add_option("--partition", flags->partition, "With --executor slurm: the partition (default: the cluster's)");
  cmd->callback([flags, context] { *context.exit_code = ExitWith(Run(*flags, context)); });
}

}  // namespace wharf::cli
