#include "auth/secret_token.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <stdexcept>

namespace wanllmdb {
namespace {

constexpr size_t kIdBytes = 6;       // 12 hex digits
constexpr size_t kSecretBytes = 24;  // 192 bits, 48 hex digits

std::string Hex(const unsigned char* p, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(2 * n, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kDigits[p[i] >> 4];
    out[2 * i + 1] = kDigits[p[i] & 15];
  }
  return out;
}

std::string RandomHex(size_t bytes) {
  unsigned char buf[64];
  if (bytes > sizeof buf || RAND_bytes(buf, static_cast<int>(bytes)) != 1)
    throw std::runtime_error("the system's random number generator failed");
  return Hex(buf, bytes);
}

bool IsHex(std::string_view s) {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

}  // namespace

std::string Sha256Hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("SHA-256 failed");
  return Hex(md, len);
}

bool DigestsEqual(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;  // digests have a fixed, public length
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

SecretToken NewSecretToken(std::string_view prefix, std::string* token) {
  SecretToken t;
  t.id = RandomHex(kIdBytes);
  std::string secret = RandomHex(kSecretBytes);
  t.secret_hash = Sha256Hex(secret);
  *token = std::string(prefix) + t.id + "_" + secret;
  return t;
}

std::optional<SecretToken> ParseSecretToken(std::string_view prefix, std::string_view token) {
  if (token.size() != prefix.size() + 2 * kIdBytes + 1 + 2 * kSecretBytes) return std::nullopt;
  if (token.substr(0, prefix.size()) != prefix) return std::nullopt;
  token.remove_prefix(prefix.size());
  std::string_view id = token.substr(0, 2 * kIdBytes);
  std::string_view secret = token.substr(2 * kIdBytes + 1);
  if (token[2 * kIdBytes] != '_' || !IsHex(id) || !IsHex(secret)) return std::nullopt;
  return SecretToken{std::string(id), Sha256Hex(secret)};
}

}  // namespace wanllmdb
