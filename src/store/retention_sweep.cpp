#include "store/retention_sweep.h"

#include <cstdio>

#include "core/chunk_codec.h"
#include "core/thread_name.h"
#include "core/thread_priority.h"
#include "core/time_util.h"
#include "store/retention_planner.h"

namespace wanllmdb {
namespace {

std::string Grouped(int64_t v) {
  std::string s = std::to_string(v), out;
  int n = 0;
  for (auto it = s.rbegin(); it != s.rend(); ++it) {
    if (n && n % 3 == 0 && *it != '-') out.push_back(',');
    out.push_back(*it);
    ++n;
  }
  return std::string(out.rbegin(), out.rend());
}

std::string LimitText(const RetentionTask& t) {
  std::string name(RetentionReasonName(t.reason));
  if (t.reason == RetentionReason::kMaxAge) {
    char days[32];
    std::snprintf(days, sizeof days, "%g", static_cast<double>(t.limit) / 86400e6);
    return name + " " + days + " days";
  }
  return name + " " + Grouped(t.limit);
}

}  // namespace

RetentionSweeper::RetentionSweeper(LogStore& store, RetentionSweepOptions options)
    : store_(store), options_(std::move(options)) {}

RetentionSweeper::~RetentionSweeper() {
  Stop();
}

void RetentionSweeper::Start() {
  if (options_.interval_s <= 0 || thread_.joinable()) return;
  thread_ = std::thread([this] { Loop(); });
  NameThread(thread_, "wl-retention");
}

void RetentionSweeper::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool RetentionSweeper::stopping() {
  std::lock_guard lock(mu_);
  return stopping_;
}

void RetentionSweeper::Loop() {
  SetThisThreadNice(kBackgroundNice);
  const auto interval = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(options_.interval_s));
  while (true) {
    {
      std::unique_lock lock(mu_);
      if (cv_.wait_for(lock, interval, [&] { return stopping_; })) return;
    }
    auto s = SweepOnce();
    if (!s.ok() && options_.log)
      options_.log("retention: sweep failed (tried again in " +
                   std::to_string(options_.interval_s) + " s): " + s.status().message());
  }
}

RetentionSweepStats RetentionSweeper::totals() const {
  RetentionSweepStats t;
  t.lines = lines_.load();
  t.bytes = bytes_.load();
  t.runs_deleted = runs_deleted_.load();
  t.pages_reclaimed = pages_.load();
  return t;
}

bool RetentionSweeper::Pause(std::chrono::steady_clock::duration took) {
  auto wait = std::max<std::chrono::steady_clock::duration>(
      options_.step_pause, std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                               took * options_.pause_factor));
  std::unique_lock lock(mu_);
  return !cv_.wait_for(lock, wait, [&] { return stopping_; });
}

