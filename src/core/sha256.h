#pragma once
// Incremental SHA-256 (OpenSSL underneath), for data hashes recorded in
// Modelfiles. Not thread-safe: one hasher per stream.

#include <memory>
#include <string>
#include <string_view>

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

}  // namespace wharf
