#include "data/image_set.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <limits>
#include <system_error>

#include <fmt/format.h>
#include <zlib.h>

#include "core/file.h"

namespace wharf::data {

namespace fs = std::filesystem;

namespace {

// IDX files larger than this are refused rather than inflated.
constexpr std::size_t kMaxIdxBytes = std::size_t{8} << 30;

Result<std::string> Gunzip(const std::string& compressed, const fs::path& path) {
  z_stream z{};
  if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) return Internal("zlib: inflateInit2 failed");
  std::string out;
  out.resize(std::max<std::size_t>(compressed.size() * 4, 1 << 16));
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  z.avail_in = static_cast<uInt>(compressed.size());
  std::size_t produced = 0;
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    if (produced == out.size()) {
      if (out.size() >= kMaxIdxBytes) {
        inflateEnd(&z);
        return InvalidArgument(fmt::format("{}: inflates to more than {} bytes", path.string(), kMaxIdxBytes));
      }
      out.resize(out.size() * 2);
    }
    z.next_out = reinterpret_cast<Bytef*>(out.data() + produced);
    z.avail_out = static_cast<uInt>(std::min<std::size_t>(out.size() - produced, std::numeric_limits<uInt>::max()));
    const uInt before = z.avail_out;
    rc = inflate(&z, Z_NO_FLUSH);
    produced += before - z.avail_out;
    if (rc == Z_BUF_ERROR && z.avail_in == 0) rc = Z_DATA_ERROR;  // the stream ended early
    if (rc != Z_OK && rc != Z_STREAM_END) {
      inflateEnd(&z);
      return InvalidArgument(fmt::format("{}: not a valid gzip stream (truncated or corrupt)", path.string()));
    }
  }
  inflateEnd(&z);
  out.resize(produced);
  return out;
}

std::uint32_t BigEndian32(const std::string& bytes, std::size_t at) {
  return (std::uint32_t{static_cast<unsigned char>(bytes[at])} << 24) |
         (std::uint32_t{static_cast<unsigned char>(bytes[at + 1])} << 16) |
         (std::uint32_t{static_cast<unsigned char>(bytes[at + 2])} << 8) |
         std::uint32_t{static_cast<unsigned char>(bytes[at + 3])};
}

}  // namespace

bool HasImageExtension(const fs::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  static constexpr std::array<std::string_view, 9> kExtensions{".png", ".jpg",  ".jpeg", ".bmp", ".pgm",
                                                               ".ppm", ".tif", ".tiff", ".webp"};
  return std::find(kExtensions.begin(), kExtensions.end(), ext) != kExtensions.end();
}

Result<IdxArray> ReadIdx(const fs::path& path) {
  WHARF_ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
  if (bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0x1f && static_cast<unsigned char>(bytes[1]) == 0x8b) {
    WHARF_ASSIGN_OR_RETURN(bytes, Gunzip(bytes, path));
  }
  const std::string name = path.string();
  if (bytes.size() < 4 || bytes[0] != 0 || bytes[1] != 0) {
    return InvalidArgument(fmt::format("{}: not an IDX file (bad magic: it must start with two zero bytes)", name));
  }
  if (static_cast<unsigned char>(bytes[2]) != 0x08) {
    return InvalidArgument(fmt::format("{}: IDX element type 0x{:02x} is not supported (only unsigned bytes, 0x08)",
                                       name, static_cast<unsigned char>(bytes[2])));
  }
  const std::size_t rank = static_cast<unsigned char>(bytes[3]);
  if (rank == 0 || rank > 4) return InvalidArgument(fmt::format("{}: IDX rank {} is not 1 to 4", name, rank));
  const std::size_t header = 4 + 4 * rank;
  if (bytes.size() < header) return InvalidArgument(fmt::format("{}: truncated IDX header", name));
  IdxArray array;
  std::size_t elements = 1;
  for (std::size_t i = 0; i < rank; ++i) {
    const std::size_t d = BigEndian32(bytes, 4 + 4 * i);
    if (d != 0 && elements > kMaxIdxBytes / d) return InvalidArgument(fmt::format("{}: IDX dimensions too large", name));
    elements *= d;
    array.dims.push_back(d);
  }
  if (bytes.size() - header != elements) {
    return InvalidArgument(fmt::format("{}: IDX header promises {} bytes of data but the file holds {}{}", name,
                                       elements, bytes.size() - header,
                                       bytes.size() - header < elements ? " (truncated)" : ""));
  }
  array.bytes.assign(bytes.begin() + static_cast<std::ptrdiff_t>(header), bytes.end());
  return array;
}

