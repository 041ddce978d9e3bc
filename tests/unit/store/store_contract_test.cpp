// The LogStore contract, run against both backends: SQLite on a real database file in a
// temporary directory, PostgreSQL on the real server the test runner started
// (WANLLMDB_TEST_PG holds its conninfo; without it the PostgreSQL cases are skipped).
#include <gtest/gtest.h>

#include <libpq-fe.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <thread>

#include "core/chunk_codec.h"
#include "core/problem_rules.h"
#include "core/text.h"
#include "core/time_util.h"
#include "core/uuid.h"
#include "store/postgres_store.h"
#include "store/query_engine.h"
#include "store/run_import.h"
#include "store/sqlite_store.h"
#include "store/text_probe.h"

namespace wanllmdb {
namespace {

// The test PostgreSQL, with a schema of this process's own first on the search path. ctest runs
// test cases as parallel processes on one database, and a CompactNow() merges every run it
// finds: another process's merge packed this one's chunks under MergePacksSmallChunks (13
// chunks where 300 were just written). One schema per process keeps each case's database to
// itself; the cases of one process (and their second "node", OpenAnother) share it.
std::string PgConninfo() {
  static const std::string conninfo = [] {
    const char* v = std::getenv("WANLLMDB_TEST_PG");
    if (!v || !*v) return std::string();
    const std::string schema = "ctest_" + NewUuid().substr(0, 8);
    PGconn* c = PQconnectdb(v);
    PGresult* r = PQexec(c, ("CREATE SCHEMA " + schema).c_str());
    const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok) std::fprintf(stderr, "CREATE SCHEMA: %s", PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
    return ok ? std::string(v) + " options='-c search_path=" + schema + "'" : std::string(v);
  }();
  return conninfo;
}

class StoreContractTest : public ::testing::TestWithParam<std::string> {
 protected:
  bool postgres() const { return GetParam() == "postgresql"; }
  void SetUp() override {
    if (postgres() && PgConninfo().empty())
      GTEST_SKIP() << "WANLLMDB_TEST_PG is not set (make test starts a PostgreSQL)";
    dir_ = std::filesystem::temp_directory_path() / ("wanllmdb-test-" + NewUuid());
    std::filesystem::create_directories(dir_);
    ASSERT_NO_FATAL_FAILURE(Open());  // e.g. PostgreSQL down: fail here, not on a null store
    NewRun r;
    r.id = NewUuid();
    r.project = "p";
    auto run = store_->CreateRun(r, nullptr);
    ASSERT_TRUE(run.ok()) << run.status().message();
    run_id_ = run->id;
  }
  void TearDown() override {
    store_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  // Another handle on the same database: for PostgreSQL, a second server node.
  std::unique_ptr<LogStore> OpenAnother() {
    Result<std::unique_ptr<LogStore>> s = Status(Code::kInternal, "unset");
    if (postgres()) {
      PostgresStoreOptions o;
      o.background_merge = false;
      s = OpenPostgresStore(PgConninfo(), o);
    } else {
      SqliteStoreOptions o;
      o.background_merge = false;
      s = OpenSqliteStore((dir_ / "logs.db").string(), o);
    }
    EXPECT_TRUE(s.ok()) << s.status().message();
    return s.ok() ? std::move(*s) : nullptr;
  }
  void Open() {
    store_ = OpenAnother();
    ASSERT_TRUE(store_);
  }
  IngestBatch Batch(int from, int n, std::string writer = "main", bool with_seq = true) {
    IngestBatch b;
    b.run_id = run_id_;
    b.writer = writer;
    for (int i = from; i < from + n; ++i) {
      LogLine l;
      l.timestamp_us = 1000000LL * i;
      l.level = i % 10 == 0 ? Level::kError : Level::kInfo;
      l.message = "line " + std::to_string(i);
      b.lines.push_back(l);
      if (with_seq) b.seqs.push_back(i);
    }
    return b;
  }
  // Lines of one writer's stderr whose levels the store detects (and, with `rules`, problems).
  IngestBatch StderrBatch(const std::vector<std::string>& messages,
                          std::shared_ptr<const ProblemRuleSet> rules = nullptr) {
    IngestBatch b;
    b.run_id = run_id_;
    b.problem_rules = std::move(rules);
    for (const auto& m : messages) {
      LogLine l;
      l.source = Source::kStderr;
      l.message = m;
      b.lines.push_back(l);
      b.detect_level.push_back(1);
    }
    return b;
  }
  std::vector<LogLine> All() {
    QueryEngine q(*store_);
    auto m = LineMatcher::Compile({});
    ListRequest r;
    r.limit = 100000;
    auto res = q.List(run_id_, **m, r);
    EXPECT_TRUE(res.ok());
    return res->lines;
  }

  std::filesystem::path dir_;
  std::unique_ptr<LogStore> store_;
  std::string run_id_;
};

TEST_P(StoreContractTest, AssignsDenseLineNumbersAndDedupsBySeq) {
  auto r1 = store_->Append(Batch(0, 100));
  ASSERT_TRUE(r1.ok());
  EXPECT_EQ(r1->accepted, 100);
  EXPECT_EQ(r1->first_line, 1);
  EXPECT_EQ(r1->last_line, 100);
  auto retry = store_->Append(Batch(0, 100));  // the same batch again
  ASSERT_TRUE(retry.ok());
  EXPECT_EQ(retry->accepted, 0);
  EXPECT_EQ(retry->duplicates, 100);
  auto overlap = store_->Append(Batch(50, 100));  // half old, half new
  ASSERT_TRUE(overlap.ok());
  EXPECT_EQ(overlap->accepted, 50);
  EXPECT_EQ(overlap->duplicates, 50);
  EXPECT_EQ(overlap->first_line, 101);
  auto other = store_->Append(Batch(0, 10, "rank-1"));  // another writer has its own seqs
  EXPECT_EQ(other->accepted, 10);
  auto lines = All();
  ASSERT_EQ(lines.size(), 160u);
  for (size_t i = 0; i < 150; ++i) {
    EXPECT_EQ(lines[i].line_number, static_cast<int64_t>(i) + 1);
    EXPECT_EQ(lines[i].message, "line " + std::to_string(i));
  }
  EXPECT_EQ(lines[150].writer, "rank-1");
  auto s = store_->Summary(run_id_);
  EXPECT_EQ(s->total, 160);
  EXPECT_EQ(s->by_level[static_cast<int>(Level::kError)], 16);
  EXPECT_EQ(s->by_writer["main"], 150);
  EXPECT_EQ(s->by_writer["rank-1"], 10);
}

TEST_P(StoreContractTest, WatermarksSurviveReopen) {
  ASSERT_TRUE(store_->Append(Batch(0, 20)).ok());
  store_.reset();
  ASSERT_NO_FATAL_FAILURE(Open());
  auto r = store_->Append(Batch(0, 30));
  EXPECT_EQ(r->accepted, 10);
  EXPECT_EQ(r->first_line, 21);
}

TEST_P(StoreContractTest, ConcurrentAppendsAreAllStoredOnce) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int b = 0; b < 20; ++b)
        ASSERT_TRUE(store_->Append(Batch(b * 50, 50, "w" + std::to_string(t))).ok());
    });
  }
  for (auto& t : threads) t.join();
  auto lines = All();
  ASSERT_EQ(lines.size(), 8u * 20 * 50);
  for (size_t i = 0; i < lines.size(); ++i) EXPECT_EQ(lines[i].line_number, int64_t(i) + 1);
}

