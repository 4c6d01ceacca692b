#pragma once
// The PostgreSQL MetadataStore, internal to store: callers use
// OpenPostgresMetadataStore or OpenMetadataStore (metadata_store.h). Its
// methods live in four files by noun, as the SQLite store's do:
// postgres_metadata_store.cc (opening, task definitions),
// postgres_metadata_tasks.cc, postgres_metadata_models.cc and
// postgres_metadata_endpoints.cc and
// postgres_metadata_secrets_services.cc (and services).
//
// Every call is one READ COMMITTED transaction. Writes that allocate a
// number first lock what they number: a definition's row in
// `task_definition_names` or an endpoint's in `endpoint_names` (upserted),
// a model's transaction-level advisory lock; so concurrent stores, in any
// process, take turns and the UNIQUE constraints never fire. Appends to an
// endpoint's event log take an advisory lock on the endpoint, so its events
// commit in seq order and a reader polling with after_seq never skips one.
// A task transition is a single UPDATE ... WHERE state = <from>: of two
// racing ones PostgreSQL re-checks the second against the first's committed
// row, so exactly one wins.

#include <cstdint>
#include <memory>

#include "core/mutex.h"
#include "store/metadata_store.h"
#include "store/postgres_database.h"

namespace wharf::store {

// Thread-safe: mu_ serializes every call, since the connection is not.
class PostgresMetadataStore final : public MetadataStore {
 public:
  explicit PostgresMetadataStore(std::unique_ptr<PostgresDatabase> db) : db_(std::move(db)) {}

  Result<TaskDefinition> RegisterDefinition(std::string_view name, std::string_view spec_json) override;
  Result<TaskDefinition> GetDefinition(std::string_view name, std::optional<int> revision) override;
  Result<std::vector<TaskDefinition>> ListDefinitions(bool include_inactive) override;
  Status DeregisterDefinition(std::string_view name) override;

  Status CreateTasks(std::span<const TaskRecord> tasks) override;
  Result<TaskRecord> GetTask(std::string_view id) override;
  Result<std::vector<TaskRecord>> ListTasks(const TaskQuery& query) override;
  Result<bool> TransitionTask(std::string_view id, TaskState from, const TaskUpdate& update) override;

  Result<ModelVersion> RegisterModelVersion(std::string_view model, std::string_view modelfile_path,
                                            std::string_view metrics_json, std::string_view lineage_json) override;
  Result<ModelVersion> GetModelVersion(std::string_view model,
                                       const std::variant<int, std::string>& version_or_alias) override;
  Result<std::vector<std::string>> ListModels() override;
  Result<std::vector<ModelVersion>> ListModelVersions(std::string_view model) override;
  Status SetAlias(std::string_view model, std::string_view alias, int version) override;
  Result<std::map<std::string, int>> ListAliases(std::string_view model) override;

  Result<EndpointRevision> AppendEndpointRevision(std::string_view endpoint, std::string_view spec_json,
                                                  std::string_view resolved_json, std::string_view reason) override;
  Result<EndpointRevision> GetEndpointRevision(std::string_view endpoint, std::optional<int> revision) override;
  Result<std::vector<EndpointRevision>> ListEndpointRevisions(std::string_view endpoint) override;
  Result<std::vector<EndpointRevision>> ListEndpoints(bool include_inactive) override;
  Status DeleteEndpoint(std::string_view endpoint) override;
  Result<EndpointEvent> AppendEndpointEvent(const EndpointEvent& event) override;
  Result<std::vector<EndpointEvent>> ListEndpointEvents(std::string_view endpoint, std::int64_t after_seq,
                                                        std::size_t limit) override;

  Result<ServiceRecord> PutService(const ServiceRecord& record) override;
  Result<ServiceRecord> GetService(std::string_view name) override;
  Result<std::vector<ServiceRecord>> ListServices(bool include_inactive) override;

  Result<SecretRecord> PutSecret(std::string_view name, std::string_view sealed) override;
  Result<SecretRecord> GetSecret(std::string_view name) override;
  Result<std::vector<SecretRecord>> ListSecrets() override;
  Status RemoveSecret(std::string_view name) override;
  Result<SecretAccess> AppendSecretAccess(const SecretAccess& access) override;
  Result<std::vector<SecretAccess>> ListSecretAccesses(std::string_view name, std::size_t limit) override;

 private:
  // Runs `body` in one transaction with mu_ held.
  Status Transaction(const std::function<Status(pqxx::work&)>& body) {
    MutexLock lock(mu_);
    return db_->Transaction(body);
  }

  Mutex mu_;
  std::unique_ptr<PostgresDatabase> db_ WHARF_GUARDED_BY(mu_);
};

}  // namespace wharf::store