Result<RetentionSweepStats> RetentionSweeper::SweepOnce() {
  const auto sweep_start = std::chrono::steady_clock::now();
  std::chrono::steady_clock::duration busy{}, longest{};  // in writes, for the log
  RetentionSweepStats stats;
  auto policies = store_.ListRetention();
  if (!policies.ok()) return policies.status();
  bool any = RemovesAnything(ResolveRetention({}, options_.defaults));
  for (const auto& [project, p] : *policies)
    any |= RemovesAnything(ResolveRetention(p, options_.defaults));
  if (!any) return stats;  // keep everything: not even the runs are read
  auto runs = store_.RetentionRuns();
  if (!runs.ok()) return runs.status();
  const auto tasks = PlanRetention(*policies, options_.defaults, *runs, NowMicros());
  for (const RetentionTask& task : tasks) {
    if (stopping()) break;
    int64_t done_lines = 0, done_bytes = 0, from = 0, to = 0;
    bool deleted = false;
    auto decode = [&](int64_t first_line) -> Result<std::vector<LogLine>> {
      ChunkQuery q;
      q.from_line = first_line;
      q.to_line = first_line;
      q.max_chunks = 1;
      auto chunks = store_.ReadChunks(task.run_id, q);
      if (!chunks.ok()) return chunks.status();
      if (chunks->empty() || chunks->front().first_line != first_line)
        return Status(Code::kConflict, "chunk " + std::to_string(first_line) + " is gone");
      DecodedChunk d;
      if (Status s = DecodeChunk(chunks->front().payload, &d); !s.ok()) return s;
      std::vector<LogLine> lines(d.n);
      for (size_t i = 0; i < d.n; ++i) {
        lines[i].level = static_cast<Level>(d.levels[i]);
        lines[i].source = static_cast<Source>(d.sources[i]);
        lines[i].writer = d.writers[d.writer_index[i]];
      }
      return lines;
    };
    Status failed;
    while (!stopping()) {
      auto view = store_.RetentionChunks(task.run_id, options_.chunks_per_step);
      if (!view.ok()) {
        if (view.status().code() != Code::kNotFound) failed = view.status();
        break;
      }
      RetentionCut cut;
      auto more =
          PlanCut(task, *view, done_lines, done_bytes, options_.chunks_per_step, decode, &cut);
      if (!more.ok()) {
        failed = more.status();
        break;
      }
      if (!*more) {
        if (task.delete_run && view->chunks.empty()) {
          Status d = store_.DeleteRun(task.run_id);
          if (d.ok()) {
            deleted = true;
            ++stats.runs_deleted;
            runs_deleted_.fetch_add(1);
          } else if (d.code() != Code::kNotFound) {
            failed = d;
          }
        }
        break;
      }
      cut.now_us = NowMicros();
      const auto step_start = std::chrono::steady_clock::now();
      Status s = store_.RemoveChunks(cut);
      if (!s.ok()) {
        failed = s;
        break;
      }
      ++stats.steps;
      stats.chunks += cut.chunks;
      stats.lines += cut.removed.total;
      stats.bytes += cut.removed.bytes;
      lines_.fetch_add(cut.removed.total);
      bytes_.fetch_add(cut.removed.bytes);
      done_lines += cut.removed.total;
      done_bytes += cut.removed.bytes;
      if (from == 0) from = cut.first_line;
      to = cut.last_line;
      const auto took = std::chrono::steady_clock::now() - step_start;
      busy += took;
      longest = std::max(longest, took);
      if (!Pause(took)) break;
    }
    if (failed.code() == Code::kConflict) ++stats.conflicts;
    if (!options_.log) continue;
    const std::string who = "run " + task.run_id + " (project '" + task.project + "')";
    if (done_lines > 0) {
      options_.log("retention: " + who + ": removed lines " + Grouped(from) + "-" + Grouped(to) +
                   " (" + Grouped(done_lines) + " lines, " + Grouped(done_bytes) + " bytes) by " +
                   LimitText(task));
    }
    if (deleted) options_.log("retention: " + who + ": deleted the run by " + LimitText(task));
    if (!failed.ok() && failed.code() != Code::kConflict)
      options_.log("retention: " + who + ": " + failed.message() + " (tried again next sweep)");
  }
  // Give the freed pages back, a little at a time (each step is one short write).
  while (!stopping()) {
    const auto step_start = std::chrono::steady_clock::now();
    auto freed = store_.ReclaimSpace(options_.vacuum_pages_per_step);
    if (!freed.ok()) break;
    stats.pages_reclaimed += *freed;
    pages_.fetch_add(*freed);
    const auto took = std::chrono::steady_clock::now() - step_start;
    busy += took;
    longest = std::max(longest, took);
    if (*freed < options_.vacuum_pages_per_step) break;
    if (!Pause(took)) break;
  }
  auto ms = [](std::chrono::steady_clock::duration d) {
    return static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
  };
  if (options_.log && (stats.lines > 0 || stats.runs_deleted > 0 || stats.pages_reclaimed > 0)) {
    options_.log("retention: sweep done in " +
                 std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                    std::chrono::steady_clock::now() - sweep_start)
                                    .count()) +
                 " ms: " + Grouped(stats.lines) + " lines (" + Grouped(stats.bytes) +
                 " bytes) removed, " + Grouped(stats.runs_deleted) + " runs deleted, " +
                 Grouped(stats.pages_reclaimed) + " free pages given back; " +
                 std::to_string(stats.steps) + " steps, " + std::to_string(ms(busy)) +
                 " ms in writes, the longest " + std::to_string(ms(longest)) + " ms");
  }
  return stats;
}

}  // namespace wanllmdb
