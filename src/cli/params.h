#pragma once
// Parses `--param name=value` flags into estimator hyperparameters.

#include <string>
#include <vector>

#include "core/status.h"
#include "ml/estimator.h"

namespace wharf::cli {

// InvalidArgument naming the flag when one is not `name=number`.
Result<ml::Params> ParseParams(const std::vector<std::string>& flags);

}  // namespace wharf::cli
