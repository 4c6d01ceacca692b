#pragma once
// Seals secret values at rest. The key is 32 random bytes kept as 64 hex
// digits in a file only its owner can read (0600; created on first use,
// refused when group or others can read it), like the server's token.
// A value is encrypted with XChaCha20-Poly1305 (libsodium) under a fresh
// random nonce, with the secret's name as associated data: a sealed value
// moved to another name, or altered at all, does not open.
// Thread-safe after construction (const methods only).

#include <array>
#include <filesystem>
#include <string>
#include <string_view>

#include "core/status.h"

namespace wharf::secret {

class Vault {
 public:
  // Loads the key in `key_file`, creating it when missing. FailedPrecondition
  // naming the file when it is readable by others or not a 32-byte key;
  // Internal when libsodium cannot start.
  static Result<Vault> Open(const std::filesystem::path& key_file);

  Vault(Vault&& other) noexcept;
  Vault& operator=(Vault&&) = delete;
  Vault(const Vault&) = delete;
  ~Vault();  // wipes the key from memory

  // `value` sealed for secret `name`: "xc1:" then base64 of nonce and ciphertext.
  std::string Seal(std::string_view name, std::string_view value) const;
  // The value `sealed` holds. DataLoss naming the secret when it was sealed
  // under another key or name, or was altered.
  Result<std::string> Unseal(std::string_view name, std::string_view sealed) const;

 private:
  Vault() = default;
  std::array<unsigned char, 32> key_{};
};

// Where a wharf home keeps the key: HOME/secrets.key.
std::filesystem::path KeyFile(const std::filesystem::path& home);

}  // namespace wharf::secret
