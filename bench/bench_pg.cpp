// PostgreSQL store benchmarks for `make bench` (issue 10). Prints figures; asserts nothing.
//   - the row-per-line design (one row per line + its three indexes, batched multi-row INSERTs
//     of 1,000 rows, 4 connections) loaded into the same PostgreSQL: lines/s and bytes/line;
//   - the chunk store on PostgreSQL, direct (no HTTP): ingest, and bytes per line after merge
//     (pg_total_relation_size of log_chunks, after VACUUM FULL returned the merged-away space);
//   - search over a 1,000,000-line run on PostgreSQL and on SQLite, measured here side by side:
//     the first search and the median of the 20 after it.
// Usage: bench_pg CONNINFO TMPDIR
#include <libpq-fe.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "bench/training_lines.h"
#include "core/uuid.h"
#include "store/postgres_store.h"
#include "store/query_engine.h"
#include "store/sqlite_store.h"

using namespace wanllmdb;
using Clock = std::chrono::steady_clock;

namespace {

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

void Exec(PGconn* c, const std::string& sql) {
  PGresult* r = PQexec(c, sql.c_str());
  if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
    std::fprintf(stderr, "%s: %s\n", sql.c_str(), PQerrorMessage(c));
    std::exit(1);
  }
  PQclear(r);
}

int64_t QueryInt(PGconn* c, const std::string& sql) {
  PGresult* r = PQexec(c, sql.c_str());
  int64_t v = PQntuples(r) ? std::stoll(PQgetvalue(r, 0, 0)) : 0;
  PQclear(r);
  return v;
}

// The original plan's table, as bench_store's SQLite baseline, in PostgreSQL.
double RowsBaseline(const std::string& conninfo, int64_t n, double* bytes_per_line) {
  PGconn* c = PQconnectdb(conninfo.c_str());
  Exec(c, "DROP TABLE IF EXISTS run_logs");
  Exec(c,
       "CREATE TABLE run_logs (id TEXT PRIMARY KEY, run_id TEXT NOT NULL, level TEXT, message "
       "TEXT NOT NULL, timestamp BIGINT NOT NULL, source TEXT NOT NULL, line_number BIGINT);"
       "CREATE INDEX ix_run_logs_run_id_timestamp ON run_logs(run_id, timestamp);"
       "CREATE INDEX ix_run_logs_level ON run_logs(level);"
       "CREATE INDEX ix_run_logs_source ON run_logs(source)");
  const std::string run_id = NewUuid();
  const int threads = 4;
  auto t0 = Clock::now();
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t) {
    ts.emplace_back([&, t] {
      PGconn* w = PQconnectdb(conninfo.c_str());
      TrainingLines gen(static_cast<uint32_t>(t + 7));
      std::string sql = "INSERT INTO run_logs VALUES ";
      for (int i = 0; i < 1000; ++i) {
        if (i) sql += ",";
        int p = i * 7;
        sql += "($" + std::to_string(p + 1) + ",$" + std::to_string(p + 2) + ",$" +
               std::to_string(p + 3) + ",$" + std::to_string(p + 4) + ",$" + std::to_string(p + 5) +
               "::bigint,$" + std::to_string(p + 6) + ",$" + std::to_string(p + 7) + "::bigint)";
      }
      for (int64_t b = t; b * 1000 < n; b += threads) {
        auto lines = gen.Batch(1000, 1731751200000000 + b * 1000000);
        std::vector<std::string> vals;
        vals.reserve(7000);
        for (int i = 0; i < 1000; ++i) {
          vals.push_back(NewUuid());
          vals.push_back(run_id);
          vals.emplace_back(LevelName(lines[i].level));
          vals.push_back(lines[i].message);
          vals.push_back(std::to_string(lines[i].timestamp_us));
          vals.emplace_back("stdout");
          vals.push_back(std::to_string(b * 1000 + i + 1));
        }
        std::vector<const char*> ptrs;
        for (auto& v : vals) ptrs.push_back(v.c_str());
        PGresult* r = PQexecParams(w, sql.c_str(), 7000, nullptr, ptrs.data(), nullptr, nullptr, 0);
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
          std::fprintf(stderr, "rows insert: %s\n", PQerrorMessage(w));
          std::exit(1);
        }
        PQclear(r);
      }
      PQfinish(w);
    });
  }
  for (auto& t : ts) t.join();
  double secs = Seconds(t0, Clock::now());
  *bytes_per_line =
      static_cast<double>(QueryInt(c, "SELECT pg_total_relation_size('run_logs')")) / n;
  Exec(c, "DROP TABLE run_logs");
  PQfinish(c);
  return secs;
}

