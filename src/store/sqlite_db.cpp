#include "store/sqlite_db.h"

#include <sqlite3.h>

#include <cstdlib>

namespace wanllmdb {

namespace {

// wl_csv_int(text, i): the i-th (0-based) integer of a comma-separated list such as the runs
// table's level_counts "1,2,3,4,5"; 0 when missing. Lets SQL sort runs by a count.
void CsvInt(sqlite3_context* ctx, int, sqlite3_value** argv) {
  const char* s = reinterpret_cast<const char*>(sqlite3_value_text(argv[0]));
  int64_t want = sqlite3_value_int64(argv[1]);
  if (!s || want < 0) return sqlite3_result_int64(ctx, 0);
  for (int64_t i = 0; i < want && *s; ++s) {
    if (*s == ',') ++i;
  }
  sqlite3_result_int64(ctx, std::strtoll(s, nullptr, 10));
}

// Distinct statement texts kept per connection: the stores use a few dozen; SQL built with
// values in it (rare) would otherwise grow the cache without end.
constexpr size_t kMaxIdleStatements = 128;

}  // namespace

SqliteDb::~SqliteDb() {
  // A statement left unfinalized would keep the connection open (close_v2 makes it a zombie).
  for (auto& [sql, stmt] : idle_) sqlite3_finalize(stmt);
  if (db_) sqlite3_close_v2(db_);
}

sqlite3_stmt* SqliteDb::TakeStatement(std::string_view sql) {
  auto it = idle_.find(sql);
  if (it == idle_.end()) return nullptr;
  sqlite3_stmt* stmt = it->second;
  idle_.erase(it);
  return stmt;
}

void SqliteDb::KeepStatement(sqlite3_stmt* stmt) {
  sqlite3_reset(stmt);
  sqlite3_clear_bindings(stmt);
  const char* sql = sqlite3_sql(stmt);
  if (!sql || idle_.size() >= kMaxIdleStatements || !idle_.emplace(sql, stmt).second)
    sqlite3_finalize(stmt);
}

Status SqliteDb::Open(const std::string& path, bool read_only) {
  int flags = read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  flags |= SQLITE_OPEN_NOMUTEX;
  if (sqlite3_open_v2(path.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
    return Status(Code::kUnavailable, "cannot open database " + path + ": " +
                                          (db_ ? sqlite3_errmsg(db_) : "out of memory"));
  }
  sqlite3_busy_timeout(db_, 10000);
  sqlite3_extended_result_codes(db_, 1);
  sqlite3_create_function(db_, "wl_csv_int", 2, SQLITE_UTF8 | SQLITE_DETERMINISTIC, nullptr,
                          &CsvInt, nullptr, nullptr);
  return Status::Ok();
}

namespace {

// What an SQLite failure means to a client: a full disk is 507 (the client keeps its spool and
// retries later, nothing stored is damaged), a locked database 503 (retry), the rest 500.
Code CodeOf(sqlite3* db) {
  int rc = sqlite3_extended_errcode(db);
  if ((rc & 0xff) == SQLITE_FULL || rc == SQLITE_IOERR_WRITE || rc == SQLITE_IOERR_FSYNC ||
      rc == SQLITE_IOERR_SHMSIZE || rc == SQLITE_IOERR_TRUNCATE) {
    return Code::kInsufficientStorage;
  }
  if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED) return Code::kUnavailable;
  return Code::kInternal;
}

}  // namespace

Status SqliteDb::Exec(std::string_view sql) {
  auto failed = [&](std::string msg) {
    Code code = CodeOf(db_);
    if (code == Code::kInsufficientStorage) msg = "the disk is full (" + msg + ")";
    return Status(code, "sqlite: " + msg);
  };
  // One statement (BEGIN and COMMIT around every read and write) runs from the statement cache;
  // a script of several goes to sqlite3_exec.
  sqlite3_stmt* stmt = TakeStatement(sql);
  if (!stmt) {
    const char* tail = nullptr;
    if (sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                           &stmt, &tail) != SQLITE_OK)
      return failed(sqlite3_errmsg(db_));
    const std::string_view rest(tail, sql.data() + sql.size() - tail);
    if (!stmt || rest.find_first_not_of(" \t\r\n;") != std::string_view::npos) {
      sqlite3_finalize(stmt);
      std::string s(sql);
      char* err = nullptr;
      if (sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
        std::string msg = err ? err : "unknown error";
        sqlite3_free(err);
        return failed(std::move(msg));
      }
      return Status::Ok();
    }
  }
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
  }
  Status st = rc == SQLITE_DONE ? Status::Ok() : failed(sqlite3_errmsg(db_));
  KeepStatement(stmt);
  return st;
}

Status SqliteDb::Error(std::string_view what) const {
  Code code = CodeOf(db_);
  std::string msg = std::string("sqlite ") + std::string(what) + ": " + sqlite3_errmsg(db_);
  if (code == Code::kInsufficientStorage) {
    msg = "the server's disk is full: nothing was stored; retry later (" + msg + ")";
  }
  return Status(code, msg);
}

int64_t SqliteDb::Changes() const {
  return sqlite3_changes64(db_);
}

SqliteStmt::SqliteStmt(SqliteDb& db, std::string_view sql) : db_(db) {
  stmt_ = db.TakeStatement(sql);
  if (stmt_) return;
  if (sqlite3_prepare_v3(db.handle(), sql.data(), static_cast<int>(sql.size()),
                         SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr) != SQLITE_OK) {
    status_ = db.Error("prepare");
    stmt_ = nullptr;
  }
}

SqliteStmt::~SqliteStmt() {
  if (stmt_) db_.KeepStatement(stmt_);
}

SqliteStmt& SqliteStmt::Bind(int i, int64_t v) {
  sqlite3_bind_int64(stmt_, i, v);
  return *this;
}
SqliteStmt& SqliteStmt::Bind(int i, std::string_view v) {
  sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  return *this;
}
SqliteStmt& SqliteStmt::BindBlob(int i, std::string_view v) {
  sqlite3_bind_blob(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
  return *this;
}
SqliteStmt& SqliteStmt::BindNull(int i) {
  sqlite3_bind_null(stmt_, i);
  return *this;
}

bool SqliteStmt::Step() {
  if (!stmt_) return false;
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc != SQLITE_DONE) status_ = db_.Error("step");
  return false;
}

Status SqliteStmt::Run() {
  if (!stmt_) return status_;
  status_ = Status::Ok();
  while (Step()) {
  }
  Status s = status_;
  Reset();
  return s;
}

void SqliteStmt::Reset() {
  if (!stmt_) return;
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

int64_t SqliteStmt::Int(int col) const {
  return sqlite3_column_int64(stmt_, col);
}
bool SqliteStmt::IsNull(int col) const {
  return sqlite3_column_type(stmt_, col) == SQLITE_NULL;
}
std::string_view SqliteStmt::Text(int col) const {
  auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
  return p ? std::string_view(p, sqlite3_column_bytes(stmt_, col)) : std::string_view();
}
std::string_view SqliteStmt::Blob(int col) const {
  auto* p = static_cast<const char*>(sqlite3_column_blob(stmt_, col));
  return p ? std::string_view(p, sqlite3_column_bytes(stmt_, col)) : std::string_view();
}

}  // namespace wanllmdb
