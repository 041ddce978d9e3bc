// SQLite store files for `wanllmdb admin`: a consistent online backup, a restore into a stopped
// server's data directory, the offline vacuum that converts an old store to incremental vacuum,
// and the advisory lock that tells them apart from a running server.
//
// The lock: `PATH.lock` beside the database file. A server holds a shared flock(2) on it for its
// whole life (several may, though one file should have one server); `restore` takes it
// exclusively, so it refuses while any server uses the store and no server starts mid-restore.
// flock is released by the kernel when a process dies, so a killed server leaves no stale lock.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "core/status.h"

namespace wanllmdb {

// Thread-safety: a value type (move-only); the lock is held until destruction.
class SqliteUseLock {
 public:
  // kUnavailable when another process holds the lock in a conflicting way.
  static Result<SqliteUseLock> Shared(const std::string& db_path);
  static Result<SqliteUseLock> Exclusive(const std::string& db_path);
  SqliteUseLock(SqliteUseLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  SqliteUseLock& operator=(SqliteUseLock&&) = delete;
  SqliteUseLock(const SqliteUseLock&) = delete;
  ~SqliteUseLock();

 private:
  explicit SqliteUseLock(int fd) : fd_(fd) {}
  static Result<SqliteUseLock> Take(const std::string& db_path, bool exclusive);
  int fd_;
};

// Writes a consistent copy of the database at `db_path` to `dest` with VACUUM INTO: one read
// transaction, so the copy is the store as of one commit while the server goes on writing (WAL
// readers never block the writer). The copy is written to DEST.partial and renamed, so `dest`
// is either absent or complete. kConflict when `dest` exists.
Status BackupSqlite(const std::string& db_path, const std::string& dest);

// Replaces the database at `db_path` with the backup `src` (checked first: an SQLite file that
// passes quick_check and holds a log store). Refuses (kConflict) while a server uses the store,
// or when a database exists there and `force` is false. Stale -wal/-shm files are removed: a
// WAL left from the old database must never be replayed onto the restored one.
Status RestoreSqlite(const std::string& src, const std::string& db_path, bool force);

// PRAGMA auto_vacuum of the database at `db_path`: 0 NONE (stores created before incremental
// vacuum: retention frees pages for reuse but the file never shrinks), 1 FULL, 2 INCREMENTAL.
Result<int> SqliteAutoVacuum(const std::string& db_path);

struct SqliteVacuumReport {
  int auto_vacuum_before = 0;
  int64_t bytes_before = 0;  // the database file and its WAL
  int64_t bytes_after = 0;
  int64_t pages_before = 0, free_pages_before = 0, page_size = 0;
};

// Rewrites the store at `db_path` compacted and with auto_vacuum=INCREMENTAL (so the retention
// sweep gives freed space back from then on). Offline: kConflict while a server (or another
// admin command) uses it (SqliteUseLock::Exclusive). VACUUM INTO DB.vacuuming (one read
// transaction; needs free space for the pages in use), checked (quick_check, auto_vacuum), then
// renamed over the database: a crash or a full disk before the rename leaves the store as it
// was. `progress(written, expected)` is called about once a second with the bytes written so far
// and the bytes in use the copy will hold, and once more when the copy is complete with both
// its size (null: silent).
Result<SqliteVacuumReport> VacuumSqlite(
    const std::string& db_path,
    const std::function<void(int64_t written, int64_t expected)>& progress = nullptr);

}  // namespace wanllmdb
