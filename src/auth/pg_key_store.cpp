// KeyStore on PostgreSQL: the api_keys and auth_sessions tables of the log database (created by
// its migration 2, applied on open too), so every node of a team server accepts the same keys and
// sessions.
#include <mutex>

#include "auth/key_projects.h"
#include "auth/key_store.h"
#include "store/pg_conn.h"
#include "store/pg_schema.h"

namespace wanllmdb {
namespace {

constexpr const char* kSelect =
    "SELECT id, name, secret_hash, scopes, projects, created_at, revoked_at FROM api_keys";

KeyRecord Row(const PgResult& r, int i) {
  KeyRecord k;
  k.id = r.Text(i, 0);
  k.name = r.Text(i, 1);
  k.secret_hash = r.Text(i, 2);
  k.scopes = static_cast<ScopeSet>(r.Int(i, 3));
  k.projects = SplitProjects(r.Text(i, 4));
  k.created_at_us = r.Int(i, 5);
  if (!r.IsNull(i, 6)) k.revoked_at_us = r.Int(i, 6);
  return k;
}

// Thread-safety: thread-safe; one connection guarded by mu_ (keys change rarely).
class PgKeyStore : public KeyStore {
 public:
  explicit PgKeyStore(const std::string& conninfo) : db_(conninfo) {}

  // Connects and applies the schema migrations (`wanllmdb keys` may run before any server).
  Status Open() {
    std::lock_guard lock(mu_);
    if (Status s = db_.Ensure(); !s.ok()) return s;
    return MigratePostgres(db_);
  }

  Status CreateKey(const KeyRecord& k) override {
    return Exec(
        "INSERT INTO api_keys(id, name, secret_hash, scopes, projects, created_at) "
        "VALUES($1, $2, $3, $4, $5, $6)",
        PgParams()
            .Text(k.id)
            .Text(k.name)
            .Text(k.secret_hash)
            .Int(k.scopes)
            .Text(JoinProjects(k.projects))
            .Int(k.created_at_us));
  }

  Result<std::vector<KeyRecord>> ListKeys() override {
    auto r = Query(std::string(kSelect) + " ORDER BY created_at, id", {});
    if (!r.ok()) return r.status();
    std::vector<KeyRecord> out;
    for (int i = 0; i < r->rows(); ++i) out.push_back(Row(*r, i));
    return out;
  }

  Result<std::optional<KeyRecord>> FindKey(const std::string& id) override {
    auto r = Query(std::string(kSelect) + " WHERE id = $1", PgParams().Text(id));
    if (!r.ok()) return r.status();
    std::optional<KeyRecord> out;
    if (r->rows()) out = Row(*r, 0);
    return out;
  }

  Status RevokeKey(const std::string& id, int64_t at_us) override {
    auto r = Query("UPDATE api_keys SET revoked_at = coalesce(revoked_at, $2) WHERE id = $1",
                   PgParams().Text(id).Int(at_us));
    if (!r.ok()) return r.status();
    if (r->affected() == 0) return Status(Code::kNotFound, "no API key with id '" + id + "'");
    return Exec("DELETE FROM auth_sessions WHERE key_id = $1", PgParams().Text(id));
  }

  Result<int64_t> CountActiveKeys() override {
    auto r = Query("SELECT count(*) FROM api_keys WHERE revoked_at IS NULL", {});
    if (!r.ok()) return r.status();
    return r->Int(0, 0);
  }

  Status CreateSession(const SessionRecord& s) override {
    return Exec(
        "INSERT INTO auth_sessions(id, secret_hash, key_id, expires_at) "
        "VALUES($1, $2, $3, $4)",
        PgParams().Text(s.id).Text(s.secret_hash).Text(s.key_id).Int(s.expires_at_us));
  }

  Result<std::optional<SessionRecord>> FindSession(const std::string& id) override {
    auto r = Query("SELECT id, secret_hash, key_id, expires_at FROM auth_sessions WHERE id = $1",
                   PgParams().Text(id));
    if (!r.ok()) return r.status();
    std::optional<SessionRecord> out;
    if (r->rows()) {
      out = SessionRecord{std::string(r->Text(0, 0)), std::string(r->Text(0, 1)),
                          std::string(r->Text(0, 2)), r->Int(0, 3)};
    }
    return out;
  }

  Status DeleteSession(const std::string& id) override {
    return Exec("DELETE FROM auth_sessions WHERE id = $1", PgParams().Text(id));
  }

 private:
  Result<PgResult> Query(const std::string& sql, const PgParams& p) {
    std::lock_guard lock(mu_);
    if (Status s = db_.Ensure(); !s.ok()) return s;
    return db_.Query(sql, p);
  }
  Status Exec(const std::string& sql, const PgParams& p) {
    auto r = Query(sql, p);
    return r.ok() ? Status::Ok() : r.status();
  }

  std::mutex mu_;
  PgConn db_;  // Guarded by mu_
};

}  // namespace

Result<std::unique_ptr<KeyStore>> OpenPgKeyStore(const std::string& conninfo) {
  auto store = std::make_unique<PgKeyStore>(conninfo);
  if (Status s = store->Open(); !s.ok()) return s;
  return std::unique_ptr<KeyStore>(std::move(store));
}

}  // namespace wanllmdb
