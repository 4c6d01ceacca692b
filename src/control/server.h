#pragma once
// `wharf server` assembled: the metadata store, artifact store, local
// executor, scheduler and REST API over one home directory
// (docs/control-plane.md describes its layout). One server per home: a
// second one on the same home is refused.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "control/drift_reporter.h"
#include "control/job_registry.h"
#include "core/status.h"

namespace wharf::control {

struct ServerOptions {
  std::filesystem::path home;        // required, e.g. ResolveHome({})
  std::string host = "127.0.0.1";
  std::uint16_t port = 8765;         // 0 picks a free port
  std::filesystem::path token_file;  // empty: HOME/server.token
  std::string store;                 // metadata store: a SQLite path or postgresql:// URL; empty: HOME/wharf.db
  double cpus = 0;                   // scheduler capacity; <= 0: hardware threads
  int threads = 2;                   // HTTP loops
  std::size_t max_body_bytes = std::size_t{256} << 20;  // artifact uploads; JSON bodies stop at kMaxJsonBody
  // Time allowed to receive a whole request: slow and idle clients are cut off.
  std::chrono::milliseconds read_timeout{15000};
  std::filesystem::path wharf_executable = "/proc/self/exe";  // runs built-in jobs and task supervisors
  // Where tasks run by default: "local" (supervised processes on this
  // machine) or "slurm" (batch jobs on the cluster `slurm_conf` names;
  // empty: $SLURM_CONF). Slurm is offered to definitions that ask for it
  // when it is the default or `slurm_conf` is given.
  std::string executor = "local";
  std::filesystem::path slurm_conf;
  std::string slurm_partition;  // empty: the cluster's default
  // Answers GET /api/endpoints/NAME/drift; the control plane knows no ML, so
  // cli supplies it. Empty: that route answers 501.
  DriftReporter drift;
};

class ControlServer {
 public:
  // Locks the home, opens the stores, recovers tasks, starts the scheduler
  // and listens. FailedPrecondition if another server holds the home;
  // IoError if the port cannot be bound; errors of the stores as they come.
  static Result<std::unique_ptr<ControlServer>> Start(const ServerOptions& options, const JobRegistry& jobs);
  ~ControlServer();  // Shutdown()

  // "http://HOST:PORT", also written to HOME/server.json for the CLI.
  const std::string& url() const;
  double capacity() const;

  // Stops accepting requests and the scheduler; running tasks carry on and
  // are adopted by the next server. Idempotent.
  void Shutdown();

  struct Parts;

 private:
  explicit ControlServer(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
};

}  // namespace wharf::control