TEST_P(StoreContractTest, MergePacksSmallChunksAndKeepsEveryLine) {
  for (int b = 0; b < 300; ++b) ASSERT_TRUE(store_->Append(Batch(b * 7, 7)).ok());
  auto before = All();
  auto chunks_before = store_->ReadChunks(run_id_, {.max_chunks = 100000, .with_payload = false});
  EXPECT_EQ(chunks_before->size(), 300u);
  ASSERT_TRUE(store_->CompactNow().ok());
  auto chunks_after = store_->ReadChunks(run_id_, {.max_chunks = 100000, .with_payload = false});
  EXPECT_EQ(chunks_after->size(), 3u);  // 2,100 lines → 1,000 + 1,000 + 100
  auto after = All();
  ASSERT_EQ(after.size(), before.size());
  for (size_t i = 0; i < after.size(); ++i) {
    EXPECT_EQ(after[i].line_number, before[i].line_number);
    EXPECT_EQ(after[i].message, before[i].message);
    EXPECT_EQ(after[i].timestamp_us, before[i].timestamp_us);
  }
  // A slow run's next small chunk joins the small tail chunk instead of staying alone.
  ASSERT_TRUE(store_->Append(Batch(5000, 5)).ok());
  ASSERT_TRUE(store_->CompactNow().ok());
  auto tail = store_->ReadChunks(run_id_, {.max_chunks = 100000, .with_payload = false});
  EXPECT_EQ(tail->size(), 3u);
  EXPECT_EQ(tail->back().last_line, 2105);
}

