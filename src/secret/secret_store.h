#pragma once
// Named secrets as users and tasks use them: values sealed by a Vault and
// kept in the metadata store (SQLite or PostgreSQL), so `wharf secret`, a
// stand-alone `wharf train` and the server on one home share them. Every
// set, read and removal is recorded with who did it (Audit). Values are
// returned only by Read; listings and the audit log never hold them.
// Not thread-safe beyond what the MetadataStore given is: one per thread.

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "secret/vault.h"
#include "store/metadata_store.h"

namespace wharf::secret {

// The largest value a secret may hold.
inline constexpr std::size_t kMaxSecretBytes = 64 * 1024;

// A secret's value as read, with the version it came from.
struct SecretValue {
  std::string value;
  int version = 0;
};

class SecretStore {
 public:
  SecretStore(store::MetadataStore& store, Vault vault) : store_(store), vault_(std::move(vault)) {}

  // Stores `value` as the next version of `name`, recorded as set by
  // `actor`. InvalidArgument for a bad name, an empty value or one over
  // kMaxSecretBytes.
  Result<store::SecretRecord> Set(std::string_view name, std::string_view value, std::string_view actor);
  // The current value of `name`, recorded as read by `actor` ("task:ID",
  // "user:NAME (wharf train)"). NotFound naming the secret.
  Result<SecretValue> Read(std::string_view name, std::string_view actor);
  // Every secret's name, version and times.
  Result<std::vector<store::SecretRecord>> List();
  // Forgets `name`'s value (its audit log stays), recorded as removed by `actor`.
  Status Remove(std::string_view name, std::string_view actor);
  // Who set, read and removed `name` (every secret when empty), newest first.
  Result<std::vector<store::SecretAccess>> Audit(std::string_view name, std::size_t limit);

 private:
  store::MetadataStore& store_;
  const Vault vault_;
};

// A SecretStore with the MetadataStore it uses, for a command that opens
// its own (`wharf secret`, a stand-alone `wharf train`).
struct OpenedSecretStore {
  std::unique_ptr<store::MetadataStore> store;
  std::unique_ptr<SecretStore> secrets;
};
// Opens the metadata store at `location` (see store::OpenMetadataStore) and
// the key in `key_file` (created when missing).
Result<OpenedSecretStore> OpenSecretStore(std::string_view location, const std::filesystem::path& key_file);

// Who runs this process, for the audit log: "user:NAME (WHAT)".
std::string UserActor(std::string_view what);

}  // namespace wharf::secret