std::string NewRunIn(LogStore& store) {
  NewRun r;
  r.id = NewUuid();
  r.project = "bench";
  return store.CreateRun(r, nullptr)->id;
}

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

// A search's first run (cold: filters and chunk rows read from the store) and the median of the
// 20 after it (warm: what a user refining a search over a finished run waits for).
struct SearchTimes {
  double first_ms = 0, median_ms = 0;
};

SearchTimes SearchMs(LogStore& store, const std::string& run) {
  QueryEngine engine(store);
  LogFilter rare;
  rare.search = "CUDA out of memory";  // in no line: a full scan
  auto m = LineMatcher::Compile(rare);
  std::vector<double> ms;
  for (int i = 0; i < 21; ++i) {
    ListRequest r;
    r.limit = 500;
    auto t0 = Clock::now();
    (void)engine.List(run, **m, r);
    ms.push_back(Seconds(t0, Clock::now()) * 1000);
  }
  SearchTimes t;
  t.first_ms = ms[0];
  std::sort(ms.begin() + 1, ms.end());
  t.median_ms = ms[11];
  return t;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: bench_pg CONNINFO TMPDIR\n");
    return 2;
  }
  const std::string conninfo = argv[1];
  std::filesystem::path dir = argv[2];
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const int64_t n = 1'000'000;

  double rows_bpl = 0;
  double rows = RowsBaseline(conninfo, n, &rows_bpl);
  std::printf(
      "row-per-line PostgreSQL table (+3 indexes, 1,000-row INSERTs): %.0f lines/s, "
      "%.1f bytes/line\n",
      n / rows, rows_bpl);
  std::fflush(stdout);

  PostgresStoreOptions po;
  po.background_merge = false;  // merged below, measured on its own
  auto pg = OpenPostgresStore(conninfo, po);
  if (!pg.ok()) {
    std::fprintf(stderr, "%s\n", pg.status().message().c_str());
    return 1;
  }
  std::string run = NewRunIn(**pg);
  double fill = Fill(**pg, run, n);
  std::printf(
      "chunk store on PostgreSQL, direct, 4 threads, 1,000-line batches: %.0f lines/s "
      "(%.1fx the row-per-line table)\n",
      n / fill, rows / fill);
  auto t0 = Clock::now();
  (void)(*pg)->CompactNow();
  std::printf("merge + recompress of 1,000,000 lines on PostgreSQL: %.2f s\n",
              Seconds(t0, Clock::now()));
  {
    PGconn* c = PQconnectdb(conninfo.c_str());
    int64_t before = QueryInt(c, "SELECT pg_total_relation_size('log_chunks')");
    Exec(c, "VACUUM FULL log_chunks");
    int64_t after = QueryInt(c, "SELECT pg_total_relation_size('log_chunks')");
    std::printf(
        "disk per line after merge (pg_total_relation_size of log_chunks): %.1f bytes "
        "(goal <= 25; %.1f before VACUUM FULL returned the merged-away space)\n",
        static_cast<double>(after) / n, static_cast<double>(before) / n);
    PQfinish(c);
  }
  SearchTimes pg_ms = SearchMs(**pg, run);
  (*pg)->Close();

  SqliteStoreOptions so;
  so.background_merge = false;
  auto lite = OpenSqliteStore((dir / "logs.db").string(), so);
  std::string lrun = NewRunIn(**lite);
  Fill(**lite, lrun, n);
  (void)(*lite)->CompactNow();
  SearchTimes lite_ms = SearchMs(**lite, lrun);
  std::printf(
      "search over a 1,000,000-line run (full scan, no match), median of 20 after the first: "
      "PostgreSQL %.2f ms, SQLite %.2f ms: %.2fx (goal <= 1.5x); first search %.1f ms vs %.1f "
      "ms\n",
      pg_ms.median_ms, lite_ms.median_ms, pg_ms.median_ms / lite_ms.median_ms, pg_ms.first_ms,
      lite_ms.first_ms);
  (*lite)->Close();
  std::filesystem::remove_all(dir);
  return 0;
}