// Text search (chunk filters, layout-3 block filters, the filter cache) answers exactly what a
// full scan does: on this node, again from the cache, after appends and a merge, and after the
// run is deleted and imported again under its id with other lines at the same numbers (the
// import by another process or node: `admin import-run` beside a running server; on
// PostgreSQL the delete too comes from the other node, whose rows the cache tells apart by
// their xmin).
TEST_P(StoreContractTest, TextSearchEqualsAFullScanThroughTheFilterCache) {
  auto batch = [&](int from, int n, const std::string& word) {
    IngestBatch b = Batch(from, n, "main", false);
    for (int i = 0; i < n; ++i) {
      if ((from + i) % 337 == 5) b.lines[i].message += " needle-" + word;
    }
    return b;
  };
  auto search = [&](LogStore& s, const std::string& needle) {
    QueryEngine e(s);
    LogFilter f;
    f.search = needle;
    auto m = LineMatcher::Compile(f);
    std::vector<int64_t> out;
    EXPECT_TRUE(e.Scan(run_id_, **m, 1, INT64_MAX, false, [&](const LineView& v) {
                   out.push_back(v.line_number);
                   return true;
                 }).ok());
    return out;
  };
  auto scan = [&](LogStore& s, const std::string& needle) {
    QueryEngine e(s);
    std::vector<int64_t> out;
    const std::string nd = AsciiLower(needle);
    EXPECT_TRUE(
        e.Scan(run_id_, **LineMatcher::Compile({}), 1, INT64_MAX, false, [&](const LineView& v) {
           if (AsciiLower(v.message).find(nd) != std::string::npos) out.push_back(v.line_number);
           return true;
         }).ok());
    return out;
  };
  for (int b = 0; b < 3; ++b) ASSERT_TRUE(store_->Append(batch(b * 1000, 1000, "a")).ok());
  for (int b = 0; b < 20; ++b) ASSERT_TRUE(store_->Append(batch(3000 + b * 50, 50, "b")).ok());
  for (const char* needle : {"needle-a", "NEEDLE-B", "needle-c", "line 1234", "ne 30"}) {
    const auto want = scan(*store_, needle);
    EXPECT_EQ(search(*store_, needle), want) << needle;
    EXPECT_EQ(search(*store_, needle), want) << needle << " (filters cached)";
  }
  EXPECT_EQ(search(*store_, "needle-a").size(), 9u);
  ASSERT_TRUE(store_->CompactNow().ok());  // the small chunks become one of several blocks
  for (const char* needle : {"needle-a", "needle-b"})
    EXPECT_EQ(search(*store_, needle), scan(*store_, needle)) << needle << " (merged)";

  auto other = OpenAnother();
  ASSERT_TRUE(other);
  ASSERT_TRUE((postgres() ? *other : *store_).DeleteRun(run_id_).ok());
  RunImport im;
  im.run.id = run_id_;
  im.run.project = "p";
  im.run.created_at_us = 1;
  im.next_line = 4001;
  std::vector<LogLine> fresh;
  for (int i = 1; i <= 4000; ++i) {
    LogLine l;
    l.line_number = i;
    l.timestamp_us = 1000000LL * i;
    l.writer = "main";
    l.message = "imported " + std::to_string(i) + (i % 401 == 3 ? " needle-a" : "");
    fresh.push_back(l);
  }
  bool given = false;
  ASSERT_TRUE(other
                  ->ImportRun(im,
                              [&]() -> Result<std::vector<LogLine>> {
                                if (given) return std::vector<LogLine>();
                                given = true;
                                return fresh;
                              })
                  .ok());
  std::vector<int64_t> want;
  for (int i = 1; i <= 4000; ++i) {
    if (i % 401 == 3) want.push_back(i);
  }
  EXPECT_EQ(search(*store_, "needle-a"), want);
  EXPECT_EQ(search(*store_, "needle-b"), std::vector<int64_t>());
}

// Ingest writes chunks without text filters and the merger builds them (core/chunk_codec.h
// FilterBuild): a needle that is nowhere skips no chunk before the merge and every chunk after.
TEST_P(StoreContractTest, MergesBuildTheTextFiltersIngestLeavesOut) {
  for (int b = 0; b < 3; ++b) ASSERT_TRUE(store_->Append(Batch(b * 1000, 1000)).ok());
  auto probe = TextProbe::Make("needle-nowhere", "");
  ASSERT_TRUE(probe);
  auto skipped = [&] {
    auto chunks = store_->ReadChunks(run_id_, {.max_chunks = 100, .probe = probe.get()});
    EXPECT_TRUE(chunks.ok());
    size_t n = 0;
    for (const auto& c : *chunks) n += c.skipped;
    return std::make_pair(n, chunks->size());
  };
  EXPECT_EQ(skipped(), std::make_pair(size_t{0}, size_t{3}));
  ASSERT_TRUE(store_->CompactNow().ok());
  EXPECT_EQ(skipped(), std::make_pair(size_t{3}, size_t{3}));
  EXPECT_EQ(All().size(), 3000u);
}

