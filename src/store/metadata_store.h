#pragma once
// The control plane's metadata: task definitions (named, revisioned specs),
// the tasks run from them, the model registry (versions and aliases), and
// endpoints (revisioned serving specs with their event log).
//
// One interface, two backends: SQLite (a file shared with the capture
// store, same migrations table) and PostgreSQL (a database shared the same
// way). JSON documents are
// stored as text, unparsed: the control layer owns their format. Times are
// microseconds since the Unix epoch. Writes that allocate a number (a
// revision, a model version) or change a task's state are atomic, so several
// stores open on one database (threads or processes) never hand out the same
// number twice and never both win one task transition.

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/status.h"

namespace wharf::store {

// One revision of a named task definition. Revisions are immutable.
struct TaskDefinition {
  std::string name{};
  int revision = 0;  // 1, 2, ... per name
  // The definition body: job or command, resources, env, inputs/outputs,
  // count, retries, timeout.
  std::string spec_json{};
  std::string spec_sha256{};  // lower-case hex SHA-256 of spec_json
  bool active = true;         // false once the name is deregistered (for every revision of it)
  std::int64_t created_us = 0;
};

// Where a task is in its life. PENDING → RUNNING | CANCELLED | FAILED;
// RUNNING → SUCCEEDED | FAILED | CANCELLED | PENDING (a retry); SUCCEEDED,
// FAILED and CANCELLED are final.
enum class TaskState { kPending, kRunning, kSucceeded, kFailed, kCancelled };

// "PENDING", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED": how a state is
// stored and shown.
std::string_view TaskStateName(TaskState state);

// The state named `name` (any case). InvalidArgument listing the known names.
Result<TaskState> ParseTaskState(std::string_view name);

bool IsTerminal(TaskState state);

// OK when a task in state `from` may move to `to` (nullopt: `from` itself,
// an update of fields only, allowed unless `from` is final). Otherwise
// FailedPrecondition naming both states.
Status CheckTaskTransition(TaskState from, std::optional<TaskState> to);

// One run of a task definition (one of `count` when a run starts several).
struct TaskRecord {
  std::string id{};          // from NewTaskId()
  std::string definition{};  // task definition name
  int revision = 0;          // ...and the revision it ran
  std::string spec_json{};   // the effective spec after overrides
  TaskState state = TaskState::kPending;
  int attempt = 0;  // attempts started so far
  int max_attempts = 1;
  std::optional<int> exit_code{};
  std::string reason{};         // why it failed or was cancelled (free text)
  std::string handle{};         // executor handle (process id, Slurm job id, ...)
  std::string group_id{};       // tasks of one run share it
  int index = 0;                // this task's place in its run, 0 .. count-1 (a shard number)
  int count = 1;                // tasks in its run
  std::int64_t created_us = 0;  // 0 when creating: the store uses the current time
  std::int64_t started_us = 0;   // when its command started (0 until the executor has started it)
  std::int64_t finished_us = 0;
  std::optional<std::int64_t> next_attempt_us{};  // retry backoff: not to start before this time
};

// Which tasks to list, newest first. Empty or unset filters match every task.
struct TaskQuery {
  std::vector<TaskState> states{};  // any of these states
  std::optional<std::string> definition{};
  std::optional<std::string> group_id{};
  std::size_t limit = 100;  // 0 = no limit
};

// What a transition changes; fields left unset keep their stored value.
struct TaskUpdate {
  std::optional<TaskState> state{};
  std::optional<std::string> handle{};
  std::optional<int> exit_code{};
  bool clear_exit_code = false;  // store no exit code (e.g. when a retry starts)
  std::optional<std::string> reason{};
  std::optional<int> attempt{};
  std::optional<std::int64_t> started_us{};
  std::optional<std::int64_t> finished_us{};
  std::optional<std::int64_t> next_attempt_us{};
  bool clear_next_attempt = false;  // store no retry time (e.g. when the retry starts)
};

// A new task id: 13 lower-case hex digits of `now_us` then 32 random ones (128
// bits from the OS's CSPRNG), so ids sort by creation time (until the year
// 2112) and nobody can guess one from another.
std::string NewTaskId(std::int64_t now_us);
std::string NewTaskId();  // at the current time

// One immutable version of a registered model.
struct ModelVersion {
  std::string model{};
  int version = 0;  // 1, 2, ... per model
  std::string modelfile_path{};
  std::string metrics_json{};
  std::string lineage_json{};  // task id, definition:revision, data sha256
  std::int64_t created_us = 0;
};

// One immutable revision of a served endpoint. Every change (an apply, a
// rollback, a canary step, a moved model alias) appends one.
struct EndpointRevision {
  std::string endpoint{};
  int revision = 0;  // 1, 2, ... per endpoint
  std::string spec_json{};      // the spec as applied (model aliases unresolved)
  std::string resolved_json{};  // what replicas load: models resolved to versions and Modelfiles
  std::string reason{};         // why it was made: "apply", "rollback to 3", "canary step 2/4", ...
  bool active = true;           // false once the endpoint is deleted (for every revision of it)
  std::int64_t created_us = 0;
};

// Something that happened to an endpoint: a scaling decision, a canary
// decision with its numbers, a replica restarted, a revision rolled out.
struct EndpointEvent {
  std::int64_t seq = 0;         // assigned by the store, increasing; 0 when appending
  std::string endpoint{};
  std::int64_t time_us = 0;     // 0 when appending: the store uses the current time
  std::string kind{};           // "scale", "canary", "replica", "revision", ...
  std::string message{};        // one line for people
  std::string details_json{};   // the numbers behind it ("{}" when none)
};

// One secret as the store keeps it: sealed (encrypted) by the caller, so
// the store never holds a plaintext value. Each set makes a new version.
struct SecretRecord {
  std::string name{};
  int version = 0;              // 1, 2, ... per name (restarts after a removal)
  std::string sealed{};         // the encrypted value, as the caller sealed it; empty in listings
  std::int64_t created_us = 0;  // when version 1 was set
  std::int64_t updated_us = 0;  // when this version was set
};

// A long-running service: instances of a task definition kept at a count
// (control's ServiceController). Health and instances live in its tasks.
struct ServiceRecord {
  std::string name{};
  std::string definition{};  // the task definition its instances run (its latest revision at each start)
  int desired = 0;           // instances to keep; 0 while stopped
  bool active = true;        // false once stopped: kept for its history, hidden from listings
  std::int64_t created_us = 0;
  std::int64_t updated_us = 0;
};

// One access to a secret: the audit log, kept after the secret is removed.
struct SecretAccess {
  std::int64_t seq = 0;      // assigned by the store, increasing; 0 when appending
  std::string name{};        // the secret
  std::string action{};      // "read", "set" or "remove"
  std::string actor{};       // who: "task:ID", "user:NAME (wharf train)", "api"
  int version = 0;           // the version read or set; 0 for a removal
  std::int64_t time_us = 0;  // 0 when appending: the store uses the current time
};

// OK when `name` may name a task definition, a model or an endpoint: 1 to
// 128 letters, digits, '.', '_' or '-'. Otherwise InvalidArgument naming
// `kind` ("task definition", "model", "endpoint") and that rule.
Status ValidateName(std::string_view kind, std::string_view name);

// OK when `record` may be stored: valid service and definition names, a
// count >= 0. Otherwise InvalidArgument naming the service.
Status ValidateService(const ServiceRecord& record);

// OK when `alias` may name a model version: it starts with a letter (so it
// is never mistaken for a version number) and has only letters, digits,
// '.', '_' and '-'. Otherwise InvalidArgument stating that rule.
Status ValidateModelAlias(std::string_view alias);

// Task definitions, tasks and model versions; see the top of this file.
// Registering a definition or model whose name breaks ValidateName's rule
// is InvalidArgument (looking one up is simply NotFound).
// Thread-safe: calls on one object are serialized; threads that want to
// read in parallel open one object each.
class MetadataStore {
 public:
  virtual ~MetadataStore() = default;

