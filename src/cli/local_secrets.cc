#include "cli/local_secrets.h"

#include <cstdlib>
#include <memory>

#include <fmt/format.h>

#include "control/client.h"
#include "secret/secret_store.h"
#include "store/location.h"

namespace wharf::cli {

data::SecretLookup LocalSecretLookup(std::string command) {
  auto opened = std::make_shared<std::unique_ptr<secret::OpenedSecretStore>>();
  return [opened, command = std::move(command)](const std::string& name) -> Result<std::string> {
    if (!*opened) {
      WHARF_ASSIGN_OR_RETURN(
          secret::OpenedSecretStore store,
          secret::OpenSecretStore(store::StoreLocation(""), secret::KeyFile(control::ResolveHome({}))));
      *opened = std::make_unique<secret::OpenedSecretStore>(std::move(store));
    }
    const char* task = std::getenv("WHARF_TASK_ID");
    const std::string actor = task != nullptr ? fmt::format("task:{} ({})", task, command) : secret::UserActor(command);
    WHARF_ASSIGN_OR_RETURN(secret::SecretValue value, (*opened)->secrets->Read(name, actor));
    return std::move(value.value);
  };
}

}  // namespace wharf::cli
