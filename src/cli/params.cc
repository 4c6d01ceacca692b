#include "cli/params.h"

#include <charconv>
#include <cmath>

namespace wharf::cli {

Result<ml::Params> ParseParams(const std::vector<std::string>& flags) {
  ml::Params params;
  for (const auto& flag : flags) {
    const auto eq = flag.find('=');
    double value = 0;
    const char* begin = flag.data() + (eq == std::string::npos ? 0 : eq + 1);
    const char* end = flag.data() + flag.size();
    auto [ptr, ec] = std::from_chars(begin, end, value);
    if (eq == std::string::npos || eq == 0 || ec != std::errc() || ptr != end || !std::isfinite(value)) {
      return InvalidArgument("--param '" + flag + "': expected name=number, e.g. --param max_depth=6");
    }
    params[flag.substr(0, eq)] = value;
  }
  return params;
}

}  // namespace wharf::cli