  // Task definitions.

  // Stores `spec_json` as the next revision of `name` (1 for a new name) and
  // returns it; when it is byte-identical to the latest revision, returns that
  // revision unchanged instead. Either way `name` is active afterwards (this
  // re-registers a deregistered name). InvalidArgument for an empty spec.
  virtual Result<TaskDefinition> RegisterDefinition(std::string_view name, std::string_view spec_json) = 0;

  // Revision `revision` of `name`, or its latest when nullopt. A deregistered
  // name's revisions stay readable (runs name them), with active false.
  // NotFound naming "name" or "name:revision".
  virtual Result<TaskDefinition> GetDefinition(std::string_view name, std::optional<int> revision) = 0;

  // The latest revision of every name, by name; deregistered names only when
  // `include_inactive`.
  virtual Result<std::vector<TaskDefinition>> ListDefinitions(bool include_inactive) = 0;

  // Marks `name` inactive (hidden from ListDefinitions). NotFound if unknown.
  virtual Status DeregisterDefinition(std::string_view name) = 0;

  // Tasks.

  // Stores `tasks` in one transaction: all or none. InvalidArgument for a
  // task without an id or definition, AlreadyExists for an id already stored.
  virtual Status CreateTasks(std::span<const TaskRecord> tasks) = 0;