// An idle run's chunk rows are cached (PostgreSQL: store/chunk_map_cache.h); whatever another
// node does to the run afterwards, a search here answers as a full scan of what is stored.
TEST_P(StoreContractTest, SearchesOfAnIdleRunSeeWhatAnotherNodeChanges) {
  auto other = OpenAnother();
  ASSERT_TRUE(other);
  int next = 1;
  auto append = [&](LogStore& s, int n, int every) {
    IngestBatch b = Batch(next, n, "main", false);
    for (int i = 0; i < n; ++i) {
      if ((next + i) % every == 0) b.lines[i].message += " needle";
    }
    next += n;
    ASSERT_TRUE(s.Append(std::move(b)).ok());
  };
  auto lines = [&](LogStore& s, const LogFilter& f, bool descending) {
    QueryEngine e(s);
    std::vector<int64_t> out;
    EXPECT_TRUE(e.Scan(run_id_, **LineMatcher::Compile(f), 1, INT64_MAX, descending,
                       [&](const LineView& v) {
                         out.push_back(v.line_number);
                         return true;
                       })
                    .ok());
    return out;
  };
  auto check = [&](const char* when) {
    LogFilter needle;
    needle.search = "needle";
    std::vector<int64_t> want;  // a full scan through the other node
    EXPECT_TRUE(QueryEngine(*other)
                    .Scan(run_id_, **LineMatcher::Compile({}), 1, INT64_MAX, false,
                          [&](const LineView& v) {
                            if (v.message.find("needle") != std::string_view::npos)
                              want.push_back(v.line_number);
                            return true;
                          })
                    .ok());
    // Three times: the first reads observe the run, later ones are answered from its map.
    for (int i = 0; i < 3; ++i) {
      EXPECT_EQ(lines(*store_, needle, false), want) << when << ", search " << i;
      EXPECT_EQ(lines(*store_, needle, true), std::vector<int64_t>(want.rbegin(), want.rend()))
          << when << ", descending search " << i;
    }
  };
  for (int b = 0; b < 40; ++b) append(*store_, 1000, 997);
  check("idle");
  append(*other, 1000, 50);  // lines 40001..41000 through the other node
  check("after another node appended");
  for (int b = 0; b < 30; ++b) append(*other, 20, 50);
  check("before the merge");
  ASSERT_TRUE(other->CompactNow().ok());
  check("after another node merged");
  ASSERT_TRUE(other->ClearLogs(run_id_).ok());
  check("after another node cleared");
  append(*other, 1000, 50);
  check("appended after the clear");
}

TEST_P(StoreContractTest, FiltersPagesAndDescendingOrder) {
  for (int b = 0; b < 10; ++b) ASSERT_TRUE(store_->Append(Batch(b * 100, 100)).ok());
  QueryEngine q(*store_);
  LogFilter f;
  f.level_mask = 1u << static_cast<int>(Level::kError);
  auto m = LineMatcher::Compile(f);
  ListRequest r;
  r.limit = 30;
  auto page = q.List(run_id_, **m, r);
  ASSERT_EQ(page->lines.size(), 30u);
  EXPECT_TRUE(page->has_more);
  EXPECT_EQ(page->lines[1].message, "line 10");
  r.after_line = page->lines.back().line_number;
  r.limit = 1000;
  auto rest = q.List(run_id_, **m, r);
  EXPECT_EQ(rest->lines.size(), 70u);
  EXPECT_FALSE(rest->has_more);
  ListRequest d;
  d.descending = true;
  d.limit = 3;
  d.before_line = 500;
  auto desc = q.List(run_id_, **LineMatcher::Compile({}), d);
  ASSERT_EQ(desc->lines.size(), 3u);
  EXPECT_EQ(desc->lines[0].line_number, 499);
  EXPECT_EQ(desc->lines[2].line_number, 497);
  auto latest = q.Latest(run_id_, **m, 2);
  ASSERT_EQ(latest->size(), 2u);
  EXPECT_EQ((*latest)[1].message, "line 990");
  int64_t index = 0, total = 0;
  ASSERT_TRUE(q.Locate(run_id_, **m, 501, &index, &total).ok());
  EXPECT_EQ(index, 50);
  EXPECT_EQ(total, 100);
}

TEST_P(StoreContractTest, ClearKeepsNumberingAndWatermarks) {
  ASSERT_TRUE(store_->Append(Batch(0, 10)).ok());
  EXPECT_EQ(store_->GetRun(run_id_)->clears, 0);
  ASSERT_TRUE(store_->ClearLogs(run_id_).ok());
  EXPECT_TRUE(All().empty());
  EXPECT_EQ(store_->Summary(run_id_)->total, 0);
  auto r = store_->Append(Batch(5, 10));
  EXPECT_EQ(r->accepted, 5);
  EXPECT_EQ(r->first_line, 11);
  EXPECT_EQ(store_->Summary(run_id_)->first_line, 11);
  // Each clear is counted: a node that missed one on the live bus finds out from this.
  ASSERT_TRUE(store_->ClearLogs(run_id_).ok());
  EXPECT_EQ(store_->GetRun(run_id_)->clears, 2);
}

TEST_P(StoreContractTest, UnknownRunIsNotFoundAndStoresNothing) {
  auto b = Batch(0, 5);
  b.run_id = NewUuid();
  auto r = store_->Append(b);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kNotFound);
  EXPECT_EQ(store_->DeleteRun(NewUuid()).code(), Code::kNotFound);
}

