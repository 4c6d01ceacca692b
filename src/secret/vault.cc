#include "secret/vault.h"

#include <sodium.h>

#include <vector>

#include <fmt/format.h>

#include "net/bearer_token.h"

namespace wharf::secret {

namespace {

constexpr std::string_view kFormat = "xc1:";  // XChaCha20-Poly1305, base64 (original variant)
constexpr int kBase64 = sodium_base64_VARIANT_ORIGINAL;
static_assert(crypto_aead_xchacha20poly1305_ietf_KEYBYTES == 32);

}  // namespace

std::filesystem::path KeyFile(const std::filesystem::path& home) { return home / "secrets.key"; }

Result<Vault> Vault::Open(const std::filesystem::path& key_file) {
  if (sodium_init() < 0) return Internal("libsodium could not start");
  WHARF_ASSIGN_OR_RETURN(std::string hex, net::LoadOrCreateToken(key_file, "secret key file"));
  Vault vault;
  std::size_t length = 0;
  const bool decoded = sodium_hex2bin(vault.key_.data(), vault.key_.size(), hex.data(), hex.size(), nullptr, &length,
                                      nullptr) == 0 &&
                       length == vault.key_.size();
  sodium_memzero(hex.data(), hex.size());
  if (!decoded) {
    return FailedPrecondition(fmt::format("the secret key file {} does not hold a key (64 hex digits)", key_file.string()));
  }
  return vault;
}

Vault::Vault(Vault&& other) noexcept : key_(other.key_) { sodium_memzero(other.key_.data(), other.key_.size()); }

Vault::~Vault() { sodium_memzero(key_.data(), key_.size()); }

std::string Vault::Seal(std::string_view name, std::string_view value) const {
  constexpr std::size_t kNonce = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
  std::vector<unsigned char> box(kNonce + value.size() + crypto_aead_xchacha20poly1305_ietf_ABYTES);
  randombytes_buf(box.data(), kNonce);
  unsigned long long sealed_length = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(
      box.data() + kNonce, &sealed_length, reinterpret_cast<const unsigned char*>(value.data()), value.size(),
      reinterpret_cast<const unsigned char*>(name.data()), name.size(), nullptr, box.data(), key_.data());
  box.resize(kNonce + sealed_length);
  std::string text(sodium_base64_encoded_len(box.size(), kBase64), '\0');
  sodium_bin2base64(text.data(), text.size(), box.data(), box.size(), kBase64);
  text.pop_back();  // the terminating NUL
  return std::string(kFormat) + text;
}

Result<std::string> Vault::Unseal(std::string_view name, std::string_view sealed) const {
  const auto damaged = [&](std::string_view why) {
    return DataLoss(fmt::format("secret '{}' cannot be opened: {}", name, why));
  };
  if (!sealed.starts_with(kFormat)) return damaged("unknown format");
  sealed.remove_prefix(kFormat.size());
  std::vector<unsigned char> box(sealed.size());
  std::size_t box_length = 0;
  if (sodium_base642bin(box.data(), box.size(), sealed.data(), sealed.size(), nullptr, &box_length, nullptr, kBase64) !=
      0) {
    return damaged("not base64");
  }
  constexpr std::size_t kNonce = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
  if (box_length < kNonce + crypto_aead_xchacha20poly1305_ietf_ABYTES) return damaged("too short");
  std::string value(box_length - kNonce - crypto_aead_xchacha20poly1305_ietf_ABYTES, '\0');
  unsigned long long value_length = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(reinterpret_cast<unsigned char*>(value.data()), &value_length,
                                                 nullptr, box.data() + kNonce, box_length - kNonce,
                                                 reinterpret_cast<const unsigned char*>(name.data()), name.size(),
                                                 box.data(), key_.data()) != 0) {
    return damaged("it was sealed under another key or name, or altered");
  }
  value.resize(value_length);
  return value;
}

}  // namespace wharf::secret
