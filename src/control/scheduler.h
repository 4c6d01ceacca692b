#pragma once
// Moves tasks through their lives: starts PENDING tasks on the executor
// when their declared cpus fit (oldest first: a task that does not fit
// holds back those behind it, so large tasks never starve), watches RUNNING
// ones, records how they ended, retries failures with exponential backoff,
// registers the Modelfile a training job produced, and carries out stop
// requests. One loop thread owns all of this; other threads only Wake it or
// hand it stop requests.
//
// On Start it recovers what an earlier server left: RUNNING tasks are
// adopted and watched again (the executor reports those whose processes
// died as lost, and they fail or retry with that reason).

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "control/artifact_store.h"
#include "control/job_registry.h"
#include "control/task_definition.h"
#include "core/mutex.h"
#include "core/status.h"
#include "exec/executor.h"
#include "exec/slots.h"
#include "secret/secret_store.h"
#include "store/metadata_store.h"

namespace wharf::control {

struct SchedulerOptions {
  std::filesystem::path home;              // exported to tasks as WHARF_HOME
  std::string store;                       // exported to tasks as WHARF_STORE (jobs use the server's store)
  std::filesystem::path runs_dir;          // a task attempt runs in RUNS_DIR/TASK_ID/ATTEMPT
  std::filesystem::path models_dir;        // where produced Modelfiles are registered
  std::filesystem::path wharf_executable;  // runs built-in jobs
  double capacity_cpus = 0;                // <= 0: the machine's hardware threads
  std::chrono::milliseconds poll_interval{10};  // how often running tasks are polled
  std::filesystem::path secret_key_file;   // seals the secrets tasks receive (secret::Vault); empty: HOME/secrets.key
};

// Replaces "artifact:NAME" strings (anywhere in `value`) by the artifact's
// path and "model:NAME[@VERSION|@ALIAS]" by a registered Modelfile's path.
// NotFound naming the reference (and `field`) when it names nothing.
Result<nlohmann::json> ResolveReferences(const nlohmann::json& value, std::string_view field,
                                         const ArtifactStore& artifacts, store::MetadataStore& store);

class Scheduler {
 public:
  // `store` is the scheduler's own (the loop thread uses it); the others are shared.
  Scheduler(std::unique_ptr<store::MetadataStore> store, exec::Executor& executor, const ArtifactStore& artifacts,
            const JobRegistry& jobs, SchedulerOptions options);
  ~Scheduler();  // Stop()
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Recovers RUNNING tasks, then starts the loop thread.
  Status Start();
  // Ends the loop. Running tasks keep running: a later server adopts them.
  void Stop();

  // New PENDING tasks were stored: look for them now.
  void Wake();
  // Stops a RUNNING task: SIGTERM to its process group, SIGKILL after
  // `grace`; it becomes CANCELLED once it has ended. A task that is PENDING
  // by then (waiting for a retry) is cancelled at once; a final one is left
  // alone.
  void RequestStop(const std::string& task_id, std::chrono::milliseconds grace);

  double capacity() const { return slots_.capacity(); }

 private:
  // A task this scheduler started (or adopted) and has not seen end.
  struct Running {
    store::TaskRecord record;
    DefinitionSpec spec;
    std::string handle;
    bool stop_requested = false;
  };
  struct StopRequest {
    std::string task_id;
    std::chrono::milliseconds grace;
  };

  void Loop();
  void RefreshPending();
  void StartReady(std::int64_t now_us);
  // A PENDING task whose cpus are acquired, on its way to the executor.
  struct Launching {
    store::TaskRecord record;
    DefinitionSpec spec;
    exec::TaskSpec task;
  };
  // Starts PENDING tasks whose cpus are already acquired, submitted together.
  // A task that cannot be claimed (stopped meanwhile) is dropped and its
  // cpus released; one that cannot start fails its attempt.
  void LaunchAll(std::vector<Launching> batch);
  // Marks the task RUNNING for its next attempt in the store; false (cpus
  // released) when it was stopped meanwhile or the store failed.
  bool Claim(store::TaskRecord& record, const DefinitionSpec& spec);
  Result<exec::TaskSpec> BuildExecSpec(const store::TaskRecord& record, const DefinitionSpec& spec, int attempt);
  // Writes the secrets `spec` names for this attempt into a private
  // directory (0700, files 0600) and points `task` at them; each read is
  // audited as the task's.
  Status ProvideSecrets(const store::TaskRecord& record, const SecretRefs& secrets, exec::TaskSpec& task);
  // Removes an attempt's secrets directory (the supervisor does too, when it can).
  void RemoveSecrets(const store::TaskRecord& record);
  void PollRunning();
  // Stores when the executor started the task's command (`started_us`, 0 while
  // it has not: queued in Slurm), once it is known.
  void RecordStart(Running& task, std::int64_t started_us);
  void HandleStops();
  void Finish(Running& task, const exec::TaskStatus& status);
  // Ends an attempt that failed: back to PENDING with a backoff if attempts
  // remain, FAILED otherwise.
  void FailAttempt(const store::TaskRecord& record, const DefinitionSpec& spec, std::optional<int> exit_code,
                   const std::string& reason);
  // On success: checks declared outputs and registers a produced model;
  // returns what to record as the reason, or the failure.
  Result<std::string> CompleteOutputs(const Running& task);

  std::unique_ptr<store::MetadataStore> store_;
  exec::Executor& executor_;
  const ArtifactStore& artifacts_;
  const JobRegistry& jobs_;
  const SchedulerOptions options_;
  exec::SlotScheduler slots_;
  std::optional<secret::SecretStore> secrets_;  // opened when a task first needs a secret

  // Owned by the loop thread.
  std::deque<store::TaskRecord> pending_;  // oldest first
  std::map<std::string, Running> running_;  // by task id

  Mutex mu_;
  std::condition_variable wake_;
  bool refresh_ WHARF_GUARDED_BY(mu_) = true;
  bool stopping_ WHARF_GUARDED_BY(mu_) = false;
  std::vector<StopRequest> stops_ WHARF_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace wharf::control
