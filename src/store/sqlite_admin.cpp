#include "store/sqlite_admin.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <sqlite3.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>

#include "store/sqlite_db.h"

namespace wanllmdb {
namespace {

namespace fs = std::filesystem;

// Flushes `path` to stable storage, so a rename after it publishes a complete file.
Status Fsync(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 || ::fsync(fd) != 0) {
    if (fd >= 0) ::close(fd);
    return Status(Code::kInternal, "cannot flush " + path + ": " + std::strerror(errno));
  }
  ::close(fd);
  return Status::Ok();
}

Status CopyDurably(const std::string& from, const std::string& to) {
  std::error_code ec;
  fs::copy_file(from, to, fs::copy_options::overwrite_existing, ec);
  if (ec) return Status(Code::kInternal, "cannot copy " + from + " to " + to + ": " + ec.message());
  return Fsync(to);
}

// Whether `path` is an SQLite database that holds a log store and passes quick_check.
Status CheckBackupFile(const std::string& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return Status(Code::kNotFound, "no backup file at " + path);
  SqliteDb db;
  if (Status s = db.Open(path, true); !s.ok()) return s;
  SqliteStmt tables(db,
                    "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN "
                    "('runs', 'log_chunks', 'schema_version')");
  if (!tables.Step() || tables.Int(0) != 3)
    return Status(Code::kInvalidValue, path + " is not a wanllmdb log store backup");
  SqliteStmt check(db, "PRAGMA quick_check");
  if (!check.Step() || check.Text(0) != "ok")
    return Status(Code::kInvalidValue, path + " is damaged (quick_check: " +
                                           std::string(check.ok() ? check.Text(0) : "failed") +
                                           ")");
  return Status::Ok();
}

int64_t FileBytes(const std::string& path) {
  std::error_code ec;
  auto n = fs::file_size(path, ec);
  return ec ? 0 : static_cast<int64_t>(n);
}

int64_t PragmaInt(SqliteDb& db, const char* sql) {
  SqliteStmt q(db, sql);
  return q.Step() ? q.Int(0) : -1;
}

// Called by SQLite every few thousand VM steps while VACUUM INTO runs: reports the copy's size
// about once a second.
struct VacuumProgress {
  const std::function<void(int64_t, int64_t)>* report;
  std::string partial;
  int64_t expected = 0;
  std::chrono::steady_clock::time_point last;
};

int OnVacuumProgress(void* arg) {
  auto* p = static_cast<VacuumProgress*>(arg);
  auto now = std::chrono::steady_clock::now();
  if (now - p->last >= std::chrono::seconds(1)) {
    p->last = now;
    (*p->report)(FileBytes(p->partial), p->expected);
  }
  return 0;  // go on
}

}  // namespace

Result<SqliteUseLock> SqliteUseLock::Take(const std::string& db_path, bool exclusive) {
  const std::string path = db_path + ".lock";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    return Status(Code::kUnavailable, "cannot open " + path + ": " + std::strerror(errno));
  if (::flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) != 0) {
    ::close(fd);
    return Status(Code::kUnavailable,
                  exclusive ? "a server (or another wanllmdb command) is using the store " +
                                  db_path + "; stop it first"
                            : "the store " + db_path +
                                  " is being restored; try again when "
                                  "`wanllmdb admin restore` has finished");
  }
  return SqliteUseLock(fd);
}

Result<SqliteUseLock> SqliteUseLock::Shared(const std::string& db_path) {
  return Take(db_path, false);
}

Result<SqliteUseLock> SqliteUseLock::Exclusive(const std::string& db_path) {
  return Take(db_path, true);
}

SqliteUseLock::~SqliteUseLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the last descriptor releases the flock
}

Status BackupSqlite(const std::string& db_path, const std::string& dest) {
  std::error_code ec;
  if (!fs::exists(db_path, ec)) return Status(Code::kNotFound, "no store at " + db_path);
  if (fs::exists(dest, ec)) return Status(Code::kConflict, dest + " exists; choose a new name");
  const std::string partial = dest + ".partial";
  fs::remove(partial, ec);
  SqliteDb db;
  // Read-write only because VACUUM INTO wants it; nothing is written to the store.
  if (Status s = db.Open(db_path, false); !s.ok()) return s;
  SqliteStmt q(db, "VACUUM INTO ?1");
  q.Bind(1, partial);
  if (Status s = q.Run(); !s.ok()) {
    fs::remove(partial, ec);
    return s;
  }
  if (Status s = Fsync(partial); !s.ok()) {
    fs::remove(partial, ec);
    return s;
  }
  fs::rename(partial, dest, ec);
  if (ec) return Status(Code::kInternal, "cannot rename " + partial + ": " + ec.message());
  return Status::Ok();
}

