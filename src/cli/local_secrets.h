#pragma once
// Secrets for commands that run without a server (`wharf train`, `wharf
// predict`, a task's own process): read from the local secret store
// ($WHARF_STORE or HOME/wharf.db, key HOME/secrets.key), each read audited
// as this user's or, inside a task, as that task's.

#include <string>

#include "data/query_source.h"

namespace wharf::cli {

// A lookup that opens the store on first use; `command` names the reader
// in the audit log ("wharf train").
data::SecretLookup LocalSecretLookup(std::string command);

}  // namespace wharf::cli