TEST_P(StoreContractTest, RunLifecycle) {
  RunUpdate u;
  u.state = RunState::kFailed;
  u.exit_code = std::optional<int64_t>(3);
  auto r = store_->UpdateRun(run_id_, u);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->state, RunState::kFailed);
  EXPECT_EQ(r->exit_code, 3);
  EXPECT_TRUE(r->finished_at_us.has_value());
  NewRun again;
  again.id = run_id_;
  again.project = "other";
  bool created = true;
  EXPECT_EQ(store_->CreateRun(again, &created).status().code(), Code::kConflict);
  again.project = "p";
  EXPECT_TRUE(store_->CreateRun(again, &created).ok());
  EXPECT_FALSE(created);
  ASSERT_TRUE(store_->Append(Batch(0, 10)).ok());
  ASSERT_TRUE(store_->DeleteRun(run_id_).ok());
  EXPECT_EQ(store_->GetRun(run_id_).status().code(), Code::kNotFound);
  EXPECT_TRUE(store_->ReadChunks(run_id_, {})->empty());
}

TEST_P(StoreContractTest, AppendAllStoresEveryRunAndWriterOrNothing) {
  // The foreign ingest protocols: one request, many (run, writer) batches, one transaction.
  NewRun nr;
  nr.id = NewUuid();
  nr.project = "p";
  bool created = false;
  ASSERT_TRUE(store_->CreateRun(nr, &created).ok());
  std::vector<IngestBatch> all;
  all.push_back(Batch(0, 5, "rank-0"));
  all.push_back(Batch(0, 3, "rank-1"));
  all.push_back(Batch(0, 4));
  all.back().run_id = nr.id;
  auto r = store_->AppendAll(all);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[0].first_line, 1);
  EXPECT_EQ((*r)[1].first_line, 6);
  EXPECT_EQ((*r)[2].first_line, 1);
  EXPECT_EQ(All().size(), 8u);
  // A batch for a run that does not exist fails the whole request: nothing of it is stored.
  std::vector<IngestBatch> bad;
  bad.push_back(Batch(5, 5, "rank-0"));
  bad.push_back(Batch(0, 2));
  bad.back().run_id = NewUuid();
  EXPECT_EQ(store_->AppendAll(bad).status().code(), Code::kNotFound);
  EXPECT_EQ(All().size(), 8u);
  EXPECT_EQ(store_->Summary(nr.id)->total, 4);
  // And the batches' seqs are still new afterwards (the failed request moved no watermark).
  auto again = store_->AppendAll({Batch(5, 5, "rank-0")});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)[0].accepted, 5);
  EXPECT_EQ((*again)[0].first_line, 9);
}

TEST_P(StoreContractTest, WriterFatesEndTheRunWhenAllHaveEnded) {
  auto end = [&](const char* writer, RunState state, int64_t code, int64_t world) {
    RunUpdate u;
    u.state = state;
    u.exit_code = std::optional<int64_t>(code);
    u.writer_end = WriterEnd{writer, world};
    auto r = store_->UpdateRun(run_id_, u);
    EXPECT_TRUE(r.ok());
    return r.ok() ? std::make_pair(r->state, r->exit_code)
                  : std::make_pair(RunState::kRunning, std::optional<int64_t>());
  };
  using P = std::pair<RunState, std::optional<int64_t>>;
  EXPECT_EQ(end("rank-0", RunState::kCrashed, 137, 3), P(RunState::kRunning, std::nullopt));
  EXPECT_EQ(end("rank-1", RunState::kFailed, 1, 3), P(RunState::kRunning, std::nullopt));
  store_.reset();  // the fates are stored, not remembered
  ASSERT_NO_FATAL_FAILURE(Open());
  EXPECT_EQ(end("rank-1", RunState::kFailed, 2, 3), P(RunState::kRunning, std::nullopt));
  EXPECT_EQ(end("rank-2", RunState::kFinished, 0, 3), P(RunState::kFailed, 2));
  EXPECT_TRUE(store_->GetRun(run_id_)->finished_at_us.has_value());
}

TEST_P(StoreContractTest, ThousandWritersInOneRunStayReadableAfterMerge) {
  // A 1,000-rank job: more writers than one chunk may hold (256). Merges must close their
  // groups at that limit, or the run's merged chunks would not decode.
  for (int w = 0; w < 1000; ++w) {
    ASSERT_TRUE(store_->Append(Batch(w * 3, 3, "rank-" + std::to_string(w))).ok());
  }
  ASSERT_TRUE(store_->CompactNow().ok());
  auto chunks = store_->ReadChunks(run_id_, {.max_chunks = 100000});
  ASSERT_TRUE(chunks.ok());
  EXPECT_LT(chunks->size(), 100u);  // merged, not left at 1,000 small chunks
  size_t lines = 0;
  for (const auto& c : *chunks) {
    DecodedChunk d;
    ASSERT_TRUE(DecodeChunk(c.payload, &d).ok()) << "chunk at line " << c.first_line;
    EXPECT_LE(d.writers.size(), kMaxChunkWriters);
    lines += d.n;
  }
  EXPECT_EQ(lines, 3000u);
  auto all = All();
  ASSERT_EQ(all.size(), 3000u);
  std::set<std::string> writers;
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].line_number, static_cast<int64_t>(i) + 1);
    writers.insert(all[i].writer);
  }
  EXPECT_EQ(writers.size(), 1000u);
  EXPECT_EQ(store_->Summary(run_id_)->by_writer.size(), 1000u);
}

