#include "core/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace wharf {

namespace {

Status ErrnoStatus(std::string_view what, const std::filesystem::path& path, int err) {
  if (err == ENOENT) return NotFound(path.string() + ": no such file");
  return IoError(std::string(what) + " '" + path.string() + "': " + std::strerror(err));
}

}  // namespace

Result<std::string> ReadFile(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("cannot open", path, errno);
  std::string bytes;
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
    bytes.reserve(static_cast<std::size_t>(st.st_size));
  }
  char buffer[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      return ErrnoStatus("cannot read", path, err);
    }
    if (n == 0) break;
    bytes.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return bytes;
}

Status WriteFileAtomically(const std::filesystem::path& path, std::string_view bytes, unsigned mode) {
  const std::filesystem::path partial = path.string() + ".partial";
  ::unlink(partial.c_str());  // one left by a crash keeps its mode: start afresh
  const int fd = ::open(partial.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, static_cast<mode_t>(mode));
  if (fd < 0) return ErrnoStatus("cannot create", partial, errno);
  for (std::size_t done = 0; done < bytes.size();) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      ::unlink(partial.c_str());
      return ErrnoStatus("cannot write", partial, err);
    }
    done += static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0 || ::rename(partial.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(partial.c_str());
    return ErrnoStatus("cannot replace", path, err);
  }
  return Status::Ok();
}

}  // namespace wharf
