// `wanllmdb admin du|backup|restore|check|vacuum`: operations on a server's store, worked on the
// store directly like `wanllmdb keys` (doc/operations.md).
//   du        size and line counts per project and run, largest first (both stores; safe while
//             the server runs: it only reads).
//   backup    a consistent online copy of an SQLite store while the server runs (VACUUM INTO).
//             PostgreSQL: pg_dump is the tool; says so and exits 2.
//   restore   a backup into a stopped server's data directory; refuses while a server uses it,
//             and over an existing store without --force.
//   check     every chunk decodes, counters match the chunks, line ranges are disjoint and
//             dense (store/store_check.h); reports without changing anything. --repair rebuilds
//             counters from the chunks: SQLite only on a stopped server (its writer caches the
//             counters), PostgreSQL also live (the run's row is locked while repairing).
//   vacuum    rewrites a stopped server's SQLite store compacted and with auto_vacuum=INCREMENTAL
//             (stores created before incremental vacuum never shrink); refuses while a server
//             uses it. PostgreSQL: VACUUM is the database's job; says what to run and exits 2.
// Exit status: 0 done (check: no problem left), 1 failed (check: problems remain), 2 not
// possible for this store (PostgreSQL backup/restore/vacuum).
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>

#include "cli/commands.h"
#include "cli/flags.h"
#include "server/disk_guard.h"
#include "server/json_out.h"
#include "store/log_store.h"
#include "store/postgres_store.h"
#include "store/sqlite_admin.h"
#include "store/store_check.h"