TEST_P(StoreContractTest, TracebackSplitAcrossBatchesAndNodesIsErrorThroughout) {
  auto detect = [&](std::vector<std::string> messages) { return StderrBatch(messages); };
  ASSERT_TRUE(store_
                  ->Append(detect({"Traceback (most recent call last):",
                                   "  File \"train.py\", line 3, in <module>"}))
                  .ok());
  // The rest arrives through another handle (another server node on PostgreSQL).
  auto other = postgres() ? OpenAnother() : nullptr;
  LogStore& second = other ? *other : *store_;
  ASSERT_TRUE(second.Append(detect({"    main()", "ValueError: bad shape", "epoch 2"})).ok());
  auto all = All();
  ASSERT_EQ(all.size(), 5u);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(all[i].level, Level::kError) << all[i].message;
  EXPECT_EQ(all[4].level, Level::kInfo);
}

TEST_P(StoreContractTest, TracebackSplitAcrossBatchesIsOneProblemWithItsWholeRange) {
  auto batch = [&](std::vector<std::string> messages) {
    return StderrBatch(messages, ProblemRuleSet::Builtin());
  };
  ASSERT_TRUE(store_
                  ->Append(batch({"epoch 1", "Traceback (most recent call last):",
                                  "  File \"train.py\", line 3, in <module>"}))
                  .ok());
  ASSERT_TRUE(store_->Append(batch({"    main()", "ValueError: bad shape", "epoch 2"})).ok());
  auto rows = store_->ProblemsOfRuns({run_id_});
  ASSERT_TRUE(rows.ok()) << rows.status().message();
  ASSERT_EQ(rows->size(), 1u);
  const ProblemRow& p = rows->front();
  EXPECT_EQ(p.kind, "traceback");
  EXPECT_EQ(p.title, "ValueError: bad shape");
  EXPECT_EQ(p.first_line, 2);  // the "Traceback" line of the first batch
  EXPECT_EQ(p.last_line, 5);
  EXPECT_NE(p.detail.find("train.py"), std::string::npos) << p.detail;

  // A handle that has not seen the first half (another node, or the server restarted): the
  // event starts with the batch it closed in, and still has its type.
  ASSERT_TRUE(store_
                  ->Append(batch({"Traceback (most recent call last):",
                                  "  File \"eval.py\", line 9, in <module>"}))
                  .ok());
  std::unique_ptr<LogStore> other;
  if (postgres()) {
    other = OpenAnother();
  } else {
    store_.reset();  // one SQLite file has one writer process: reopen, as on a restart
    ASSERT_NO_FATAL_FAILURE(Open());
  }
  LogStore& fresh = other ? *other : *store_;
  ASSERT_TRUE(fresh.Append(batch({"KeyError: 'x'"})).ok());
  rows = fresh.ProblemsOfRuns({run_id_});
  ASSERT_TRUE(rows.ok()) << rows.status().message();
  ASSERT_EQ(rows->size(), 2u);
  const ProblemRow* key_error = nullptr;
  for (const auto& r : *rows)
    if (r.title == "KeyError: 'x'") key_error = &r;
  ASSERT_NE(key_error, nullptr);
  EXPECT_EQ(key_error->first_line, 9);  // the start (line 7) was not known to this handle
  EXPECT_EQ(key_error->last_line, 9);
}

TEST_P(StoreContractTest, BookmarksPerRunAreCappedAndDeletingMakesRoom) {
  ASSERT_TRUE(store_->Append(Batch(1, 10)).ok());
  auto add = [&](int64_t line) {
    Bookmark b;
    b.run_id = run_id_;
    b.first_line = b.last_line = line;
    b.note = "n" + std::to_string(line);
    return store_->AddBookmark(b, 3);
  };
  std::vector<int64_t> ids;
  for (int64_t line : {1, 2, 3}) {
    auto b = add(line);
    ASSERT_TRUE(b.ok()) << b.status().message();
    ids.push_back(b->id);
  }
  auto refused = add(4);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), Code::kInvalidValue);
  EXPECT_NE(refused.status().message().find("at most 3"), std::string::npos);
  EXPECT_EQ(store_->ListBookmarks(run_id_)->size(), 3u);  // nothing stored by the refusal
  ASSERT_TRUE(store_->DeleteBookmark(run_id_, ids[0]).ok());
  auto again = add(4);
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(store_->ListBookmarks(run_id_)->size(), 3u);
}