  // NotFound naming `id`.
  virtual Result<TaskRecord> GetTask(std::string_view id) = 0;

  // The tasks matching `query`, newest first, at most query.limit of them.
  virtual Result<std::vector<TaskRecord>> ListTasks(const TaskQuery& query) = 0;

  // Compare-and-set: applies `update` only if task `id` is in state `from`
  // now, and returns whether it did, so of two callers moving a task out of
  // one state (the scheduler starting it, a user cancelling it) exactly one
  // wins. FailedPrecondition if from → update.state is not a legal move
  // (see TaskState), checked before the store is read; NotFound naming `id`.
  virtual Result<bool> TransitionTask(std::string_view id, TaskState from, const TaskUpdate& update) = 0;

  // Model registry.

  // Stores the next version of `model` (1 for a new model) and returns it.
  virtual Result<ModelVersion> RegisterModelVersion(std::string_view model, std::string_view modelfile_path,
                                                    std::string_view metrics_json, std::string_view lineage_json) = 0;

  // A version of `model` named by number or by alias (a string of digits is
  // read as a number, since aliases never are). NotFound naming the model,
  // version or alias that does not exist.
  virtual Result<ModelVersion> GetModelVersion(std::string_view model,
                                               const std::variant<int, std::string>& version_or_alias) = 0;

  // Every model name with at least one version, sorted.
  virtual Result<std::vector<std::string>> ListModels() = 0;

  // Every version of `model`, oldest first. NotFound if it has none.
  virtual Result<std::vector<ModelVersion>> ListModelVersions(std::string_view model) = 0;

  // Points `alias` of `model` at `version`, moving it if it pointed elsewhere.
  // InvalidArgument for a bad alias (see ValidateModelAlias); NotFound if the
  // version does not exist.
  virtual Status SetAlias(std::string_view model, std::string_view alias, int version) = 0;

  // Alias → version for `model`. NotFound if the model has no versions.
  virtual Result<std::map<std::string, int>> ListAliases(std::string_view model) = 0;

  // Endpoints.

  // Stores the next revision of `endpoint` (1 for a new name; a deleted name
  // continues its numbering and becomes active again) and returns it.
  // InvalidArgument for a bad name (ValidateName) or an empty spec.
  virtual Result<EndpointRevision> AppendEndpointRevision(std::string_view endpoint, std::string_view spec_json,
                                                          std::string_view resolved_json,
                                                          std::string_view reason) = 0;

  // Revision `revision` of `endpoint`, or its latest when nullopt. A deleted
  // endpoint's revisions stay readable, with active false. NotFound naming
  // "endpoint" or "endpoint:revision".
  virtual Result<EndpointRevision> GetEndpointRevision(std::string_view endpoint, std::optional<int> revision) = 0;

