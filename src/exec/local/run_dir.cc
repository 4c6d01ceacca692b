#include "exec/local/run_dir.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <chrono>
#include <cstring>

#include "core/file.h"
#include "exec/task_json.h"

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
  ::close(fd);
  if (written.ok() && ::rename(temp.c_str(), path.c_str()) != 0) written = Errno("cannot rename to", path);
  if (!written.ok()) ::unlink(temp.c_str());
  return written;
}

Status CreateExclusively(const std::filesystem::path& path, std::string_view contents) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    if (errno == EEXIST) return AlreadyExists("run_dir " + path.parent_path().string() + " already holds a task");
    return Errno("cannot create", path);
  }
  const Status written = WriteAll(fd, contents, path);
  ::close(fd);
  return written;
}

Result<std::optional<TaskStatus>> ReadFinalStatus(const std::filesystem::path& run_dir) {
  Result<std::string> text = ReadFile(run_dir / kStatusFile);
  if (!text.ok()) {
    if (text.status().code() == StatusCode::kNotFound) return std::optional<TaskStatus>();
    return text.status();
  }
  WHARF_ASSIGN_OR_RETURN(TaskStatus status, TaskStatusFromJson(*text));
  return std::optional<TaskStatus>(std::move(status));
}

Result<std::string> ReadTaskLog(const std::filesystem::path& run_dir, LogStream stream, std::uint64_t offset,
                                std::size_t max_bytes) {
  const std::filesystem::path path = run_dir / (stream == LogStream::kStdout ? kStdoutFile : kStderrFile);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno != ENOENT) return Errno("cannot open", path);
    if (::access((run_dir / kSpecFile).c_str(), F_OK) != 0) return NotFound("no task at '" + run_dir.string() + "'");
    return std::string();  // not started yet
  }
  struct stat info {};
  std::string out;
  if (::fstat(fd, &info) == 0 && offset < static_cast<std::uint64_t>(info.st_size)) {
    out.resize(std::min<std::uint64_t>(max_bytes, static_cast<std::uint64_t>(info.st_size) - offset));
    std::size_t done = 0;
    while (done < out.size()) {
      const ssize_t n = ::pread(fd, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      done += static_cast<std::size_t>(n);
    }
    out.resize(done);
  }
  ::close(fd);
  return out;
}

}  // namespace wharf::exec::local