TEST_P(StoreContractTest, TwoNodesAppendingToOneRunStayDenseAndDedupRetries) {
  if (!postgres()) GTEST_SKIP() << "one SQLite file has one writer process";
  auto other = OpenAnother();
  ASSERT_TRUE(other);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      LogStore& s = t % 2 ? *other : *store_;
      for (int b = 0; b < 25; ++b) {
        auto batch = Batch(b * 40, 40, "w" + std::to_string(t));
        ASSERT_TRUE(s.Append(batch).ok());
        // The same batch retried through the other node is stored once.
        LogStore& retry = t % 2 ? *store_ : *other;
        auto again = retry.Append(batch);
        ASSERT_TRUE(again.ok());
        EXPECT_EQ(again->accepted, 0);
      }
    });
  }
  for (auto& t : threads) t.join();
  auto lines = All();
  ASSERT_EQ(lines.size(), 4u * 25 * 40);
  std::set<std::pair<std::string, std::string>> seen;
  for (size_t i = 0; i < lines.size(); ++i) {
    EXPECT_EQ(lines[i].line_number, static_cast<int64_t>(i) + 1);
    EXPECT_TRUE(seen.insert({lines[i].writer, lines[i].message}).second);
  }
}

// A batch of the given messages, scanned with the built-in problem rules.
IngestBatch ProblemBatch(const std::string& run_id, const std::string& writer,
                         const std::vector<std::string>& messages) {
  IngestBatch b;
  b.run_id = run_id;
  b.writer = writer;
  b.problem_rules = ProblemRuleSet::Builtin();
  for (const auto& m : messages) {
    LogLine l;
    l.timestamp_us = NowMicros();
    l.message = m;
    b.lines.push_back(l);
  }
  return b;
}

const char* kOom = "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB.";

TEST_P(StoreContractTest, NewProblemKindsAreReportedOnceAcrossNodesAndReopens) {
  auto first = store_->Append(ProblemBatch(run_id_, "rank-0", {"step 1", kOom}));
  ASSERT_TRUE(first.ok()) << first.status().message();
  EXPECT_EQ(first->new_problem_kinds, std::vector<std::string>{"cuda_oom"});
  // The same kind on another writer, through another node (PostgreSQL) or the same store.
  auto other = postgres() ? OpenAnother() : nullptr;
  LogStore& second_node = other ? *other : *store_;
  auto again = second_node.Append(ProblemBatch(run_id_, "rank-1", {kOom}));
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->new_problem_kinds.empty());
  other.reset();
  store_.reset();
  ASSERT_NO_FATAL_FAILURE(Open());
  auto after =
      store_->Append(ProblemBatch(run_id_, "rank-0", {kOom, "Segmentation fault (core dumped)"}));
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->new_problem_kinds, std::vector<std::string>{"segfault"});
  auto rows = store_->ProblemsOfRuns({run_id_});
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->size(), 3u);  // cuda_oom on two writers, segfault
}

TEST_P(StoreContractTest, ProblemSignaturesAreCappedPerRun) {
  auto traceback = [](int i) {
    return std::vector<std::string>{
        "Traceback (most recent call last):", "  File \"t.py\", line 1, in <module>",
        "E" + std::to_string(i) + "Error: boom"};
  };
  const int n = static_cast<int>(kMaxProblemSignaturesPerRun) + 5;
  int64_t dropped = 0;
  std::vector<std::string> kinds;
  for (int from = 0; from < n; from += 50) {  // a batch reports at most 64 problems
    std::vector<std::string> lines;
    for (int i = from; i < std::min(n, from + 50); ++i)
      for (auto& l : traceback(i)) lines.push_back(l);
    auto r = store_->Append(ProblemBatch(run_id_, "main", lines));
    ASSERT_TRUE(r.ok()) << r.status().message();
    dropped += r->problems_dropped;
    for (auto& k : r->new_problem_kinds) kinds.push_back(k);
  }
  EXPECT_EQ(dropped, 5);
  EXPECT_EQ(kinds, std::vector<std::string>{"traceback"});
  // A known signature on another writer is still stored; a new one still is not.
  auto known = store_->Append(ProblemBatch(run_id_, "rank-1", traceback(0)));
  auto fresh = store_->Append(ProblemBatch(run_id_, "rank-1", traceback(n + 1)));
  ASSERT_TRUE(known.ok() && fresh.ok());
  EXPECT_EQ(known->problems_dropped, 0);
  EXPECT_EQ(fresh->problems_dropped, 1);
  auto rows = store_->ProblemsOfRuns({run_id_});
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->size(), static_cast<size_t>(kMaxProblemSignaturesPerRun) + 1);
  EXPECT_EQ(*store_->ProblemsDropped(run_id_), 6);
  ASSERT_TRUE(store_->ClearLogs(run_id_).ok());
  EXPECT_EQ(*store_->ProblemsDropped(run_id_), 0);
}

