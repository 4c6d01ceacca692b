#pragma once
// The Modelfile a "model:NAME[@VERSION|@ALIAS]" flag value names in the
// model registry, for commands that take either a path or a registry
// reference (serve --model, drift --model).

#include <string>
#include <string_view>

#include "core/status.h"

namespace wharf::cli {

// The Modelfile that `ref` (the text after "model:") names in the registry
// at `location`. Errors name `flag` (the option as given): NotFound when
// there is no registry there or the reference names nothing,
// InvalidArgument for a malformed reference.
Result<std::string> RegistryModelfile(std::string_view ref, const std::string& location, std::string_view flag);

}  // namespace wharf::cli
