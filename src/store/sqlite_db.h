// Thin RAII wrappers over the SQLite C API: a connection and a prepared statement.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace wanllmdb {

// Thread-safety: one thread at a time (SQLite's "multi-thread" mode).
//
// Keeps the statements SqliteStmt prepared, reset, to hand out again for the same SQL text:
// compiling a statement cost more than running it on the read paths (a project search asks
// every run for its chunk keys: 40% of its time went to sqlite3_prepare_v3).
class SqliteDb {
 public:
  SqliteDb() = default;
  ~SqliteDb();
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;

  Status Open(const std::string& path, bool read_only);
  Status Exec(std::string_view sql);
  sqlite3* handle() const { return db_; }
  Status Error(std::string_view what) const;
  int64_t Changes() const;

 private:
  friend class SqliteStmt;
  // A reset statement of `sql`, taken out of the cache (null: none; the caller prepares one).
  sqlite3_stmt* TakeStatement(std::string_view sql);
  // Keeps a statement SqliteStmt is done with (reset, bindings cleared) for the next of its SQL
  // text, or finalizes it when the cache holds one of that text already or is full.
  void KeepStatement(sqlite3_stmt* stmt);

  sqlite3* db_ = nullptr;
  // Keyed by sqlite3_sql() of the statement, which the statement owns.
  std::unordered_map<std::string_view, sqlite3_stmt*> idle_;
};

// A prepared statement, reset after each Step loop. Thread-safety: as its connection.
class SqliteStmt {
 public:
  SqliteStmt(SqliteDb& db, std::string_view sql);
  ~SqliteStmt();
  SqliteStmt(const SqliteStmt&) = delete;
  SqliteStmt& operator=(const SqliteStmt&) = delete;

  bool ok() const { return stmt_ != nullptr; }
  SqliteStmt& Bind(int i, int64_t v);
  SqliteStmt& Bind(int i, std::string_view v);
  SqliteStmt& BindBlob(int i, std::string_view v);
  SqliteStmt& BindNull(int i);
  // true: a row is ready; false: done (or failed: check status()).
  bool Step();
  // Runs to completion; the status of the run.
  Status Run();
  void Reset();
  const Status& status() const { return status_; }

  int64_t Int(int col) const;
  bool IsNull(int col) const;
  std::string_view Text(int col) const;
  std::string_view Blob(int col) const;

 private:
  SqliteDb& db_;
  sqlite3_stmt* stmt_ = nullptr;
  Status status_;
};

}  // namespace wanllmdb
