// Store benchmarks for `make bench` (issue 2). Prints figures; asserts nothing.
//   - rows baseline: the same lines into a one-row-per-line SQLite table (the original plan's
//     design, with its indexes), as the ratio the chunk store must beat;
//   - bytes on disk per line after merge;
//   - substring and regex search over a 1,000,000-line run;
//   - latest 500 lines of a 10,000,000-line run.
// Usage: bench_store DIR [--lines-big N]
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "bench/training_lines.h"
#include "core/uuid.h"
#include "store/query_engine.h"
#include "store/sqlite_store.h"

using namespace wanllmdb;
using Clock = std::chrono::steady_clock;

namespace {

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

std::string NewRunIn(LogStore& store) {
  NewRun r;
  r.id = NewUuid();
  r.project = "bench";
  return store.CreateRun(r, nullptr)->id;
}

// Fills a run with `n` lines in 1,000-line batches from 4 threads (like concurrent uploads).
double Fill(LogStore& store, const std::string& run_id, int64_t n) {
  auto t0 = Clock::now();
  const int threads = 4;
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t) {
    ts.emplace_back([&, t] {
      TrainingLines gen(static_cast<uint32_t>(t + 1));
      for (int64_t b = t; b * 1000 < n; b += threads) {
        IngestBatch batch;
        batch.run_id = run_id;
        batch.writer = "rank-" + std::to_string(t);
        batch.lines = gen.Batch(1000, 1731751200000000 + b * 1000 * 1000);
        if (!store.Append(std::move(batch)).ok()) std::abort();
      }
    });
  }
  for (auto& t : ts) t.join();
  return Seconds(t0, Clock::now());
}

double RowsBaseline(const std::string& path, int64_t n) {
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_exec(db,
               "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
               "CREATE TABLE run_logs (id TEXT PRIMARY KEY, run_id TEXT NOT NULL, level TEXT, "
               "message TEXT NOT NULL, timestamp INTEGER NOT NULL, source TEXT NOT NULL, "
               "line_number INTEGER);"
               "CREATE INDEX ix_run_logs_run_id_timestamp ON run_logs(run_id, timestamp);"
               "CREATE INDEX ix_run_logs_level ON run_logs(level);"
               "CREATE INDEX ix_run_logs_source ON run_logs(source);",
               nullptr, nullptr, nullptr);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "INSERT INTO run_logs VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", -1, &st,
                     nullptr);
  TrainingLines gen(7);
  std::string run_id = NewUuid();
  auto t0 = Clock::now();
  int64_t line = 0;
  for (int64_t b = 0; b * 1000 < n; ++b) {
    auto lines = gen.Batch(1000, 1731751200000000 + b * 1000000);
    sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
    for (auto& l : lines) {
      std::string id = NewUuid();
      sqlite3_bind_text(st, 1, id.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(st, 2, run_id.c_str(), -1, SQLITE_STATIC);
      sqlite3_bind_text(st, 3, LevelName(l.level).data(), -1, SQLITE_STATIC);
      sqlite3_bind_text(st, 4, l.message.c_str(), static_cast<int>(l.message.size()),
                        SQLITE_STATIC);
      sqlite3_bind_int64(st, 5, l.timestamp_us);
      sqlite3_bind_text(st, 6, "stdout", -1, SQLITE_STATIC);
      sqlite3_bind_int64(st, 7, ++line);
      sqlite3_step(st);
      sqlite3_reset(st);
    }
    sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
  }
  double secs = Seconds(t0, Clock::now());
  sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", nullptr, nullptr, nullptr);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return secs;
}

template <typename F>
double BestOf(int times, F f) {
  double best = 1e9;
  for (int i = 0; i < times; ++i) {
    auto t0 = Clock::now();
    f();
    best = std::min(best, Seconds(t0, Clock::now()));
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_store DIR [--lines-big N]\n");
    return 2;
  }
  std::filesystem::path dir = argv[1];
  int64_t big = 10'000'000;
  if (argc >= 4 && std::string(argv[2]) == "--lines-big") big = std::stoll(argv[3]);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const int64_t n = 1'000'000;

  std::printf("== store benchmarks (direct, no HTTP)\n");
  {
    double rows = RowsBaseline((dir / "rows.db").string(), n);
    auto rows_bytes = std::filesystem::file_size(dir / "rows.db");
    std::printf(
        "row-per-line SQLite table (original plan): %.0f lines/s, %.1f bytes/line on disk\n",
        n / rows, static_cast<double>(rows_bytes) / n);
    std::fflush(stdout);
  }
  auto store = OpenSqliteStore((dir / "logs.db").string());
  if (!store.ok()) {
    std::fprintf(stderr, "%s\n", store.status().message().c_str());
    return 1;
  }
  LogStore& s = **store;
  std::string run = NewRunIn(s);
  double fill = Fill(s, run, n);
  std::printf("chunk store ingest, 4 threads, 1,000-line batches: %.0f lines/s\n", n / fill);
  auto t0 = Clock::now();
  if (Status c = s.CompactNow(); !c.ok()) {
    std::fprintf(stderr, "merge failed: %s\n", c.message().c_str());
    return 1;
  }
  std::printf("merge + recompress of %lld lines: %.2f s\n", static_cast<long long>(n),
              Seconds(t0, Clock::now()));
  s.Close();
  store = OpenSqliteStore((dir / "logs.db").string());  // checkpointed and reopened
  LogStore& s2 = **store;
  std::printf("bytes on disk per line after merge: %.1f (goal <= 20)\n",
              static_cast<double>(*s2.BytesOnDisk()) / n);

  QueryEngine engine(s2);
  auto search = [&](LogFilter f) {
    auto m = LineMatcher::Compile(f);
    ListRequest r;
    r.limit = 500;
    return BestOf(5, [&] { (void)engine.List(run, **m, r); });
  };
  LogFilter rare;
  rare.search = "CUDA out of memory";  // in no line: a full scan
  LogFilter common;
  common.search = "nan";
  LogFilter rx;
  rx.regex = R"(loss=0\.00\d+ .*lr=)";
  LogFilter rx_rare;
  rx_rare.regex = R"(segfault at [0-9a-f]+)";
  std::printf("search over 1,000,000 lines, full scan (no match):   %.1f ms (goal <= 100)\n",
              search(rare) * 1000);
  std::printf("search, first 500 matches of a common word:          %.1f ms\n",
              search(common) * 1000);
  std::printf("regex over 1,000,000 lines, full scan (no match):    %.1f ms (goal <= 100)\n",
              search(rx_rare) * 1000);
  std::printf("regex, first 500 matches:                            %.1f ms\n", search(rx) * 1000);
  std::fflush(stdout);

  std::string big_run = NewRunIn(s2);
  double big_fill = Fill(s2, big_run, big);
  std::printf("filled a %lld-line run in %.1f s (%.0f lines/s)\n", static_cast<long long>(big),
              big_fill, big / big_fill);
  auto all = LineMatcher::Compile({});
  double latest = BestOf(20, [&] { (void)engine.Latest(big_run, **all, 500); });
  std::printf("latest 500 lines of a %lld-line run: %.2f ms (goal <= 5)\n",
              static_cast<long long>(big), latest * 1000);
  ListRequest mid;
  mid.after_line = big / 2;
  mid.limit = 500;
  double jump = BestOf(20, [&] { (void)engine.List(big_run, **all, mid); });
  std::printf("500 lines from the middle of it (after_line=%lld): %.2f ms\n",
              static_cast<long long>(big / 2), jump * 1000);
  s2.Close();
  std::filesystem::remove_all(dir);
  return 0;
}
