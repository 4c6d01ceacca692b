#pragma once
// Random bytes from the operating system's CSPRNG (getrandom(2)), for the ids
// that guard data (request and task ids) and for secrets: nobody can predict
// one from others they have seen. Thread-safe.

#include <cstddef>
#include <string>

namespace wharf {

// `bytes` random bytes as 2 * `bytes` lower-case hex digits. Aborts if the
// kernel cannot give them (getrandom only fails on a broken system).
std::string RandomHex(std::size_t bytes);

}  // namespace wharf
