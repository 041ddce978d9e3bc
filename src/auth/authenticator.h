// Authenticator: who is asking. Turns an Authorization header or a session cookie into a
// Principal (a key's scopes and projects), caches key records briefly, limits failed attempts
// per client address, and signs UI sessions in and out.
//
// Auth is on as soon as one key exists in the key store (or a legacy --api-key is set). With no
// key, requests are anonymous with every scope — the loopback-only default; RunServer refuses a
// non-loopback listen address in that state unless anonymous access was asked for.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "auth/key_store.h"
#include "auth/principal.h"
#include "auth/scope.h"
#include "core/status.h"

namespace wanllmdb {

struct AuthOptions {
  std::string legacy_key;  // --api-key: one admin key outside the store (compared as a hash)
  std::chrono::seconds session_lifetime{30 * 24 * 3600};
  int max_failures = 20;  // failed attempts per client address per failure_window
  std::chrono::seconds failure_window{60};
  std::chrono::milliseconds cache_ttl{2000};  // how long a key record or "no keys" is trusted
};

inline constexpr std::string_view kSessionCookie = "wanllmdb_session";

// Thread-safety: thread-safe.
class Authenticator {
 public:
  // `keys` may be null (a store without keys): then only the legacy key or anonymous access.
  Authenticator(KeyStore* keys, AuthOptions options);

  // Whether credentials are needed (a key exists or a legacy key is set).
  bool Enabled();
  // From the Authorization header ("Bearer KEY") or the Cookie header. kUnauthorized when none
  // was given (and auth is on), kForbidden for a wrong or revoked one, kTooManyRequests when the
  // client address failed too often (retry_after_s set then).
  Result<Principal> Authenticate(std::string_view authorization, std::string_view cookie,
                                 const std::string& client, int* retry_after_s);
  // A key → a session token for the cookie (and who it is).
  Result<std::string> SignIn(std::string_view key, const std::string& client,
                             int* retry_after_s, Principal* who);
  Status SignOut(std::string_view cookie);

  // Admin: a new key; `*token` gets the secret once.
  Result<KeyRecord> CreateKey(const std::string& name, ScopeSet scopes,
                              std::vector<std::string> projects, std::string* token);
  Status RevokeKey(const std::string& id);
  Result<std::vector<KeyRecord>> ListKeys();

  std::chrono::seconds session_lifetime() const { return options_.session_lifetime; }

 private:
  using Clock = std::chrono::steady_clock;
  Result<Principal> FromKey(std::string_view key);
  Result<Principal> FromSession(std::string_view token);
  Result<std::optional<KeyRecord>> CachedKey(const std::string& id);
  // Records a failure; true when the address is now over its limit.
  bool TooManyFailures(const std::string& client, bool record, int* retry_after_s);

  KeyStore* const keys_;
  const AuthOptions options_;
  const std::string legacy_hash_;

  std::mutex mu_;
  struct CachedRecord {
    std::optional<KeyRecord> key;
    Clock::time_point fetched;
  };
  std::unordered_map<std::string, CachedRecord> key_cache_;      // Guarded by mu_
  std::optional<std::pair<bool, Clock::time_point>> has_keys_;   // Guarded by mu_
  std::unordered_map<std::string, std::deque<Clock::time_point>> failures_;  // Guarded by mu_
};

// The value of cookie `name` in a Cookie header, or "".
std::string_view CookieValue(std::string_view cookie_header, std::string_view name);

}  // namespace wanllmdb
