#pragma once
// `wharf endpoint apply|list|status|history|rollback|delete|metrics|events`:
// clients of a running `wharf server`'s endpoint revisions (see
// docs/control-plane.md, "Endpoints").

#include <CLI/CLI.hpp>

#include "cli/commands.h"

namespace wharf::cli {

// Adds `wharf endpoint` and its subcommands to `app`; each stores its exit
// code in `*context.exit_code`.
void AddEndpointCommands(CLI::App& app, const CommandContext& context);

}  // namespace wharf::cli
