#pragma once
// The Modelfile container: one self-describing, versioned, checksummed file.
//
// Layout (integers little-endian):
//   magic        8 bytes  "WHARFMDL"
//   version      u32      kModelfileFormatVersion
//   sections     u32      number of payload sections
//   header_len   u64      then header_len bytes of UTF-8 JSON (an object)
//   per section: u32 name_len, name bytes, u64 payload_len, payload bytes
//   crc32        u32      zlib CRC-32 of every byte before it
//
// The header says what the model is (schema, labels, preprocessing, estimator,
// metrics, data hashes and summaries, wharf version); the sections carry
// opaque payloads named by the estimator (an XGBoost UBJSON booster, a
// TorchScript module, a PCA projection). This file knows nothing of what is
// inside them. Free functions; safe to call from any thread.

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace wharf::artifact {

inline constexpr char kModelfileMagic[8] = {'W', 'H', 'A', 'R', 'F', 'M', 'D', 'L'};
inline constexpr std::uint32_t kModelfileFormatVersion = 1;

// A named opaque payload.
struct Section {
  std::string name;
  std::string bytes;
};

// The in-memory form of a Modelfile.
struct Modelfile {
  nlohmann::json header = nlohmann::json::object();
  std::vector<Section> sections;

  // The section called `name`, or null.
  const Section* Find(std::string_view name) const;
};

std::string SerializeModelfile(const Modelfile& file);

// Parses bytes produced by SerializeModelfile. `source` names the file in
// messages. InvalidArgument if the bytes are not a Modelfile (bad magic) or
// have a format version this build cannot read; DataLoss if truncated,
// corrupted (checksum) or structurally inconsistent. Never crashes on any input.
Result<Modelfile> ParseModelfile(std::string_view bytes, std::string_view source);

// Writes atomically (temporary file in the same directory, then rename), so
// a crash never leaves a half-written Modelfile at `path`.
Status WriteModelfile(const Modelfile& file, const std::filesystem::path& path);

// NotFound if `path` does not exist; otherwise as ParseModelfile.
Result<Modelfile> ReadModelfile(const std::filesystem::path& path);

}  // namespace wharf::artifact