TEST_P(StoreContractTest, WebhookOutboxEnqueuesOnceClaimsRecordsAndPrunes) {
  const std::string hook = "h" + NewUuid().substr(0, 8);
  WebhookDelivery d;
  d.project = "p";
  d.webhook_id = hook;
  d.event = "problem";
  d.run_id = run_id_;
  d.key = "cuda_oom";
  d.body = R"({"event":"problem"})";
  d.next_attempt_us = NowMicros();
  auto added = store_->EnqueueDelivery(d);
  ASSERT_TRUE(added.ok()) << added.status().message();
  EXPECT_TRUE(*added);
  // PostgreSQL: a second node; SQLite has one process.
  auto other = postgres() ? OpenAnother() : nullptr;
  EXPECT_FALSE(*(other ? *other : *store_).EnqueueDelivery(d));  // the same event again
  // Claims until ours comes (a shared PostgreSQL may hold other tests' deliveries).
  auto claim_ours = [&](LogStore& s) -> std::optional<WebhookDelivery> {
    for (int i = 0; i < 1000; ++i) {
      auto c = s.ClaimDeliveries(NowMicros(), 60'000'000, 1);
      EXPECT_TRUE(c.ok());
      if (!c.ok() || c->empty()) return std::nullopt;
      if (c->front().webhook_id == hook) return c->front();
      DeliveryOutcome o{c->front().id, c->front().attempts, 200, "", DeliveryState::kDelivered, 0};
      EXPECT_TRUE(s.RecordDeliveryAttempt(o).ok());
    }
    return std::nullopt;
  };
  auto c = claim_ours(*store_);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->attempts, 1);
  EXPECT_EQ(c->body, d.body);
  if (postgres()) {
    // Leased: another node does not claim it meanwhile.
    EXPECT_FALSE(claim_ours(*other));
  }
  const int64_t retry_at = NowMicros() - 1;
  ASSERT_TRUE(store_
                  ->RecordDeliveryAttempt(
                      {c->id, 1, 500, "HTTP 500: no", DeliveryState::kPending, retry_at})
                  .ok());
  // A stale outcome (attempt 1 again) changes nothing.
  LogStore& next = other ? *other : *store_;
  auto c2 = claim_ours(next);
  ASSERT_TRUE(c2);
  EXPECT_EQ(c2->attempts, 2);
  ASSERT_TRUE(store_->RecordDeliveryAttempt({c->id, 1, 0, "late", DeliveryState::kGaveUp, 0}).ok());
  ASSERT_TRUE(next.RecordDeliveryAttempt({c2->id, 2, 200, "", DeliveryState::kDelivered, 0}).ok());
  auto log = store_->WebhookDeliveryLog(hook, 20);
  ASSERT_TRUE(log.ok()) << log.status().message();
  EXPECT_EQ(log->delivered, 1);
  EXPECT_EQ(log->failed_attempts, 1);
  EXPECT_EQ(log->gave_up, 0);
  EXPECT_EQ(log->pending, 0);
  EXPECT_EQ(log->last_status, 200);
  EXPECT_EQ(log->last_error, "");
  EXPECT_TRUE(log->last_success_us);
  ASSERT_EQ(log->recent.size(), 1u);
  EXPECT_EQ(log->recent[0].state, DeliveryState::kDelivered);
  EXPECT_EQ(log->recent[0].attempts, 2);
  // Pruning keeps the latest finished ones of each webhook; forgetting drops all.
  for (int i = 0; i < 5; ++i) {
    WebhookDelivery more = d;
    more.key = "k" + std::to_string(i);
    ASSERT_TRUE(*store_->EnqueueDelivery(more));
    auto m = claim_ours(*store_);
    ASSERT_TRUE(m);
    ASSERT_TRUE(
        store_->RecordDeliveryAttempt({m->id, 1, 200, "", DeliveryState::kDelivered, 0}).ok());
  }
  ASSERT_TRUE(store_->PruneDeliveries(3).ok());
  EXPECT_EQ(store_->WebhookDeliveryLog(hook, 20)->recent.size(), 3u);
  EXPECT_EQ(store_->WebhookDeliveryLog(hook, 20)->delivered, 6);
  ASSERT_TRUE(store_->ForgetWebhook(hook).ok());
  log = store_->WebhookDeliveryLog(hook, 20);
  EXPECT_EQ(log->delivered, 0);
  EXPECT_TRUE(log->recent.empty());
}

TEST(StoreUrl, PasswordsNeverReachTheLog) {
  EXPECT_EQ(RedactStoreUrl("postgresql://u:s3cret@db:5432/w"), "postgresql://u:***@db:5432/w");
  EXPECT_EQ(RedactStoreUrl("postgresql://u@db/w"), "postgresql://u@db/w");
  EXPECT_EQ(RedactStoreUrl("host=db password=s3cret dbname=w"), "host=db password=*** dbname=w");
  EXPECT_EQ(RedactStoreUrl("host=db password='a b' dbname=w"), "host=db password=*** dbname=w");
  EXPECT_EQ(RedactStoreUrl("postgresql://db/w?password=x&sslmode=require"),
            "postgresql://db/w?password=***&sslmode=require");
  EXPECT_TRUE(IsPostgresUrl("postgres://db/w"));
  EXPECT_TRUE(IsPostgresUrl("host=/tmp port=5432 dbname=w"));
  EXPECT_FALSE(IsPostgresUrl("sqlite:/var/lib/x.db"));
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreContractTest, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace wanllmdb