Status RestoreSqlite(const std::string& src, const std::string& db_path, bool force) {
  if (Status s = CheckBackupFile(src); !s.ok()) return s;
  fs::path target(db_path);
  std::error_code ec;
  if (target.has_parent_path()) fs::create_directories(target.parent_path(), ec);
  auto lock = SqliteUseLock::Exclusive(db_path);
  if (!lock.ok()) return Status(Code::kConflict, lock.status().message());
  if (fs::exists(db_path, ec) && !force)
    return Status(Code::kConflict,
                  db_path +
                      " already holds a store; pass --force to replace it (its lines are "
                      "lost unless backed up)");
  const std::string tmp = db_path + ".restoring";
  if (Status s = CopyDurably(src, tmp); !s.ok()) return s;
  for (const char* suffix : {"-wal", "-shm", "-journal"}) fs::remove(db_path + suffix, ec);
  fs::rename(tmp, db_path, ec);
  if (ec) return Status(Code::kInternal, "cannot rename " + tmp + ": " + ec.message());
  return Status::Ok();
}

Result<int> SqliteAutoVacuum(const std::string& db_path) {
  std::error_code ec;
  if (!fs::exists(db_path, ec)) return Status(Code::kNotFound, "no store at " + db_path);
  SqliteDb db;
  if (Status s = db.Open(db_path, true); !s.ok()) return s;
  const int64_t mode = PragmaInt(db, "PRAGMA auto_vacuum");
  if (mode < 0) return db.Error("PRAGMA auto_vacuum");
  return static_cast<int>(mode);
}

Result<SqliteVacuumReport> VacuumSqlite(const std::string& db_path,
                                        const std::function<void(int64_t, int64_t)>& progress) {
  std::error_code ec;
  if (!fs::exists(db_path, ec))
    return Status(Code::kNotFound, "no store at " + db_path + " (use --data or --store)");
  auto lock = SqliteUseLock::Exclusive(db_path);
  if (!lock.ok()) return Status(Code::kConflict, lock.status().message());
  SqliteVacuumReport report;
  report.bytes_before = FileBytes(db_path) + FileBytes(db_path + "-wal");
  const std::string partial = db_path + ".vacuuming";
  fs::remove(partial, ec);
  {
    SqliteDb db;
    if (Status s = db.Open(db_path, false); !s.ok()) return s;
    report.auto_vacuum_before = static_cast<int>(PragmaInt(db, "PRAGMA auto_vacuum"));
    report.pages_before = PragmaInt(db, "PRAGMA page_count");
    report.free_pages_before = PragmaInt(db, "PRAGMA freelist_count");
    report.page_size = PragmaInt(db, "PRAGMA page_size");
    // Set on the connection, this is what VACUUM INTO gives the copy (the original keeps its
    // mode: it is replaced whole below).
    if (Status s = db.Exec("PRAGMA auto_vacuum=INCREMENTAL"); !s.ok()) return s;
    VacuumProgress state{&progress, partial,
                         (report.pages_before - report.free_pages_before) * report.page_size,
                         std::chrono::steady_clock::now()};
    if (progress) sqlite3_progress_handler(db.handle(), 20000, OnVacuumProgress, &state);
    SqliteStmt q(db, "VACUUM INTO ?1");
    q.Bind(1, partial);
    Status s = q.Run();
    sqlite3_progress_handler(db.handle(), 0, nullptr, nullptr);
    if (!s.ok()) {
      fs::remove(partial, ec);
      return Status(s.code(),
                    "VACUUM INTO " + partial + " failed (the store is unchanged): " + s.message());
    }
    if (progress) progress(FileBytes(partial), FileBytes(partial));  // complete
  }  // closed: its WAL is checkpointed and removed before the copy replaces the file
  {
    SqliteDb out;
    Status s = out.Open(partial, true);
    if (s.ok() && PragmaInt(out, "PRAGMA auto_vacuum") != 2)
      s = Status(Code::kInternal, "the vacuumed copy did not get auto_vacuum=INCREMENTAL");
    if (s.ok()) {
      SqliteStmt check(out, "PRAGMA quick_check");
      if (!check.Step() || check.Text(0) != "ok")
        s = Status(Code::kInternal, "the vacuumed copy fails quick_check");
    }
    if (!s.ok()) {
      fs::remove(partial, ec);
      return Status(s.code(), s.message() + " (the store is unchanged)");
    }
  }
  if (Status s = Fsync(partial); !s.ok()) {
    fs::remove(partial, ec);
    return s;
  }
  // A WAL of the old file must never be replayed onto the new one (as in restore).
  for (const char* suffix : {"-wal", "-shm", "-journal"}) fs::remove(db_path + suffix, ec);
  fs::rename(partial, db_path, ec);
  if (ec) return Status(Code::kInternal, "cannot rename " + partial + ": " + ec.message());
  report.bytes_after = FileBytes(db_path);
  return report;
}

}  // namespace wanllmdb
