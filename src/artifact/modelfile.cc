#include "artifact/modelfile.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <random>
#include <set>
#include <utility>

#include "core/file.h"
#include "core/json_depth.h"

namespace wharf::artifact {
namespace {

constexpr std::size_t kMagicSize = sizeof(kModelfileMagic);
constexpr std::size_t kCrcSize = 4;

void PutU32(std::string& out, std::uint32_t v) {
  for (int shift = 0; shift < 32; shift += 8) out.push_back(static_cast<char>((v >> shift) & 0xFF));
}

void PutU64(std::string& out, std::uint64_t v) {
  for (int shift = 0; shift < 64; shift += 8) out.push_back(static_cast<char>((v >> shift) & 0xFF));
}

// Little-endian integer from the first `n` bytes of `p`; the caller has checked bounds.
std::uint64_t GetLe(const char* p, int n) {
  std::uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

// zlib's crc32 takes a uInt length, so feed large inputs in chunks.
std::uint32_t Crc32(std::string_view data) {
  uLong crc = crc32(0L, Z_NULL, 0);
  while (!data.empty()) {
    const auto n = static_cast<uInt>(std::min<std::size_t>(data.size(), std::size_t{1} << 30));
    crc = crc32(crc, reinterpret_cast<const Bytef*>(data.data()), n);
    data.remove_prefix(n);
  }
  return static_cast<std::uint32_t>(crc);
}

std::string Hex32(std::uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "0x%08x", v);
  return buf;
}

// Untrusted bytes (a section name from a corrupted file) made safe to put in a message.
std::string Printable(std::string_view s) {
  constexpr std::size_t kMaxShown = 64;
  std::string out;
  for (std::size_t i = 0; i < s.size() && i < kMaxShown; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7F && c != '\\' && c != '\'') {
      out.push_back(static_cast<char>(c));
    } else {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", c);
      out += buf;
    }
  }
  if (s.size() > kMaxShown) out += "...";
  return out;
}

// Walks untrusted bytes front to back. Every read is checked against the
// bytes left before anything is allocated, and lengths are compared as
// "needed > remaining" so a huge u64 from the file cannot overflow.
class Reader {
 public:
  Reader(std::string_view bytes, std::string_view source) : bytes_(bytes), source_(source) {}

  std::size_t offset() const { return pos_; }
  std::uint64_t remaining() const { return bytes_.size() - pos_; }

  Result<std::string_view> Bytes(std::uint64_t n, std::string_view what) {
    if (n > remaining()) {
      return DataLoss(std::string(source_) + ": truncated Modelfile: " + std::string(what) + " needs " +
                      std::to_string(n) + " bytes at offset " + std::to_string(pos_) + ", file has " +
                      std::to_string(bytes_.size()) + " bytes");
    }
    const std::string_view out = bytes_.substr(pos_, static_cast<std::size_t>(n));
    pos_ += static_cast<std::size_t>(n);
    return out;
  }

  Result<std::uint32_t> U32(std::string_view what) {
    WHARF_ASSIGN_OR_RETURN(std::string_view b, Bytes(4, what));
    return static_cast<std::uint32_t>(GetLe(b.data(), 4));
  }

  Result<std::uint64_t> U64(std::string_view what) {
    WHARF_ASSIGN_OR_RETURN(std::string_view b, Bytes(8, what));
    return GetLe(b.data(), 8);
  }

