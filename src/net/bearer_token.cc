#include "net/bearer_token.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <system_error>

#include <fmt/format.h>

#include "core/random.h"

namespace wharf::net {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t kTokenBytes = 32;
constexpr std::string_view kBearer = "Bearer ";

std::string ErrnoText(int error) { return std::generic_category().message(error); }

std::string_view Trim(std::string_view s) {
  constexpr std::string_view kSpace = " \t\r\n\v\f";
  const auto first = s.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(kSpace) - first + 1);
}

// The whole of the open file `fd`; closes it.
Result<std::string> ReadAndClose(int fd, const fs::path& path, std::string_view kind) {
  std::string contents;
  std::array<char, 4096> chunk;
  while (true) {
    const ssize_t n = ::read(fd, chunk.data(), chunk.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int error = errno;
      ::close(fd);
      return IoError(fmt::format("cannot read the {} {}: {}", kind, path.string(), ErrnoText(error)));
    }
    if (n == 0) break;
    contents.append(chunk.data(), static_cast<std::size_t>(n));
  }
  ::close(fd);
  return std::string(Trim(contents));
}

// Writes a fresh token to `path`, which must not exist. The token is written
// to a temporary file created with mode 0600 (never wider, whatever the
// umask) and linked into place, so a concurrent reader sees no file or a
// whole one. AlreadyExists if another process created `path` first.
Result<std::string> CreateToken(const fs::path& path, std::string_view kind) {
  std::error_code ec;
  if (path.has_parent_path()) fs::create_directories(path.parent_path(), ec);
  if (ec)
    return IoError(fmt::format("cannot create the directory of the {} {}: {}", kind, path.string(), ec.message()));
  const std::string token = RandomHex(kTokenBytes);
  const std::string temp = path.string() + ".tmp-" + RandomHex(8);
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return IoError(fmt::format("cannot create the {} {}: {}", kind, path.string(), ErrnoText(errno)));
  const std::string line = token + "\n";
  const bool written = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) && ::fsync(fd) == 0;
  const int write_error = errno;
  ::close(fd);
  if (!written) {
    ::unlink(temp.c_str());
    return IoError(fmt::format("cannot write the {} {}: {}", kind, path.string(), ErrnoText(write_error)));
  }
  const int linked = ::link(temp.c_str(), path.c_str());
  const int link_error = errno;
  ::unlink(temp.c_str());
  if (linked != 0 && link_error == EEXIST) return AlreadyExists(path.string());
  if (linked != 0)
    return IoError(fmt::format("cannot create the {} {}: {}", kind, path.string(), ErrnoText(link_error)));
  return token;
}

}  // namespace

Result<std::string> LoadOrCreateToken(const fs::path& path, std::string_view kind) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
      auto created = CreateToken(path, kind);
      if (created.status().code() == StatusCode::kAlreadyExists) continue;  // another server won; read its token
      return created;
    }
    if (fd < 0) return IoError(fmt::format("cannot open the {} {}: {}", kind, path.string(), ErrnoText(errno)));
    struct stat info {};
    if (::fstat(fd, &info) != 0) {
      const int error = errno;
      ::close(fd);
      return IoError(fmt::format("cannot stat the {} {}: {}", kind, path.string(), ErrnoText(error)));
    }
    if ((info.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
      ::close(fd);
      return FailedPrecondition(
          fmt::format("the {} {} is accessible to group or others (mode {:04o}); run `chmod 600 {}`", kind,
                      path.string(), info.st_mode & 07777, path.string()));
    }
    WHARF_ASSIGN_OR_RETURN(std::string token, ReadAndClose(fd, path, kind));
    if (token.empty()) {
      return FailedPrecondition(
          fmt::format("the {} {} is empty; remove it to have a new one created, or write one into it", kind,
                      path.string()));
    }
    return token;
  }
  return IoError(fmt::format("cannot create the {} {}: it keeps appearing and vanishing", kind, path.string()));
}

Result<std::string> ReadToken(const fs::path& path) {
  constexpr std::string_view kind = "token file";
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) return NotFound(fmt::format("the {} {} does not exist", kind, path.string()));
  if (fd < 0) return IoError(fmt::format("cannot open the {} {}: {}", kind, path.string(), ErrnoText(errno)));
  WHARF_ASSIGN_OR_RETURN(std::string token, ReadAndClose(fd, path, kind));
  if (token.empty()) return FailedPrecondition(fmt::format("the {} {} is empty", kind, path.string()));
  return token;
}

bool BearerMatches(std::string_view authorization, std::string_view token) {
  if (token.empty()) return false;
  const std::size_t expected_size = kBearer.size() + token.size();
  // Every byte of the expected value is compared, whatever the input, and
  // differences are OR-ed together rather than stopping at the first one.
  unsigned char diff = authorization.size() == expected_size ? 0 : 1;
  for (std::size_t i = 0; i < expected_size; ++i) {
    const char expected = i < kBearer.size() ? kBearer[i] : token[i - kBearer.size()];
    const char actual = i < authorization.size() ? authorization[i] : '\0';
    diff |= static_cast<unsigned char>(expected ^ actual);
  }
  return diff == 0;
}

}  // namespace wharf::net
