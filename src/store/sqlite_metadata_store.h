#pragma once
// The SQLite MetadataStore, internal to store: callers use
// OpenSqliteMetadataStore (metadata_store.h). Its methods live in four
// files by noun: sqlite_metadata_store.cc (opening, task definitions),
// sqlite_metadata_tasks.cc, sqlite_metadata_models.cc and
// sqlite_metadata_endpoints.cc and
// sqlite_metadata_secrets_services.cc (and services).
//
// Writes that read before they write run in one BEGIN IMMEDIATE transaction
// (SqliteDatabase::WriteTransaction), so concurrent stores on one file take
// turns; UNIQUE constraints back that up. A task transition is a single
// UPDATE ... WHERE state = <from>, the compare-and-set a PostgreSQL backend
// can use as is.

#include <cstdint>
#include <memory>

#include "core/mutex.h"
#include "store/metadata_store.h"
#include "store/sqlite_database.h"

namespace wharf::store {

// Thread-safe: mu_ serializes every call, since the connection is not.
class SqliteMetadataStore final : public MetadataStore {
 public:
  explicit SqliteMetadataStore(std::unique_ptr<SqliteDatabase> db) : db_(std::move(db)) {}

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
  // The highest version of `model`, 0 when it has none.
  Result<int> LatestModelVersion(std::string_view model) WHARF_REQUIRES(mu_);
  // NotFound for version `version` of `model`, saying what does exist.
  Status MissingModelVersion(std::string_view model, std::int64_t version) WHARF_REQUIRES(mu_);
  Result<int> ResolveAlias(std::string_view model, std::string_view alias) WHARF_REQUIRES(mu_);

  Mutex mu_;
  std::unique_ptr<SqliteDatabase> db_ WHARF_GUARDED_BY(mu_);
};

}  // namespace wharf::store