namespace wanllmdb {
namespace {

struct AdminOptions {
  std::string data_dir = "./data";
  std::string store_url;
  std::string path;  // DEST of backup, SRC of restore
  bool json = false, force = false, repair = false;
  std::string run_id;  // check: only this run
  int top = 0;         // du: at most this many runs (0: all)
};

int Fail(const Status& s) {
  std::fprintf(stderr, "wanllmdb admin: %s\n", s.message().c_str());
  return 1;
}

// The store's URL: --store, else the SQLite file in --data.
std::string StoreUrl(const AdminOptions& o) {
  if (!o.store_url.empty()) return o.store_url;
  return "sqlite:" + (std::filesystem::path(o.data_dir) / "logs.db").string();
}

// The SQLite file of the store, or "" for PostgreSQL.
std::string SqlitePath(const std::string& url) {
  if (url.rfind("sqlite:", 0) == 0) return url.substr(7);
  if (IsPostgresUrl(url) || url.find_first_of(":=") != std::string::npos) return "";
  return url;
}

int PostgresRefusal(const char* what) {
  std::fprintf(stderr,
               "wanllmdb admin %s: the store is PostgreSQL; use its own tools, which are "
               "consistent while the nodes keep running:\n"
               "  pg_dump -Fc -d DBNAME > wanllmdb.dump      (backup)\n"
               "  pg_restore -d DBNAME wanllmdb.dump         (restore)\n"
               "or point-in-time recovery (base backup + WAL archive); see doc/deploy.md\n",
               what);
  return 2;
}

struct ProjectUsage {
  std::string name;
  int64_t runs = 0, lines = 0, raw_bytes = 0, stored_bytes = 0;
};

int Du(const AdminOptions& o) {
  const std::string url = StoreUrl(o);
  const std::string sqlite = SqlitePath(url);
  std::error_code ec;
  if (!sqlite.empty() && !std::filesystem::exists(sqlite, ec))
    return Fail(Status(Code::kNotFound, "no store at " + sqlite + " (use --data or --store)"));
  StoreOptions options;
  options.background_work = false;  // a reader beside a running server: never merge from here
  auto store = OpenStore(url, options);
  if (!store.ok()) return Fail(store.status());
  auto usage = (*store)->Usage();
  (*store)->Close();
  if (!usage.ok()) return Fail(usage.status());
  std::vector<RunUsage> runs = std::move(*usage);
  auto larger = [](const auto& a, const auto& b) {
    return a.stored_bytes != b.stored_bytes ? a.stored_bytes > b.stored_bytes : a.lines > b.lines;
  };
  std::sort(runs.begin(), runs.end(), larger);
  std::map<std::string, ProjectUsage> by_project;
  for (const auto& r : runs) {
    ProjectUsage& p = by_project[r.project];
    p.name = r.project;
    ++p.runs;
    p.lines += r.lines;
    p.raw_bytes += r.raw_bytes;
    p.stored_bytes += r.stored_bytes;
  }
  std::vector<ProjectUsage> projects;
  for (auto& [name, p] : by_project) projects.push_back(p);
  std::sort(projects.begin(), projects.end(), larger);
  if (o.top > 0 && runs.size() > static_cast<size_t>(o.top)) runs.resize(o.top);

  if (o.json) {
    JsonOut j;
    j.BeginObject().Key("projects").BeginArray();
    for (const auto& p : projects) {
      j.BeginObject().Key("project").String(p.name).Key("runs").Int(p.runs);
      j.Key("lines").Int(p.lines).Key("raw_bytes").Int(p.raw_bytes);
      j.Key("stored_bytes").Int(p.stored_bytes).EndObject();
    }
    j.EndArray().Key("runs").BeginArray();
    for (const auto& r : runs) {
      j.BeginObject().Key("id").String(r.run_id).Key("project").String(r.project);
      j.Key("name").String(r.name).Key("lines").Int(r.lines).Key("raw_bytes").Int(r.raw_bytes);
      j.Key("stored_bytes").Int(r.stored_bytes).Key("chunks").Int(r.chunks).EndObject();
    }
    j.EndArray().EndObject();
    std::string text = j.Take();
    std::printf("%s\n", text.c_str());
    return 0;
  }
  std::printf("%-32s %6s %14s %12s %12s\n", "PROJECT", "RUNS", "LINES", "RAW", "STORED");
  for (const auto& p : projects) {
    std::printf("%-32s %6lld %14lld %12s %12s\n", p.name.c_str(), static_cast<long long>(p.runs),
                static_cast<long long>(p.lines), FormatBytes(p.raw_bytes).c_str(),
                FormatBytes(p.stored_bytes).c_str());
  }
  std::printf("\n%-36s %-20s %-20s %14s %12s %12s\n", "RUN", "PROJECT", "NAME", "LINES", "RAW",
              "STORED");
  for (const auto& r : runs) {
    std::printf("%-36s %-20s %-20s %14lld %12s %12s\n", r.run_id.c_str(), r.project.c_str(),
                r.name.c_str(), static_cast<long long>(r.lines), FormatBytes(r.raw_bytes).c_str(),
                FormatBytes(r.stored_bytes).c_str());
  }
  return 0;
}

int Backup(const AdminOptions& o) {
  const std::string sqlite = SqlitePath(StoreUrl(o));
  if (sqlite.empty()) return PostgresRefusal("backup");
  if (Status s = BackupSqlite(sqlite, o.path); !s.ok()) return Fail(s);
  std::error_code ec;
  auto size = std::filesystem::file_size(o.path, ec);
  std::fprintf(stderr, "backed up %s to %s (%s)\n", sqlite.c_str(), o.path.c_str(),
               FormatBytes(ec ? 0 : static_cast<int64_t>(size)).c_str());
  return 0;
}

int Restore(const AdminOptions& o) {
  const std::string sqlite = SqlitePath(StoreUrl(o));
  if (sqlite.empty()) return PostgresRefusal("restore");
  if (Status s = RestoreSqlite(o.path, sqlite, o.force); !s.ok()) return Fail(s);
  std::fprintf(stderr, "restored %s into %s; start the server on it\n", o.path.c_str(),
               sqlite.c_str());
  return 0;
}

int Vacuum(const AdminOptions& o) {
  const std::string sqlite = SqlitePath(StoreUrl(o));
  if (sqlite.empty()) {
    std::fprintf(stderr,
                 "wanllmdb admin vacuum: the store is PostgreSQL, which reclaims space itself: "
                 "autovacuum makes the space of removed lines reusable for new ones, with the "
                 "nodes running. To give disk space back to the operating system, run in a "
                 "maintenance window (it locks the table while it rewrites it):\n"
                 "  VACUUM (FULL, ANALYZE) log_chunks;\n"
                 "or pg_repack, which does it online; see doc/deploy.md\n");
    return 2;
  }
  std::error_code ec;
  if (!std::filesystem::exists(sqlite, ec))
    return Fail(Status(Code::kNotFound, "no store at " + sqlite + " (use --data or --store)"));
  auto mode = SqliteAutoVacuum(sqlite);
  if (!mode.ok()) return Fail(mode.status());
  const char* names[] = {"NONE", "FULL", "INCREMENTAL"};
  const char* before = *mode >= 0 && *mode <= 2 ? names[*mode] : "?";
  std::printf(
      "vacuuming %s (auto_vacuum=%s -> INCREMENTAL); it needs free space for the pages "
      "in use and may take a while on a large store\n",
      sqlite.c_str(), before);
  std::fflush(stdout);
  auto report = VacuumSqlite(sqlite, [](int64_t written, int64_t expected) {
    const int pct =
        expected > 0 ? static_cast<int>(std::min<int64_t>(100, written * 100 / expected)) : 100;
    std::printf("  written %s of about %s (%d%%)\n", FormatBytes(written).c_str(),
                FormatBytes(expected).c_str(), pct);
    std::fflush(stdout);
  });
  if (!report.ok()) return Fail(report.status());
  const SqliteVacuumReport& r = *report;
  std::printf("size before: %s (%lld pages of %lld bytes, %lld of them free)\n",
              FormatBytes(r.bytes_before).c_str(), static_cast<long long>(r.pages_before),
              static_cast<long long>(r.page_size), static_cast<long long>(r.free_pages_before));
  std::printf(
      "size after:  %s (%s given back); auto_vacuum=INCREMENTAL: the retention sweep "
      "gives freed space back from now on\n",
      FormatBytes(r.bytes_after).c_str(),
      FormatBytes(std::max<int64_t>(0, r.bytes_before - r.bytes_after)).c_str());
  return 0;
}

int Check(const AdminOptions& o) {
  const std::string url = StoreUrl(o);
  const std::string sqlite = SqlitePath(url);
  std::error_code ec;
  if (!sqlite.empty() && !std::filesystem::exists(sqlite, ec))
    return Fail(Status(Code::kNotFound, "no store at " + sqlite + " (use --data or --store)"));
  // A repair of SQLite needs the store to itself: a server's writer keeps the counters it
  // appends to in memory and would write its own back over the repaired ones.
  std::optional<SqliteUseLock> lock;
  if (!sqlite.empty()) {
    auto l = o.repair ? SqliteUseLock::Exclusive(sqlite) : SqliteUseLock::Shared(sqlite);
    if (!l.ok()) {
      return Fail(Status(l.status().code(),
                         l.status().message() +
                             (o.repair ? " (check without --repair runs beside a server)" : "")));
    }
    lock.emplace(std::move(*l));
  }
  StoreOptions options;
  options.background_work = false;  // merges would change chunks under the check
  auto store = OpenStore(url, options);
  if (!store.ok()) return Fail(store.status());
  CheckOptions co;
  co.run_id = o.run_id;
  co.repair = o.repair;
  CheckSink sink;
  sink.problem = [](const CheckProblem& p) {
    std::printf("run %s: %s\n", p.run_id.c_str(), p.what.c_str());
    std::fflush(stdout);
  };
  sink.repaired = [](const std::string& id, int64_t fixed) {
    std::printf("run %s: repaired %lld problem%s (rebuilt from its chunks)\n", id.c_str(),
                static_cast<long long>(fixed), fixed == 1 ? "" : "s");
  };
  sink.repair_failed = [](const std::string& id, const Status& s) {
    std::printf("run %s: not repaired: %s\n", id.c_str(), s.message().c_str());
  };
  auto report = CheckStore(**store, co, sink);
  (*store)->Close();
  if (!report.ok()) return Fail(report.status());
  const CheckReport& r = *report;
  const int64_t left = r.problems - r.repaired_problems;
  std::printf("checked %lld runs, %lld chunks, %lld lines: ", static_cast<long long>(r.runs),
              static_cast<long long>(r.chunks), static_cast<long long>(r.lines));
  if (r.problems == 0) {
    std::printf("no problems\n");
  } else if (o.repair) {
    std::printf("%lld problems, %lld repaired, %lld left\n", static_cast<long long>(r.problems),
                static_cast<long long>(r.repaired_problems), static_cast<long long>(left));
  } else {
    std::printf("%lld problems, %lld of them repairable with --repair\n",
                static_cast<long long>(r.problems), static_cast<long long>(r.repairable));
  }
  return left == 0 ? 0 : 1;
}

}  // namespace

void AddAdminCommand(flags::Command app, int* exit_code) {
  auto o = std::make_shared<AdminOptions>();
  auto cmd = app.add_subcommand(
      "admin",
      "Operate on a server's store: du, backup, restore, check, vacuum, export-run, import-run, "
      "retention");
  cmd.require_subcommand(1);
  auto store_options = [o](flags::Command sub) {
    sub.add_option("--data", o->data_dir, "Data directory of the server").capture_default_str();
    sub.add_option("--store", o->store_url,
                   "Store URL instead of --data (sqlite:PATH or "
                   "PostgreSQL)");
  };
  auto du = cmd.add_subcommand("du", "Size and line counts per project and run, largest first");
  store_options(du);
  du.add_flag("--json", o->json, "One JSON object: {projects: [...], runs: [...]}");
  du.add_option("--top", o->top, "Show at most this many runs").check(flags::NonNegativeNumber);
  du.callback([o, exit_code] { *exit_code = Du(*o); });
  auto backup = cmd.add_subcommand(
      "backup", "Consistent copy of an SQLite store, also while the server runs (VACUUM INTO)");
  store_options(backup);
  backup.add_option("dest", o->path, "The backup file to write (must not exist)").required();
  backup.callback([o, exit_code] { *exit_code = Backup(*o); });
  auto restore = cmd.add_subcommand(
      "restore", "Put a backup in place as a stopped server's store (refused while it runs)");
  store_options(restore);
  restore.add_option("src", o->path, "A file written by 'wanllmdb admin backup'").required();
  restore.add_flag("--force", o->force, "Replace the store that is there");
  restore.callback([o, exit_code] { *exit_code = Restore(*o); });
  auto check = cmd.add_subcommand(
      "check",
      "Check every chunk decodes and the counters and line ranges match the chunks; "
      "changes nothing unless --repair");
  store_options(check);
  check.add_flag("--repair", o->repair,
                 "Rebuild counters and chunk metadata from the chunks (SQLite: the server must be "
                 "stopped)");
  check.add_option("--run", o->run_id, "Check only this run (its full id)");
  check.callback([o, exit_code] { *exit_code = Check(*o); });
  auto vacuum = cmd.add_subcommand(
      "vacuum",
      "Compact a stopped server's SQLite store and switch it to incremental vacuum, so retention "
      "gives space back (stores made before it never shrink); refused while a server runs");
  store_options(vacuum);
  vacuum.callback([o, exit_code] { *exit_code = Vacuum(*o); });
  AddRunTransferCommands(cmd, exit_code);
  AddRetentionCommands(cmd, exit_code);
}

}  // namespace wanllmdb
