#include "store/sqlite_store.h"

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <future>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "core/chunk_codec.h"
#include "core/thread_name.h"
#include "core/thread_priority.h"
#include "core/time_util.h"
#include "store/append_planner.h"
#include "store/chunk_writer.h"
#include "store/filter_cache.h"
#include "store/merge_planner.h"
#include "store/retention.h"
#include "store/run_end.h"
#include "store/run_import.h"
#include "store/sqlite_db.h"
#include "store/sqlite_schema.h"
#include "store/store_audit.h"
#include "store/text_probe.h"

namespace wanllmdb {
namespace {

class SqliteStore final : public LogStore {
 public:
  SqliteStore(std::string path, SqliteStoreOptions options)
      : path_(std::move(path)), options_(options) {}
  ~SqliteStore() override { Close(); }

  Status Init();

  Result<ProjectInfo> CreateProject(const std::string& name, bool* created) override;
  Result<std::vector<ProjectInfo>> ListProjects() override;
  Result<RunInfo> CreateRun(const NewRun& run, bool* created) override;
  Result<RunInfo> GetRun(const std::string& id) override;
  Result<RunPage> ListRuns(const RunQuery& query) override;
  Result<RunInfo> UpdateRun(const std::string& id, const RunUpdate& update) override;
  Status DeleteRun(const std::string& id) override;
  Result<IngestResult> Append(IngestBatch batch) override;
  Result<std::vector<IngestResult>> AppendAll(std::vector<IngestBatch> batches) override;
  Result<std::vector<Bookmark>> ListBookmarks(const std::string& run_id) override;
  Result<Bookmark> AddBookmark(const Bookmark& b, size_t max_per_run) override;
  Status DeleteBookmark(const std::string& run_id, int64_t id) override;
  Status ClearLogs(const std::string& run_id) override;
  Result<LogSummary> Summary(const std::string& run_id) override;
  Result<std::vector<ProblemRow>> ProblemsOfRuns(const std::vector<std::string>& run_ids) override;
  Result<std::vector<ProblemRow>> ProjectProblems(const ProblemQuery& query) override;
  Status RecordProblems(const std::vector<ProblemRow>& rows) override;
  Result<int64_t> ProblemsDropped(const std::string& run_id) override;
  Result<bool> EnqueueDelivery(const WebhookDelivery& d) override;
  Result<std::vector<WebhookDelivery>> ClaimDeliveries(int64_t now_us, int64_t lease_us,
                                                       int limit) override;
  Status RecordDeliveryAttempt(const DeliveryOutcome& outcome) override;
  Result<std::optional<int64_t>> NextDeliveryDue() override;
  Result<DeliveryLog> WebhookDeliveryLog(const std::string& webhook_id, int recent) override;
  Status PruneDeliveries(int keep) override;
  Status ForgetWebhook(const std::string& webhook_id) override;
  Result<std::optional<std::string>> GetProjectSetting(const std::string& project,
                                                       const std::string& key) override;
  Status PutProjectSetting(const std::string& project, const std::string& key,
                           const std::string& value_json) override;
  Result<std::vector<StoredChunk>> ReadChunks(const std::string& run_id,
                                              const ChunkQuery& query) override;
  void SetCommitListener(CommitListener listener) override;
  void Close() override;
  Status Ping() override;
  Result<int64_t> BytesOnDisk() override;
  Result<std::vector<RunUsage>> Usage() override;
  Status CompactNow() override;
  Result<AuditIds> AuditRunIds() override;
  Status AuditRunRows(const std::string& run_id, AuditRun* run,
                      const std::function<Status(const AuditChunk&)>& on_chunk) override;
  Status RepairRun(const RunRepair& repair) override;
  Status ImportRun(const RunImport& run, const LinePuller& pull) override;
  Result<RetentionPolicy> GetRetention(const std::string& project) override;
  Status SetRetention(const std::string& project, const RetentionPolicy& policy) override;
  Result<std::map<std::string, RetentionPolicy>> ListRetention() override;
  Result<std::vector<RetentionRun>> RetentionRuns() override;
  Result<RetentionView> RetentionChunks(const std::string& run_id, int max_chunks) override;
  Status RemoveChunks(const RetentionCut& cut) override;
  Result<int64_t> ReclaimSpace(int64_t max_pages) override;

 private:
  // Per-run state the writer keeps between batches (it is the only writer of the file).
  // Writer thread only.
  struct RunCache {
    RunCounters counters;
    std::unordered_map<std::string, WriterState> writers;
  };
  // Handed to a write op: the write connection plus what the op wants done after commit.
  struct WriteContext {
    SqliteDb* db;
    std::vector<CommitEvent> events;
    std::vector<std::string> touched_runs;  // their cache entries are dropped if the op fails
  };
  using WriteFn = std::function<Status(WriteContext&)>;
  struct WriteOp {
    WriteFn fn;
    std::promise<Status> done;
  };

  // Runs `fn` in the writer thread inside the next group transaction; waits for the commit.
  Status Write(WriteFn fn);
  void WriterLoop();
  void MergerLoop();
  // One merge: finds a group of unpacked neighbours, packs it, swaps it in. False when idle.
  bool MergeOnce();

  Result<RunCache*> LoadRun(WriteContext& ctx, const std::string& run_id);
  Status AppendInWriter(WriteContext& ctx, PreparedBatch& prepared, IngestResult* result);
  // UpdateRun with a WriterEnd: records the writer's fate, ends the run when all have ended.
  Status EndWriterInWriter(SqliteDb& db, const std::string& id, const WriterEnd& end,
                           RunState state, std::optional<int64_t> exit_code, int64_t now);
  static Status UpsertProblem(SqliteDb& db, const ProblemRow& row);
  Status InsertChunk(SqliteDb& db, const std::string& run_id, int64_t first_line,
                     const LogLine* lines, size_t n, const std::string& payload,
                     const std::string& text_filter, uint64_t writer_mask, bool packed);

  // A read connection from the pool, returned on destruction.
  class ReadLease;
  std::unique_ptr<SqliteDb> AcquireReader();
  void ReleaseReader(std::unique_ptr<SqliteDb> db);

  static Result<RunInfo> RunFromRow(SqliteStmt& q);

  const std::string path_;
  const SqliteStoreOptions options_;

  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::deque<std::unique_ptr<WriteOp>> queue_;  // Guarded by queue_mu_
  bool stopping_ = false;                       // Guarded by queue_mu_
  bool closed_ = false;                         // Guarded by queue_mu_

  std::mutex pool_mu_;
  std::condition_variable pool_cv_;
  std::vector<std::unique_ptr<SqliteDb>> readers_;  // Guarded by pool_mu_

  std::mutex listener_mu_;
  CommitListener listener_;  // Guarded by listener_mu_

  // Writer thread only.
  std::unique_ptr<SqliteDb> write_db_;
  std::unordered_map<std::string, RunCache> runs_;

  MergeWakeups merge_wakeups_;
  // Merger thread only (CompactNow runs it on the caller's thread while the merger sleeps on
  // merge_busy_).
  std::mutex merge_busy_;
  MergePlanner planner_;

  TracebackHints hints_;

  // Text filters of recently searched chunks (thread-safe; ReadChunks). Entries of a run
  // deleted, imported or repaired are dropped when that commits (store/filter_cache.h).
  FilterCache filter_cache_;