 private:
  std::string_view bytes_;
  std::string_view source_;
  std::size_t pos_ = 0;
};

// True when the last four bytes are the CRC of everything before them.
bool ChecksumMatches(std::string_view bytes) {
  if (bytes.size() < kMagicSize + kCrcSize) return false;
  const std::size_t body = bytes.size() - kCrcSize;
  return static_cast<std::uint32_t>(GetLe(bytes.data() + body, 4)) == Crc32(bytes.substr(0, body));
}

// A version this build cannot read is only reported as such when the file is
// intact; otherwise the version field itself may be the corrupted byte.
Status UnsupportedVersion(std::string_view bytes, std::string_view source, std::uint32_t version) {
  if (ChecksumMatches(bytes)) {
    return InvalidArgument(std::string(source) + ": Modelfile format version " + std::to_string(version) +
                           " is not supported by this wharf (reads version " +
                           std::to_string(kModelfileFormatVersion) + ")");
  }
  return DataLoss(std::string(source) + ": Modelfile is corrupted: its format version field reads " +
                  std::to_string(version) + " and its checksum does not match");
}

struct RawSection {
  std::string_view name;
  std::string_view bytes;
};

Status ErrnoStatus(const std::filesystem::path& path, std::string_view action, int err) {
  return IoError(path.string() + ": " + std::string(action) + ": " + std::strerror(err));
}

// Writes all of `data` to `fd`, retrying short writes and EINTR.
bool WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

std::filesystem::path TempPathFor(const std::filesystem::path& path) {
  std::random_device rd;
  char suffix[64];
  std::snprintf(suffix, sizeof(suffix), ".tmp-%ld-%08x", static_cast<long>(::getpid()), rd());
  return std::filesystem::path(path.string() + suffix);
}

// Best effort: makes the rename durable. The new file is already in place,
// so a failure here is not reported.
void SyncParentDirectory(const std::filesystem::path& path) {
  std::filesystem::path dir = path.parent_path();
  if (dir.empty()) dir = ".";
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

const Section* Modelfile::Find(std::string_view name) const {
  for (const auto& section : sections) {
    if (section.name == name) return &section;
  }
  return nullptr;
}

std::string SerializeModelfile(const Modelfile& file) {
  // Invalid UTF-8 in header strings is replaced (U+FFFD) rather than thrown:
  // this function cannot fail, and the header must stay valid JSON.
  const std::string header = file.header.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  WHARF_CHECK(file.sections.size() <= UINT32_MAX);

  std::size_t total = kMagicSize + 4 + 4 + 8 + header.size() + kCrcSize;
  for (const auto& s : file.sections) total += 4 + s.name.size() + 8 + s.bytes.size();

  std::string out;
  out.reserve(total);
  out.append(kModelfileMagic, kMagicSize);
  PutU32(out, kModelfileFormatVersion);
  PutU32(out, static_cast<std::uint32_t>(file.sections.size()));
  PutU64(out, header.size());
  out += header;
  for (const auto& s : file.sections) {
    WHARF_CHECK(s.name.size() <= UINT32_MAX);
    PutU32(out, static_cast<std::uint32_t>(s.name.size()));
    out += s.name;
    PutU64(out, s.bytes.size());
    out += s.bytes;
  }
  PutU32(out, Crc32(out));
  return out;
}

Result<Modelfile> ParseModelfile(std::string_view bytes, std::string_view source) {
  const std::string src(source);
  if (bytes.size() < kMagicSize || bytes.substr(0, kMagicSize) != std::string_view(kModelfileMagic, kMagicSize)) {
    return InvalidArgument(src + ": not a wharf Modelfile (bad magic)");
  }

  Reader in(bytes, source);
  WHARF_RETURN_IF_ERROR(in.Bytes(kMagicSize, "magic"));
  WHARF_ASSIGN_OR_RETURN(const std::uint32_t version, in.U32("format version"));
  if (version != kModelfileFormatVersion) return UnsupportedVersion(bytes, source, version);

  WHARF_ASSIGN_OR_RETURN(const std::uint32_t section_count, in.U32("section count"));
  WHARF_ASSIGN_OR_RETURN(const std::uint64_t header_len, in.U64("header length"));
  WHARF_ASSIGN_OR_RETURN(const std::string_view header_text, in.Bytes(header_len, "header"));

  // No reserve(section_count): the count is untrusted. Each section consumes
  // at least 12 bytes, so the loop is bounded by the input size.
  std::vector<RawSection> raw;
  for (std::uint32_t i = 0; i < section_count; ++i) {
    const std::string index = "section " + std::to_string(i);
    WHARF_ASSIGN_OR_RETURN(const std::uint32_t name_len, in.U32(index + " name length"));
    WHARF_ASSIGN_OR_RETURN(const std::string_view name, in.Bytes(name_len, index + " name"));
    const std::string label = index + " ('" + Printable(name) + "')";
    WHARF_ASSIGN_OR_RETURN(const std::uint64_t payload_len, in.U64(label + " payload length"));
    WHARF_ASSIGN_OR_RETURN(const std::string_view payload, in.Bytes(payload_len, label + " payload"));
    raw.push_back({name, payload});
  }

  const std::size_t body_size = in.offset();
  WHARF_ASSIGN_OR_RETURN(const std::uint32_t stored_crc, in.U32("checksum"));
  if (in.remaining() != 0) {
    return DataLoss(src + ": Modelfile has " + std::to_string(in.remaining()) +
                    " unexpected bytes after its checksum at offset " + std::to_string(in.offset()));
  }
  const std::uint32_t computed_crc = Crc32(bytes.substr(0, body_size));
  if (stored_crc != computed_crc) {
    return DataLoss(src + ": Modelfile checksum mismatch (stored " + Hex32(stored_crc) + ", computed " +
                    Hex32(computed_crc) + "): the file is corrupted");
  }

  Modelfile file;
  WHARF_RETURN_IF_ERROR(CheckJsonDepth(header_text, src + ": the Modelfile header"));
  try {
    file.header = nlohmann::json::parse(header_text);
  } catch (const nlohmann::json::exception& e) {
    return DataLoss(src + ": Modelfile header is not valid JSON: " + e.what());
  }
  if (!file.header.is_object()) {
    return DataLoss(src + ": Modelfile header is JSON " + std::string(file.header.type_name()) +
                    ", expected an object");
  }

  std::set<std::string_view> seen;
  for (const auto& r : raw) {
    if (!seen.insert(r.name).second) {
      return DataLoss(src + ": Modelfile has two sections named '" + Printable(r.name) + "'");
    }
  }
  file.sections.reserve(raw.size());
  for (const auto& r : raw) file.sections.push_back({std::string(r.name), std::string(r.bytes)});
  return file;
}

Status WriteModelfile(const Modelfile& file, const std::filesystem::path& path) {
  const std::string bytes = SerializeModelfile(file);
  const std::filesystem::path temp = TempPathFor(path);

  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT) {
      return NotFound(path.string() + ": cannot write Modelfile: directory '" + path.parent_path().string() +
                      "' does not exist");
    }
    return ErrnoStatus(path, "cannot write Modelfile", err);
  }

  const auto fail = [&](std::string_view action, int err) {
    ::unlink(temp.c_str());
    return ErrnoStatus(path, action, err);
  };
  if (!WriteAll(fd, bytes)) {
    const int err = errno;
    ::close(fd);
    return fail("cannot write Modelfile", err);
  }
  if (::fsync(fd) != 0) {
    const int err = errno;
    ::close(fd);
    return fail("cannot sync Modelfile to disk", err);
  }
  if (::close(fd) != 0) return fail("cannot write Modelfile", errno);
  if (::rename(temp.c_str(), path.c_str()) != 0) return fail("cannot move Modelfile into place", errno);
  SyncParentDirectory(path);
  return Status::Ok();
}

Result<Modelfile> ReadModelfile(const std::filesystem::path& path) {
  WHARF_ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
  return ParseModelfile(bytes, path.string());
}

}  // namespace wharf::artifact
