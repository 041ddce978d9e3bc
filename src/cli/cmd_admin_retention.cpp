// `wanllmdb admin retention show|set PROJECT` and `sweep`: a project's retention policy
// (doc/operations.md "Retention and rotation"), read and written on the store directly like the
// other admin commands, so it works beside a running server on both stores (the sweep reads the
// policies afresh every time). The same limits and checks as PUT /api/v1/projects/{name}/retention.
//   show PROJECT [--json]   what the project sets; what it does not set follows the server's
//                           --retention-* defaults (shown by GET .../retention on the server)
//   set PROJECT [--max-age-days D] [--max-age-action A] [--max-lines-per-run N]
//               [--max-bytes-per-run SIZE] [--max-bytes-per-project SIZE] [--reset]
//                           changes the given limits, keeps the others; "none" = no limit,
//                           "default" = follow the server default.
//   sweep [--retention-* as the server]
//                           one retention sweep now (store/retention_sweep.h), printing what it
//                           removes. SQLite: only on a stopped server's store (a running server
//                           sweeps by itself every --retention-interval, and its writer keeps the
//                           counters a sweep changes); PostgreSQL: also beside running nodes (a
//                           step removes only what is still as planned).
// Exit status: 0 done, 1 failed (unknown project, bad value, store unreadable, server running).
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>

#include "cli/commands.h"
#include "cli/flags.h"
#include "cli/retention_flags.h"
#include "core/time_util.h"
#include "server/disk_guard.h"
#include "server/retention_json.h"
#include "store/log_store.h"
#include "store/retention.h"
#include "store/retention_sweep.h"
#include "store/sqlite_admin.h"