  std::thread writer_;
  std::thread merger_;
};

Status SqliteStore::Init() {
  std::filesystem::path p(path_);
  if (p.has_parent_path()) {
    std::error_code ec;
    std::filesystem::create_directories(p.parent_path(), ec);
  }
  write_db_ = std::make_unique<SqliteDb>();
  Status s = write_db_->Open(path_, false);
  if (!s.ok()) return s;
  {
    // A new database gives the pages retention frees back to the file system in small steps
    // (PRAGMA incremental_vacuum). It can only be chosen before the first table exists; an
    // older store keeps auto_vacuum=NONE and reuses its free pages (doc/operations.md).
    SqliteStmt q(*write_db_, "SELECT count(*) FROM sqlite_master");
    if (q.Step() && q.Int(0) == 0) {
      if (!(s = write_db_->Exec("PRAGMA auto_vacuum=INCREMENTAL")).ok()) return s;
    }
  }
  // WAL: readers never block the writer. synchronous=NORMAL in WAL mode loses nothing when the
  // process dies (kill -9); only a power cut can lose the last transactions. FULL fsyncs the
  // WAL at every commit (group commit shares that fsync between concurrent batches).
  const char* sync =
      options_.sync == SyncMode::kFull ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL";
  for (const char* pragma : {"PRAGMA journal_mode=WAL", sync, "PRAGMA foreign_keys=OFF",
                             "PRAGMA cache_size=-65536", "PRAGMA wal_autocheckpoint=4000"}) {
    if (!(s = write_db_->Exec(pragma)).ok()) return s;
  }
  if (!(s = MigrateSqlite(*write_db_)).ok()) return s;
  for (int i = 0; i < options_.read_connections; ++i) {
    auto r = std::make_unique<SqliteDb>();
    if (!(s = r->Open(path_, false)).ok()) return s;
    if (!(s = r->Exec("PRAGMA query_only=1")).ok()) return s;
    (void)r->Exec("PRAGMA cache_size=-32768");  // only a cache size: the default also works
    readers_.push_back(std::move(r));
  }
  writer_ = std::thread([this] { WriterLoop(); });
  NameThread(writer_, "wl-store-write");
  if (options_.background_merge) {
    merger_ = std::thread([this] { MergerLoop(); });
    NameThread(merger_, "wl-merge");
  }
  return Status::Ok();
}

void SqliteStore::Close() {
  {
    std::lock_guard lock(queue_mu_);
    if (closed_) return;
    closed_ = true;
    stopping_ = true;
  }
  queue_cv_.notify_all();
  merge_wakeups_.Post();
  if (merger_.joinable()) merger_.join();
  if (writer_.joinable()) writer_.join();
  if (write_db_) {
    // Best effort: a WAL left behind is replayed by the next open.
    (void)write_db_->Exec("PRAGMA wal_checkpoint(TRUNCATE)");
    write_db_.reset();
  }
  std::lock_guard lock(pool_mu_);
  readers_.clear();
}

Status SqliteStore::Write(WriteFn fn) {
  auto op = std::make_unique<WriteOp>();
  op->fn = std::move(fn);
  auto fut = op->done.get_future();
  {
    std::lock_guard lock(queue_mu_);
    if (stopping_) return Status(Code::kUnavailable, "the store is shutting down");
    queue_.push_back(std::move(op));
  }
  queue_cv_.notify_one();
  return fut.get();
}

void SqliteStore::WriterLoop() {
  SqliteDb& db = *write_db_;
  while (true) {
    std::vector<std::unique_ptr<WriteOp>> ops;
    {
      std::unique_lock lock(queue_mu_);
      queue_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) break;  // stopping, and everything queued is done
      while (!queue_.empty() && ops.size() < 512) {
        ops.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    std::vector<Status> results(ops.size());
    std::vector<CommitEvent> events;
    Status begin = db.Exec("BEGIN IMMEDIATE");
    if (!begin.ok()) {
      for (auto& op : ops) op->done.set_value(begin);
      continue;
    }
    // Set when an op's savepoint could not be opened, released or rolled back: the
    // transaction may then hold part of a failed op, so none of it may commit.
    Status poisoned;
    for (size_t i = 0; i < ops.size(); ++i) {
      WriteContext ctx{&db, {}, {}};
      Status s = db.Exec("SAVEPOINT op");
      if (!s.ok()) {
        poisoned = s;
        results[i] = std::move(s);
        break;
      }
      try {
        s = ops[i]->fn(ctx);
      } catch (const std::exception& e) {
        s = Status(Code::kInternal, e.what());
      }
      if (s.ok()) {
        if (Status r = db.Exec("RELEASE op"); !r.ok()) {
          poisoned = r;
          s = std::move(r);
        }
        for (auto& e : ctx.events) events.push_back(std::move(e));
      } else {
        Status r = db.Exec("ROLLBACK TO op");
        if (r.ok()) r = db.Exec("RELEASE op");
        if (!r.ok()) poisoned = r;
        for (const auto& run : ctx.touched_runs) runs_.erase(run);
      }
      results[i] = std::move(s);
      if (!poisoned.ok()) break;
    }
    Status commit = poisoned.ok() ? db.Exec("COMMIT") : poisoned;
    if (!commit.ok()) {
      (void)db.Exec("ROLLBACK");
      runs_.clear();  // the cache may hold changes that never reached the disk
      events.clear();
      // A full disk fails an op and then the commit with a vaguer error: report the cause.
      for (const auto& r : results)
        if (r.code() == Code::kInsufficientStorage) commit = r;
      for (auto& r : results)
        if (r.ok()) r = commit;
    }
    for (size_t i = 0; i < ops.size(); ++i) ops[i]->done.set_value(results[i]);
    if (!events.empty()) {
      std::lock_guard lock(listener_mu_);
      if (listener_) {
        for (const auto& e : events) listener_(e);
      }
      merge_wakeups_.Post();
    }
  }
}

void SqliteStore::SetCommitListener(CommitListener listener) {
  std::lock_guard lock(listener_mu_);
  listener_ = std::move(listener);
}

std::unique_ptr<SqliteDb> SqliteStore::AcquireReader() {
  std::unique_lock lock(pool_mu_);
  pool_cv_.wait(lock, [&] { return !readers_.empty(); });
  auto db = std::move(readers_.back());
  readers_.pop_back();
  return db;
}

void SqliteStore::ReleaseReader(std::unique_ptr<SqliteDb> db) {
  {
    std::lock_guard lock(pool_mu_);
    readers_.push_back(std::move(db));
  }
  pool_cv_.notify_one();
}

class SqliteStore::ReadLease {
 public:
  explicit ReadLease(SqliteStore* s) : store_(s), db_(s->AcquireReader()) {}
  ~ReadLease() { store_->ReleaseReader(std::move(db_)); }
  SqliteDb& db() { return *db_; }

 private:
  SqliteStore* store_;
  std::unique_ptr<SqliteDb> db_;
};

// ---- projects and runs ----

Result<ProjectInfo> SqliteStore::CreateProject(const std::string& name, bool* created) {
  int64_t now = NowMicros();
  bool made = false;
  Status s = Write([&](WriteContext& ctx) {
    SqliteStmt q(*ctx.db, "INSERT OR IGNORE INTO projects(name, created_at) VALUES (?1, ?2)");
    Status st = q.Bind(1, name).Bind(2, now).Run();
    made = ctx.db->Changes() > 0;
    return st;
  });
  if (!s.ok()) return s;
  if (created) *created = made;
  auto all = ListProjects();
  if (!all.ok()) return all.status();
  for (auto& p : *all)
    if (p.name == name) return p;
  return Status(Code::kInternal, "project vanished");
}

Result<std::vector<ProjectInfo>> SqliteStore::ListProjects() {
  ReadLease lease(this);
  SqliteStmt q(lease.db(),
               "SELECT p.name, p.created_at, count(r.id), max(r.created_at) FROM projects p "
               "LEFT JOIN runs r ON r.project = p.name GROUP BY p.name ORDER BY p.name");
  std::vector<ProjectInfo> out;
  while (q.Step()) {
    ProjectInfo p;
    p.name = q.Text(0);
    p.created_at_us = q.Int(1);
    p.run_count = q.Int(2);
    if (!q.IsNull(3)) p.last_run_at_us = q.Int(3);
    out.push_back(std::move(p));
  }
  if (!q.status().ok()) return q.status();
  return out;
}

constexpr const char* kRunColumns =
    "id, project, name, state, exit_code, created_at, finished_at, config, tags, total, "
    "level_counts, next_line, removed_from, removed_to, removed_at, clears";
constexpr int kRunColumnCount = 16;

Result<RunInfo> SqliteStore::RunFromRow(SqliteStmt& q) {
  RunInfo r;
  r.id = q.Text(0);
  r.project = q.Text(1);
  r.name = q.Text(2);
  r.state = ParseRunState(q.Text(3)).value_or(RunState::kRunning);
  if (!q.IsNull(4)) r.exit_code = q.Int(4);
  r.created_at_us = q.Int(5);
  if (!q.IsNull(6)) r.finished_at_us = q.Int(6);
  r.config_json = q.Text(7);
  r.tags_json = q.Text(8);
  r.line_count = q.Int(9);
  std::array<int64_t, kLevelCount> lc;
  ParseCounts(q.Text(10), &lc);
  r.error_count = lc[3] + lc[4];
  r.last_line = q.Int(11) - 1;
  r.removed.from_line = q.Int(12);
  r.removed.to_line = q.Int(13);
  if (!q.IsNull(14)) r.removed.at_us = q.Int(14);
  r.clears = q.Int(15);
  return r;
}

Result<RunInfo> SqliteStore::CreateRun(const NewRun& run, bool* created) {
  int64_t now = NowMicros();
  bool made = false;
  Status s = Write([&](WriteContext& ctx) {
    SqliteStmt find(*ctx.db, "SELECT project FROM runs WHERE id = ?1");
    find.Bind(1, run.id);
    if (find.Step()) {
      if (find.Text(0) != run.project) {
        return Status(Code::kConflict,
                      "run " + run.id + " exists in project '" + std::string(find.Text(0)) + "'");
      }
      return Status::Ok();
    }
    SqliteStmt p(*ctx.db, "INSERT OR IGNORE INTO projects(name, created_at) VALUES (?1, ?2)");
    Status st = p.Bind(1, run.project).Bind(2, now).Run();
    if (!st.ok()) return st;
    SqliteStmt q(*ctx.db,
                 "INSERT INTO runs(id, project, name, state, created_at, config, tags) "
                 "VALUES (?1, ?2, ?3, 'running', ?4, ?5, ?6)");
    std::string name = run.name.empty() ? "run-" + run.id.substr(0, 8) : run.name;
    st = q.Bind(1, run.id)
             .Bind(2, run.project)
             .Bind(3, name)
             .Bind(4, now)
             .Bind(5, run.config_json)
             .Bind(6, run.tags_json)
             .Run();
    made = st.ok();
    return st;
  });
  if (!s.ok()) return s;
  if (created) *created = made;
  return GetRun(run.id);
}

Result<RunInfo> SqliteStore::GetRun(const std::string& id) {
  ReadLease lease(this);
  SqliteStmt q(lease.db(), std::string("SELECT ") + kRunColumns + " FROM runs WHERE id = ?1");
  q.Bind(1, id);
  if (q.Step()) return RunFromRow(q);
  if (!q.status().ok()) return q.status();
  return Status(Code::kNotFound, "run " + id + " not found");
}

namespace {

// The sort key of a runs listing as SQL (?9 is "now" for running runs' durations).
const char* RunSortKey(RunSort sort) {
  switch (sort) {
    case RunSort::kDuration:
      return "(coalesce(finished_at, ?9) - created_at)";
    case RunSort::kLines:
      return "total";
    case RunSort::kErrors:
      return "(wl_csv_int(level_counts, 3) + wl_csv_int(level_counts, 4))";
    case RunSort::kCreatedAt:
      break;
  }
  return "created_at";
}

// A LIKE pattern for "contains `s`" with % _ and \ taken literally.
std::string LikeContains(std::string_view s) {
  std::string out = "%";
  for (char c : s) {
    if (c == '%' || c == '_' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('%');
  return out;
}

}  // namespace

Result<RunPage> SqliteStore::ListRuns(const RunQuery& rq) {
  ReadLease lease(this);
  const std::string key = RunSortKey(rq.sort);
  // ?1 project, ?2 state, ?3 text pattern, ?4 id prefix, ?9 now.
  const std::string where =
      " FROM runs WHERE (?1 = '' OR project = ?1) AND (?2 = '' OR state = ?2) AND (?3 = '' OR "
      "name LIKE ?3 ESCAPE '\\' OR id LIKE ?3 ESCAPE '\\' OR tags LIKE ?3 ESCAPE '\\') AND "
      "(?4 = '' OR (id >= ?4 AND id < ?4 || 'g'))";
  auto bind = [&](SqliteStmt& q) {
    q.Bind(1, rq.project).Bind(2, rq.state ? RunStateName(*rq.state) : std::string_view(""));
    q.Bind(3, rq.text.empty() ? std::string() : LikeContains(rq.text)).Bind(4, rq.id_prefix);
  };
  RunPage page;
  {
    SqliteStmt q(lease.db(), "SELECT count(*)" + where);
    bind(q);
    if (q.Step()) page.total = q.Int(0);
    if (!q.status().ok()) return q.status();
  }
  const char* cmp = rq.descending ? "<" : ">";
  std::string sql = std::string("SELECT ") + kRunColumns + ", " + key + " AS k" + where;
  if (rq.after_key) {
    sql += std::string(" AND (") + key + " " + cmp + " ?5 OR (" + key + " = ?5 AND id " + cmp +
           " ?6))";
  }
  sql += std::string(" ORDER BY k ") + (rq.descending ? "DESC" : "ASC") + ", id " +
         (rq.descending ? "DESC" : "ASC") + " LIMIT ?7";
  SqliteStmt q(lease.db(), sql);
  bind(q);
  if (rq.after_key) q.Bind(5, *rq.after_key).Bind(6, rq.after_id);
  q.Bind(7, static_cast<int64_t>(rq.limit) + 1).Bind(9, rq.now_us);
  while (q.Step()) {
    if (static_cast<int>(page.runs.size()) == rq.limit) {
      page.has_more = true;
      break;
    }
    page.runs.push_back(*RunFromRow(q));
    page.keys.push_back(q.Int(kRunColumnCount));
  }
  if (!q.status().ok()) return q.status();
  return page;
}

Result<RunInfo> SqliteStore::UpdateRun(const std::string& id, const RunUpdate& update) {
  int64_t now = NowMicros();
  Status s = Write([&](WriteContext& ctx) {
    SqliteStmt find(*ctx.db, "SELECT state FROM runs WHERE id = ?1");
    find.Bind(1, id);
    if (!find.Step()) {
      if (!find.status().ok()) return find.status();
      return Status(Code::kNotFound, "run " + id + " not found");
    }
    if (update.writer_end && update.state && *update.state != RunState::kRunning) {
      return EndWriterInWriter(*ctx.db, id, *update.writer_end, *update.state,
                               update.exit_code ? *update.exit_code : std::nullopt, now);
    }
    if (update.state) {
      SqliteStmt q(*ctx.db,
                   "UPDATE runs SET state = ?2, finished_at = CASE WHEN ?2 = 'running' THEN NULL "
                   "ELSE coalesce(finished_at, ?3) END WHERE id = ?1");
      Status st = q.Bind(1, id).Bind(2, RunStateName(*update.state)).Bind(3, now).Run();
      if (!st.ok()) return st;
    }
    if (update.exit_code) {
      SqliteStmt q(*ctx.db, "UPDATE runs SET exit_code = ?2 WHERE id = ?1");
      q.Bind(1, id);
      if (*update.exit_code) {
        q.Bind(2, **update.exit_code);
      } else {
        q.BindNull(2);
      }
      Status st = q.Run();
      if (!st.ok()) return st;
    }
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return GetRun(id);
}

Status SqliteStore::EndWriterInWriter(SqliteDb& db, const std::string& id, const WriterEnd& end,
                                      RunState state, std::optional<int64_t> exit_code,
                                      int64_t now) {
  SqliteStmt up(db,
                "INSERT INTO run_writer_fates(run_id, writer, state, exit_code, ended_at) VALUES "
                "(?1, ?2, ?3, ?4, ?5) ON CONFLICT(run_id, writer) DO UPDATE SET state = "
                "excluded.state, exit_code = excluded.exit_code, ended_at = excluded.ended_at");
  up.Bind(1, id).Bind(2, end.writer).Bind(3, RunStateName(state)).Bind(5, now);
  if (exit_code) {
    up.Bind(4, *exit_code);
  } else {
    up.BindNull(4);
  }
  Status st = up.Run();
  if (!st.ok()) return st;
  // In the order they ended: the first rank that ended worst is most often the cause.
  SqliteStmt q(db,
               "SELECT state, exit_code FROM run_writer_fates WHERE run_id = ?1 "
               "ORDER BY ended_at, writer");
  q.Bind(1, id);
  std::vector<RunEnd> fates;
  while (q.Step()) {
    RunEnd f;
    f.state = ParseRunState(q.Text(0)).value_or(RunState::kFailed);
    if (!q.IsNull(1)) f.exit_code = q.Int(1);
    fates.push_back(f);
  }
  if (!q.status().ok()) return q.status();
  SqliteStmt cur(db, "SELECT state, exit_code FROM runs WHERE id = ?1");
  cur.Bind(1, id);
  if (!cur.Step()) return cur.status().ok() ? Status(Code::kNotFound, "run " + id) : cur.status();
  RunEnd run;
  run.state = ParseRunState(cur.Text(0)).value_or(RunState::kRunning);
  if (!cur.IsNull(1)) run.exit_code = cur.Int(1);
  auto ended = EndOfWriters(run, fates, end.world_size);
  if (!ended) return Status::Ok();  // other ranks are still running
  SqliteStmt fin(db,
                 "UPDATE runs SET state = ?2, exit_code = ?3, finished_at = coalesce(finished_at, "
                 "?4) WHERE id = ?1");
  fin.Bind(1, id).Bind(2, RunStateName(ended->state)).Bind(4, now);
  if (ended->exit_code) {
    fin.Bind(3, *ended->exit_code);
  } else {
    fin.BindNull(3);
  }
  return fin.Run();
}

Status SqliteStore::DeleteRun(const std::string& id) {
  DropRunFiltersAtExit drop(filter_cache_, id);
  return Write([&](WriteContext& ctx) {
    ctx.touched_runs.push_back(id);
    runs_.erase(id);
    SqliteStmt q(*ctx.db, "DELETE FROM runs WHERE id = ?1");
    Status st = q.Bind(1, id).Run();
    if (!st.ok()) return st;
    if (ctx.db->Changes() == 0) return Status(Code::kNotFound, "run " + id + " not found");
    SqliteStmt c(*ctx.db, "DELETE FROM log_chunks WHERE run_id = ?1");
    if (!(st = c.Bind(1, id).Run()).ok()) return st;
    SqliteStmt w(*ctx.db, "DELETE FROM run_writers WHERE run_id = ?1");
    if (!(st = w.Bind(1, id).Run()).ok()) return st;
    SqliteStmt p(*ctx.db, "DELETE FROM run_problems WHERE run_id = ?1");
    if (!(st = p.Bind(1, id).Run()).ok()) return st;
    SqliteStmt f(*ctx.db, "DELETE FROM run_writer_fates WHERE run_id = ?1");
    if (!(st = f.Bind(1, id).Run()).ok()) return st;
    SqliteStmt b(*ctx.db, "DELETE FROM bookmarks WHERE run_id = ?1");
    return b.Bind(1, id).Run();
  });
}

namespace {

// Ok when run `id` exists; kNotFound otherwise (or the database's error).
Status RunExists(SqliteDb& db, const std::string& id) {
  SqliteStmt q(db, "SELECT 1 FROM runs WHERE id = ?1");
  q.Bind(1, id);
  if (q.Step()) return Status::Ok();
  if (!q.status().ok()) return q.status();
  return Status(Code::kNotFound, "run " + id + " not found");
}

}  // namespace

// ---- bookmarks ----

Result<std::vector<Bookmark>> SqliteStore::ListBookmarks(const std::string& run_id) {
  ReadLease lease(this);
  if (Status s = RunExists(lease.db(), run_id); !s.ok()) return s;
  SqliteStmt q(lease.db(),
               "SELECT id, first_line, last_line, note, created_by, created_at FROM bookmarks "
               "WHERE run_id = ?1 ORDER BY id");
  q.Bind(1, run_id);
  std::vector<Bookmark> out;
  while (q.Step()) {
    Bookmark b;
    b.run_id = run_id;
    b.id = q.Int(0);
    b.first_line = q.Int(1);
    b.last_line = q.Int(2);
    b.note = q.Text(3);
    b.created_by = q.Text(4);
    b.created_at = q.Int(5);
    out.push_back(std::move(b));
  }
  if (!q.status().ok()) return q.status();
  return out;
}

Result<Bookmark> SqliteStore::AddBookmark(const Bookmark& in, size_t max_per_run) {
  Bookmark b = in;
  b.created_at = NowMicros();
  Status s = Write([&](WriteContext& ctx) {
    if (Status st = RunExists(*ctx.db, b.run_id); !st.ok()) return st;
    SqliteStmt n(*ctx.db, "SELECT count(*) FROM bookmarks WHERE run_id = ?1");
    n.Bind(1, b.run_id);
    if (!n.Step()) return n.status();
    if (static_cast<size_t>(n.Int(0)) >= max_per_run) return TooManyBookmarks(max_per_run);
    // One writer thread: max + 1 cannot race.
    SqliteStmt next(*ctx.db, "SELECT coalesce(max(id), 0) + 1 FROM bookmarks");
    if (!next.Step()) return next.status();
    b.id = next.Int(0);
    SqliteStmt q(*ctx.db,
                 "INSERT INTO bookmarks(run_id, id, first_line, last_line, note, created_by, "
                 "created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    return q.Bind(1, b.run_id)
        .Bind(2, b.id)
        .Bind(3, b.first_line)
        .Bind(4, b.last_line)
        .Bind(5, b.note)
        .Bind(6, b.created_by)
        .Bind(7, b.created_at)
        .Run();
  });
  if (!s.ok()) return s;
  return b;
}

Status SqliteStore::DeleteBookmark(const std::string& run_id, int64_t id) {
  return Write([&](WriteContext& ctx) {
    SqliteStmt q(*ctx.db, "DELETE FROM bookmarks WHERE run_id = ?1 AND id = ?2");
    Status st = q.Bind(1, run_id).Bind(2, id).Run();
    if (!st.ok()) return st;
    if (ctx.db->Changes() == 0) {
      return Status(Code::kNotFound, "run " + run_id + " has no bookmark " + std::to_string(id));
    }
    return Status::Ok();
  });
}

// ---- ingest ----

Result<SqliteStore::RunCache*> SqliteStore::LoadRun(WriteContext& ctx, const std::string& run_id) {
  auto it = runs_.find(run_id);
  if (it != runs_.end()) return &it->second;
  SqliteStmt q(*ctx.db,
               "SELECT next_line, first_line, total, bytes, level_counts, source_counts, "
               "first_ts, last_ts FROM runs WHERE id = ?1");
  q.Bind(1, run_id);
  if (!q.Step()) {
    if (!q.status().ok()) return q.status();
    return Status(Code::kNotFound, "run " + run_id + " not found");
  }
  RunCache c;
  RunCounters& r = c.counters;
  r.next_line = q.Int(0);
  r.first_line = q.Int(1);
  r.total = q.Int(2);
  r.bytes = q.Int(3);
  ParseCounts(q.Text(4), &r.level_counts);
  ParseCounts(q.Text(5), &r.source_counts);
  if (!q.IsNull(6)) r.first_ts = q.Int(6);
  if (!q.IsNull(7)) r.last_ts = q.Int(7);
  SqliteStmt w(*ctx.db,
               "SELECT writer, writer_id, max_seq, lines, traceback FROM run_writers "
               "WHERE run_id = ?1");
  w.Bind(1, run_id);
  while (w.Step()) {
    WriterState& ws = c.writers[std::string(w.Text(0))];
    ws.exists = true;
    ws.id = w.Int(1);
    ws.max_seq = w.Int(2);
    ws.lines = w.Int(3);
    ws.traceback_mask = static_cast<uint32_t>(w.Int(4));
  }
  if (!w.status().ok()) return w.status();
  return &(runs_[run_id] = std::move(c));
}

Status SqliteStore::InsertChunk(SqliteDb& db, const std::string& run_id, int64_t first_line,
                                const LogLine* lines, size_t n, const std::string& payload,
                                const std::string& text_filter, uint64_t writer_mask, bool packed) {
  ChunkMeta m = MetaOf(lines, n);
  {
    SqliteStmt c(db,
                 "INSERT OR REPLACE INTO chunk_counts(run_id, first_line, source_counts) "
                 "VALUES (?1, ?2, ?3)");
    Status st = c.Bind(1, run_id)
                    .Bind(2, first_line)
                    .Bind(3, JoinCounts(m.source_counts.data(), kSourceCount))
                    .Run();
    if (!st.ok()) return st;
  }
  if (!text_filter.empty()) {
    SqliteStmt f(db,
                 "INSERT OR REPLACE INTO chunk_filters(run_id, first_line, filter) "
                 "VALUES (?1, ?2, ?3)");
    Status st = f.Bind(1, run_id).Bind(2, first_line).BindBlob(3, text_filter).Run();
    if (!st.ok()) return st;
  }
  SqliteStmt q(db,
               "INSERT INTO log_chunks(run_id, first_line, last_line, ts_min, ts_max, n_lines, "
               "level_mask, level_counts, source_mask, writer_mask, raw_bytes, codec, packed, "
               "payload) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)");
  return q.Bind(1, run_id)
      .Bind(2, first_line)
      .Bind(3, first_line + static_cast<int64_t>(n) - 1)
      .Bind(4, m.ts_min)
      .Bind(5, m.ts_max)
      .Bind(6, static_cast<int64_t>(n))
      .Bind(7, static_cast<int64_t>(m.level_mask))
      .Bind(8, JoinCounts(m.level_counts.data(), kLevelCount))
      .Bind(9, static_cast<int64_t>(m.source_mask))
      .Bind(10, static_cast<int64_t>(writer_mask))
      .Bind(11, m.raw_bytes)
      .Bind(12, static_cast<int64_t>(kCodecZstdColumnsV1))
      .Bind(13, static_cast<int64_t>(packed))
      .BindBlob(14, payload)
      .Run();
}

namespace {

// CapProblemRows' input: what the run's problem rows hold of the batch's kinds and signatures
// (primary key and run_problems_by_kind lookups; the distinct count only when one is new).
Result<ProblemRowsBefore> ProblemRowsOf(SqliteDb& db, const std::string& run_id,
                                        const std::vector<ProblemRow>& rows) {
  ProblemRowsBefore b;
  std::set<std::string> kinds, signatures;
  for (const ProblemRow& r : rows) {
    kinds.insert(r.kind);
    signatures.insert(r.signature);
  }
  // Which of `values` the run already has a row with in `column`.
  auto present = [&](const char* column, const std::set<std::string>& values,
                     std::set<std::string>* found) -> Status {
    SqliteStmt q(db, std::string("SELECT 1 FROM run_problems WHERE run_id = ?1 AND ") + column +
                         " = ?2 LIMIT 1");
    for (const std::string& v : values) {
      q.Reset();
      q.Bind(1, run_id).Bind(2, v);
      if (q.Step()) found->insert(v);
      if (!q.status().ok()) return q.status();
    }
    return Status::Ok();
  };
  if (Status s = present("kind", kinds, &b.kinds); !s.ok()) return s;
  if (Status s = present("signature", signatures, &b.signatures); !s.ok()) return s;
  if (b.signatures.size() < signatures.size()) {
    SqliteStmt c(db, "SELECT count(DISTINCT signature) FROM run_problems WHERE run_id = ?1");
    c.Bind(1, run_id);
    if (c.Step()) b.signature_count = c.Int(0);
    if (!c.status().ok()) return c.status();
  }
  return b;
}

}  // namespace

Status SqliteStore::AppendInWriter(WriteContext& ctx, PreparedBatch& prepared,
                                   IngestResult* result) {
  IngestBatch& batch = prepared.batch;
  ctx.touched_runs.push_back(batch.run_id);
  auto loaded = LoadRun(ctx, batch.run_id);
  if (!loaded.ok()) return loaded.status();
  RunCache& run = **loaded;
  WriterState& w = run.writers[batch.writer];
  if (!w.exists) w.id = static_cast<int64_t>(run.writers.size()) - 1;
  const WriterState before = w;
  Status st = ApplyBatch(prepared, run.counters, w, options_.ingest_zstd_level, result);
  if (!st.ok()) return st;
  const RunCounters& c = run.counters;
  const int64_t n = result->accepted;
  uint64_t writer_mask = 1ULL << std::min<int64_t>(w.id, 63);
  for (auto& piece : prepared.pieces) {
    st = InsertChunk(*ctx.db, batch.run_id, result->first_line + static_cast<int64_t>(piece.begin),
                     batch.lines.data() + piece.begin, piece.end - piece.begin, piece.payload,
                     piece.text_filter, writer_mask, false);
    if (!st.ok()) return st;
  }
  if (n > 0) {
    SqliteStmt q(
        *ctx.db,
        "UPDATE runs SET next_line = ?2, first_line = ?3, total = ?4, bytes = ?5, "
        "level_counts = ?6, source_counts = ?7, first_ts = ?8, last_ts = ?9 WHERE id = ?1");
    st = q.Bind(1, batch.run_id)
             .Bind(2, c.next_line)
             .Bind(3, c.first_line)
             .Bind(4, c.total)
             .Bind(5, c.bytes)
             .Bind(6, JoinCounts(c.level_counts.data(), kLevelCount))
             .Bind(7, JoinCounts(c.source_counts.data(), kSourceCount))
             .Bind(8, *c.first_ts)
             .Bind(9, *c.last_ts)
             .Run();
    if (!st.ok()) return st;
  }
  if (!before.exists || w.max_seq != before.max_seq || w.lines != before.lines ||
      w.traceback_mask != before.traceback_mask) {
    SqliteStmt q(*ctx.db,
                 "INSERT INTO run_writers(run_id, writer, writer_id, max_seq, lines, traceback) "
                 "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(run_id, writer) DO UPDATE SET "
                 "max_seq = excluded.max_seq, lines = excluded.lines, "
                 "traceback = excluded.traceback");
    st = q.Bind(1, batch.run_id)
             .Bind(2, batch.writer)
             .Bind(3, w.id)
             .Bind(4, w.max_seq)
             .Bind(5, w.lines)
             .Bind(6, static_cast<int64_t>(w.traceback_mask))
             .Run();
    if (!st.ok()) return st;
    w.exists = true;
  }
  if (!prepared.problem_rows.empty()) {
    auto before = ProblemRowsOf(*ctx.db, batch.run_id, prepared.problem_rows);
    if (!before.ok()) return before.status();
    CapProblemRows(prepared, *before, result);
    if (result->problems_dropped > 0) {
      SqliteStmt d(*ctx.db,
                   "UPDATE runs SET problems_dropped = problems_dropped + ?2 WHERE id = ?1");
      if (!(st = d.Bind(1, batch.run_id).Bind(2, result->problems_dropped).Run()).ok()) return st;
    }
  }
  for (const ProblemRow& row : prepared.problem_rows) {
    if (!(st = UpsertProblem(*ctx.db, row)).ok()) return st;
  }
  hints_.Set(batch.run_id, batch.writer, prepared, w);
  if (n > 0) {
    CommitEvent ev;
    ev.run_id = batch.run_id;
    ev.first_line = result->first_line;
    ev.last_line = result->last_line;
    ev.lines = std::make_shared<const std::vector<LogLine>>(std::move(batch.lines));
    ctx.events.push_back(std::move(ev));
  }
  return Status::Ok();
}

// LogStore::RecordProblems' rule: a new key is inserted, a known one moves only forward.
Status SqliteStore::UpsertProblem(SqliteDb& db, const ProblemRow& r) {
  SqliteStmt q(db,
               "INSERT INTO run_problems(run_id, signature, writer, kind, rule, level, title, "
               "detail, first_line, last_line, last_seen_line, occurrences, first_ts, "
               "detected_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14) "
               "ON CONFLICT(run_id, signature, writer) DO UPDATE SET "
               "occurrences = occurrences + excluded.occurrences, "
               "last_seen_line = excluded.last_seen_line "
               "WHERE excluded.last_seen_line > run_problems.last_seen_line");
  return q.Bind(1, r.run_id)
      .Bind(2, r.signature)
      .Bind(3, r.writer)
      .Bind(4, r.kind)
      .Bind(5, r.rule)
      .Bind(6, static_cast<int64_t>(r.level))
      .Bind(7, r.title)
      .Bind(8, r.detail)
      .Bind(9, r.first_line)
      .Bind(10, r.last_line)
      .Bind(11, r.last_seen_line)
      .Bind(12, r.occurrences)
      .Bind(13, r.first_ts_us)
      .Bind(14, r.detected_at_us)
      .Run();
}

namespace {
constexpr const char* kProblemColumns =
    "p.run_id, p.signature, p.writer, p.kind, p.rule, p.level, p.title, p.detail, p.first_line, "
    "p.last_line, p.last_seen_line, p.occurrences, p.first_ts, p.detected_at";

ProblemRow ProblemFromRow(SqliteStmt& q) {
  ProblemRow r;
  r.run_id = std::string(q.Text(0));
  r.signature = std::string(q.Text(1));
  r.writer = std::string(q.Text(2));
  r.kind = std::string(q.Text(3));
  r.rule = std::string(q.Text(4));
  r.level = static_cast<Level>(std::clamp<int64_t>(q.Int(5), 0, kLevelCount - 1));
  r.title = std::string(q.Text(6));
  r.detail = std::string(q.Text(7));
  r.first_line = q.Int(8);
  r.last_line = q.Int(9);
  r.last_seen_line = q.Int(10);
  r.occurrences = q.Int(11);
  r.first_ts_us = q.Int(12);
  r.detected_at_us = q.Int(13);
  return r;
}
}  // namespace

Result<std::vector<ProblemRow>> SqliteStore::ProblemsOfRuns(const std::vector<std::string>& ids) {
  ReadLease lease(this);
  std::vector<ProblemRow> out;
  SqliteStmt q(lease.db(), std::string("SELECT ") + kProblemColumns +
                               " FROM run_problems p WHERE p.run_id = ?1 ORDER BY p.first_line, "
                               "p.writer");
  for (const std::string& id : ids) {
    q.Reset();
    q.Bind(1, id);
    while (q.Step()) out.push_back(ProblemFromRow(q));
    if (!q.status().ok()) return q.status();
  }
  return out;
}

Result<std::vector<ProblemRow>> SqliteStore::ProjectProblems(const ProblemQuery& pq) {
  ReadLease lease(this);
  SqliteStmt q(lease.db(), std::string("SELECT ") + kProblemColumns +
                               " FROM runs r JOIN run_problems p ON p.run_id = r.id "
                               "WHERE r.project = ?1 AND (?2 = '' OR p.kind = ?2) "
                               "AND p.detected_at >= ?3 ORDER BY p.detected_at DESC, p.run_id, "
                               "p.first_line LIMIT ?4");
  q.Bind(1, pq.project).Bind(2, pq.kind).Bind(3, pq.since_us.value_or(INT64_MIN)).Bind(4, pq.limit);
  std::vector<ProblemRow> out;
  while (q.Step()) out.push_back(ProblemFromRow(q));
  if (!q.status().ok()) return q.status();
  return out;
}

Status SqliteStore::RecordProblems(const std::vector<ProblemRow>& rows) {
  return Write([&](WriteContext& ctx) {
    for (const ProblemRow& r : rows) {
      if (Status st = RunExists(*ctx.db, r.run_id); !st.ok()) return st;
      Status st = UpsertProblem(*ctx.db, r);
      if (!st.ok()) return st;
    }
    return Status::Ok();
  });
}

Result<int64_t> SqliteStore::ProblemsDropped(const std::string& run_id) {
  ReadLease lease(this);
  SqliteStmt q(lease.db(), "SELECT problems_dropped FROM runs WHERE id = ?1");
  q.Bind(1, run_id);
  if (q.Step()) return q.Int(0);
  if (!q.status().ok()) return q.status();
  return int64_t{0};
}

// ---- webhook deliveries ----

namespace {
constexpr const char* kDeliveryColumns =
    "id, project, webhook_id, event, run_id, key, body, attempts, state, next_attempt_at, "
    "last_status, last_error, created_at, updated_at";

WebhookDelivery DeliveryFromRow(SqliteStmt& q) {
  WebhookDelivery d;
  d.id = q.Int(0);
  d.project = std::string(q.Text(1));
  d.webhook_id = std::string(q.Text(2));
  d.event = std::string(q.Text(3));
  d.run_id = std::string(q.Text(4));
  d.key = std::string(q.Text(5));
  d.body = std::string(q.Text(6));
  d.attempts = static_cast<int>(q.Int(7));
  d.state = ParseDeliveryState(q.Text(8)).value_or(DeliveryState::kPending);
  d.next_attempt_us = q.Int(9);
  d.last_status = static_cast<int>(q.Int(10));
  d.last_error = std::string(q.Text(11));
  d.created_us = q.Int(12);
  d.updated_us = q.Int(13);
  return d;
}
}  // namespace

Result<bool> SqliteStore::EnqueueDelivery(const WebhookDelivery& d) {
  bool added = false;
  const int64_t now = NowMicros();
  Status s = Write([&](WriteContext& ctx) {
    SqliteStmt q(*ctx.db,
                 "INSERT OR IGNORE INTO webhook_deliveries(project, webhook_id, event, run_id, "
                 "key, body, next_attempt_at, created_at, updated_at) "
                 "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)");
    Status st = q.Bind(1, d.project)
                    .Bind(2, d.webhook_id)
                    .Bind(3, d.event)
                    .Bind(4, d.run_id)
                    .Bind(5, d.key)
                    .Bind(6, d.body)
                    .Bind(7, d.next_attempt_us)
                    .Bind(8, now)
                    .Run();
    added = st.ok() && ctx.db->Changes() > 0;
    return st;
  });
  if (!s.ok()) return s;
  return added;
}

Result<std::vector<WebhookDelivery>> SqliteStore::ClaimDeliveries(int64_t now_us, int64_t,
                                                                  int limit) {
  std::vector<WebhookDelivery> out;
  {
    // Most wake-ups find nothing due: answer those from a reader, not a write transaction.
    auto due = NextDeliveryDue();
    if (!due.ok()) return due.status();
    if (!*due || **due > now_us) return out;
  }
  // One process owns the file and claims from one thread: no lease is needed.
  Status s = Write([&](WriteContext& ctx) {
    out.clear();
    SqliteStmt q(*ctx.db, std::string("SELECT ") + kDeliveryColumns +
                              " FROM webhook_deliveries WHERE state = 'pending' AND "
                              "next_attempt_at <= ?1 ORDER BY next_attempt_at, id LIMIT ?2");
    q.Bind(1, now_us).Bind(2, limit);
    while (q.Step()) out.push_back(DeliveryFromRow(q));
    if (!q.status().ok()) return q.status();
    SqliteStmt u(*ctx.db,
                 "UPDATE webhook_deliveries SET attempts = attempts + 1, updated_at = ?2 "
                 "WHERE id = ?1");
    for (WebhookDelivery& d : out) {
      u.Reset();
      Status st = u.Bind(1, d.id).Bind(2, now_us).Run();
      if (!st.ok()) return st;
      ++d.attempts;
    }
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return out;
}

Status SqliteStore::RecordDeliveryAttempt(const DeliveryOutcome& o) {
  const int64_t now = NowMicros();
  return Write([&](WriteContext& ctx) {
    SqliteStmt q(*ctx.db,
                 "UPDATE webhook_deliveries SET state = ?3, last_status = ?4, last_error = ?5, "
                 "next_attempt_at = ?6, updated_at = ?7 "
                 "WHERE id = ?1 AND attempts = ?2 AND state = 'pending'");
    Status st = q.Bind(1, o.id)
                    .Bind(2, o.attempt)
                    .Bind(3, DeliveryStateName(o.state))
                    .Bind(4, o.status)
                    .Bind(5, o.error)
                    .Bind(6, o.next_attempt_us)
                    .Bind(7, now)
                    .Run();
    if (!st.ok() || ctx.db->Changes() == 0) return st;
    const bool ok = o.error.empty();
    SqliteStmt t(*ctx.db,
                 "INSERT INTO webhook_stats(webhook_id, delivered, failed_attempts, gave_up, "
                 "last_status, last_error, last_attempt_at, last_success_at) "
                 "SELECT webhook_id, ?2, ?3, ?4, ?5, ?6, ?7, ?8 FROM webhook_deliveries "
                 "WHERE id = ?1 ON CONFLICT(webhook_id) DO UPDATE SET "
                 "delivered = delivered + excluded.delivered, "
                 "failed_attempts = failed_attempts + excluded.failed_attempts, "
                 "gave_up = gave_up + excluded.gave_up, last_status = excluded.last_status, "
                 "last_error = excluded.last_error, last_attempt_at = excluded.last_attempt_at, "
                 "last_success_at = coalesce(excluded.last_success_at, last_success_at)");
    t.Bind(1, o.id)
        .Bind(2, int64_t{ok})
        .Bind(3, int64_t{!ok})
        .Bind(4, int64_t{o.state == DeliveryState::kGaveUp})
        .Bind(5, o.status)
        .Bind(6, o.error)
        .Bind(7, now);
    if (ok) {
      t.Bind(8, now);
    } else {
      t.BindNull(8);
    }
    return t.Run();
  });
}

Result<std::optional<int64_t>> SqliteStore::NextDeliveryDue() {
  ReadLease lease(this);
  SqliteStmt q(lease.db(),
               "SELECT min(next_attempt_at) FROM webhook_deliveries WHERE state = 'pending'");
  if (q.Step() && !q.IsNull(0)) return std::optional<int64_t>(q.Int(0));
  if (!q.status().ok()) return q.status();
  return std::optional<int64_t>();
}

Result<DeliveryLog> SqliteStore::WebhookDeliveryLog(const std::string& webhook_id, int recent) {
  ReadLease lease(this);
  DeliveryLog log;
  SqliteStmt t(lease.db(),
               "SELECT delivered, failed_attempts, gave_up, last_status, last_error, "
               "last_attempt_at, last_success_at FROM webhook_stats WHERE webhook_id = ?1");
  t.Bind(1, webhook_id);
  if (t.Step()) {
    log.delivered = t.Int(0);
    log.failed_attempts = t.Int(1);
    log.gave_up = t.Int(2);
    log.last_status = static_cast<int>(t.Int(3));
    log.last_error = std::string(t.Text(4));
    if (!t.IsNull(5)) log.last_attempt_us = t.Int(5);
    if (!t.IsNull(6)) log.last_success_us = t.Int(6);
  }
  if (!t.status().ok()) return t.status();
  SqliteStmt p(lease.db(),
               "SELECT count(*) FROM webhook_deliveries WHERE webhook_id = ?1 AND "
               "state = 'pending'");
  p.Bind(1, webhook_id);
  if (p.Step()) log.pending = p.Int(0);
  if (!p.status().ok()) return p.status();
  SqliteStmt r(lease.db(), std::string("SELECT ") + kDeliveryColumns +
                               " FROM webhook_deliveries WHERE webhook_id = ?1 "
                               "ORDER BY updated_at DESC, id DESC LIMIT ?2");
  r.Bind(1, webhook_id).Bind(2, recent);
  while (r.Step()) log.recent.push_back(DeliveryFromRow(r));
  if (!r.status().ok()) return r.status();
  return log;
}

Status SqliteStore::PruneDeliveries(int keep) {
  return Write([&](WriteContext& ctx) {
    SqliteStmt q(*ctx.db,
                 "DELETE FROM webhook_deliveries WHERE id IN (SELECT id FROM (SELECT id, "
                 "row_number() OVER (PARTITION BY webhook_id ORDER BY updated_at DESC, id DESC) "
                 "AS n FROM webhook_deliveries WHERE state != 'pending') WHERE n > ?1)");
    return q.Bind(1, keep).Run();
  });
}

Status SqliteStore::ForgetWebhook(const std::string& webhook_id) {
  return Write([&](WriteContext& ctx) {
    SqliteStmt q(*ctx.db, "DELETE FROM webhook_deliveries WHERE webhook_id = ?1");
    Status st = q.Bind(1, webhook_id).Run();
    if (!st.ok()) return st;
    SqliteStmt t(*ctx.db, "DELETE FROM webhook_stats WHERE webhook_id = ?1");
    return t.Bind(1, webhook_id).Run();
  });
}

Result<std::optional<std::string>> SqliteStore::GetProjectSetting(const std::string& project,
                                                                  const std::string& key) {
  ReadLease lease(this);
  SqliteStmt e(lease.db(), "SELECT 1 FROM projects WHERE name = ?1");
  e.Bind(1, project);
  if (!e.Step()) {
    if (!e.status().ok()) return e.status();
    return Status(Code::kNotFound, "project '" + project + "' not found");
  }
  SqliteStmt q(lease.db(), "SELECT value FROM project_settings WHERE project = ?1 AND key = ?2");
  q.Bind(1, project).Bind(2, key);
  if (q.Step()) return std::optional<std::string>(std::string(q.Text(0)));
  if (!q.status().ok()) return q.status();
  return std::optional<std::string>();
}

Status SqliteStore::PutProjectSetting(const std::string& project, const std::string& key,
                                      const std::string& value_json) {
  return Write([&](WriteContext& ctx) {
    SqliteStmt e(*ctx.db, "SELECT 1 FROM projects WHERE name = ?1");
    e.Bind(1, project);
    if (!e.Step()) {
      if (!e.status().ok()) return e.status();
      return Status(Code::kNotFound, "project '" + project + "' not found");
    }
    SqliteStmt q(*ctx.db,
                 "INSERT INTO project_settings(project, key, value) VALUES (?1, ?2, ?3) "
                 "ON CONFLICT(project, key) DO UPDATE SET value = excluded.value");
    return q.Bind(1, project).Bind(2, key).Bind(3, value_json).Run();
  });
}

Result<IngestResult> SqliteStore::Append(IngestBatch batch) {
  // Detect and compress here, on the caller's thread, so the single writer thread only runs SQL.
  TracebackHint hint = hints_.Get(batch.run_id, batch.writer);
  auto prepared = PrepareBatch(std::move(batch), hint, options_.ingest_zstd_level);
  if (!prepared.ok()) return prepared.status();
  IngestResult result;
  Status s = Write([&](WriteContext& ctx) { return AppendInWriter(ctx, *prepared, &result); });
  if (!s.ok()) return s;
  return result;
}

Result<std::vector<IngestResult>> SqliteStore::AppendAll(std::vector<IngestBatch> batches) {
  std::vector<PreparedBatch> prepared;
  prepared.reserve(batches.size());
  for (auto& b : batches) {
    TracebackHint hint = hints_.Get(b.run_id, b.writer);
    auto p = PrepareBatch(std::move(b), hint, options_.ingest_zstd_level);
    if (!p.ok()) return p.status();
    prepared.push_back(std::move(*p));
  }
  std::vector<IngestResult> results(prepared.size());
  // One write op is one savepoint: a failing batch rolls back the ones before it too.
  Status s = Write([&](WriteContext& ctx) {
    for (size_t i = 0; i < prepared.size(); ++i) {
      Status st = AppendInWriter(ctx, prepared[i], &results[i]);
      if (!st.ok()) return st;
    }
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return results;
}

Status SqliteStore::ClearLogs(const std::string& run_id) {
  return Write([&](WriteContext& ctx) {
    ctx.touched_runs.push_back(run_id);
    runs_.erase(run_id);  // reloaded from the row below on next use
    SqliteStmt q(*ctx.db,
                 "UPDATE runs SET first_line = 0, total = 0, bytes = 0, level_counts = "
                 "'0,0,0,0,0', source_counts = '0,0,0,0,0', first_ts = NULL, last_ts = NULL, "
                 "removed_from = 0, removed_to = 0, removed_at = NULL, problems_dropped = 0, "
                 "clears = clears + 1 WHERE id = ?1");
    Status st = q.Bind(1, run_id).Run();
    if (!st.ok()) return st;
    if (ctx.db->Changes() == 0) return Status(Code::kNotFound, "run " + run_id + " not found");
    SqliteStmt c(*ctx.db, "DELETE FROM log_chunks WHERE run_id = ?1");
    if (!(st = c.Bind(1, run_id).Run()).ok()) return st;
    SqliteStmt p(*ctx.db, "DELETE FROM run_problems WHERE run_id = ?1");
    if (!(st = p.Bind(1, run_id).Run()).ok()) return st;
    // Watermarks stay: a retry of a batch sent before the clear must not come back.
    SqliteStmt w(*ctx.db, "UPDATE run_writers SET lines = 0 WHERE run_id = ?1");
    if (!(st = w.Bind(1, run_id).Run()).ok()) return st;
    SqliteStmt b(*ctx.db, "DELETE FROM bookmarks WHERE run_id = ?1");
    return b.Bind(1, run_id).Run();
  });
}

Result<LogSummary> SqliteStore::Summary(const std::string& run_id) {
  ReadLease lease(this);
  SqliteStmt q(lease.db(),
               "SELECT total, bytes, level_counts, source_counts, first_ts, last_ts, first_line, "
               "next_line, removed_from, removed_to, removed_at FROM runs WHERE id = ?1");
  q.Bind(1, run_id);
  if (!q.Step()) {
    if (!q.status().ok()) return q.status();
    return Status(Code::kNotFound, "run " + run_id + " not found");
  }
  LogSummary s;
  s.total = q.Int(0);
  s.bytes = q.Int(1);
  ParseCounts(q.Text(2), &s.by_level);
  ParseCounts(q.Text(3), &s.by_source);
  if (!q.IsNull(4)) s.first_timestamp_us = q.Int(4);
  if (!q.IsNull(5)) s.last_timestamp_us = q.Int(5);
  s.first_line = s.total ? q.Int(6) : 0;
  s.last_line = q.Int(7) - 1;
  s.removed.from_line = q.Int(8);
  s.removed.to_line = q.Int(9);
  if (!q.IsNull(10)) s.removed.at_us = q.Int(10);
  SqliteStmt w(lease.db(), "SELECT writer, lines FROM run_writers WHERE run_id = ?1 AND lines > 0");
  w.Bind(1, run_id);
  while (w.Step()) s.by_writer[std::string(w.Text(0))] = w.Int(1);
  return s;
}

Result<std::vector<StoredChunk>> SqliteStore::ReadChunks(const std::string& run_id,
                                                         const ChunkQuery& cq) {
  ReadLease lease(this);
  // With a probe the payloads come in a second step, only for chunks the filters keep: the
  // first reads the metadata (and the row id, the filter cache's token), the filters come from
  // the cache (store/filter_cache.h) or, for chunks not in it, from chunk_filters beside the
  // chunks, without touching a payload. All steps read one snapshot (a read transaction), so a
  // merge in between cannot swap a chunk out from under the next.
  const bool probing = cq.with_payload && cq.probe;
  struct ReadTxn {
    SqliteDb* db = nullptr;
    ~ReadTxn() {
      if (db) (void)db->Exec("COMMIT");
    }
  } txn;
  if (probing) {
    if (Status s = lease.db().Exec("BEGIN"); !s.ok()) return s;
    txn.db = &lease.db();
  }
  // The lower bound on first_line (the chunk holding from_line) keeps both directions on the
  // primary key instead of filtering every earlier chunk.
  std::string sql =
      std::string(
          "SELECT c.first_line, c.last_line, c.ts_min, c.ts_max, c.level_mask, "
          "c.source_mask, c.level_counts, c.codec, ") +
      (probing           ? "c.rowid"
       : cq.with_payload ? "c.payload"
                         : "NULL") +
      " FROM log_chunks c"
      " WHERE c.run_id = ?1 AND c.first_line <= ?3 AND c.last_line >= ?2"
      " AND c.first_line >= coalesce((SELECT max(first_line) FROM log_chunks WHERE "
      "run_id = ?1 AND first_line <= ?2), 0)"
      " AND c.ts_max >= ?4 AND c.ts_min <= ?5 AND (?6 = 0 OR (c.level_mask & ?6) != 0)"
      " AND (?7 = 0 OR (c.source_mask & ?7) != 0) ORDER BY c.first_line " +
      (cq.descending ? "DESC" : "ASC") + " LIMIT ?8";
  SqliteStmt q(lease.db(), sql);
  q.Bind(1, run_id)
      .Bind(2, cq.from_line)
      .Bind(3, cq.to_line)
      .Bind(4, cq.since_us.value_or(INT64_MIN))
      .Bind(5, cq.until_us.value_or(INT64_MAX))
      .Bind(6, static_cast<int64_t>(cq.level_mask))
      .Bind(7, static_cast<int64_t>(cq.source_mask))
      .Bind(8, static_cast<int64_t>(cq.max_chunks));
  std::vector<StoredChunk> out;
  std::vector<int64_t> tokens;
  while (q.Step()) {
    StoredChunk c;
    c.first_line = q.Int(0);
    c.last_line = q.Int(1);
    c.ts_min = q.Int(2);
    c.ts_max = q.Int(3);
    c.level_mask = static_cast<uint32_t>(q.Int(4));
    c.source_mask = static_cast<uint32_t>(q.Int(5));
    ParseCounts(q.Text(6), &c.level_counts);
    c.codec = static_cast<int>(q.Int(7));
    if (probing) {
      tokens.push_back(q.Int(8));
    } else if (cq.with_payload) {
      c.payload = q.Blob(8);
    }
    out.push_back(std::move(c));
  }
  if (!q.status().ok()) return q.status();
  if (probing) {
    SqliteStmt f(lease.db(),
                 "SELECT filter FROM chunk_filters WHERE run_id = ?1 AND first_line = ?2");
    std::vector<FilterKey> keys(out.size());
    for (size_t k = 0; k < out.size(); ++k)
      keys[k] = {out[k].first_line, out[k].last_line, tokens[k]};
    std::vector<FilterCache::Filter> filters;
    filter_cache_.FindAll(run_id, keys, &filters);
    for (size_t k = 0; k < out.size(); ++k) {
      if (!filters[k]) {
        f.Reset();
        f.Bind(1, run_id).Bind(2, out[k].first_line);
        std::string stored;  // none: always scanned
        if (f.Step()) {
          stored = f.Blob(0);
        } else if (!f.status().ok()) {
          return f.status();
        }
        filters[k] = std::make_shared<const std::string>(std::move(stored));
        filter_cache_.Insert(run_id, keys[k], filters[k]);
      }
      out[k].skipped = !cq.probe->MayMatch(*filters[k]);
    }
    TrimToPayloads(&out, cq.max_payloads);
    SqliteStmt p(lease.db(),
                 "SELECT payload FROM log_chunks WHERE run_id = ?1 AND first_line = ?2");
    for (StoredChunk& c : out) {
      if (c.skipped) continue;
      p.Reset();
      p.Bind(1, run_id).Bind(2, c.first_line);
      if (!p.Step()) {
        if (!p.status().ok()) return p.status();
        return Status(Code::kInternal, "chunk " + std::to_string(c.first_line) + " of run " +
                                           run_id + " vanished inside a read transaction");
      }
      c.payload = p.Blob(0);
    }
  }
  return out;
}

Result<std::vector<RunUsage>> SqliteStore::Usage() {
  ReadLease lease(this);
  // length() of a BLOB reads the record header, not the payload.
  SqliteStmt q(lease.db(),
               "SELECT r.id, r.project, r.name, r.total, r.bytes, count(c.first_line), "
               "coalesce(sum(length(c.payload)), 0) FROM runs r LEFT JOIN log_chunks c "
               "ON c.run_id = r.id GROUP BY r.id");
  std::vector<RunUsage> out;
  while (q.Step()) {
    RunUsage u;
    u.run_id = std::string(q.Text(0));
    u.project = std::string(q.Text(1));
    u.name = std::string(q.Text(2));
    u.lines = q.Int(3);
    u.raw_bytes = q.Int(4);
    u.chunks = q.Int(5);
    u.stored_bytes = q.Int(6);
    out.push_back(std::move(u));
  }
  if (!q.status().ok()) return q.status();
  return out;
}

Status SqliteStore::Ping() {
  ReadLease lease(this);
  SqliteStmt q(lease.db(), "SELECT 1");
  if (!q.Step())
    return q.status().ok() ? Status(Code::kUnavailable, "SELECT 1 gave no row") : q.status();
  return Status::Ok();
}

Result<int64_t> SqliteStore::BytesOnDisk() {
  int64_t total = 0;
  for (const char* suffix : {"", "-wal"}) {
    std::error_code ec;
    auto size = std::filesystem::file_size(path_ + suffix, ec);
    if (!ec) total += static_cast<int64_t>(size);
  }
  return total;
}

// ---- admin check ----

Result<AuditIds> SqliteStore::AuditRunIds() {
  ReadLease lease(this);
  AuditIds ids;
  SqliteStmt q(lease.db(), "SELECT id FROM runs ORDER BY id");
  while (q.Step()) ids.runs.emplace_back(q.Text(0));
  if (!q.status().ok()) return q.status();
  SqliteStmt o(lease.db(),
               "SELECT run_id FROM (SELECT DISTINCT run_id FROM log_chunks UNION SELECT run_id "
               "FROM run_writers) WHERE run_id NOT IN (SELECT id FROM runs) ORDER BY run_id");
  while (o.Step()) ids.orphans.emplace_back(o.Text(0));
  if (!o.status().ok()) return o.status();
  return ids;
}

Status SqliteStore::AuditRunRows(const std::string& run_id, AuditRun* run,
                                 const std::function<Status(const AuditChunk&)>& on_chunk) {
  ReadLease lease(this);
  SqliteDb& db = lease.db();
  // One read transaction: the row, the writers and the chunks are of one commit.
  if (Status s = db.Exec("BEGIN"); !s.ok()) return s;
  struct ReadTxn {
    SqliteDb& db;
    ~ReadTxn() { (void)db.Exec("COMMIT"); }
  } txn{db};
  SqliteStmt q(db,
               "SELECT next_line, first_line, total, bytes, level_counts, source_counts, "
               "first_ts, last_ts, removed_from, removed_to, removed_at FROM runs WHERE id = ?1");
  q.Bind(1, run_id);
  if (!q.Step()) {
    if (!q.status().ok()) return q.status();
    return Status(Code::kNotFound, "run " + run_id + " not found");
  }
  run->id = run_id;
  run->removed.from_line = q.Int(8);
  run->removed.to_line = q.Int(9);
  if (!q.IsNull(10)) run->removed.at_us = q.Int(10);
  RunCounters& c = run->counters;
  c.next_line = q.Int(0);
  c.first_line = q.Int(1);
  c.total = q.Int(2);
  c.bytes = q.Int(3);
  ParseCounts(q.Text(4), &c.level_counts);
  ParseCounts(q.Text(5), &c.source_counts);
  if (!q.IsNull(6)) c.first_ts = q.Int(6);
  if (!q.IsNull(7)) c.last_ts = q.Int(7);
  SqliteStmt w(db,
               "SELECT writer, writer_id, max_seq, lines FROM run_writers WHERE run_id = ?1 "
               "ORDER BY writer_id");
  w.Bind(1, run_id);
  while (w.Step()) run->writers.push_back({std::string(w.Text(0)), w.Int(1), w.Int(2), w.Int(3)});
  if (!w.status().ok()) return w.status();
  SqliteStmt k(db,
               "SELECT c.first_line, c.last_line, c.n_lines, c.ts_min, c.ts_max, c.raw_bytes, "
               "c.level_mask, c.source_mask, c.writer_mask, c.level_counts, c.codec, c.payload, "
               "f.filter, n.source_counts FROM log_chunks c LEFT JOIN chunk_filters f ON "
               "f.run_id = c.run_id AND f.first_line = c.first_line LEFT JOIN chunk_counts n ON "
               "n.run_id = c.run_id AND n.first_line = c.first_line WHERE c.run_id = ?1 "
               "ORDER BY c.first_line");
  k.Bind(1, run_id);
  AuditChunk a;
  while (k.Step()) {
    a.first_line = k.Int(0);
    a.last_line = k.Int(1);
    a.n_lines = k.Int(2);
    a.ts_min = k.Int(3);
    a.ts_max = k.Int(4);
    a.raw_bytes = k.Int(5);
    a.level_mask = static_cast<uint32_t>(k.Int(6));
    a.source_mask = static_cast<uint32_t>(k.Int(7));
    a.writer_mask = static_cast<uint64_t>(k.Int(8));
    ParseCounts(k.Text(9), &a.level_counts);
    a.codec = static_cast<int>(k.Int(10));
    a.payload = k.Blob(11);
    a.text_filter = k.IsNull(12) ? std::string() : std::string(k.Blob(12));
    a.source_counts.reset();
    if (!k.IsNull(13)) {
      a.source_counts.emplace();
      ParseCounts(k.Text(13), &*a.source_counts);
    }
    if (Status s = on_chunk(a); !s.ok()) return s;
  }
  return k.status();
}

Status SqliteStore::RepairRun(const RunRepair& r) {
  DropRunFiltersAtExit drop(filter_cache_, r.run_id);
  return Write([&](WriteContext& ctx) -> Status {
    ctx.touched_runs.push_back(r.run_id);
    runs_.erase(r.run_id);  // reloaded from the repaired row on next use
    SqliteDb& db = *ctx.db;
    SqliteStmt seen(db, "SELECT next_line, total FROM runs WHERE id = ?1");
    seen.Bind(1, r.run_id);
    if (!seen.Step()) {
      if (!seen.status().ok()) return seen.status();
      return Status(Code::kNotFound, "run " + r.run_id + " not found");
    }
    if (seen.Int(0) != r.seen_next_line || seen.Int(1) != r.seen_total)
      return Status(Code::kConflict, "run " + r.run_id +
                                         " changed since it was checked (lines were appended or "
                                         "cleared); check it again");
    Status st;
    if (r.counters) {
      const RunCounters& c = *r.counters;
      SqliteStmt q(db,
                   "UPDATE runs SET next_line = ?2, first_line = ?3, total = ?4, bytes = ?5, "
                   "level_counts = ?6, source_counts = ?7, first_ts = ?8, last_ts = ?9 "
                   "WHERE id = ?1");
      q.Bind(1, r.run_id)
          .Bind(2, c.next_line)
          .Bind(3, c.first_line)
          .Bind(4, c.total)
          .Bind(5, c.bytes)
          .Bind(6, JoinCounts(c.level_counts.data(), kLevelCount))
          .Bind(7, JoinCounts(c.source_counts.data(), kSourceCount));
      if (c.first_ts) {
        q.Bind(8, *c.first_ts);
      } else {
        q.BindNull(8);
      }
      if (c.last_ts) {
        q.Bind(9, *c.last_ts);
      } else {
        q.BindNull(9);
      }
      if (!(st = q.Run()).ok()) return st;
    }
    for (const AuditWriter& w : r.writers) {
      SqliteStmt q(db,
                   "INSERT INTO run_writers(run_id, writer, writer_id, max_seq, lines) VALUES "
                   "(?1, ?2, ?3, ?4, ?5) ON CONFLICT(run_id, writer) DO UPDATE SET lines = "
                   "excluded.lines");
      st = q.Bind(1, r.run_id)
               .Bind(2, w.writer)
               .Bind(3, w.id)
               .Bind(4, w.max_seq)
               .Bind(5, w.lines)
               .Run();
      if (!st.ok()) return st;
    }
    for (const AuditChunk& c : r.chunks) {
      SqliteStmt q(db,
                   "UPDATE log_chunks SET n_lines = ?4, ts_min = ?5, ts_max = ?6, raw_bytes = ?7, "
                   "level_mask = ?8, source_mask = ?9, writer_mask = ?10, level_counts = ?11 "
                   "WHERE run_id = ?1 AND first_line = ?2 AND last_line = ?3");
      st = q.Bind(1, r.run_id)
               .Bind(2, c.first_line)
               .Bind(3, c.last_line)
               .Bind(4, c.n_lines)
               .Bind(5, c.ts_min)
               .Bind(6, c.ts_max)
               .Bind(7, c.raw_bytes)
               .Bind(8, static_cast<int64_t>(c.level_mask))
               .Bind(9, static_cast<int64_t>(c.source_mask))
               .Bind(10, static_cast<int64_t>(c.writer_mask))
               .Bind(11, JoinCounts(c.level_counts.data(), kLevelCount))
               .Run();
      if (!st.ok()) return st;
      if (db.Changes() == 0)
        return Status(Code::kConflict, "chunk " + std::to_string(c.first_line) + "-" +
                                           std::to_string(c.last_line) + " of run " + r.run_id +
                                           " changed since it was checked; check it again");
      SqliteStmt f(db, c.text_filter.empty()
                           ? "DELETE FROM chunk_filters WHERE run_id = ?1 AND first_line = ?2"
                           : "INSERT OR REPLACE INTO chunk_filters(run_id, first_line, filter) "
                             "VALUES (?1, ?2, ?3)");
      f.Bind(1, r.run_id).Bind(2, c.first_line);
      if (!c.text_filter.empty()) f.BindBlob(3, c.text_filter);
      if (!(st = f.Run()).ok()) return st;
      if (c.source_counts) {
        SqliteStmt n(db,
                     "INSERT OR REPLACE INTO chunk_counts(run_id, first_line, source_counts) "
                     "VALUES (?1, ?2, ?3)");
        st = n.Bind(1, r.run_id)
                 .Bind(2, c.first_line)
                 .Bind(3, JoinCounts(c.source_counts->data(), kSourceCount))
                 .Run();
        if (!st.ok()) return st;
      }
    }
    return Status::Ok();
  });
}

// ---- background merge ----

void SqliteStore::MergerLoop() {
  SetThisThreadNice(kBackgroundNice);  // merges use the CPU ingest leaves over
  RunMergerLoop(
      merge_wakeups_,
      [&] {
        std::lock_guard lock(queue_mu_);
        if (stopping_) return MergerState::kStop;
        return queue_.size() > 2 ? MergerState::kIngestBusy : MergerState::kQuiet;
      },
      [&] {
        std::lock_guard busy(merge_busy_);
        const int64_t before = planner_.groups_planned();
        if (!MergeOnce()) return MergeStep::kIdle;
        return planner_.groups_planned() != before ? MergeStep::kGroup : MergeStep::kPaged;
      });
}

bool SqliteStore::MergeOnce() {
  std::vector<MergeCandidate> group;
  std::vector<std::string> payloads;
  std::vector<uint64_t> writer_masks;
  {
    ReadLease lease(this);
    SqliteStmt q(lease.db(),
                 "SELECT run_id, first_line, last_line, n_lines, raw_bytes, packed FROM log_chunks "
                 "INDEXED BY log_chunks_mergeable WHERE (packed = 0 OR n_lines < 500) AND "
                 "(run_id, first_line) > (?1, ?2) ORDER BY run_id, first_line LIMIT ?3");
    q.Bind(1, planner_.cursor_run())
        .Bind(2, planner_.cursor_line())
        .Bind(3, static_cast<int64_t>(kMergePageRows));
    std::vector<MergeCandidate> page;
    while (q.Step()) {
      page.push_back(
          {std::string(q.Text(0)), q.Int(1), q.Int(2), q.Int(3), q.Int(4), q.Int(5) != 0});
    }
    if (!q.status().ok()) return false;
    switch (planner_.Plan(page, &group)) {
      case MergePlanner::Outcome::kIdle:
        return false;
      case MergePlanner::Outcome::kNextPage:
        return true;
      case MergePlanner::Outcome::kGroup:
        break;
    }
    SqliteStmt p(
        lease.db(),
        "SELECT payload, writer_mask FROM log_chunks WHERE run_id = ?1 AND first_line >= ?2 "
        "AND first_line <= ?3 ORDER BY first_line");
    p.Bind(1, group.front().run_id)
        .Bind(2, group.front().first_line)
        .Bind(3, group.back().first_line);
    while (p.Step()) {
      payloads.emplace_back(p.Blob(0));
      writer_masks.push_back(static_cast<uint64_t>(p.Int(1)));
    }
  }
  if (payloads.size() != group.size()) return true;  // changed under us: try again next time
  auto merged = BuildMerge(payloads, writer_masks, options_.merge_zstd_level);
  if (!merged.ok()) return false;
  if (merged->chunks_taken < group.size()) {
    // Cut at the writer limit: the rest starts the next group.
    group.resize(merged->chunks_taken);
    planner_.ResumeAfter(group.back());
  }
  if (!WorthMerging(group, group.size())) return true;
  const std::string run_id = group.front().run_id;
  const int64_t first = group.front().first_line, last = group.back().last_line;
  const int64_t count = static_cast<int64_t>(group.size());
  int64_t packed_before = 0;
  for (const auto& c : group) packed_before += c.packed;
  Status s = Write([&](WriteContext& ctx) {
    // Swap only if the chunks are still exactly the ones read (no clear, delete or other merge).
    SqliteStmt check(
        *ctx.db,
        "SELECT count(*), coalesce(min(first_line), 0), coalesce(max(last_line), 0), "
        "coalesce(sum(packed), -1) FROM log_chunks WHERE run_id = ?1 AND first_line >= ?2 "
        "AND first_line <= ?3");
    check.Bind(1, run_id).Bind(2, first).Bind(3, last);
    if (!check.Step() || check.Int(0) != count || check.Int(1) != first || check.Int(2) != last ||
        check.Int(3) != packed_before)
      return Status::Ok();
    SqliteStmt del(
        *ctx.db,
        "DELETE FROM log_chunks WHERE run_id = ?1 AND first_line >= ?2 AND first_line <= ?3");
    Status st = del.Bind(1, run_id).Bind(2, first).Bind(3, last).Run();
    if (!st.ok()) return st;
    return InsertChunk(*ctx.db, run_id, first, merged->lines.data(), merged->lines.size(),
                       merged->payload, merged->text_filter, merged->writer_mask, true);
  });
  return s.ok();
}

Status SqliteStore::ImportRun(const RunImport& im, const LinePuller& pull) {
  const RunInfo& r = im.run;
  DropRunFiltersAtExit drop(filter_cache_, r.id);
  return Write([&](WriteContext& ctx) -> Status {
    ctx.touched_runs.push_back(r.id);
    runs_.erase(r.id);
    SqliteDb& db = *ctx.db;
    SqliteStmt find(db, "SELECT project FROM runs WHERE id = ?1");
    find.Bind(1, r.id);
    if (find.Step())
      return Status(Code::kConflict, "run " + r.id + " exists here (project '" +
                                         std::string(find.Text(0)) +
                                         "'); delete it first to import it again");
    if (!find.status().ok()) return find.status();
    SqliteStmt p(db, "INSERT OR IGNORE INTO projects(name, created_at) VALUES (?1, ?2)");
    Status st = p.Bind(1, r.project).Bind(2, r.created_at_us).Run();
    if (!st.ok()) return st;
    ImportPlanner plan(im.next_line, options_.merge_zstd_level, r.removed.to_line);
    st = plan.Run(pull, [&](const ImportChunk& c) {
      return InsertChunk(db, r.id, c.first_line, c.lines.data(), c.lines.size(), c.payload,
                         c.text_filter, c.writer_mask, true);
    });
    if (!st.ok()) return st;
    const RunCounters& c = plan.counters();
    SqliteStmt q(db,
                 "INSERT INTO runs(id, project, name, state, exit_code, created_at, finished_at, "
                 "config, tags, next_line, first_line, total, bytes, level_counts, "
                 "source_counts, first_ts, last_ts, removed_from, removed_to, removed_at) VALUES "
                 "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, "
                 "?18, ?19, ?20)");
    auto opt = [&](int i, const std::optional<int64_t>& v) {
      if (v) {
        q.Bind(i, *v);
      } else {
        q.BindNull(i);
      }
    };
    q.Bind(1, r.id)
        .Bind(2, r.project)
        .Bind(3, r.name)
        .Bind(4, RunStateName(r.state))
        .Bind(6, r.created_at_us)
        .Bind(8, r.config_json)
        .Bind(9, r.tags_json)
        .Bind(10, c.next_line)
        .Bind(11, c.first_line)
        .Bind(12, c.total)
        .Bind(13, c.bytes)
        .Bind(14, JoinCounts(c.level_counts.data(), kLevelCount))
        .Bind(15, JoinCounts(c.source_counts.data(), kSourceCount));
    opt(5, r.exit_code);
    opt(7, r.finished_at_us);
    opt(16, c.first_ts);
    opt(17, c.last_ts);
    q.Bind(18, r.removed.from_line).Bind(19, r.removed.to_line);
    opt(20, r.removed.at_us);
    if (!(st = q.Run()).ok()) return st;
    for (const AuditWriter& w : plan.writers()) {
      SqliteStmt wq(db,
                    "INSERT INTO run_writers(run_id, writer, writer_id, max_seq, lines) VALUES "
                    "(?1, ?2, ?3, ?4, ?5)");
      st = wq.Bind(1, r.id)
               .Bind(2, w.writer)
               .Bind(3, w.id)
               .Bind(4, w.max_seq)
               .Bind(5, w.lines)
               .Run();
      if (!st.ok()) return st;
    }
    return Status::Ok();
  });
}

// ---- retention ----

namespace {

RetentionPolicy PolicyFromRow(SqliteStmt& q, int first) {
  RetentionPolicy p;
  p.max_age_us = q.Int(first);
  p.age_action = ParseAgeAction(q.Text(first + 1)).value_or(AgeAction::kInherit);
  p.max_lines_per_run = q.Int(first + 2);
  p.max_bytes_per_run = q.Int(first + 3);
  p.max_bytes_per_project = q.Int(first + 4);
  p.updated_at_us = q.Int(first + 5);
  return p;
}

}  // namespace

Result<RetentionPolicy> SqliteStore::GetRetention(const std::string& project) {
  ReadLease lease(this);
  SqliteStmt e(lease.db(), "SELECT 1 FROM projects WHERE name = ?1");
  e.Bind(1, project);
  if (!e.Step()) {
    if (!e.status().ok()) return e.status();
    return Status(Code::kNotFound, "project '" + project + "' not found");
  }
  SqliteStmt q(lease.db(),
               "SELECT max_age_us, age_action, max_lines_per_run, max_bytes_per_run, "
               "max_bytes_per_project, updated_at FROM retention_policies WHERE project = ?1");
  q.Bind(1, project);
  if (q.Step()) return PolicyFromRow(q, 0);
  if (!q.status().ok()) return q.status();
  return RetentionPolicy{};
}

Status SqliteStore::SetRetention(const std::string& project, const RetentionPolicy& p) {
  return Write([&](WriteContext& ctx) -> Status {
    SqliteStmt e(*ctx.db, "SELECT 1 FROM projects WHERE name = ?1");
    e.Bind(1, project);
    if (!e.Step()) {
      if (!e.status().ok()) return e.status();
      return Status(Code::kNotFound, "project '" + project + "' not found");
    }
    if (p == RetentionPolicy{}) {
      SqliteStmt d(*ctx.db, "DELETE FROM retention_policies WHERE project = ?1");
      return d.Bind(1, project).Run();
    }
    SqliteStmt q(*ctx.db,
                 "INSERT OR REPLACE INTO retention_policies(project, max_age_us, age_action, "
                 "max_lines_per_run, max_bytes_per_run, max_bytes_per_project, updated_at) "
                 "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    return q.Bind(1, project)
        .Bind(2, p.max_age_us)
        .Bind(3, AgeActionName(p.age_action))
        .Bind(4, p.max_lines_per_run)
        .Bind(5, p.max_bytes_per_run)
        .Bind(6, p.max_bytes_per_project)
        .Bind(7, p.updated_at_us ? p.updated_at_us : NowMicros())
        .Run();
  });
}

Result<std::map<std::string, RetentionPolicy>> SqliteStore::ListRetention() {
  ReadLease lease(this);
  SqliteStmt q(lease.db(),
               "SELECT project, max_age_us, age_action, max_lines_per_run, max_bytes_per_run, "
               "max_bytes_per_project, updated_at FROM retention_policies");
  std::map<std::string, RetentionPolicy> out;
  while (q.Step()) out[std::string(q.Text(0))] = PolicyFromRow(q, 1);
  if (!q.status().ok()) return q.status();
  return out;
}

Result<std::vector<RetentionRun>> SqliteStore::RetentionRuns() {
  ReadLease lease(this);
  SqliteStmt q(lease.db(),
               "SELECT id, project, state, created_at, finished_at, total, bytes FROM runs");
  std::vector<RetentionRun> out;
  while (q.Step()) {
    RetentionRun r;
    r.id = q.Text(0);
    r.project = q.Text(1);
    r.state = ParseRunState(q.Text(2)).value_or(RunState::kRunning);
    r.created_at_us = q.Int(3);
    if (!q.IsNull(4)) r.finished_at_us = q.Int(4);
    r.total = q.Int(5);
    r.bytes = q.Int(6);
    out.push_back(std::move(r));
  }
  if (!q.status().ok()) return q.status();
  return out;
}

Result<RetentionView> SqliteStore::RetentionChunks(const std::string& run_id, int max_chunks) {
  ReadLease lease(this);
  SqliteDb& db = lease.db();
  if (Status s = db.Exec("BEGIN"); !s.ok()) return s;
  struct ReadTxn {
    SqliteDb& db;
    ~ReadTxn() { (void)db.Exec("COMMIT"); }
  } txn{db};
  if (Status s = RunExists(db, run_id); !s.ok()) return s;
  RetentionView v;
  SqliteStmt w(db, "SELECT writer, writer_id, max_seq, lines FROM run_writers WHERE run_id = ?1");
  w.Bind(1, run_id);
  while (w.Step()) v.writers.push_back({std::string(w.Text(0)), w.Int(1), w.Int(2), w.Int(3)});
  if (!w.status().ok()) return w.status();
  SqliteStmt q(db,
               "SELECT c.first_line, c.last_line, c.n_lines, c.raw_bytes, c.level_counts, "
               "c.writer_mask, k.source_counts FROM log_chunks c LEFT JOIN chunk_counts k ON "
               "k.run_id = c.run_id AND k.first_line = c.first_line WHERE c.run_id = ?1 "
               "ORDER BY c.first_line LIMIT ?2");
  q.Bind(1, run_id).Bind(2, static_cast<int64_t>(max_chunks));
  while (q.Step()) {
    RetentionChunk c;
    c.first_line = q.Int(0);
    c.last_line = q.Int(1);
    c.n_lines = q.Int(2);
    c.raw_bytes = q.Int(3);
    ParseCounts(q.Text(4), &c.level_counts);
    c.writer_mask = static_cast<uint64_t>(q.Int(5));
    if (!q.IsNull(6)) {
      c.source_counts.emplace();
      ParseCounts(q.Text(6), &*c.source_counts);
    }
    v.chunks.push_back(std::move(c));
  }
  if (!q.status().ok()) return q.status();
  return v;
}

Status SqliteStore::RemoveChunks(const RetentionCut& cut) {
  return Write([&](WriteContext& ctx) -> Status {
    SqliteDb& db = *ctx.db;
    ctx.touched_runs.push_back(cut.run_id);
    runs_.erase(cut.run_id);  // reloaded from the row below on next use
    SqliteStmt r(db,
                 "SELECT total, bytes, level_counts, source_counts, removed_to FROM runs "
                 "WHERE id = ?1");
    r.Bind(1, cut.run_id);
    if (!r.Step()) {
      if (!r.status().ok()) return r.status();
      return Status(Code::kNotFound, "run " + cut.run_id + " not found");
    }
    RunCounters c;
    c.total = r.Int(0);
    c.bytes = r.Int(1);
    ParseCounts(r.Text(2), &c.level_counts);
    ParseCounts(r.Text(3), &c.source_counts);
    const int64_t removed_to = r.Int(4);
    SqliteStmt v(db,
                 "SELECT count(*), coalesce(sum(n_lines), 0), coalesce(min(first_line), 0), "
                 "coalesce(max(last_line), 0) FROM log_chunks WHERE run_id = ?1 AND "
                 "first_line <= ?2");
    v.Bind(1, cut.run_id).Bind(2, cut.last_first_line);
    if (!v.Step()) return v.status().ok() ? Status(Code::kInternal, "no row") : v.status();
    if (v.Int(0) != cut.chunks || v.Int(1) != cut.removed.total || v.Int(2) != cut.first_line ||
        v.Int(3) != cut.last_line)
      return Status(Code::kConflict, "the chunks of run " + cut.run_id + " changed; planned again");
    SqliteStmt d(db, "DELETE FROM log_chunks WHERE run_id = ?1 AND first_line <= ?2");
    Status st = d.Bind(1, cut.run_id).Bind(2, cut.last_first_line).Run();
    if (!st.ok()) return st;
    SqliteStmt left(db,
                    "SELECT min(first_line), min(ts_min), max(ts_max) FROM log_chunks "
                    "WHERE run_id = ?1");
    left.Bind(1, cut.run_id);
    if (!left.Step()) return left.status();
    SubtractRemoved(cut.removed, &c);
    SqliteStmt u(db,
                 "UPDATE runs SET first_line = ?2, total = ?3, bytes = ?4, level_counts = ?5, "
                 "source_counts = ?6, first_ts = ?7, last_ts = ?8, removed_from = CASE WHEN "
                 "removed_to = 0 THEN ?9 ELSE removed_from END, removed_to = ?10, "
                 "removed_at = ?11 WHERE id = ?1");
    u.Bind(1, cut.run_id)
        .Bind(2, left.IsNull(0) ? int64_t{0} : left.Int(0))
        .Bind(3, c.total)
        .Bind(4, c.bytes)
        .Bind(5, JoinCounts(c.level_counts.data(), kLevelCount))
        .Bind(6, JoinCounts(c.source_counts.data(), kSourceCount))
        .Bind(9, cut.first_line)
        .Bind(10, std::max(removed_to, cut.last_line))
        .Bind(11, cut.now_us);
    if (left.IsNull(1)) {
      u.BindNull(7).BindNull(8);
    } else {
      u.Bind(7, left.Int(1)).Bind(8, left.Int(2));
    }
    if (!(st = u.Run()).ok()) return st;
    for (const auto& [writer_id, n] : cut.by_writer) {
      SqliteStmt w(db,
                   "UPDATE run_writers SET lines = max(lines - ?3, 0) WHERE run_id = ?1 AND "
                   "writer_id = ?2");
      if (!(st = w.Bind(1, cut.run_id).Bind(2, writer_id).Bind(3, n).Run()).ok()) return st;
    }
    return Status::Ok();
  });
}

Result<int64_t> SqliteStore::ReclaimSpace(int64_t max_pages) {
  int64_t freed = 0;
  Status s = Write([&](WriteContext& ctx) -> Status {
    SqliteDb& db = *ctx.db;
    SqliteStmt mode(db, "PRAGMA auto_vacuum");
    if (!mode.Step() || mode.Int(0) != 2) return mode.status();  // not INCREMENTAL: nothing
    auto free_pages = [&]() -> int64_t {
      SqliteStmt f(db, "PRAGMA freelist_count");
      return f.Step() ? f.Int(0) : 0;
    };
    const int64_t before = free_pages();
    if (before == 0) return Status::Ok();
    Status st = db.Exec("PRAGMA incremental_vacuum(" + std::to_string(max_pages) + ")");
    if (!st.ok()) return st;
    freed = std::max<int64_t>(before - free_pages(), 0);
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return freed;
}

Status SqliteStore::CompactNow() {
  std::lock_guard busy(merge_busy_);
  while (MergeOnce()) {
  }
  return Write([](WriteContext& ctx) { return Status::Ok(); });
}

}  // namespace

std::string_view RunStateName(RunState s) {
  switch (s) {
    case RunState::kRunning:
      return "running";
    case RunState::kFinished:
      return "finished";
    case RunState::kFailed:
      return "failed";
    case RunState::kCrashed:
      return "crashed";
  }
  return "running";
}

std::optional<RunState> ParseRunState(std::string_view s) {
  for (RunState r :
       {RunState::kRunning, RunState::kFinished, RunState::kFailed, RunState::kCrashed})
    if (RunStateName(r) == s) return r;
  return std::nullopt;
}

Result<std::unique_ptr<LogStore>> OpenSqliteStore(const std::string& path,
                                                  const SqliteStoreOptions& options) {
  auto store = std::make_unique<SqliteStore>(path, options);
  Status s = store->Init();
  if (!s.ok()) return s;
  return std::unique_ptr<LogStore>(std::move(store));
}

}  // namespace wanllmdb
