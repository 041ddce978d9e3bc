#include "cli/retention_flags.h"

#include <algorithm>
#include <cmath>
#include <tuple>

#include "server/disk_guard.h"

namespace wanllmdb {

void AddRetentionDefaultFlags(flags::Command cmd, RetentionDefaultFlags* f) {
  cmd.add_option("--retention-max-age-days", f->max_age_days,
                 "Default retention: remove the logs (or, with --retention-max-age-action "
                 "delete_run, the runs) of runs finished longer ago than this many days "
                 "(fractions allowed; 0: keep them)")
      .capture_default_str()
      .check(flags::Range(0.0, 36500.0));
  cmd.add_option("--retention-max-age-action", f->max_age_action,
                 "What --retention-max-age-days removes: delete_logs (the lines; the run stays) "
                 "or delete_run")
      .check(flags::IsMember({"delete_logs", "delete_run"}))
      .capture_default_str();
  cmd.add_option("--retention-max-lines-per-run", f->max_lines_per_run,
                 "Default rotation: a run over this many lines loses its oldest ones (line "
                 "numbers of the rest stay; 0: no limit)")
      .capture_default_str()
      .check(flags::Range(int64_t{0}, int64_t{1000000000000000}));
  cmd.add_option("--retention-max-bytes-per-run", f->max_bytes_per_run,
                 "Default rotation by message bytes of a run (512M, 2G, bytes; 0: no limit)")
      .capture_default_str();
  cmd.add_option("--retention-max-bytes-per-project", f->max_bytes_per_project,
                 "Default cap on the message bytes of all runs of a project: the oldest finished "
                 "runs' logs go first (512M, 2G, bytes; 0: no limit)")
      .capture_default_str();
}

Result<RetentionPolicy> RetentionDefaultsOf(const RetentionDefaultFlags& f) {
  RetentionPolicy rd;
  if (f.max_age_days > 0)
    rd.max_age_us = std::max<int64_t>(1, std::llround(f.max_age_days * 86400e6));
  rd.age_action = f.max_age_action == "delete_run" ? AgeAction::kDeleteRun : AgeAction::kDeleteLogs;
  if (f.max_lines_per_run > 0) rd.max_lines_per_run = f.max_lines_per_run;
  for (auto [flag, text, field] :
       {std::tuple{"--retention-max-bytes-per-run", &f.max_bytes_per_run, &rd.max_bytes_per_run},
        std::tuple{"--retention-max-bytes-per-project", &f.max_bytes_per_project,
                   &rd.max_bytes_per_project}}) {
    auto size = ParseDiskLimit(*text);
    if (!size.ok() || size->kind != DiskLimit::Kind::kBytes)
      return Status(
          Code::kInvalidValue,
          std::string(flag) + " wants a size (512M, 2G, bytes) or 0, got '" + *text + "'");
    if (size->bytes > 0) *field = size->bytes;
  }
  return rd;
}

}  // namespace wanllmdb