namespace wanllmdb {
namespace {

struct RetentionOptions {
  std::string data_dir = "./data";
  std::string store_url;
  std::string project;
  bool json = false, reset = false;
  std::optional<std::string> max_age_days, max_age_action, max_lines, max_run_bytes,
      max_project_bytes;
};

int Fail(const Status& s) {
  std::fprintf(stderr, "wanllmdb admin retention: %s\n", s.message().c_str());
  return 1;
}

// The store's URL: --store, else the SQLite file in --data (which must exist).
Result<std::string> UrlOf(const RetentionOptions& o) {
  if (!o.store_url.empty()) return o.store_url;
  const auto path = std::filesystem::path(o.data_dir) / "logs.db";
  std::error_code ec;
  if (!std::filesystem::exists(path, ec))
    return Status(Code::kNotFound, "no store at " + path.string() + " (use --data or --store)");
  return "sqlite:" + path.string();
}

Result<std::unique_ptr<LogStore>> Open(const RetentionOptions& o) {
  auto url = UrlOf(o);
  if (!url.ok()) return url.status();
  StoreOptions options;
  options.background_work = false;  // beside a running server: only this one write
  return OpenStore(*url, options);
}

// "none" → kNoLimit, "default" → kInherit, else `parse`.
template <typename F>
Status SetField(const char* flag, const std::optional<std::string>& text, int64_t* field, F parse) {
  if (!text) return Status::Ok();
  if (*text == "none") {
    *field = RetentionPolicy::kNoLimit;
  } else if (*text == "default") {
    *field = RetentionPolicy::kInherit;
  } else {
    auto v = parse(*text);
    if (!v)
      return Status(Code::kInvalidValue, std::string(flag) + ": '" + *text + "' " +
                                             "is not valid (a positive value, none or "
                                             "default)");
    *field = *v;
  }
  return Status::Ok();
}

std::optional<int64_t> Days(const std::string& s) {
  char* end = nullptr;
  const double d = std::strtod(s.c_str(), &end);
  if (end == s.c_str() || *end != '\0' || !std::isfinite(d) || d <= 0 || d > kMaxRetentionDays)
    return std::nullopt;
  return std::max<int64_t>(1, std::llround(d * 86400e6));
}

std::optional<int64_t> Lines(const std::string& s) {
  if (s.empty() || s.size() > 16 || s.find_first_not_of("0123456789") != std::string::npos)
    return std::nullopt;
  const int64_t n = std::stoll(s);
  if (n < 1 || n > kMaxRetentionLines) return std::nullopt;
  return n;
}

std::optional<int64_t> Bytes(const std::string& s) {
  auto l = ParseDiskLimit(s);
  if (!l.ok() || l->kind != DiskLimit::Kind::kBytes || l->bytes < 1 ||
      l->bytes > kMaxRetentionBytes)
    return std::nullopt;
  return l->bytes;
}

void PrintText(const std::string& project, const RetentionPolicy& p) {
  auto limit = [](int64_t v, const std::string& shown) {
    return v == RetentionPolicy::kInherit   ? std::string("(server default)")
           : v == RetentionPolicy::kNoLimit ? std::string("none (keep everything)")
                                            : shown;
  };
  char days[32];
  std::snprintf(days, sizeof days, "%g", static_cast<double>(p.max_age_us) / 86400e6);
  std::printf("retention of project '%s'%s:\n", project.c_str(),
              p == RetentionPolicy{} ? " (nothing set: the server defaults apply)" : "");
  std::printf("  max_age_days           %s\n", limit(p.max_age_us, days).c_str());
  std::printf("  max_age_action         %s\n",
              p.age_action == AgeAction::kInherit
                  ? "(server default)"
                  : std::string(AgeActionName(p.age_action)).c_str());
  std::printf("  max_lines_per_run      %s\n",
              limit(p.max_lines_per_run, std::to_string(p.max_lines_per_run)).c_str());
  std::printf("  max_bytes_per_run      %s\n",
              limit(p.max_bytes_per_run, FormatBytes(p.max_bytes_per_run)).c_str());
  std::printf("  max_bytes_per_project  %s\n",
              limit(p.max_bytes_per_project, FormatBytes(p.max_bytes_per_project)).c_str());
}

int Show(const RetentionOptions& o) {
  auto store = Open(o);
  if (!store.ok()) return Fail(store.status());
  auto p = (*store)->GetRetention(o.project);
  (*store)->Close();
  if (!p.ok()) return Fail(p.status());
  if (o.json) {
    // The server defaults are the server's flags, unknown here: "defaults" is empty.
    std::printf("%s\n", RetentionJson(o.project, *p, {}).c_str());
  } else {
    PrintText(o.project, *p);
  }
  return 0;
}

int Set(const RetentionOptions& o) {
  auto store = Open(o);
  if (!store.ok()) return Fail(store.status());
  auto current = (*store)->GetRetention(o.project);
  if (!current.ok()) {
    (*store)->Close();
    return Fail(current.status());
  }
  RetentionPolicy p = o.reset ? RetentionPolicy{} : *current;
  Status s = SetField("--max-age-days", o.max_age_days, &p.max_age_us, Days);
  if (s.ok()) s = SetField("--max-lines-per-run", o.max_lines, &p.max_lines_per_run, Lines);
  if (s.ok()) s = SetField("--max-bytes-per-run", o.max_run_bytes, &p.max_bytes_per_run, Bytes);
  if (s.ok())
    s = SetField("--max-bytes-per-project", o.max_project_bytes, &p.max_bytes_per_project, Bytes);
  if (s.ok() && o.max_age_action) {
    auto a = *o.max_age_action == "default" ? std::optional(AgeAction::kInherit)
                                            : ParseAgeAction(*o.max_age_action);
    if (!a || (*a == AgeAction::kInherit && *o.max_age_action != "default")) {
      s = Status(Code::kInvalidValue, "--max-age-action: '" + *o.max_age_action +
                                          "' is not delete_logs, delete_run or default");
    } else {
      p.age_action = *a;
    }
  }
  if (s.ok()) {
    p.updated_at_us = NowMicros();
    s = (*store)->SetRetention(o.project, p);
  }
  (*store)->Close();
  if (!s.ok()) return Fail(s);
  PrintText(o.project, p);
  return 0;
}

int Sweep(const RetentionOptions& o, const RetentionDefaultFlags& flags) {
  auto defaults = RetentionDefaultsOf(flags);
  if (!defaults.ok()) return Fail(defaults.status());
  auto url = UrlOf(o);
  if (!url.ok()) return Fail(url.status());
  const bool sqlite = url->rfind("sqlite:", 0) == 0;
  std::optional<SqliteUseLock> lock;
  if (sqlite) {
    auto l = SqliteUseLock::Exclusive(url->substr(7));
    if (!l.ok())
      return Fail(Status(l.status().code(),
                         l.status().message() +
                             " (a running server sweeps by itself every --retention-interval "
                             "seconds)"));
    lock.emplace(std::move(*l));
  }
  auto store = Open(o);
  if (!store.ok()) return Fail(store.status());
  RetentionSweepOptions so;
  so.defaults = *defaults;
  so.interval_s = 0;  // this one sweep, on this thread
  if (sqlite) {
    // The store is ours alone: no ingest to leave room for between steps.
    so.step_pause = std::chrono::milliseconds(0);
    so.pause_factor = 0;
  }
  so.log = [](const std::string& m) {
    std::printf("%s\n", m.c_str());
    std::fflush(stdout);
  };
  RetentionSweeper sweeper(**store, so);
  auto stats = sweeper.SweepOnce();
  (*store)->Close();
  if (!stats.ok()) return Fail(stats.status());
  const RetentionSweepStats& st = *stats;
  if (st.lines == 0 && st.runs_deleted == 0 && st.pages_reclaimed == 0) {
    std::printf("retention: nothing to remove (no policy is exceeded%s)\n",
                st.conflicts ? "; some runs changed under the sweep, try again" : "");
  } else {
    std::printf(
        "retention: removed %lld lines (%s) in %lld chunks, deleted %lld runs, gave back "
        "%lld free pages\n",
        static_cast<long long>(st.lines), FormatBytes(st.bytes).c_str(),
        static_cast<long long>(st.chunks), static_cast<long long>(st.runs_deleted),
        static_cast<long long>(st.pages_reclaimed));
  }
  return 0;
}

}  // namespace

void AddRetentionCommands(flags::Command admin, int* exit_code) {
  auto o = std::make_shared<RetentionOptions>();
  auto cmd = admin.add_subcommand(
      "retention",
      "A project's retention policy: how long and how much of its logs are kept; a sweep now");
  cmd.require_subcommand(1);
  auto common = [o](flags::Command sub) {
    sub.add_option("project", o->project, "The project").required();
    sub.add_option("--data", o->data_dir, "Data directory of the server").capture_default_str();
    sub.add_option("--store", o->store_url,
                   "Store URL instead of --data (sqlite:PATH or PostgreSQL)");
  };
  auto show = cmd.add_subcommand("show", "What the project's policy sets");
  common(show);
  show.add_flag("--json", o->json, "As GET /api/v1/projects/{name}/retention (without defaults)");
  show.callback([o, exit_code] { *exit_code = Show(*o); });
  auto set = cmd.add_subcommand(
      "set",
      "Change limits of the project's policy (the others stay); 'none' = no limit, "
      "'default' = follow the server's --retention-* default");
  common(set);
  set.add_option("--max-age-days", o->max_age_days,
                 "Remove the logs (or runs) of runs finished longer ago (days, fractions ok)");
  set.add_option("--max-age-action", o->max_age_action, "delete_logs (keep the run) or delete_run");
  set.add_option("--max-lines-per-run", o->max_lines,
                 "Rotation: a run keeps at most this many of its newest lines");
  set.add_option("--max-bytes-per-run", o->max_run_bytes,
                 "Rotation by message bytes of a run (512M, 2G, bytes)");
  set.add_option("--max-bytes-per-project", o->max_project_bytes,
                 "Cap on a project's message bytes: the oldest finished runs' logs go first");
  set.add_flag("--reset", o->reset, "Start from nothing set (then apply the options given)");
  set.callback([o, exit_code] { *exit_code = Set(*o); });
  auto defaults = std::make_shared<RetentionDefaultFlags>();
  auto sweep = cmd.add_subcommand(
      "sweep",
      "Run one retention sweep now and print what it removes (SQLite: the server must be "
      "stopped; it sweeps by itself every --retention-interval). Give the server's --retention-* "
      "defaults, or only the projects' own policies apply");
  sweep.add_option("--data", o->data_dir, "Data directory of the server").capture_default_str();
  sweep.add_option("--store", o->store_url,
                   "Store URL instead of --data (sqlite:PATH or PostgreSQL)");
  AddRetentionDefaultFlags(sweep, defaults.get());
  sweep.callback([o, defaults, exit_code] { *exit_code = Sweep(*o, *defaults); });
}

}  // namespace wanllmdb