  // Every revision of `endpoint`, oldest first. NotFound if it has none.
  virtual Result<std::vector<EndpointRevision>> ListEndpointRevisions(std::string_view endpoint) = 0;

  // The latest revision of every endpoint, by name; deleted ones only when
  // `include_inactive`.
  virtual Result<std::vector<EndpointRevision>> ListEndpoints(bool include_inactive) = 0;

  // Marks `endpoint` deleted (inactive). NotFound if it has no revisions.
  virtual Status DeleteEndpoint(std::string_view endpoint) = 0;

  // Appends `event` and returns it with its seq and time. InvalidArgument
  // without an endpoint or kind.
  virtual Result<EndpointEvent> AppendEndpointEvent(const EndpointEvent& event) = 0;

  // The events of `endpoint` with seq > `after_seq`, newest first, at most
  // `limit` of them (0 = no limit). An endpoint without events has none
  // (not NotFound).
  virtual Result<std::vector<EndpointEvent>> ListEndpointEvents(std::string_view endpoint, std::int64_t after_seq,
                                                                std::size_t limit) = 0;

  // Services.

  // Creates or replaces service `record.name` (times set by the store; a
  // replaced one keeps its created time). InvalidArgument for a bad name or
  // definition name, or a negative count.
  virtual Result<ServiceRecord> PutService(const ServiceRecord& record) = 0;
  // NotFound naming the service.
  virtual Result<ServiceRecord> GetService(std::string_view name) = 0;
  // Every service by name; stopped ones only when `include_inactive`.
  virtual Result<std::vector<ServiceRecord>> ListServices(bool include_inactive) = 0;

  // Secrets (sealed values; see secret::SecretStore for what callers use).

  // Stores `sealed` as the next version of secret `name` (1 for a new name)
  // in one statement. InvalidArgument for a bad name (ValidateName) or an
  // empty value.
  virtual Result<SecretRecord> PutSecret(std::string_view name, std::string_view sealed) = 0;

  // The current version of `name`. NotFound naming the secret.
  virtual Result<SecretRecord> GetSecret(std::string_view name) = 0;

  // Every secret, by name, without its sealed value.
  virtual Result<std::vector<SecretRecord>> ListSecrets() = 0;

  // Forgets `name`'s value. NotFound if it has none.
  virtual Status RemoveSecret(std::string_view name) = 0;

  // Appends `access` to the audit log and returns it with its seq and time.
  // InvalidArgument without a name, action or actor.
  virtual Result<SecretAccess> AppendSecretAccess(const SecretAccess& access) = 0;

  // The audit log, newest first: of secret `name` (every secret when empty),
  // at most `limit` entries (0 = no limit).
  virtual Result<std::vector<SecretAccess>> ListSecretAccesses(std::string_view name, std::size_t limit) = 0;
};

// Opens (creating if needed, with parent directories) the SQLite metadata
// store at `path`, in WAL mode with synchronous=FULL, applying pending
// migrations; the file may be shared with OpenSqliteCaptureStore. Fails like
// OpenSqliteCaptureStore: DataLoss, FailedPrecondition, IoError.
Result<std::unique_ptr<MetadataStore>> OpenSqliteMetadataStore(const std::filesystem::path& path);

// Opens the PostgreSQL metadata store at `url` (see OpenPostgresCaptureStore;
// the database may be shared with it), applying pending migrations. Fails
// like it: Unavailable naming the URL without its password,
// FailedPrecondition.
Result<std::unique_ptr<MetadataStore>> OpenPostgresMetadataStore(std::string_view url);

// Opens the store at `location`: PostgreSQL for a postgresql:// or
// postgres:// URL, else the SQLite file at that path. InvalidArgument for a
// URL of another scheme.
Result<std::unique_ptr<MetadataStore>> OpenMetadataStore(std::string_view location);

}  // namespace wharf::store
