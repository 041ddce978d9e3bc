// KeyStore: where API keys and UI sessions live — in the same database as the logs, so every
// server node sharing a store shares its keys, and `wanllmdb keys` can work on a stopped
// server's data directory. Only hashes of secrets are stored (auth/secret_token.h).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "auth/scope.h"
#include "core/status.h"

namespace wanllmdb {

struct KeyRecord {
  std::string id;  // the public part of the token
  std::string name;
  std::string secret_hash;
  ScopeSet scopes = 0;
  std::vector<std::string> projects;  // empty: every project
  int64_t created_at_us = 0;
  std::optional<int64_t> revoked_at_us;
};

struct SessionRecord {
  std::string id;
  std::string secret_hash;
  std::string key_id;  // the key that signed in; revoking it ends the session
  int64_t expires_at_us = 0;
};

// Thread-safety: every method may be called from any thread concurrently.
class KeyStore {
 public:
  virtual ~KeyStore() = default;
  virtual Status CreateKey(const KeyRecord& key) = 0;
  // Every key, revoked ones included, oldest first.
  virtual Result<std::vector<KeyRecord>> ListKeys() = 0;
  virtual Result<std::optional<KeyRecord>> FindKey(const std::string& id) = 0;
  // kNotFound for an unknown id; revoking twice keeps the first time.
  virtual Status RevokeKey(const std::string& id, int64_t at_us) = 0;
  virtual Result<int64_t> CountActiveKeys() = 0;

  virtual Status CreateSession(const SessionRecord& session) = 0;
  virtual Result<std::optional<SessionRecord>> FindSession(const std::string& id) = 0;
  virtual Status DeleteSession(const std::string& id) = 0;
};

// The key store of a log store URL ("sqlite:PATH" or a bare path). Creates its tables.
Result<std::unique_ptr<KeyStore>> OpenKeyStore(const std::string& store_url);
// The PostgreSQL one (tables from the log store's migrations; open the log store first).
Result<std::unique_ptr<KeyStore>> OpenPgKeyStore(const std::string& conninfo);

}  // namespace wanllmdb
