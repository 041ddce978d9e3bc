// KeyStore on SQLite: two small tables beside the log tables, on a connection of its own
// (keys change rarely; the log writer's group commit never waits on them).
#include <mutex>

#include "auth/key_projects.h"
#include "auth/key_store.h"
#include "store/postgres_store.h"
#include "store/sqlite_db.h"

namespace wanllmdb {
namespace {

constexpr const char* kSchema = R"(
CREATE TABLE IF NOT EXISTS api_keys(
  id TEXT PRIMARY KEY, name TEXT NOT NULL, secret_hash TEXT NOT NULL, scopes INTEGER NOT NULL,
  projects TEXT NOT NULL DEFAULT '', created_at INTEGER NOT NULL, revoked_at INTEGER);
CREATE TABLE IF NOT EXISTS auth_sessions(
  id TEXT PRIMARY KEY, secret_hash TEXT NOT NULL, key_id TEXT NOT NULL,
  expires_at INTEGER NOT NULL);
)";

// Thread-safety: thread-safe; one connection guarded by mu_.
class SqliteKeyStore : public KeyStore {
 public:
  Status Open(const std::string& path) {
    std::lock_guard lock(mu_);
    if (Status s = db_.Open(path, false); !s.ok()) return s;
    (void)db_.Exec("PRAGMA journal_mode=WAL");  // the log store set it already; a no-op then
    return db_.Exec(kSchema);
  }

  Status CreateKey(const KeyRecord& k) override {
    std::lock_guard lock(mu_);
    SqliteStmt st(db_,
                  "INSERT INTO api_keys(id, name, secret_hash, scopes, projects, created_at) "
                  "VALUES(?1, ?2, ?3, ?4, ?5, ?6)");
    st.Bind(1, k.id).Bind(2, k.name).Bind(3, k.secret_hash).Bind(4, int64_t{k.scopes});
    st.Bind(5, JoinProjects(k.projects)).Bind(6, k.created_at_us);
    return st.Run();
  }

  Result<std::vector<KeyRecord>> ListKeys() override {
    std::lock_guard lock(mu_);
    SqliteStmt st(db_, std::string(kSelect) + " ORDER BY created_at, id");
    std::vector<KeyRecord> out;
    while (st.Step()) out.push_back(Row(st));
    if (!st.status().ok()) return st.status();
    return out;
  }

  Result<std::optional<KeyRecord>> FindKey(const std::string& id) override {
    std::lock_guard lock(mu_);
    SqliteStmt st(db_, std::string(kSelect) + " WHERE id = ?1");
    st.Bind(1, id);
    std::optional<KeyRecord> out;
    if (st.Step()) out = Row(st);
    if (!st.status().ok()) return st.status();
    return out;
  }

  Status RevokeKey(const std::string& id, int64_t at_us) override {
    std::lock_guard lock(mu_);
    SqliteStmt st(db_, "UPDATE api_keys SET revoked_at = coalesce(revoked_at, ?2) WHERE id = ?1");
    st.Bind(1, id).Bind(2, at_us);
    if (Status s = st.Run(); !s.ok()) return s;
    if (db_.Changes() == 0) return Status(Code::kNotFound, "no API key with id '" + id + "'");
    SqliteStmt del(db_, "DELETE FROM auth_sessions WHERE key_id = ?1");
    del.Bind(1, id);
    return del.Run();
  }

  Result<int64_t> CountActiveKeys() override {
    std::lock_guard lock(mu_);
    SqliteStmt st(db_, "SELECT count(*) FROM api_keys WHERE revoked_at IS NULL");
    int64_t n = 0;
    if (st.Step()) n = st.Int(0);
    if (!st.status().ok()) return st.status();
    return n;
  }

  Status CreateSession(const SessionRecord& s) override {
    std::lock_guard lock(mu_);
    SqliteStmt st(db_,
                  "INSERT INTO auth_sessions(id, secret_hash, key_id, expires_at) "
                  "VALUES(?1, ?2, ?3, ?4)");
    st.Bind(1, s.id).Bind(2, s.secret_hash).Bind(3, s.key_id).Bind(4, s.expires_at_us);
    return st.Run();
  }

  Result<std::optional<SessionRecord>> FindSession(const std::string& id) override {
    std::lock_guard lock(mu_);
    SqliteStmt st(db_,
                  "SELECT id, secret_hash, key_id, expires_at FROM auth_sessions WHERE id = ?1");
    st.Bind(1, id);
    std::optional<SessionRecord> out;
    if (st.Step()) {
      out = SessionRecord{std::string(st.Text(0)), std::string(st.Text(1)),
                          std::string(st.Text(2)), st.Int(3)};
    }
    if (!st.status().ok()) return st.status();
    return out;
  }

  Status DeleteSession(const std::string& id) override {
    std::lock_guard lock(mu_);
    SqliteStmt st(db_, "DELETE FROM auth_sessions WHERE id = ?1");
    st.Bind(1, id);
    return st.Run();
  }

 private:
  static constexpr const char* kSelect =
      "SELECT id, name, secret_hash, scopes, projects, created_at, revoked_at FROM api_keys";

  static KeyRecord Row(const SqliteStmt& st) {
    KeyRecord k;
    k.id = st.Text(0);
    k.name = st.Text(1);
    k.secret_hash = st.Text(2);
    k.scopes = static_cast<ScopeSet>(st.Int(3));
    k.projects = SplitProjects(st.Text(4));
    k.created_at_us = st.Int(5);
    if (!st.IsNull(6)) k.revoked_at_us = st.Int(6);
    return k;
  }

  std::mutex mu_;
  SqliteDb db_;  // Guarded by mu_
};

}  // namespace

Result<std::unique_ptr<KeyStore>> OpenKeyStore(const std::string& url) {
  constexpr std::string_view kSqlite = "sqlite:";
  std::string path = url;
  if (url.rfind(kSqlite, 0) == 0) {
    path = url.substr(kSqlite.size());
  } else if (IsPostgresUrl(url)) {
    return OpenPgKeyStore(url);
  } else if (url.find("://") != std::string::npos) {
    return Status(Code::kInvalidValue, "API keys are kept in SQLite stores only so far");
  }
  auto store = std::make_unique<SqliteKeyStore>();
  if (Status s = store->Open(path); !s.ok()) return s;
  return std::unique_ptr<KeyStore>(std::move(store));
}

}  // namespace wanllmdb
