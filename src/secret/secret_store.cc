#include "secret/secret_store.h"

#include <pwd.h>
#include <unistd.h>

#include <fmt/format.h>

namespace wharf::secret {

Result<store::SecretRecord> SecretStore::Set(std::string_view name, std::string_view value, std::string_view actor) {
  WHARF_RETURN_IF_ERROR(store::ValidateName("secret", name));
  if (value.empty()) return InvalidArgument(fmt::format("secret '{}': the value is empty", name));
  if (value.size() > kMaxSecretBytes) {
    return InvalidArgument(
        fmt::format("secret '{}': the value has {} bytes, more than the {} a secret may hold", name, value.size(),
                    kMaxSecretBytes));
  }
  WHARF_ASSIGN_OR_RETURN(store::SecretRecord record, store_.PutSecret(name, vault_.Seal(name, value)));
  WHARF_RETURN_IF_ERROR(store_
                            .AppendSecretAccess({.name = record.name,
                                                 .action = "set",
                                                 .actor = std::string(actor),
                                                 .version = record.version})
                            .status());
  record.sealed.clear();
  return record;
}

Result<SecretValue> SecretStore::Read(std::string_view name, std::string_view actor) {
  WHARF_ASSIGN_OR_RETURN(const store::SecretRecord record, store_.GetSecret(name));
  WHARF_ASSIGN_OR_RETURN(std::string value, vault_.Unseal(name, record.sealed));
  // Recorded before the value is handed out: no read goes unaudited.
  WHARF_RETURN_IF_ERROR(store_
                            .AppendSecretAccess({.name = record.name,
                                                 .action = "read",
                                                 .actor = std::string(actor),
                                                 .version = record.version})
                            .status());
  return SecretValue{std::move(value), record.version};
}

Result<std::vector<store::SecretRecord>> SecretStore::List() { return store_.ListSecrets(); }

Status SecretStore::Remove(std::string_view name, std::string_view actor) {
  WHARF_RETURN_IF_ERROR(store_.RemoveSecret(name));
  return store_.AppendSecretAccess({.name = std::string(name), .action = "remove", .actor = std::string(actor)})
      .status();
}

Result<std::vector<store::SecretAccess>> SecretStore::Audit(std::string_view name, std::size_t limit) {
  return store_.ListSecretAccesses(name, limit);
}

Result<OpenedSecretStore> OpenSecretStore(std::string_view location, const std::filesystem::path& key_file) {
  WHARF_ASSIGN_OR_RETURN(Vault vault, Vault::Open(key_file));
  OpenedSecretStore opened;
  WHARF_ASSIGN_OR_RETURN(opened.store, store::OpenMetadataStore(location));
  opened.secrets = std::make_unique<SecretStore>(*opened.store, std::move(vault));
  return opened;
}

std::string UserActor(std::string_view what) {
  const passwd* user = ::getpwuid(::geteuid());
  const std::string name = user != nullptr ? user->pw_name : std::to_string(::geteuid());
  return fmt::format("user:{} ({})", name, what);
}

}  // namespace wharf::secret
