#include "control/artifact_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

#include <fmt/format.h>

namespace wharf::control {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t kMaxNameBytes = 512;
// Put's temporary files; List never shows them.
constexpr std::string_view kTempPrefix = ".wharf-tmp-";

bool IsNameChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

// `name` fit for a one-line message: control and non-ASCII bytes as \xNN,
// cut after 80 bytes.
std::string Quote(std::string_view name) {
  std::string out;
  for (std::size_t i = 0; i < name.size() && i < 80; ++i) {
    const auto c = static_cast<unsigned char>(name[i]);
    if (c < 0x20 || c >= 0x7f) {
      out += fmt::format("\\x{:02x}", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  if (name.size() > 80) out += "...";
  return out;
}

std::string ErrnoText(int error) { return std::generic_category().message(error); }

// True when canonical `path` is `root` or below it.
bool IsUnder(const fs::path& path, const fs::path& root) {
  auto p = path.begin();
  for (auto r = root.begin(); r != root.end(); ++r, ++p) {
    if (p == path.end() || *p != *r) return false;
  }
  return true;
}

bool IsTempFile(const fs::path& path) { return path.filename().native().starts_with(kTempPrefix); }

// Writes all of `bytes` to `fd`, retrying short writes.
bool WriteAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

}  // namespace

Result<ArtifactStore> ArtifactStore::Open(const fs::path& root) {
  std::error_code ec;
  fs::create_directories(root, ec);
  if (ec) return IoError(fmt::format("cannot create the artifact store {}: {}", root.string(), ec.message()));
  auto canonical = fs::canonical(root, ec);
  if (ec) return IoError(fmt::format("cannot resolve the artifact store {}: {}", root.string(), ec.message()));
  if (!fs::is_directory(canonical, ec)) {
    return IoError(fmt::format("the artifact store {} is not a directory", root.string()));
  }
  return ArtifactStore(std::move(canonical));
}

Status ArtifactStore::ValidateName(std::string_view name) {
  const auto bad = [name](std::string_view why) {
    return InvalidArgument(fmt::format(
        "invalid artifact name '{}': {}; a name is a relative path of [A-Za-z0-9._-] segments separated by '/', "
        "with no empty, '.' or '..' segment, at most {} bytes",
        Quote(name), why, kMaxNameBytes));
  };
  if (name.empty()) return bad("it is empty");
  if (name.size() > kMaxNameBytes) return bad(fmt::format("it is {} bytes long", name.size()));
  if (name.front() == '/') return bad("it is absolute");
  std::size_t start = 0;
  while (start <= name.size()) {
    auto end = name.find('/', start);
    if (end == std::string_view::npos) end = name.size();
    const std::string_view segment = name.substr(start, end - start);
    if (segment.empty()) return bad("it has an empty segment");
    if (segment == "." || segment == "..") return bad(fmt::format("it has a '{}' segment", segment));
    for (char c : segment) {
      if (!IsNameChar(c)) return bad(fmt::format("it contains '{}'", Quote(std::string_view(&c, 1))));
    }
    start = end + 1;
  }
  return Status::Ok();
}

Result<fs::path> ArtifactStore::PathOf(std::string_view name) const {
  WHARF_RETURN_IF_ERROR(ValidateName(name));
  const fs::path relative(name);
  // The deepest part of the path that exists (a link counts, dangling or not)
  // must resolve to a place under the root; what does not exist yet will be
  // created below it as plain directories.
  fs::path existing = root_;
  for (const auto& segment : relative) {
    std::error_code ec;
    const auto next = existing / segment;
    if (!fs::exists(fs::symlink_status(next, ec))) break;
    existing = next;
  }
  std::error_code ec;
  const auto real = fs::canonical(existing, ec);
  if (ec || !IsUnder(real, root_)) {
    return InvalidArgument(fmt::format("artifact name '{}' resolves outside the artifact store", Quote(name)));
  }
  return root_ / relative;
}

Status ArtifactStore::Put(std::string_view name, std::string_view bytes) const {
  WHARF_ASSIGN_OR_RETURN(const auto path, PathOf(name));
  const auto parent = path.parent_path();
  std::error_code ec;
  fs::create_directories(parent, ec);
  if (ec) return IoError(fmt::format("cannot store artifact '{}': {}", name, ec.message()));
  // Created directories may have raced with a link planted meanwhile; check again.
  WHARF_RETURN_IF_ERROR(PathOf(name));

  std::string temp = (parent / (std::string(kTempPrefix) + "XXXXXX")).string();
  // mkostemp makes it 0600: the store is the server's alone, as its whole home.
  const int fd = ::mkostemp(temp.data(), O_CLOEXEC);
  if (fd < 0) return IoError(fmt::format("cannot store artifact '{}': {}", name, ErrnoText(errno)));
  const bool written = WriteAll(fd, bytes) && ::fsync(fd) == 0;
  const int write_error = errno;
  if (::close(fd) != 0 || !written || ::rename(temp.c_str(), path.c_str()) != 0) {
    const int error = written ? errno : write_error;
    ::unlink(temp.c_str());
    return IoError(fmt::format("cannot store artifact '{}': {}", name, ErrnoText(error)));
  }
  return Status::Ok();
}

Result<std::string> ArtifactStore::Get(std::string_view name) const {
  WHARF_ASSIGN_OR_RETURN(const auto path, PathOf(name));
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR) return NotFound(fmt::format("no artifact named '{}'", name));
    return IoError(fmt::format("cannot read artifact '{}': {}", name, ErrnoText(errno)));
  }
  // The checks above ran on names; confirm that the file actually opened is
  // inside the store, so a link swapped in meanwhile gains nothing.
  std::error_code ec;
  const auto opened = fs::read_symlink(fmt::format("/proc/self/fd/{}", fd), ec);
  struct stat info {};
  Status refused;
  if (!ec && !IsUnder(opened, root_)) {
    refused = InvalidArgument(fmt::format("artifact name '{}' resolves outside the artifact store", name));
  } else if (::fstat(fd, &info) != 0) {
    refused = IoError(fmt::format("cannot read artifact '{}': {}", name, ErrnoText(errno)));
  } else if (S_ISDIR(info.st_mode)) {
    refused = NotFound(fmt::format("no artifact named '{}' (it is a directory)", name));
  } else if (!S_ISREG(info.st_mode)) {
    refused = InvalidArgument(fmt::format("artifact '{}' is not a regular file", name));
  }
  if (!refused.ok()) {
    ::close(fd);
    return refused;
  }
  std::string bytes(static_cast<std::size_t>(info.st_size), '\0');
  std::size_t done = 0;
  while (true) {
    if (done == bytes.size()) bytes.resize(done + 64 * 1024);  // the file grew, or it was read whole and EOF is next
    const ssize_t n = ::read(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int error = errno;
      ::close(fd);
      return IoError(fmt::format("cannot read artifact '{}': {}", name, ErrnoText(error)));
    }
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
  }
  ::close(fd);
  bytes.resize(done);
  return bytes;
}

Result<std::vector<ArtifactInfo>> ArtifactStore::List(std::string_view prefix) const {
  std::vector<ArtifactInfo> found;
  // Start from the deepest directory the prefix names in full, not the root.
  fs::path start = root_;
  if (const auto slash = prefix.rfind('/'); slash != std::string_view::npos) {
    const auto directory = prefix.substr(0, slash);
    auto path = PathOf(directory);
    std::error_code ec;
    if (!path.ok() || !fs::is_directory(fs::symlink_status(*path, ec))) return found;
    start = *path;
  }
  std::error_code ec;
  fs::recursive_directory_iterator it(start, fs::directory_options::skip_permission_denied, ec);
  for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    std::error_code type_error;
    if (it->symlink_status(type_error).type() != fs::file_type::regular || IsTempFile(it->path())) continue;
    std::string name = it->path().lexically_relative(root_).generic_string();
    if (!name.starts_with(prefix) || !ValidateName(name).ok()) continue;
    struct stat info {};
    if (::lstat(it->path().c_str(), &info) != 0) continue;  // removed meanwhile
    found.push_back({std::move(name), static_cast<std::uint64_t>(info.st_size),
                     static_cast<std::int64_t>(info.st_mtim.tv_sec) * 1'000'000 + info.st_mtim.tv_nsec / 1000});
  }
  if (ec) return IoError(fmt::format("cannot list the artifact store {}: {}", root_.string(), ec.message()));
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return found;
}

std::string ArtifactStore::TaskOutputPrefix(std::string_view task_id) { return fmt::format("tasks/{}", task_id); }

Result<fs::path> ArtifactStore::ResetTaskOutputDir(std::string_view task_id) const {
  if (task_id.find('/') != std::string_view::npos) {
    return InvalidArgument(fmt::format("invalid task id '{}': it contains '/'", Quote(task_id)));
  }
  WHARF_ASSIGN_OR_RETURN(const auto path, PathOf(TaskOutputPrefix(task_id)));
  std::error_code ec;
  fs::remove_all(path, ec);  // a link here is removed, never followed
  if (!ec) fs::create_directories(path, ec);
  if (ec) return IoError(fmt::format("cannot reset the output directory {}: {}", path.string(), ec.message()));
  WHARF_RETURN_IF_ERROR(PathOf(TaskOutputPrefix(task_id)));
  return path;
}

}  // namespace wharf::control