Result<ImageSet> ReadIdxImages(const fs::path& images, const fs::path& labels) {
  WHARF_ASSIGN_OR_RETURN(IdxArray pixels, ReadIdx(images));
  if (pixels.dims.size() != 3) {
    return InvalidArgument(fmt::format("{}: IDX images must have rank 3 (count, height, width), not {}",
                                       images.string(), pixels.dims.size()));
  }
  ImageSet set;
  set.count = pixels.dims[0];
  set.height = pixels.dims[1];
  set.width = pixels.dims[2];
  set.pixels = std::move(pixels.bytes);
  set.names.reserve(set.count);
  const std::string file = images.filename().string();
  for (std::size_t i = 0; i < set.count; ++i) set.names.push_back(fmt::format("{}#{}", file, i));
  if (labels.empty()) return set;

  WHARF_ASSIGN_OR_RETURN(IdxArray l, ReadIdx(labels));
  if (l.dims.size() != 1) {
    return InvalidArgument(fmt::format("{}: IDX labels must have rank 1, not {}", labels.string(), l.dims.size()));
  }
  if (l.dims[0] != set.count) {
    return InvalidArgument(fmt::format("{} holds {} labels but {} holds {} images", labels.string(), l.dims[0],
                                       images.string(), set.count));
  }
  set.labels.assign(l.bytes.begin(), l.bytes.end());
  return set;
}

fs::path IdxLabelsFor(const fs::path& images) {
  std::string name = images.filename().string();
  const auto at = name.find("-images-idx3-");
  if (at == std::string::npos) return {};
  name.replace(at, 13, "-labels-idx1-");
  fs::path labels = images.parent_path() / name;
  std::error_code ec;
  return fs::is_regular_file(labels, ec) ? labels : fs::path{};
}

fs::path FindIdxImages(const fs::path& dir, const std::string& split) {
  for (const char* suffix : {"-images-idx3-ubyte.gz", "-images-idx3-ubyte", "-images.idx3-ubyte"}) {
    fs::path candidate = dir / (split + suffix);
    std::error_code ec;
    if (fs::is_regular_file(candidate, ec)) return candidate;
  }
  return {};
}

Result<ImageFolder> ListImageFolder(const fs::path& root) {
  std::error_code ec;
  if (!fs::is_directory(root, ec)) return NotFound(fmt::format("{}: no such directory", root.string()));
  ImageFolder folder;
  for (const auto& entry : fs::directory_iterator(root, ec)) {
    if (entry.is_directory()) folder.classes.push_back(entry.path().filename().string());
  }
  if (ec) return IoError(fmt::format("{}: {}", root.string(), ec.message()));
  std::sort(folder.classes.begin(), folder.classes.end());
  if (folder.classes.empty()) {
    return InvalidArgument(fmt::format("{}: no class subfolders (an image folder holds one subfolder per class)",
                                       root.string()));
  }
  for (std::size_t c = 0; c < folder.classes.size(); ++c) {
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(root / folder.classes[c], ec)) {
      if (entry.is_regular_file() && HasImageExtension(entry.path())) files.push_back(entry.path());
    }
    if (ec) return IoError(fmt::format("{}: {}", (root / folder.classes[c]).string(), ec.message()));
    std::sort(files.begin(), files.end());
    for (auto& f : files) {
      folder.files.push_back(std::move(f));
      folder.labels.push_back(static_cast<int>(c));
    }
  }
  if (folder.files.empty()) return InvalidArgument(fmt::format("{}: no image files in its class subfolders", root.string()));
  return folder;
}

}  // namespace wharf::data
