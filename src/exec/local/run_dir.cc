#include "exec/local/run_dir.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

namespace wharf::exec::local {
namespace {

Status Errno(std::string_view what, const std::filesystem::path& path) {
  const int err = errno;
  std::string message = std::string(what) + " '" + path.string() + "': " + std::strerror(err);
  return err == ENOENT ? NotFound(std::move(message)) : IoError(std::move(message));
}

Status WriteAll(int fd, std::string_view data, const std::filesystem::path& path) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Errno("cannot write", path);
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return Status::Ok();
}

}  // namespace

Status WriteFileAtomically(const std::filesystem::path& path, std::string_view contents) {
  std::string temp = path.string() + ".tmp-XXXXXX";
  const int fd = ::mkostemp(temp.data(), O_CLOEXEC);
  if (fd < 0) return Errno("cannot create a temporary file for", path);
  Status written = WriteAll(fd, contents, temp);
  if (written.ok() && ::fdatasync(fd) != 0) written = Errno("cannot sync", temp);
  if (::fchmod(fd, 0644) != 0 && written.ok()) written = Errno("cannot chmod", temp);
  ::close(fd);
  if (written.ok() && ::rename(temp.c_str(), path.c_str()) != 0) written = Errno("cannot rename to", path);
  if (!written.ok()) ::unlink(temp.c_str());
  return written;
}

}  // namespace wharf::exec::local
