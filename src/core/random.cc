#include "core/random.h"

#include <sys/random.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace wharf {

std::string RandomHex(std::size_t bytes) {
  std::vector<unsigned char> random(bytes);
  std::size_t done = 0;
  while (done < bytes) {
    const ssize_t n = ::getrandom(random.data() + done, bytes - done, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      std::fprintf(stderr, "wharf: the kernel gave no random bytes (getrandom: %s)\n", std::strerror(errno));
      std::abort();
    }
    done += static_cast<std::size_t>(n);
  }
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex(2 * bytes, '0');
  for (std::size_t i = 0; i < bytes; ++i) {
    hex[2 * i] = kDigits[random[i] >> 4];
    hex[2 * i + 1] = kDigits[random[i] & 0xF];
  }
  return hex;
}

}  // namespace wharf
