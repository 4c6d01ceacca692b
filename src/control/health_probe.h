#pragma once
// One health probe of a service instance: an HTTP GET of a path on its
// port (2xx or 3xx is healthy), or a command run as argv (exit 0 is
// healthy), either bounded by a timeout. Stateless: thread-safe.

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/status.h"

namespace wharf::control {

// OK when healthy; otherwise the reason ("HTTP 503", "connection refused",
// "exit code 1", "timed out after 5 s").
Status ProbeHttp(const std::string& host, std::uint16_t port, const std::string& path,
                 std::chrono::milliseconds timeout);
Status ProbeCommand(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
                    std::chrono::milliseconds timeout);

}  // namespace wharf::control
