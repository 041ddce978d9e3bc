// Secret tokens: API keys ("wlk_…") and session cookies ("wls_…").
//
// A token is PREFIX + ID + "_" + SECRET: ID (12 hex digits) names the record in the key store
// and is safe to show (`wanllmdb keys list`); SECRET is 192 random bits (48 hex digits) from the
// OS's CSPRNG. Only SHA-256(SECRET) is stored — the secret has full entropy, so a slow password
// hash would add nothing — and hashes are compared in constant time. The recognisable prefix lets
// secret scanners (GitHub's, gitleaks) find a leaked key.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace wanllmdb {

inline constexpr std::string_view kApiKeyPrefix = "wlk_";
inline constexpr std::string_view kSessionPrefix = "wls_";

struct SecretToken {
  std::string id;           // 12 lowercase hex digits
  std::string secret_hash;  // hex SHA-256 of the secret part
};

// A fresh token with `prefix`; `*token` gets the whole string (shown once, never stored).
// Thread-safety: thread-safe (OpenSSL's RAND_bytes).
SecretToken NewSecretToken(std::string_view prefix, std::string* token);
// Splits and hashes a presented token; nullopt when it is not of the form PREFIX ID _ SECRET.
std::optional<SecretToken> ParseSecretToken(std::string_view prefix, std::string_view token);
// Hex SHA-256 of arbitrary bytes (also for a legacy --api-key).
std::string Sha256Hex(std::string_view data);
// Equal-length-independent constant-time comparison of two hex digests.
bool DigestsEqual(std::string_view a, std::string_view b);

}  // namespace wanllmdb
