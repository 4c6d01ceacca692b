#pragma once
// Incremental SHA-256 (OpenSSL underneath), for data hashes recorded in
// Modelfiles. Not thread-safe: one hasher per stream.

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"

namespace wharf {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(std::string_view bytes);
  // Lower-case hex digest. The hasher must not be used afterwards.
  std::string HexDigest();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Lower-case hex SHA-256 of a whole file, read in chunks. IoError naming the
// file when it cannot be read.
Result<std::string> Sha256OfFile(const std::filesystem::path& path);

}  // namespace wharf
