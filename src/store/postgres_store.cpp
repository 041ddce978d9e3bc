#include "store/postgres_store.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <tuple>
#include <unordered_map>

#include "core/chunk_codec.h"
#include "core/thread_name.h"
#include "core/thread_priority.h"
#include "core/time_util.h"
#include "core/uuid.h"
#include "store/append_planner.h"
#include "store/chunk_map_cache.h"
#include "store/chunk_writer.h"
#include "store/filter_cache.h"
#include "store/live_bus.h"
#include "store/merge_planner.h"
#include "store/pg_bus.h"
#include "store/pg_conn.h"
#include "store/pg_schema.h"
#include "store/retention.h"
#include "store/run_end.h"
#include "store/run_import.h"
#include "store/store_audit.h"
#include "store/text_probe.h"

namespace wanllmdb {
namespace {

constexpr const char* kRunColumns =
    "id, project, name, state, exit_code, created_at, finished_at, config, tags, total, "
    "level_counts, next_line, removed_from, removed_to, removed_at, clears";
constexpr int kRunColumnCount = 16;

RunInfo RunFromRow(const PgResult& q, int row) {
  RunInfo r;
  r.id = q.Text(row, 0);
  r.project = q.Text(row, 1);
  r.name = q.Text(row, 2);
  r.state = ParseRunState(q.Text(row, 3)).value_or(RunState::kRunning);
  if (!q.IsNull(row, 4)) r.exit_code = q.Int(row, 4);
  r.created_at_us = q.Int(row, 5);
  if (!q.IsNull(row, 6)) r.finished_at_us = q.Int(row, 6);
  r.config_json = q.Text(row, 7);
  r.tags_json = q.Text(row, 8);
  r.line_count = q.Int(row, 9);
  std::array<int64_t, kLevelCount> lc;
  ParseCounts(q.Text(row, 10), &lc);
  r.error_count = lc[3] + lc[4];
  r.last_line = q.Int(row, 11) - 1;
  r.removed.from_line = q.Int(row, 12);
  r.removed.to_line = q.Int(row, 13);
  if (!q.IsNull(row, 14)) r.removed.at_us = q.Int(row, 14);
  r.clears = q.Int(row, 15);
  return r;
}

Status NotFound(const std::string& id) {
  return Status(Code::kNotFound, "run " + id + " not found");
}

class PostgresStore final : public LogStore {
 public:
  PostgresStore(std::string conninfo, PostgresStoreOptions options)
      : conninfo_(std::move(conninfo)), options_(options), node_id_(NewUuid().substr(0, 8)) {}
  ~PostgresStore() override { Close(); }

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
  Result<std::unique_ptr<LiveBus>> OpenBus() override;
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
  Result<int64_t> ReclaimSpace(int64_t) override { return int64_t{0}; }  // autovacuum's job

 private:
  struct WriteContext {
    PgConn* db;
    std::vector<CommitEvent> events;
  };
  using WriteFn = std::function<Status(WriteContext&)>;
  struct WriteOp {
    std::string lock_key;  // the run whose row the op locks ("" = none): ops run sorted by it
    // The op locks several runs rows (in id order itself): it gets a transaction of its own, so
    // every transaction still takes its row locks in id order.
    bool alone = false;
    WriteFn fn;
    std::promise<Status> done;
  };

  Status Write(std::string lock_key, WriteFn fn, bool alone = false);
  void WriterLoop();
  void RunGroup(std::vector<std::unique_ptr<WriteOp>>& ops);
  void MergerLoop();
  // One merge step; false when there is nothing (more) to do.
  bool MergeOnce(PgConn& db);

  Status AppendInWriter(WriteContext& ctx, PreparedBatch& prepared, IngestResult* result);
  // UpdateRun with a WriterEnd (the run's row is locked): records the writer's fate, ends the
  // run when all have ended.
  Status EndWriterInWriter(PgConn& db, const std::string& id, const WriterEnd& end, RunState state,
                           std::optional<int64_t> exit_code, int64_t now);
  static Status UpsertProblem(PgConn& db, const ProblemRow& row);
  // ReadChunks' statements on `db`. Outside a snapshot, a row changed since the metadata was
  // read ends the read early with *raced set (the caller reads again in a snapshot).
  Result<std::vector<StoredChunk>> ReadChunksIn(PgConn& db, const std::string& run_id,
                                                const ChunkQuery& cq, bool snapshot, bool* raced);
  // All of a run's chunk rows and its row's version, read together; null when it has none.
  Result<ChunkMapCache::Map> LoadChunkMap(PgConn& db, const std::string& run_id);
  Status InsertChunk(PgConn& db, const std::string& run_id, int64_t first_line,
                     const LogLine* lines, size_t n, const std::string& payload,
                     const std::string& text_filter, uint64_t writer_mask, bool packed);

  // A connected read connection from the pool, returned on destruction (dropped if it broke).
  class ReadLease {
   public:
    explicit ReadLease(PostgresStore* s);
    ~ReadLease();
    const Status& status() const { return status_; }
    PgConn& db() { return *db_; }

   private:
    PostgresStore* store_;
    std::unique_ptr<PgConn> db_;
    Status status_;
  };

  std::vector<std::string> SessionSetup() const;

  const std::string conninfo_;
  const PostgresStoreOptions options_;
  const std::string node_id_;  // tells this node's NOTIFYs apart from other nodes'

  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::deque<std::unique_ptr<WriteOp>> queue_;  // Guarded by queue_mu_
  bool stopping_ = false;                       // Guarded by queue_mu_
  bool closed_ = false;                         // Guarded by queue_mu_

  std::mutex pool_mu_;
  std::condition_variable pool_cv_;
  std::vector<std::unique_ptr<PgConn>> readers_;  // Guarded by pool_mu_ (idle ones)
  int readers_out_ = 0;                           // Guarded by pool_mu_

  std::mutex listener_mu_;
  CommitListener listener_;  // Guarded by listener_mu_

  std::unique_ptr<PgConn> write_db_;  // Writer thread only.

  MergeWakeups merge_wakeups_;
  std::mutex merge_busy_;             // held by whoever merges (merger thread or CompactNow)
  MergePlanner planner_;              // Guarded by merge_busy_
  std::unique_ptr<PgConn> merge_db_;  // Guarded by merge_busy_

  TracebackHints hints_;
  // Text filters of recently searched chunks (thread-safe; ReadChunks), keyed with the row's
  // xmin so another node's rewrite is never mistaken for the row cached (store/filter_cache.h).
  FilterCache filter_cache_;
  // Chunk rows of idle runs, tagged with their run row's xmin (ReadChunks; thread-safe).
  ChunkMapCache chunk_maps_;
  std::thread writer_;
  std::thread merger_;
};

std::vector<std::string> PostgresStore::SessionSetup() const {
  std::vector<std::string> setup = {"SET application_name = 'wanllmdb'"};
  if (options_.sync == SyncMode::kFull) setup.push_back("SET synchronous_commit = on");
  return setup;
}

Status PostgresStore::Init() {
  write_db_ = std::make_unique<PgConn>(conninfo_);
  write_db_->SetSetup(SessionSetup());
  Status s = write_db_->Ensure();
  if (!s.ok()) return s;
  if (!(s = MigratePostgres(*write_db_)).ok()) return s;
  merge_db_ = std::make_unique<PgConn>(conninfo_);
  merge_db_->SetSetup(SessionSetup());
  writer_ = std::thread([this] { WriterLoop(); });
  NameThread(writer_, "wl-store-write");
  if (options_.background_merge) {
    merger_ = std::thread([this] { MergerLoop(); });
    NameThread(merger_, "wl-merge");
  }
  return Status::Ok();
}

void PostgresStore::Close() {
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
  write_db_.reset();
  merge_db_.reset();
  std::lock_guard lock(pool_mu_);
  readers_.clear();
}

Status PostgresStore::Write(std::string lock_key, WriteFn fn, bool alone) {
  auto op = std::make_unique<WriteOp>();
  op->lock_key = std::move(lock_key);
  op->alone = alone;
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

void PostgresStore::WriterLoop() {
  while (true) {
    std::vector<std::unique_ptr<WriteOp>> ops;
    {
      std::unique_lock lock(queue_mu_);
      queue_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) break;  // stopping, and everything queued is done
      while (!queue_.empty() && ops.size() < 512) {
        if (queue_.front()->alone && !ops.empty()) break;  // the next group
        ops.push_back(std::move(queue_.front()));
        queue_.pop_front();
        if (ops.back()->alone) break;
      }
    }
    RunGroup(ops);
  }
}

void PostgresStore::RunGroup(std::vector<std::unique_ptr<WriteOp>>& ops) {
  // Every node locks runs rows in run id order: two nodes' groups never wait on each other in
  // a cycle. Stable: one run's ops keep their arrival order.
  std::stable_sort(ops.begin(), ops.end(),
                   [](const auto& a, const auto& b) { return a->lock_key < b->lock_key; });
  PgConn& db = *write_db_;
  auto fail_all = [&](const Status& s) {
    for (auto& op : ops) op->done.set_value(s);
  };
  // Each op of a group runs under a savepoint, so a failing one is undone alone. A group of one
  // needs none (its failure rolls the transaction back), and the savepoint statements between
  // ops travel together: round trips are most of an append's cost on PostgreSQL.
  const bool savepoints = ops.size() > 1;
  Status s = db.Ensure();
  if (s.ok()) s = db.ExecScript(savepoints ? "BEGIN; SAVEPOINT op" : "BEGIN");
  if (!s.ok()) {
    db.Close();  // reconnect on the next group
    return fail_all(s);
  }
  std::vector<Status> results(ops.size());
  std::vector<CommitEvent> events;
  for (size_t i = 0; i < ops.size(); ++i) {
    WriteContext ctx{&db, {}};
    Status st;
    try {
      st = ops[i]->fn(ctx);
    } catch (const std::exception& e) {
      st = Status(Code::kInternal, e.what());
    }
    const bool last = i + 1 == ops.size();
    if (st.ok()) {
      for (auto& e : ctx.events) events.push_back(std::move(e));
      // The next op gets a fresh savepoint; the last one's is ended by COMMIT.
      if (savepoints && !last && !db.ExecScript("RELEASE SAVEPOINT op; SAVEPOINT op").ok()) {
        db.Close();
        return fail_all(Status(Code::kUnavailable, "PostgreSQL: the group's transaction broke"));
      }
    } else if (!savepoints) {
      // Nothing of the op may stay, whatever it had run: the whole transaction goes.
      if (!db.connected() || !db.ExecScript("ROLLBACK").ok()) db.Close();
      if (!db.connected()) st = Status(Code::kUnavailable, "PostgreSQL: " + st.message());
      ops[i]->done.set_value(std::move(st));
      return;
    } else if (!db.connected() || !db.ExecScript("ROLLBACK TO SAVEPOINT op").ok()) {
      // The transaction is gone (connection lost, server shut down): nothing of it counts.
      db.Close();
      return fail_all(Status(Code::kUnavailable, "PostgreSQL: " + st.message()));
    }
    // After ROLLBACK TO the savepoint remains: the next op runs under it.
    results[i] = std::move(st);
  }
  // Tell every node, at commit: one NOTIFY per run, with the last line the group stored, sent
  // with the COMMIT in one round trip.
  std::map<std::string, int64_t> last_by_run;
  for (const auto& e : events) last_by_run[e.run_id] = std::max(last_by_run[e.run_id], e.last_line);
  std::string finish;
  auto channel = db.Literal(kPgBusChannel);
  for (const auto& [run, last] : last_by_run) {
    auto payload = db.Literal(PgBusCommitPayload(node_id_, run, last));
    if (!channel.ok() || !payload.ok()) {
      db.Close();
      return fail_all(Status(Code::kUnavailable, "PostgreSQL: cannot quote a NOTIFY payload"));
    }
    finish += "SELECT pg_notify(" + *channel + ", " + *payload + "); ";
  }
  finish += "COMMIT";
  Status commit = db.ExecScript(finish);
  if (!commit.ok()) {
    // Unknown whether it committed when the connection broke: the caller is told to retry, and
    // seq dedup stores a retried batch once.
    db.Close();
    return fail_all(Status(Code::kUnavailable, commit.message()));
  }
  for (size_t i = 0; i < ops.size(); ++i) ops[i]->done.set_value(results[i]);
  if (!events.empty()) {
    {
      std::lock_guard lock(listener_mu_);
      if (listener_)
        for (const auto& e : events) listener_(e);
    }
    merge_wakeups_.Post();
  }
}

void PostgresStore::SetCommitListener(CommitListener listener) {
  std::lock_guard lock(listener_mu_);
  listener_ = std::move(listener);
}

Result<std::unique_ptr<LiveBus>> PostgresStore::OpenBus() {
  return NewPgBus(conninfo_, node_id_);
}

PostgresStore::ReadLease::ReadLease(PostgresStore* s) : store_(s) {
  {
    std::unique_lock lock(s->pool_mu_);
    s->pool_cv_.wait(lock, [&] {
      return !s->readers_.empty() || s->readers_out_ < s->options_.read_connections;
    });
    if (!s->readers_.empty()) {
      db_ = std::move(s->readers_.back());
      s->readers_.pop_back();
    } else {
      db_ = std::make_unique<PgConn>(s->conninfo_);
      db_->SetSetup(s->SessionSetup());
    }
    ++s->readers_out_;
  }
  status_ = db_->Ensure();
}

PostgresStore::ReadLease::~ReadLease() {
  {
    std::lock_guard lock(store_->pool_mu_);
    --store_->readers_out_;
    if (db_->connected()) store_->readers_.push_back(std::move(db_));
  }
  store_->pool_cv_.notify_one();
}

// ---- projects and runs ----

Result<ProjectInfo> PostgresStore::CreateProject(const std::string& name, bool* created) {
  int64_t now = NowMicros();
  bool made = false;
  Status s = Write("", [&](WriteContext& ctx) -> Status {
    auto q = ctx.db->Query(
        "INSERT INTO projects(name, created_at) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        PgParams().Text(name).Int(now));
    if (!q.ok()) return q.status();
    made = q->affected() > 0;
    return Status::Ok();
  });
  if (!s.ok()) return s;
  if (created) *created = made;
  auto all = ListProjects();
  if (!all.ok()) return all.status();
  for (auto& p : *all)
    if (p.name == name) return p;
  return Status(Code::kInternal, "project vanished");
}

Result<std::vector<ProjectInfo>> PostgresStore::ListProjects() {
  ReadLease lease(this);
  if (!lease.status().ok()) return lease.status();
  auto q = lease.db().Query(
      "SELECT p.name, p.created_at, count(r.id), max(r.created_at) FROM projects p "
      "LEFT JOIN runs r ON r.project = p.name GROUP BY p.name ORDER BY p.name");
  if (!q.ok()) return q.status();
  std::vector<ProjectInfo> out;
  for (int i = 0; i < q->rows(); ++i) {
    ProjectInfo p;
    p.name = q->Text(i, 0);
    p.created_at_us = q->Int(i, 1);
    p.run_count = q->Int(i, 2);
    if (!q->IsNull(i, 3)) p.last_run_at_us = q->Int(i, 3);
    out.push_back(std::move(p));
  }
  return out;
}

Result<RunInfo> PostgresStore::CreateRun(const NewRun& run, bool* created) {
  int64_t now = NowMicros();
  bool made = false;
  Status s = Write(run.id, [&](WriteContext& ctx) -> Status {
    Status st = ctx.db->Exec(
        "INSERT INTO projects(name, created_at) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        PgParams().Text(run.project).Int(now));
    if (!st.ok()) return st;
    std::string name = run.name.empty() ? "run-" + run.id.substr(0, 8) : run.name;
    auto q = ctx.db->Query(
        "INSERT INTO runs(id, project, name, state, created_at, config, tags) "
        "VALUES ($1, $2, $3, 'running', $4, $5, $6) ON CONFLICT (id) DO NOTHING",
        PgParams()
            .Text(run.id)
            .Text(run.project)
            .Text(name)
            .Int(now)
            .Text(run.config_json)
            .Text(run.tags_json));
    if (!q.ok()) return q.status();
    made = q->affected() > 0;
    if (made) return Status::Ok();
    auto find = ctx.db->Query("SELECT project FROM runs WHERE id = $1", PgParams().Text(run.id));
    if (!find.ok()) return find.status();
    if (find->rows() && find->Text(0, 0) != run.project) {
      return Status(Code::kConflict,
                    "run " + run.id + " exists in project '" + std::string(find->Text(0, 0)) + "'");
    }
    return Status::Ok();
  });
  if (!s.ok()) return s;
  if (created) *created = made;
  return GetRun(run.id);
}

Result<RunInfo> PostgresStore::GetRun(const std::string& id) {
  ReadLease lease(this);
  if (!lease.status().ok()) return lease.status();
  auto q = lease.db().Query(std::string("SELECT ") + kRunColumns + " FROM runs WHERE id = $1",
                            PgParams().Text(id));
  if (!q.ok()) return q.status();
  if (q->rows() == 0) return NotFound(id);
  return RunFromRow(*q, 0);
}

namespace {

// A runs listing's sort key as SQL ($5 is "now" for running runs' durations); the same keys as
// the SQLite store's.
const char* PgRunSortKey(RunSort sort) {
  switch (sort) {
    case RunSort::kDuration:
      return "(coalesce(finished_at, $5) - created_at)";
    case RunSort::kLines:
      return "total";
    case RunSort::kErrors:
      return "(split_part(level_counts, ',', 4)::bigint + split_part(level_counts, ',', "
             "5)::bigint)";
    case RunSort::kCreatedAt:
      break;
  }
  return "created_at";
}

std::string PgLikeContains(std::string_view s) {
  std::string out = "%";
  for (char c : s) {
    if (c == '%' || c == '_' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('%');
  return out;
}

}  // namespace

Result<RunPage> PostgresStore::ListRuns(const RunQuery& rq) {
  ReadLease lease(this);
  if (!lease.status().ok()) return lease.status();
  // $1 project, $2 state, $3 text pattern, $4 id prefix; ILIKE: SQLite's LIKE is ASCII
  // case-insensitive, and the two stores answer alike.
  const std::string where =
      " FROM runs WHERE ($1 = '' OR project = $1) AND ($2 = '' OR state = $2) AND ($3 = '' OR "
      "name ILIKE $3 ESCAPE '\\' OR id ILIKE $3 ESCAPE '\\' OR tags ILIKE $3 ESCAPE '\\') AND "
      "($4 = '' OR (id >= $4 AND id < $4 || 'g'))";
  auto base = [&] {
    PgParams p;
    p.Text(rq.project).Text(rq.state ? RunStateName(*rq.state) : std::string_view(""));
    p.Text(rq.text.empty() ? std::string() : PgLikeContains(rq.text)).Text(rq.id_prefix);
    return p;
  };
  RunPage page;
  {
    auto c = lease.db().Query("SELECT count(*)" + where, base());
    if (!c.ok()) return c.status();
    page.total = c->Int(0, 0);
  }
  const std::string key = PgRunSortKey(rq.sort);
  const bool duration = rq.sort == RunSort::kDuration;
  PgParams p = base();
  if (duration) p.Int(rq.now_us);  // $5
  int next = duration ? 6 : 5;
  const char* cmp = rq.descending ? "<" : ">";
  std::string sql = std::string("SELECT ") + kRunColumns + ", " + key + " AS k" + where;
  if (rq.after_key) {
    std::string k = "$" + std::to_string(next), i = "$" + std::to_string(next + 1);
    sql += " AND (" + key + " " + cmp + " " + k + " OR (" + key + " = " + k + " AND id " + cmp +
           " " + i + "))";
    p.Int(*rq.after_key).Text(rq.after_id);
    next += 2;
  }
  sql += std::string(" ORDER BY k ") + (rq.descending ? "DESC" : "ASC") + ", id " +
         (rq.descending ? "DESC" : "ASC") + " LIMIT $" + std::to_string(next);
  p.Int(static_cast<int64_t>(rq.limit) + 1);
  auto q = lease.db().Query(sql, p);
  if (!q.ok()) return q.status();
  for (int i = 0; i < q->rows(); ++i) {
    if (static_cast<int>(page.runs.size()) == rq.limit) {
      page.has_more = true;
      break;
    }
    page.runs.push_back(RunFromRow(*q, i));
    page.keys.push_back(q->Int(i, kRunColumnCount));
  }
  return page;
}

Result<RunInfo> PostgresStore::UpdateRun(const std::string& id, const RunUpdate& update) {
  int64_t now = NowMicros();
  Status s = Write(id, [&](WriteContext& ctx) -> Status {
    auto find =
        ctx.db->Query("SELECT state FROM runs WHERE id = $1 FOR UPDATE", PgParams().Text(id));
    if (!find.ok()) return find.status();
    if (find->rows() == 0) return NotFound(id);
    if (update.writer_end && update.state && *update.state != RunState::kRunning) {
      return EndWriterInWriter(*ctx.db, id, *update.writer_end, *update.state,
                               update.exit_code ? *update.exit_code : std::nullopt, now);
    }
    if (update.state) {
      Status st = ctx.db->Exec(
          "UPDATE runs SET state = $2, finished_at = CASE WHEN $2 = 'running' THEN NULL "
          "ELSE coalesce(finished_at, $3) END WHERE id = $1",
          PgParams().Text(id).Text(RunStateName(*update.state)).Int(now));
      if (!st.ok()) return st;
    }
    if (update.exit_code) {
      PgParams p;
      p.Text(id);
      if (*update.exit_code) {
        p.Int(**update.exit_code);
      } else {
        p.Null();
      }
      Status st = ctx.db->Exec("UPDATE runs SET exit_code = $2 WHERE id = $1", p);
      if (!st.ok()) return st;
    }
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return GetRun(id);
}

Status PostgresStore::DeleteRun(const std::string& id) {
  DropRunFiltersAtExit drop(filter_cache_, id);
  return Write(id, [&](WriteContext& ctx) -> Status {
    auto q = ctx.db->Query("DELETE FROM runs WHERE id = $1", PgParams().Text(id));
    if (!q.ok()) return q.status();
    if (q->affected() == 0) return NotFound(id);
    Status st = ctx.db->Exec("DELETE FROM log_chunks WHERE run_id = $1", PgParams().Text(id));
    if (!st.ok()) return st;
    st = ctx.db->Exec("DELETE FROM run_writers WHERE run_id = $1", PgParams().Text(id));
    if (!st.ok()) return st;
    st = ctx.db->Exec("DELETE FROM run_problems WHERE run_id = $1", PgParams().Text(id));
    if (!st.ok()) return st;
    st = ctx.db->Exec("DELETE FROM run_writer_fates WHERE run_id = $1", PgParams().Text(id));
    if (!st.ok()) return st;
    return ctx.db->Exec("DELETE FROM bookmarks WHERE run_id = $1", PgParams().Text(id));
  });
}

namespace {

// Ok when run `id` exists; kNotFound otherwise (or the database's error).
Status RunExists(PgConn& db, const std::string& id) {
  auto q = db.Query("SELECT 1 FROM runs WHERE id = $1", PgParams().Text(id));
  if (!q.ok()) return q.status();
  if (q->rows() == 0) return NotFound(id);
  return Status::Ok();
}

}  // namespace

// ---- bookmarks ----

Result<std::vector<Bookmark>> PostgresStore::ListBookmarks(const std::string& run_id) {
  ReadLease lease(this);
  if (!lease.status().ok()) return lease.status();
  if (Status s = RunExists(lease.db(), run_id); !s.ok()) return s;
  auto q = lease.db().Query(
      "SELECT id, first_line, last_line, note, created_by, created_at FROM bookmarks "
      "WHERE run_id = $1 ORDER BY id",
      PgParams().Text(run_id));
  if (!q.ok()) return q.status();
  std::vector<Bookmark> out;
  for (int i = 0; i < q->rows(); ++i) {
    Bookmark b;
    b.run_id = run_id;
    b.id = q->Int(i, 0);
    b.first_line = q->Int(i, 1);
    b.last_line = q->Int(i, 2);
    b.note = q->Text(i, 3);
    b.created_by = q->Text(i, 4);
    b.created_at = q->Int(i, 5);
    out.push_back(std::move(b));
  }
  return out;
}

Result<Bookmark> PostgresStore::AddBookmark(const Bookmark& in, size_t max_per_run) {
  Bookmark b = in;
  b.created_at = NowMicros();
  Status s = Write(b.run_id, [&](WriteContext& ctx) -> Status {
    if (Status st = RunExists(*ctx.db, b.run_id); !st.ok()) return st;
    auto n = ctx.db->Query("SELECT count(*) FROM bookmarks WHERE run_id = $1",
                           PgParams().Text(b.run_id));
    if (!n.ok()) return n.status();
    if (static_cast<size_t>(n->Int(0, 0)) >= max_per_run) return TooManyBookmarks(max_per_run);
    auto q = ctx.db->Query(
        "INSERT INTO bookmarks(run_id, first_line, last_line, note, created_by, created_at) "
        "VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        PgParams()
            .Text(b.run_id)
            .Int(b.first_line)
            .Int(b.last_line)
            .Text(b.note)
            .Text(b.created_by)
            .Int(b.created_at));
    if (!q.ok()) return q.status();
    b.id = q->Int(0, 0);
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return b;
}

Status PostgresStore::DeleteBookmark(const std::string& run_id, int64_t id) {
  return Write(run_id, [&](WriteContext& ctx) -> Status {
    auto q = ctx.db->Query("DELETE FROM bookmarks WHERE run_id = $1 AND id = $2",
                           PgParams().Text(run_id).Int(id));
    if (!q.ok()) return q.status();
    if (q->affected() == 0) {
      return Status(Code::kNotFound, "run " + run_id + " has no bookmark " + std::to_string(id));
    }
    return Status::Ok();
  });
}

Status PostgresStore::EndWriterInWriter(PgConn& db, const std::string& id, const WriterEnd& end,
                                        RunState state, std::optional<int64_t> exit_code,
                                        int64_t now) {
  PgParams p;
  p.Text(id).Text(end.writer).Text(RunStateName(state));
  if (exit_code) {
    p.Int(*exit_code);
  } else {
    p.Null();
  }
  p.Int(now);
  Status st = db.Exec(
      "INSERT INTO run_writer_fates(run_id, writer, state, exit_code, ended_at) VALUES "
      "($1, $2, $3, $4, $5) ON CONFLICT (run_id, writer) DO UPDATE SET state = excluded.state, "
      "exit_code = excluded.exit_code, ended_at = excluded.ended_at",
      p);
  if (!st.ok()) return st;
  // In the order they ended: the first rank that ended worst is most often the cause. The
  // caller holds the runs row lock, so ranks ending at once on several nodes count each other.
  auto q = db.Query(
      "SELECT state, exit_code FROM run_writer_fates WHERE run_id = $1 ORDER BY ended_at, writer",
      PgParams().Text(id));
  if (!q.ok()) return q.status();
  std::vector<RunEnd> fates;
  for (int i = 0; i < q->rows(); ++i) {
    RunEnd f;
    f.state = ParseRunState(q->Text(i, 0)).value_or(RunState::kFailed);
    if (!q->IsNull(i, 1)) f.exit_code = q->Int(i, 1);
    fates.push_back(f);
  }
  auto cur = db.Query("SELECT state, exit_code FROM runs WHERE id = $1", PgParams().Text(id));
  if (!cur.ok()) return cur.status();
  if (cur->rows() == 0) return NotFound(id);
  RunEnd run;
  run.state = ParseRunState(cur->Text(0, 0)).value_or(RunState::kRunning);
  if (!cur->IsNull(0, 1)) run.exit_code = cur->Int(0, 1);
  auto ended = EndOfWriters(run, fates, end.world_size);
  if (!ended) return Status::Ok();  // other ranks are still running
  PgParams f;
  f.Text(id).Text(RunStateName(ended->state));
  if (ended->exit_code) {
    f.Int(*ended->exit_code);
  } else {
    f.Null();
  }
  f.Int(now);
  return db.Exec(
      "UPDATE runs SET state = $2, exit_code = $3, finished_at = coalesce(finished_at, $4) "
      "WHERE id = $1",
      f);
}

// ---- ingest ----

Status PostgresStore::InsertChunk(PgConn& db, const std::string& run_id, int64_t first_line,
                                  const LogLine* lines, size_t n, const std::string& payload,
                                  const std::string& text_filter, uint64_t writer_mask,
                                  bool packed) {
  ChunkMeta m = MetaOf(lines, n);
  return db.Exec(
      "INSERT INTO log_chunks(run_id, first_line, last_line, ts_min, ts_max, n_lines, "
      "level_mask, level_counts, source_mask, writer_mask, raw_bytes, codec, packed, payload, "
      "text_filter, source_counts) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
      PgParams()
          .Text(run_id)
          .Int(first_line)
          .Int(first_line + static_cast<int64_t>(n) - 1)
          .Int(m.ts_min)
          .Int(m.ts_max)
          .Int(static_cast<int64_t>(n))
          .Int(m.level_mask)
          .Text(JoinCounts(m.level_counts.data(), kLevelCount))
          .Int(m.source_mask)
          .Int(static_cast<int64_t>(writer_mask))
          .Int(m.raw_bytes)
          .Int(kCodecZstdColumnsV1)
          .Int(packed ? 1 : 0)
          .Bytes(payload)
          .BytesOrNull(text_filter)
          .Text(JoinCounts(m.source_counts.data(), kSourceCount)));
}

namespace {

// CapProblemRows' input (the SQLite twin's comment), in one round trip: which of the batch's
// kinds and signatures the run has rows of, and how many distinct signatures it has.
Result<ProblemRowsBefore> ProblemRowsOf(PgConn& db, const std::string& run_id,
                                        const std::vector<ProblemRow>& rows) {
  std::set<std::string> kinds, signatures;
  for (const ProblemRow& r : rows) {
    kinds.insert(r.kind);
    signatures.insert(r.signature);
  }
  // Kinds and signatures as text[] literals: every element quoted, '"' and '\\' escaped.
  auto text_array = [](const std::set<std::string>& items) {
    std::string out = "{";
    for (const auto& i : items) {
      if (out.size() > 1) out += ',';
      out += '"';
      for (char c : i) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
      }
      out += '"';
    }
    return out + "}";
  };
  auto q = db.Query(
      "SELECT 'k', k FROM unnest($2::text[]) AS k WHERE EXISTS (SELECT 1 FROM "
      "run_problems WHERE run_id = $1 AND kind = k) "
      "UNION ALL SELECT 's', s FROM unnest($3::text[]) AS s WHERE EXISTS "
      "(SELECT 1 FROM run_problems WHERE run_id = $1 AND signature = s) "
      "UNION ALL SELECT 'n', (SELECT count(DISTINCT signature) FROM run_problems WHERE "
      "run_id = $1)::text",
      PgParams().Text(run_id).Text(text_array(kinds)).Text(text_array(signatures)));
  if (!q.ok()) return q.status();
  ProblemRowsBefore b;
  for (int i = 0; i < q->rows(); ++i) {
    std::string_view what = q->Text(i, 0);
    std::string value(q->Text(i, 1));
    if (what == "k") {
      b.kinds.insert(std::move(value));
    } else if (what == "s") {
      b.signatures.insert(std::move(value));
    } else {
      b.signature_count = std::stoll(value);
    }
  }
  return b;
}

}  // namespace

Status PostgresStore::AppendInWriter(WriteContext& ctx, PreparedBatch& prepared,
                                     IngestResult* result) {
  IngestBatch& batch = prepared.batch;
  PgConn& db = *ctx.db;
  // The run row lock orders appends to one run across every node: numbers stay dense and
  // follow commit order. One round trip reads the run's counters and the writer's state (or,
  // for a new writer, the id it gets: the run's writer count).
  auto r = db.Query(
      "SELECT r.next_line, r.first_line, r.total, r.bytes, r.level_counts, r.source_counts, "
      "r.first_ts, r.last_ts, w.writer_id, w.max_seq, w.lines, w.traceback, "
      "CASE WHEN w.writer_id IS NULL THEN (SELECT count(*) FROM run_writers c "
      "WHERE c.run_id = r.id) END "
      "FROM runs r LEFT JOIN run_writers w ON w.run_id = r.id AND w.writer = $2 "
      "WHERE r.id = $1 FOR UPDATE OF r",
      PgParams().Text(batch.run_id).Text(batch.writer));
  if (!r.ok()) return r.status();
  if (r->rows() == 0) return NotFound(batch.run_id);
  RunCounters c;
  c.next_line = r->Int(0, 0);
  c.first_line = r->Int(0, 1);
  c.total = r->Int(0, 2);
  c.bytes = r->Int(0, 3);
  ParseCounts(r->Text(0, 4), &c.level_counts);
  ParseCounts(r->Text(0, 5), &c.source_counts);
  if (!r->IsNull(0, 6)) c.first_ts = r->Int(0, 6);
  if (!r->IsNull(0, 7)) c.last_ts = r->Int(0, 7);
  WriterState w;
  if (!r->IsNull(0, 8)) {
    w.exists = true;
    w.id = r->Int(0, 8);
    w.max_seq = r->Int(0, 9);
    w.lines = r->Int(0, 10);
    w.traceback_mask = static_cast<uint32_t>(r->Int(0, 11));
  } else {
    w.id = r->Int(0, 12);
  }
  const WriterState before = w;
  Status st = ApplyBatch(prepared, c, w, options_.ingest_zstd_level, result);
  if (!st.ok()) return st;
  const int64_t n = result->accepted;
  uint64_t writer_mask = 1ULL << std::min<int64_t>(w.id, 63);
  for (auto& piece : prepared.pieces) {
    st = InsertChunk(db, batch.run_id, result->first_line + static_cast<int64_t>(piece.begin),
                     batch.lines.data() + piece.begin, piece.end - piece.begin, piece.payload,
                     piece.text_filter, writer_mask, false);
    if (!st.ok()) return st;
  }
  const bool writer_changed = !before.exists || w.max_seq != before.max_seq ||
                              w.lines != before.lines || w.traceback_mask != before.traceback_mask;
  // The run's counters and the writer's state, in one statement when both change (the usual
  // append): a data-modifying CTE saves a round trip.
  constexpr const char* kUpsertWriter =
      "INSERT INTO run_writers(run_id, writer, writer_id, max_seq, lines, traceback) "
      "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (run_id, writer) DO UPDATE SET "
      "max_seq = excluded.max_seq, lines = excluded.lines, traceback = excluded.traceback";
  auto add_writer = [&](PgParams& p) {  // $2 .. $6 of kUpsertWriter
    p.Text(batch.writer).Int(w.id).Int(w.max_seq).Int(w.lines).Int(w.traceback_mask);
  };
  if (n > 0) {
    PgParams p;
    p.Text(batch.run_id);
    if (writer_changed) add_writer(p);
    p.Int(c.next_line)
        .Int(c.first_line)
        .Int(c.total)
        .Int(c.bytes)
        .Text(JoinCounts(c.level_counts.data(), kLevelCount))
        .Text(JoinCounts(c.source_counts.data(), kSourceCount))
        .Int(*c.first_ts)
        .Int(*c.last_ts);
    st = writer_changed
             ? db.Exec(std::string("WITH counters AS (UPDATE runs SET next_line = $7, "
                                   "first_line = $8, total = $9, bytes = $10, level_counts = $11, "
                                   "source_counts = $12, first_ts = $13, last_ts = $14 "
                                   "WHERE id = $1) ") +
                           kUpsertWriter,
                       p)
             : db.Exec(
                   "UPDATE runs SET next_line = $2, first_line = $3, total = $4, bytes = $5, "
                   "level_counts = $6, source_counts = $7, first_ts = $8, last_ts = $9 "
                   "WHERE id = $1",
                   p);
    if (!st.ok()) return st;
  } else if (writer_changed) {
    PgParams p;
    p.Text(batch.run_id);
    add_writer(p);
    st = db.Exec(kUpsertWriter, p);
    if (!st.ok()) return st;
  }
  if (!prepared.problem_rows.empty()) {
    // The run's row is locked: no other node's append to this run sees the rows in between.
    auto before = ProblemRowsOf(db, batch.run_id, prepared.problem_rows);
    if (!before.ok()) return before.status();
    CapProblemRows(prepared, *before, result);
    if (result->problems_dropped > 0) {
      st = db.Exec("UPDATE runs SET problems_dropped = problems_dropped + $2 WHERE id = $1",
                   PgParams().Text(batch.run_id).Int(result->problems_dropped));
      if (!st.ok()) return st;
    }
  }
  for (const ProblemRow& row : prepared.problem_rows) {
    if (!(st = UpsertProblem(db, row)).ok()) return st;
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
Status PostgresStore::UpsertProblem(PgConn& db, const ProblemRow& r) {
  return db.Exec(
      "INSERT INTO run_problems(run_id, signature, writer, kind, rule, level, title, detail, "
      "first_line, last_line, last_seen_line, occurrences, first_ts, detected_at) VALUES ($1, "
      "$2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) "
      "ON CONFLICT (run_id, signature, writer) DO UPDATE SET "
      "occurrences = run_problems.occurrences + excluded.occurrences, "
      "last_seen_line = excluded.last_seen_line "
      "WHERE excluded.last_seen_line > run_problems.last_seen_line",
      PgParams()
          .Text(r.run_id)
          .Text(r.signature)
          .Text(r.writer)
          .Text(r.kind)
          .Text(r.rule)
          .Int(static_cast<int64_t>(r.level))
          .Text(r.title)
          .Text(r.detail)
          .Int(r.first_line)
          .Int(r.last_line)
          .Int(r.last_seen_line)
          .Int(r.occurrences)
          .Int(r.first_ts_us)
          .Int(r.detected_at_us));
}

namespace {
constexpr const char* kProblemColumns =
    "p.run_id, p.signature, p.writer, p.kind, p.rule, p.level, p.title, p.detail, p.first_line, "
    "p.last_line, p.last_seen_line, p.occurrences, p.first_ts, p.detected_at";

ProblemRow ProblemFromRow(const PgResult& q, int i) {
  ProblemRow r;
  r.run_id = std::string(q.Text(i, 0));
  r.signature = std::string(q.Text(i, 1));
  r.writer = std::string(q.Text(i, 2));
  r.kind = std::string(q.Text(i, 3));
  r.rule = std::string(q.Text(i, 4));
  r.level = static_cast<Level>(std::clamp<int64_t>(q.Int(i, 5), 0, kLevelCount - 1));
  r.title = std::string(q.Text(i, 6));
  r.detail = std::string(q.Text(i, 7));
  r.first_line = q.Int(i, 8);
  r.last_line = q.Int(i, 9);
  r.last_seen_line = q.Int(i, 10);
  r.occurrences = q.Int(i, 11);
  r.first_ts_us = q.Int(i, 12);
  r.detected_at_us = q.Int(i, 13);
  return r;
}
}  // namespace

Result<std::vector<ProblemRow>> PostgresStore::ProblemsOfRuns(const std::vector<std::string>& ids) {
  ReadLease lease(this);
  if (!lease.status().ok()) return lease.status();
  std::vector<ProblemRow> out;
  if (ids.empty()) return out;
  // One round trip for a page of runs: the ids as one text array (run ids never hold a comma).
  std::string joined;
  for (const std::string& id : ids) {
    if (id.find(',') != std::string::npos) continue;
    if (!joined.empty()) joined += ',';
    joined += id;
  }
  auto q =
      lease.db().Query(std::string("SELECT ") + kProblemColumns +
                           " FROM run_problems p WHERE p.run_id = ANY(string_to_array($1, ','))"
                           " ORDER BY array_position(string_to_array($1, ','), p.run_id), "
                           "p.first_line, p.writer",
                       PgParams().Text(joined));
  if (!q.ok()) return q.status();
  for (int i = 0; i < q->rows(); ++i) out.push_back(ProblemFromRow(*q, i));
  return out;
}

Result<std::vector<ProblemRow>> PostgresStore::ProjectProblems(const ProblemQuery& pq) {
  ReadLease lease(this);
  if (!lease.status().ok()) return lease.status();
  auto q = lease.db().Query(
      std::string("SELECT ") + kProblemColumns +
          " FROM runs r JOIN run_problems p ON p.run_id = r.id "
          "WHERE r.project = $1 AND ($2 = '' OR p.kind = $2) "
          "AND p.detected_at >= $3 ORDER BY p.detected_at DESC, p.run_id, "
          "p.first_line LIMIT $4",
      PgParams().Text(pq.project).Text(pq.kind).Int(pq.since_us.value_or(INT64_MIN)).Int(pq.limit));
  if (!q.ok()) return q.status();
  std::vector<ProblemRow> out;
  for (int i = 0; i < q->rows(); ++i) out.push_back(ProblemFromRow(*q, i));
  return out;
}

Status PostgresStore::RecordProblems(const std::vector<ProblemRow>& rows) {
  if (rows.empty()) return Status::Ok();
  return Write(rows.front().run_id, [&](WriteContext& ctx) -> Status {
    for (const ProblemRow& r : rows) {
      if (Status st = RunExists(*ctx.db, r.run_id); !st.ok()) return st;
      Status st = UpsertProblem(*ctx.db, r);
      if (!st.ok()) return st;
    }
    return Status::Ok();
  });
}

Result<int64_t> PostgresStore::ProblemsDropped(const std::string& run_id) {
  ReadLease lease(this);
  if (!lease.status().ok()) return lease.status();
  auto q =
      lease.db().Query("SELECT problems_dropped FROM runs WHERE id = $1", PgParams().Text(run_id));
  if (!q.ok()) return q.status();
  return q->rows() ? q->Int(0, 0) : int64_t{0};
}

// ---- webhook deliveries ----
// Each of these is one statement on a pooled connection in autocommit, not an op of the ingest
// writer: atomic on its own, it never waits behind (or holds locks inside) an ingest group.

namespace {
constexpr const char* kDeliveryColumns =
    "id, project, webhook_id, event, run_id, key, body, attempts, state, next_attempt_at, "
    "last_status, last_error, created_at, updated_at";

WebhookDelivery DeliveryFromRow(const PgResult& q, int i) {
  WebhookDelivery d;
  d.id = q.Int(i, 0);
  d.project = std::string(q.Text(i, 1));
  d.webhook_id = std::string(q.Text(i, 2));
  d.event = std::string(q.Text(i, 3));
  d.run_id = std::string(q.Text(i, 4));
  d.key = std::string(q.Text(i, 5));
  d.body = std::string(q.Text(i, 6));
  d.attempts = static_cast<int>(q.Int(i, 7));
  d.state = ParseDeliveryState(q.Text(i, 8)).value_or(DeliveryState::kPending);
  d.next_attempt_us = q.Int(i, 9);
  d.last_status = static_cast<int>(q.Int(i, 10));
  d.last_error = std::string(q.Text(i, 11));
  d.created_us = q.Int(i, 12);
  d.updated_us = q.Int(i, 13);
  return d;
}
}  // namespace

Result<bool> PostgresStore::EnqueueDelivery(const WebhookDelivery& d) {
  ReadLease lease(this);
  if (!lease.status().ok()) return lease.status();
  auto q = lease.db().Query(
      "INSERT INTO webhook_deliveries(project, webhook_id, event, run_id, key, body, "
      "next_attempt_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) "
      "ON CONFLICT (webhook_id, event, run_id, key) DO NOTHING RETURNING id",
      PgParams()
          .Text(d.project)
          .Text(d.webhook_id)
          .Text(d.event)
          .Text(d.run_id)
          .Text(d.key)
          .Text(d.body)
          .Int(d.next_attempt_us)
          .Int(NowMicros()));
  if (!q.ok()) return q.status();
  return q->rows() > 0;
}

Result<std::vector<WebhookDelivery>> PostgresStore::ClaimDeliveries(int64_t now_us,
                                                                    int64_t lease_us, int limit) {
  ReadLease lease(this);
  if (!lease.status().ok()) return lease.status();
  // SKIP LOCKED: two nodes claiming at once take different rows; the lease keeps a claimed row
  // from every other node until its attempt is recorded (or the lease ends: the node died).
  auto q = lease.db().Query(
      std::string("UPDATE webhook_deliveries SET attempts = attempts + 1, lease_until = $2, "
                  "updated_at = $1 WHERE id IN (SELECT id FROM webhook_deliveries WHERE "
                  "state = 'pending' AND next_attempt_at <= $1 AND lease_until <= $1 "
                  "ORDER BY next_attempt_at, id LIMIT $3 FOR UPDATE SKIP LOCKED) RETURNING ") +
          kDeliveryColumns,
      PgParams().Int(now_us).Int(now_us + lease_us).Int(limit));
  if (!q.ok()) return q.status();
  std::vector<WebhookDelivery> out;
  for (int i = 0; i < q->rows(); ++i) out.push_back(DeliveryFromRow(*q, i));
  std::sort(out.begin(), out.end(), [](const WebhookDelivery& a, const WebhookDelivery& b) {
    return std::tie(a.next_attempt_us, a.id) < std::tie(b.next_attempt_us, b.id);
  });
  return out;
}

Status PostgresStore::RecordDeliveryAttempt(const DeliveryOutcome& o) {
  ReadLease lease(this);
  if (!lease.status().ok()) return lease.status();
  const int64_t now = NowMicros();
  const bool ok = o.error.empty();
  PgParams p;
  p.Int(o.id)
      .Int(o.attempt)
      .Text(DeliveryStateName(o.state))
      .Int(o.status)
      .Text(o.error)
      .Int(o.next_attempt_us)
      .Int(now)
      .Int(ok)
      .Int(!ok)
      .Int(o.state == DeliveryState::kGaveUp);
  if (ok) {
    p.Int(now);
  } else {
    p.Null();
  }
  // The outcome and the totals in one statement: both or neither.
  return lease.db().Exec(
      "WITH u AS (UPDATE webhook_deliveries SET state = $3, last_status = $4, last_error = $5, "
      "next_attempt_at = $6, lease_until = 0, updated_at = $7 WHERE id = $1 AND attempts = $2 "
      "AND state = 'pending' RETURNING webhook_id) "
      "INSERT INTO webhook_stats(webhook_id, delivered, failed_attempts, gave_up, last_status, "
      "last_error, last_attempt_at, last_success_at) SELECT webhook_id, $8, $9, $10, $4, $5, $7, "
      "$11 FROM u ON CONFLICT (webhook_id) DO UPDATE SET "
      "delivered = webhook_stats.delivered + excluded.delivered, "
      "failed_attempts = webhook_stats.failed_attempts + excluded.failed_attempts, "
      "gave_up = webhook_stats.gave_up + excluded.gave_up, last_status = excluded.last_status, "
      "last_error = excluded.last_error, last_attempt_at = excluded.last_attempt_at, "
      "last_success_at = coalesce(excluded.last_success_at, webhook_stats.last_success_at)",
      p);
}

Result<std::optional<int64_t>> PostgresStore::NextDeliveryDue() {
  ReadLease lease(this);
  if (!lease.status().ok()) return lease.status();
  auto q = lease.db().Query(
      "SELECT min(greatest(next_attempt_at, lease_until)) FROM webhook_deliveries "
      "WHERE state = 'pending'");
  if (!q.ok()) return q.status();
  if (q->rows() == 0 || q->IsNull(0, 0)) return std::optional<int64_t>();
  return std::optional<int64_t>(q->Int(0, 0));
}

Result<DeliveryLog> PostgresStore::WebhookDeliveryLog(const std::string& webhook_id, int recent) {
  ReadLease lease(this);
  if (!lease.status().ok()) return lease.status();
  DeliveryLog log;
  auto t = lease.db().Query(
      "SELECT delivered, failed_attempts, gave_up, last_status, last_error, last_attempt_at, "
      "last_success_at, (SELECT count(*) FROM webhook_deliveries WHERE webhook_id = $1 AND "
      "state = 'pending') FROM (SELECT 1) AS one LEFT JOIN webhook_stats ON webhook_id = $1",
      PgParams().Text(webhook_id));
  if (!t.ok()) return t.status();
  if (t->rows()) {
    if (!t->IsNull(0, 0)) {
      log.delivered = t->Int(0, 0);
      log.failed_attempts = t->Int(0, 1);
      log.gave_up = t->Int(0, 2);
      log.last_status = static_cast<int>(t->Int(0, 3));
      log.last_error = std::string(t->Text(0, 4));
      if (!t->IsNull(0, 5)) log.last_attempt_us = t->Int(0, 5);
      if (!t->IsNull(0, 6)) log.last_success_us = t->Int(0, 6);
    }
    log.pending = t->Int(0, 7);
  }
  auto r = lease.db().Query(std::string("SELECT ") + kDeliveryColumns +
                                " FROM webhook_deliveries WHERE webhook_id = $1 "
                                "ORDER BY updated_at DESC, id DESC LIMIT $2",
                            PgParams().Text(webhook_id).Int(recent));
  if (!r.ok()) return r.status();
  for (int i = 0; i < r->rows(); ++i) log.recent.push_back(DeliveryFromRow(*r, i));
  return log;
}

Status PostgresStore::PruneDeliveries(int keep) {
  ReadLease lease(this);
  if (!lease.status().ok()) return lease.status();
  return lease.db().Exec(
      "DELETE FROM webhook_deliveries WHERE id IN (SELECT id FROM (SELECT id, row_number() OVER "
      "(PARTITION BY webhook_id ORDER BY updated_at DESC, id DESC) AS n FROM webhook_deliveries "
      "WHERE state <> 'pending') AS ranked WHERE n > $1)",
      PgParams().Int(keep));
}

Status PostgresStore::ForgetWebhook(const std::string& webhook_id) {
  ReadLease lease(this);
  if (!lease.status().ok()) return lease.status();
  return lease.db().Exec(
      "WITH d AS (DELETE FROM webhook_deliveries WHERE webhook_id = $1) "
      "DELETE FROM webhook_stats WHERE webhook_id = $1",
      PgParams().Text(webhook_id));
}

Result<std::optional<std::string>> PostgresStore::GetProjectSetting(const std::string& project,
                                                                    const std::string& key) {
  ReadLease lease(this);
  if (!lease.status().ok()) return lease.status();
  auto e = lease.db().Query("SELECT 1 FROM projects WHERE name = $1", PgParams().Text(project));
  if (!e.ok()) return e.status();
  if (e->rows() == 0) return Status(Code::kNotFound, "project '" + project + "' not found");
  auto q = lease.db().Query("SELECT value FROM project_settings WHERE project = $1 AND key = $2",
                            PgParams().Text(project).Text(key));
  if (!q.ok()) return q.status();
  if (q->rows() == 0) return std::optional<std::string>();
  return std::optional<std::string>(std::string(q->Text(0, 0)));
}

Status PostgresStore::PutProjectSetting(const std::string& project, const std::string& key,
                                        const std::string& value_json) {
  return Write("", [&](WriteContext& ctx) -> Status {
    auto e = ctx.db->Query("SELECT 1 FROM projects WHERE name = $1", PgParams().Text(project));
    if (!e.ok()) return e.status();
    if (e->rows() == 0) return Status(Code::kNotFound, "project '" + project + "' not found");
    return ctx.db->Exec(
        "INSERT INTO project_settings(project, key, value) VALUES ($1, $2, $3) "
        "ON CONFLICT (project, key) DO UPDATE SET value = excluded.value",
        PgParams().Text(project).Text(key).Text(value_json));
  });
}

Result<IngestResult> PostgresStore::Append(IngestBatch batch) {
  TracebackHint hint = hints_.Get(batch.run_id, batch.writer);
  auto prepared = PrepareBatch(std::move(batch), hint, options_.ingest_zstd_level);
  if (!prepared.ok()) return prepared.status();
  const std::string run_id = prepared->batch.run_id;
  // A retried op must start from the batch as prepared: ApplyBatch consumes it.
  IngestResult result;
  Status s = Write(run_id, [&](WriteContext& ctx) {
    result = IngestResult();
    return AppendInWriter(ctx, *prepared, &result);
  });
  if (!s.ok()) return s;
  return result;
}

Result<std::vector<IngestResult>> PostgresStore::AppendAll(std::vector<IngestBatch> batches) {
  std::vector<PreparedBatch> prepared;
  prepared.reserve(batches.size());
  std::set<std::string> runs;  // in id order: the order their rows are locked
  for (auto& b : batches) {
    runs.insert(b.run_id);
    TracebackHint hint = hints_.Get(b.run_id, b.writer);
    auto p = PrepareBatch(std::move(b), hint, options_.ingest_zstd_level);
    if (!p.ok()) return p.status();
    prepared.push_back(std::move(*p));
  }
  std::vector<IngestResult> results;
  if (prepared.empty()) return results;
  auto fn = [&](WriteContext& ctx) -> Status {
    results.assign(prepared.size(), IngestResult());
    if (runs.size() > 1) {
      for (const auto& id : runs) {
        auto q = ctx.db->Query("SELECT 1 FROM runs WHERE id = $1 FOR UPDATE", PgParams().Text(id));
        if (!q.ok()) return q.status();
        if (q->rows() == 0) return NotFound(id);
      }
    }
    // One op is one savepoint: a failing batch rolls back the ones before it too.
    for (size_t i = 0; i < prepared.size(); ++i) {
      Status st = AppendInWriter(ctx, prepared[i], &results[i]);
      if (!st.ok()) return st;
    }
    return Status::Ok();
  };
  Status s = runs.size() == 1 ? Write(*runs.begin(), fn) : Write("", fn, /*alone=*/true);
  if (!s.ok()) return s;
  return results;
}

Status PostgresStore::ClearLogs(const std::string& run_id) {
  return Write(run_id, [&](WriteContext& ctx) -> Status {
    auto q = ctx.db->Query(
        "UPDATE runs SET first_line = 0, total = 0, bytes = 0, level_counts = '0,0,0,0,0', "
        "source_counts = '0,0,0,0,0', first_ts = NULL, last_ts = NULL, removed_from = 0, "
        "removed_to = 0, removed_at = NULL, problems_dropped = 0, clears = clears + 1 WHERE id = "
        "$1",
        PgParams().Text(run_id));
    if (!q.ok()) return q.status();
    if (q->affected() == 0) return NotFound(run_id);
    Status st = ctx.db->Exec("DELETE FROM log_chunks WHERE run_id = $1", PgParams().Text(run_id));
    if (!st.ok()) return st;
    st = ctx.db->Exec("DELETE FROM run_problems WHERE run_id = $1", PgParams().Text(run_id));
    if (!st.ok()) return st;
    // Watermarks and traceback state stay: a retry of a batch sent before the clear must not
    // come back.
    st =
        ctx.db->Exec("UPDATE run_writers SET lines = 0 WHERE run_id = $1", PgParams().Text(run_id));
    if (!st.ok()) return st;
    return ctx.db->Exec("DELETE FROM bookmarks WHERE run_id = $1", PgParams().Text(run_id));
  });
}

Result<LogSummary> PostgresStore::Summary(const std::string& run_id) {
  ReadLease lease(this);
  if (!lease.status().ok()) return lease.status();
  auto q = lease.db().Query(
      "SELECT total, bytes, level_counts, source_counts, first_ts, last_ts, first_line, "
      "next_line, removed_from, removed_to, removed_at FROM runs WHERE id = $1",
      PgParams().Text(run_id));
  if (!q.ok()) return q.status();
  if (q->rows() == 0) return NotFound(run_id);
  LogSummary s;
  s.removed.from_line = q->Int(0, 8);
  s.removed.to_line = q->Int(0, 9);
  if (!q->IsNull(0, 10)) s.removed.at_us = q->Int(0, 10);
  s.total = q->Int(0, 0);
  s.bytes = q->Int(0, 1);
  ParseCounts(q->Text(0, 2), &s.by_level);
  ParseCounts(q->Text(0, 3), &s.by_source);
  if (!q->IsNull(0, 4)) s.first_timestamp_us = q->Int(0, 4);
  if (!q->IsNull(0, 5)) s.last_timestamp_us = q->Int(0, 5);
  s.first_line = s.total ? q->Int(0, 6) : 0;
  s.last_line = q->Int(0, 7) - 1;
  auto w = lease.db().Query("SELECT writer, lines FROM run_writers WHERE run_id = $1 AND lines > 0",
                            PgParams().Text(run_id));
  if (!w.ok()) return w.status();
  for (int i = 0; i < w->rows(); ++i) s.by_writer[std::string(w->Text(i, 0))] = w->Int(i, 1);
  return s;
}

Result<std::vector<StoredChunk>> PostgresStore::ReadChunks(const std::string& run_id,
                                                           const ChunkQuery& cq) {
  ReadLease lease(this);
  if (!lease.status().ok()) return lease.status();
  // With a probe, a read takes up to three statements (metadata, missing filters, payloads).
  // They run without a transaction first: every row read after the metadata is checked against
  // the metadata's xmin, which changes whenever the row is written again (a merge, on any
  // node), so a read that saw no change is what one snapshot would have returned. Only a read
  // that raced a merge or a retention sweep is done again, in one REPEATABLE READ snapshot.
  // Most searches skip every chunk on its filters: one round trip instead of four.
  bool raced = false;
  auto out = ReadChunksIn(lease.db(), run_id, cq, /*snapshot=*/false, &raced);
  if (!out.ok() || !raced) return out;
  PgConn& db = lease.db();
  if (Status s = db.Exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"); !s.ok()) return s;
  raced = false;
  out = ReadChunksIn(db, run_id, cq, /*snapshot=*/true, &raced);
  if (Status s = db.Exec("COMMIT"); out.ok() && !s.ok()) return s;
  return out;
}

namespace {

// Columns 0-7 of a chunk metadata row: first_line, last_line, ts_min, ts_max, level_mask,
// source_mask, level_counts, codec.
StoredChunk ChunkRow(const PgResult& r, int i) {
  StoredChunk c;
  c.first_line = r.Int(i, 0);
  c.last_line = r.Int(i, 1);
  c.ts_min = r.Int(i, 2);
  c.ts_max = r.Int(i, 3);
  c.level_mask = static_cast<uint32_t>(r.Int(i, 4));
  c.source_mask = static_cast<uint32_t>(r.Int(i, 5));
  ParseCounts(r.Text(i, 6), &c.level_counts);
  c.codec = static_cast<int>(r.Int(i, 7));
  return c;
}

}  // namespace

Result<ChunkMapCache::Map> PostgresStore::LoadChunkMap(PgConn& db, const std::string& run_id) {
  // One statement, one snapshot: the run row's version and the chunks it stands for.
  auto q = db.Query(
      "SELECT first_line, last_line, ts_min, ts_max, level_mask, source_mask, level_counts, "
      "codec, xmin::text::bigint, (SELECT xmin::text::bigint FROM runs WHERE id = $1) FROM "
      "log_chunks WHERE run_id = $1 ORDER BY first_line",
      PgParams().Text(run_id));
  if (!q.ok()) return q.status();
  if (q->rows() == 0 || q->IsNull(0, 9)) return ChunkMapCache::Map();  // nothing worth keeping
  auto map = std::make_shared<ChunkMap>();
  map->version = q->Int(0, 9);
  map->chunks.reserve(q->rows());
  map->tokens.reserve(q->rows());
  for (int i = 0; i < q->rows(); ++i) {
    map->chunks.push_back(ChunkRow(*q, i));
    map->tokens.push_back(q->Int(i, 8));
  }
  return ChunkMapCache::Map(std::move(map));
}

Result<std::vector<StoredChunk>> PostgresStore::ReadChunksIn(PgConn& db, const std::string& run_id,
                                                             const ChunkQuery& cq, bool snapshot,
                                                             bool* raced) {
  // With a probe: metadata first (and the row's xmin, the filter cache's token), the filters
  // from the cache (store/filter_cache.h) or, for chunks not in it, from the table (the
  // TOASTed payloads are not fetched), then the payloads of the chunks the filters keep.
  const bool probing = cq.with_payload && cq.probe;
  std::vector<StoredChunk> out;
  std::vector<int64_t> tokens;
  // An idle run's chunk rows come from its cached map (store/chunk_map_cache.h) when the run
  // row's version still matches: one small row read instead of one per chunk.
  ChunkMapCache::Map map;
  if (probing && !snapshot && chunk_maps_.Knows(run_id)) {
    auto v = db.Query("SELECT xmin::text::bigint FROM runs WHERE id = $1", PgParams().Text(run_id));
    if (!v.ok()) return v.status();
    if (v->rows() == 0) return out;  // deleted: no chunks
    const int64_t version = v->Int(0, 0);
    map = chunk_maps_.Find(run_id, version);
    if (!map && chunk_maps_.Observe(run_id, version)) {
      auto loaded = LoadChunkMap(db, run_id);
      if (!loaded.ok()) return loaded.status();
      map = *loaded;
      if (map) chunk_maps_.Insert(run_id, map);
    }
  }
  // From a map: the chunks past max_chunks, which the answer may take too while the probe
  // skips them (cached filters only): they cost no payload, and each page saved is a round trip.
  std::vector<size_t> more;
  if (map) {
    std::vector<size_t> picked = SelectChunks(*map, cq, SIZE_MAX);
    const size_t n = std::min(picked.size(), static_cast<size_t>(std::max(cq.max_chunks, 0)));
    for (size_t j = 0; j < picked.size(); ++j) {
      if (j < n) {
        out.push_back(map->chunks[picked[j]]);
        tokens.push_back(map->tokens[picked[j]]);
      } else {
        more.push_back(picked[j]);
      }
    }
  } else {
    // As in SQLite: the lower bound on first_line keeps both directions on the primary key.
    // With a probe, the run row's version comes along (the map cache's Observe).
    std::string sql =
        std::string(
            "SELECT first_line, last_line, ts_min, ts_max, level_mask, source_mask, "
            "level_counts, codec, ") +
        (probing ? "xmin::text::bigint, (SELECT xmin::text::bigint FROM runs WHERE id = $1)"
         : cq.with_payload ? "payload"
                           : "NULL::bytea") +
        " FROM log_chunks WHERE run_id = $1 AND first_line <= $3 AND last_line >= $2"
        " AND first_line >= coalesce((SELECT max(first_line) FROM log_chunks WHERE "
        "run_id = $1 AND first_line <= $2), 0)"
        " AND ts_max >= $4 AND ts_min <= $5 AND ($6 = 0 OR (level_mask & $6) <> 0)"
        " AND ($7 = 0 OR (source_mask & $7) <> 0) ORDER BY first_line " +
        (cq.descending ? "DESC" : "ASC") + " LIMIT $8";
    auto q = db.Query(sql, PgParams()
                               .Text(run_id)
                               .Int(cq.from_line)
                               .Int(cq.to_line)
                               .Int(cq.since_us.value_or(INT64_MIN))
                               .Int(cq.until_us.value_or(INT64_MAX))
                               .Int(cq.level_mask)
                               .Int(cq.source_mask)
                               .Int(cq.max_chunks));
    if (!q.ok()) return q.status();
    out.reserve(q->rows());
    for (int i = 0; i < q->rows(); ++i) {
      StoredChunk c = ChunkRow(*q, i);
      if (probing) {
        tokens.push_back(q->Int(i, 8));
      } else if (cq.with_payload) {
        c.payload = q->Text(i, 8);
      }
      out.push_back(std::move(c));
    }
    if (probing && !snapshot && q->rows() > 0 && !q->IsNull(0, 9))
      (void)chunk_maps_.Observe(run_id, q->Int(0, 9));
  }
  if (!probing) return out;

  // Reads `column` of the chunks out[k], k in `which`, into take(k, row, column 2); stops
  // with *raced set (or an error inside a snapshot) when one is gone or was written again
  // since the metadata was read.
  auto fetch = [&](const char* column, const std::vector<size_t>& which,
                   const std::function<void(size_t, const PgResult&, int)>& take) -> Status {
    std::string first_lines;
    for (size_t k : which)
      first_lines += (first_lines.empty() ? "{" : ",") + std::to_string(out[k].first_line);
    // A join with the array, not `first_line = ANY($2)`: its generic plan tested every row of
    // the run against every element (55 ms for 700 filters of a 1,000-chunk run); this one
    // looks each key up in the primary key.
    auto r = db.Query(std::string("SELECT c.first_line, c.xmin::text::bigint, c.") + column +
                          " FROM unnest($2::bigint[]) AS w(first_line) JOIN log_chunks c ON "
                          "c.run_id = $1 AND c.first_line = w.first_line",
                      PgParams().Text(run_id).Text(first_lines + "}"));
    if (!r.ok()) return r.status();
    std::unordered_map<int64_t, int> row_of;
    for (int i = 0; i < r->rows(); ++i) row_of[r->Int(i, 0)] = i;
    for (size_t k : which) {
      auto it = row_of.find(out[k].first_line);
      if (it == row_of.end() || r->Int(it->second, 1) != tokens[k]) {
        if (snapshot) {
          return Status(Code::kInternal, "chunk " + std::to_string(out[k].first_line) + " of run " +
                                             run_id + " changed inside a read transaction");
        }
        *raced = true;
        return Status::Ok();
      }
      take(k, *r, it->second);
    }
    return Status::Ok();
  };

  std::vector<FilterKey> keys(out.size());
  for (size_t k = 0; k < out.size(); ++k)
    keys[k] = {out[k].first_line, out[k].last_line, tokens[k]};
  std::vector<FilterCache::Filter> filters;
  filter_cache_.FindAll(run_id, keys, &filters);
  std::vector<size_t> missing;  // the chunks whose filters are not cached
  for (size_t k = 0; k < out.size(); ++k) {
    if (!filters[k]) missing.push_back(k);
  }
  if (!missing.empty()) {
    Status s = fetch("text_filter", missing, [&](size_t k, const PgResult& r, int row) {
      // NULL: no filter (always scanned), cached as "".
      filters[k] = std::make_shared<const std::string>(
          r.IsNull(row, 2) ? std::string() : std::string(r.Text(row, 2)));
      filter_cache_.Insert(run_id, keys[k], filters[k]);
    });
    if (!s.ok()) return s;
    if (*raced) return std::vector<StoredChunk>();  // read again, in a snapshot
  }
  for (size_t k = 0; k < out.size(); ++k) out[k].skipped = !cq.probe->MayMatch(*filters[k]);
  // In steps of 64 keys, so an answer that stops early looks up few.
  for (size_t from = 0; from < more.size();) {
    const size_t to = std::min(more.size(), from + 64);
    std::vector<FilterKey> next;
    for (size_t j = from; j < to; ++j) {
      const StoredChunk& c = map->chunks[more[j]];
      next.push_back({c.first_line, c.last_line, map->tokens[more[j]]});
    }
    filter_cache_.FindAll(run_id, next, &filters);
    size_t j = 0;
    while (j < next.size() && filters[j] && !cq.probe->MayMatch(*filters[j])) {
      out.push_back(map->chunks[more[from + j]]);
      out.back().skipped = true;
      tokens.push_back(next[j].token);
      ++j;
    }
    from = j == next.size() ? to : more.size();
  }
  // Trimming drops chunks from the back only, so indices into `out` stay those of `tokens`.
  TrimToPayloads(&out, cq.max_payloads);
  std::vector<size_t> wanted;  // the chunks whose payloads are needed
  for (size_t k = 0; k < out.size(); ++k) {
    if (!out[k].skipped) wanted.push_back(k);
  }
  if (!wanted.empty()) {
    Status s = fetch("payload", wanted, [&](size_t k, const PgResult& r, int row) {
      out[k].payload = r.Text(row, 2);
    });
    if (!s.ok()) return s;
    if (*raced) return std::vector<StoredChunk>();  // read again, in a snapshot
  }
  return out;
}

Result<std::vector<RunUsage>> PostgresStore::Usage() {
  ReadLease lease(this);
  if (!lease.status().ok()) return lease.status();
  auto q = lease.db().Query(
      "SELECT r.id, r.project, r.name, r.total::bigint, r.bytes::bigint, "
      "count(c.first_line)::bigint, coalesce(sum(length(c.payload)), 0)::bigint FROM runs r "
      "LEFT JOIN log_chunks c ON c.run_id = r.id GROUP BY r.id, r.project, r.name, r.total, "
      "r.bytes");
  if (!q.ok()) return q.status();
  std::vector<RunUsage> out;
  for (int i = 0; i < q->rows(); ++i) {
    RunUsage u;
    u.run_id = std::string(q->Text(i, 0));
    u.project = std::string(q->Text(i, 1));
    u.name = std::string(q->Text(i, 2));
    u.lines = q->Int(i, 3);
    u.raw_bytes = q->Int(i, 4);
    u.chunks = q->Int(i, 5);
    u.stored_bytes = q->Int(i, 6);
    out.push_back(std::move(u));
  }
  return out;
}

Status PostgresStore::Ping() {
  ReadLease lease(this);
  if (!lease.status().ok()) return lease.status();
  return lease.db().Query("SELECT 1").status();
}

Result<int64_t> PostgresStore::BytesOnDisk() {
  ReadLease lease(this);
  if (!lease.status().ok()) return lease.status();
  auto q = lease.db().Query(
      "SELECT (pg_total_relation_size('log_chunks') + pg_total_relation_size('runs') + "
      "pg_total_relation_size('run_writers'))::bigint");
  if (!q.ok()) return q.status();
  return q->Int(0, 0);
}

// ---- admin check ----

Result<AuditIds> PostgresStore::AuditRunIds() {
  ReadLease lease(this);
  if (!lease.status().ok()) return lease.status();
  AuditIds ids;
  auto q = lease.db().Query("SELECT id FROM runs ORDER BY id");
  if (!q.ok()) return q.status();
  for (int i = 0; i < q->rows(); ++i) ids.runs.emplace_back(q->Text(i, 0));
  auto o = lease.db().Query(
      "SELECT run_id FROM (SELECT DISTINCT run_id FROM log_chunks UNION SELECT run_id FROM "
      "run_writers) AS named WHERE run_id NOT IN (SELECT id FROM runs) ORDER BY run_id");
  if (!o.ok()) return o.status();
  for (int i = 0; i < o->rows(); ++i) ids.orphans.emplace_back(o->Text(i, 0));
  return ids;
}

Status PostgresStore::AuditRunRows(const std::string& run_id, AuditRun* run,
                                   const std::function<Status(const AuditChunk&)>& on_chunk) {
  ReadLease lease(this);
  if (!lease.status().ok()) return lease.status();
  PgConn& db = lease.db();
  // One snapshot for the row, the writers and every page of chunks.
  if (Status s = db.Exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"); !s.ok()) return s;
  struct ReadTxn {
    PgConn& db;
    ~ReadTxn() { (void)db.Exec("COMMIT"); }
  } txn{db};
  auto q = db.Query(
      "SELECT next_line, first_line, total, bytes, level_counts, source_counts, first_ts, "
      "last_ts, removed_from, removed_to, removed_at FROM runs WHERE id = $1",
      PgParams().Text(run_id));
  if (!q.ok()) return q.status();
  if (q->rows() == 0) return NotFound(run_id);
  run->id = run_id;
  run->removed.from_line = q->Int(0, 8);
  run->removed.to_line = q->Int(0, 9);
  if (!q->IsNull(0, 10)) run->removed.at_us = q->Int(0, 10);
  RunCounters& c = run->counters;
  c.next_line = q->Int(0, 0);
  c.first_line = q->Int(0, 1);
  c.total = q->Int(0, 2);
  c.bytes = q->Int(0, 3);
  ParseCounts(q->Text(0, 4), &c.level_counts);
  ParseCounts(q->Text(0, 5), &c.source_counts);
  if (!q->IsNull(0, 6)) c.first_ts = q->Int(0, 6);
  if (!q->IsNull(0, 7)) c.last_ts = q->Int(0, 7);
  auto w = db.Query(
      "SELECT writer, writer_id, max_seq, lines FROM run_writers WHERE run_id = $1 "
      "ORDER BY writer_id",
      PgParams().Text(run_id));
  if (!w.ok()) return w.status();
  for (int i = 0; i < w->rows(); ++i)
    run->writers.push_back({std::string(w->Text(i, 0)), w->Int(i, 1), w->Int(i, 2), w->Int(i, 3)});
  // Pages of chunks (libpq holds a whole result in memory).
  int64_t after = INT64_MIN;
  AuditChunk a;
  while (true) {
    auto k = db.Query(
        "SELECT first_line, last_line, n_lines, ts_min, ts_max, raw_bytes, level_mask, "
        "source_mask, writer_mask, level_counts, codec, payload, text_filter, source_counts "
        "FROM log_chunks WHERE run_id = $1 AND first_line > $2 ORDER BY first_line LIMIT 64",
        PgParams().Text(run_id).Int(after));
    if (!k.ok()) return k.status();
    if (k->rows() == 0) return Status::Ok();
    for (int i = 0; i < k->rows(); ++i) {
      a.first_line = k->Int(i, 0);
      a.last_line = k->Int(i, 1);
      a.n_lines = k->Int(i, 2);
      a.ts_min = k->Int(i, 3);
      a.ts_max = k->Int(i, 4);
      a.raw_bytes = k->Int(i, 5);
      a.level_mask = static_cast<uint32_t>(k->Int(i, 6));
      a.source_mask = static_cast<uint32_t>(k->Int(i, 7));
      a.writer_mask = static_cast<uint64_t>(k->Int(i, 8));
      ParseCounts(k->Text(i, 9), &a.level_counts);
      a.codec = static_cast<int>(k->Int(i, 10));
      a.payload = k->Text(i, 11);
      a.text_filter = k->IsNull(i, 12) ? std::string() : std::string(k->Text(i, 12));
      a.source_counts.reset();
      if (!k->IsNull(i, 13)) {
        a.source_counts.emplace();
        ParseCounts(k->Text(i, 13), &*a.source_counts);
      }
      after = a.first_line;
      if (Status s = on_chunk(a); !s.ok()) return s;
    }
  }
}

Status PostgresStore::RepairRun(const RunRepair& r) {
  DropRunFiltersAtExit drop(filter_cache_, r.run_id);
  return Write(r.run_id, [&](WriteContext& ctx) -> Status {
    PgConn& db = *ctx.db;
    // The row lock keeps appends of every node out until the repair commits.
    auto seen = db.Query("SELECT next_line, total FROM runs WHERE id = $1 FOR UPDATE",
                         PgParams().Text(r.run_id));
    if (!seen.ok()) return seen.status();
    if (seen->rows() == 0) return NotFound(r.run_id);
    if (seen->Int(0, 0) != r.seen_next_line || seen->Int(0, 1) != r.seen_total)
      return Status(Code::kConflict, "run " + r.run_id +
                                         " changed since it was checked (lines were appended or "
                                         "cleared); check it again");
    // Written even without new counters: its version changes with the chunks rewritten below
    // (cached chunk maps, store/chunk_map_cache.h).
    Status st =
        db.Exec("UPDATE runs SET next_line = next_line WHERE id = $1", PgParams().Text(r.run_id));
    if (!st.ok()) return st;
    if (r.counters) {
      const RunCounters& c = *r.counters;
      PgParams p;
      p.Text(r.run_id)
          .Int(c.next_line)
          .Int(c.first_line)
          .Int(c.total)
          .Int(c.bytes)
          .Text(JoinCounts(c.level_counts.data(), kLevelCount))
          .Text(JoinCounts(c.source_counts.data(), kSourceCount));
      if (c.first_ts) {
        p.Int(*c.first_ts);
      } else {
        p.Null();
      }
      if (c.last_ts) {
        p.Int(*c.last_ts);
      } else {
        p.Null();
      }
      st = db.Exec(
          "UPDATE runs SET next_line = $2, first_line = $3, total = $4, bytes = $5, "
          "level_counts = $6, source_counts = $7, first_ts = $8::bigint, last_ts = $9::bigint "
          "WHERE id = $1",
          p);
      if (!st.ok()) return st;
    }
    for (const AuditWriter& w : r.writers) {
      st = db.Exec(
          "INSERT INTO run_writers(run_id, writer, writer_id, max_seq, lines) VALUES "
          "($1, $2, $3, $4, $5) ON CONFLICT (run_id, writer) DO UPDATE SET lines = "
          "excluded.lines",
          PgParams().Text(r.run_id).Text(w.writer).Int(w.id).Int(w.max_seq).Int(w.lines));
      if (!st.ok()) return st;
    }
    for (const AuditChunk& c : r.chunks) {
      auto q = db.Query(
          "UPDATE log_chunks SET n_lines = $4, ts_min = $5, ts_max = $6, raw_bytes = $7, "
          "level_mask = $8, source_mask = $9, writer_mask = $10, level_counts = $11, "
          "text_filter = $12 WHERE run_id = $1 AND first_line = $2 AND last_line = $3",
          PgParams()
              .Text(r.run_id)
              .Int(c.first_line)
              .Int(c.last_line)
              .Int(c.n_lines)
              .Int(c.ts_min)
              .Int(c.ts_max)
              .Int(c.raw_bytes)
              .Int(c.level_mask)
              .Int(c.source_mask)
              .Int(static_cast<int64_t>(c.writer_mask))
              .Text(JoinCounts(c.level_counts.data(), kLevelCount))
              .BytesOrNull(c.text_filter));
      if (!q.ok()) return q.status();
      if (q->affected() == 0)
        return Status(Code::kConflict, "chunk " + std::to_string(c.first_line) + "-" +
                                           std::to_string(c.last_line) + " of run " + r.run_id +
                                           " changed since it was checked; check it again");
      if (c.source_counts) {
        st = db.Exec(
            "UPDATE log_chunks SET source_counts = $3 WHERE run_id = $1 AND first_line = $2",
            PgParams()
                .Text(r.run_id)
                .Int(c.first_line)
                .Text(JoinCounts(c.source_counts->data(), kSourceCount)));
        if (!st.ok()) return st;
      }
    }
    return Status::Ok();
  });
}

// ---- background merge ----

void PostgresStore::MergerLoop() {
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
        if (!MergeOnce(*merge_db_)) return MergeStep::kIdle;
        return planner_.groups_planned() != before ? MergeStep::kGroup : MergeStep::kPaged;
      });
}

bool PostgresStore::MergeOnce(PgConn& db) {
  if (!db.Ensure().ok()) return false;
  auto page_q = db.Query(
      "SELECT run_id, first_line, last_line, n_lines, raw_bytes, packed FROM log_chunks "
      "WHERE (packed = 0 OR n_lines < 500) AND (run_id, first_line) > ($1, $2) "
      "ORDER BY run_id, first_line LIMIT $3",
      PgParams().Text(planner_.cursor_run()).Int(planner_.cursor_line()).Int(kMergePageRows));
  if (!page_q.ok()) return false;
  std::vector<MergeCandidate> page, group;
  for (int i = 0; i < page_q->rows(); ++i) {
    page.push_back({std::string(page_q->Text(i, 0)), page_q->Int(i, 1), page_q->Int(i, 2),
                    page_q->Int(i, 3), page_q->Int(i, 4), page_q->Int(i, 5) != 0});
  }
  switch (planner_.Plan(page, &group)) {
    case MergePlanner::Outcome::kIdle:
      return false;
    case MergePlanner::Outcome::kNextPage:
      return true;
    case MergePlanner::Outcome::kGroup:
      break;
  }
  const std::string run_id = group.front().run_id;
  auto rollback = [&] {
    if (!db.Exec("ROLLBACK").ok()) db.Close();
  };
  if (!db.Exec("BEGIN").ok()) return false;
  // Lock order as every writer: the run row first (appends wait, a clear or delete waits for
  // the swap and then sees the merged chunk), then the chunks. SKIP LOCKED: chunks another node
  // is merging are left to it. The row is written, not just locked, so that its version changes
  // with the chunks (every node's cached chunk maps, store/chunk_map_cache.h).
  auto run = db.Query("UPDATE runs SET next_line = next_line WHERE id = $1 RETURNING 1",
                      PgParams().Text(run_id));
  if (!run.ok() || run->rows() == 0) {
    rollback();
    return run.ok();
  }
  auto chunks = db.Query(
      "SELECT first_line, last_line, packed, payload, writer_mask FROM log_chunks "
      "WHERE run_id = $1 AND first_line >= $2 AND first_line <= $3 ORDER BY first_line "
      "FOR UPDATE SKIP LOCKED",
      PgParams().Text(run_id).Int(group.front().first_line).Int(group.back().first_line));
  if (!chunks.ok()) {
    rollback();
    return false;
  }
  bool same = chunks->rows() == static_cast<int>(group.size());
  for (int i = 0; same && i < chunks->rows(); ++i) {
    same = chunks->Int(i, 0) == group[i].first_line && chunks->Int(i, 1) == group[i].last_line &&
           (chunks->Int(i, 2) != 0) == group[i].packed;
  }
  if (!same) {  // changed under us, or another node holds some: try again later
    rollback();
    return true;
  }
  std::vector<std::string> payloads;
  std::vector<uint64_t> masks;
  for (int i = 0; i < chunks->rows(); ++i) {
    payloads.emplace_back(chunks->Text(i, 3));
    masks.push_back(static_cast<uint64_t>(chunks->Int(i, 4)));
  }
  auto merged = BuildMerge(payloads, masks, options_.merge_zstd_level);
  if (!merged.ok()) {
    rollback();
    return false;
  }
  if (merged->chunks_taken < group.size()) {
    group.resize(merged->chunks_taken);  // cut at the writer limit
    planner_.ResumeAfter(group.back());
  }
  if (!WorthMerging(group, group.size())) {
    rollback();
    return true;
  }
  Status st =
      db.Exec("DELETE FROM log_chunks WHERE run_id = $1 AND first_line >= $2 AND first_line <= $3",
              PgParams().Text(run_id).Int(group.front().first_line).Int(group.back().first_line));
  if (st.ok())
    st = InsertChunk(db, run_id, group.front().first_line, merged->lines.data(),
                     merged->lines.size(), merged->payload, merged->text_filter,
                     merged->writer_mask, true);
  if (st.ok()) st = db.Exec("COMMIT");
  if (!st.ok()) {
    rollback();
    return false;
  }
  return true;
}

Status PostgresStore::ImportRun(const RunImport& im, const LinePuller& pull) {
  const RunInfo& r = im.run;
  DropRunFiltersAtExit drop(filter_cache_, r.id);
  return Write(
      r.id,
      [&](WriteContext& ctx) -> Status {
        PgConn& db = *ctx.db;
        auto find = db.Query("SELECT project FROM runs WHERE id = $1", PgParams().Text(r.id));
        if (!find.ok()) return find.status();
        if (find->rows())
          return Status(Code::kConflict, "run " + r.id + " exists here (project '" +
                                             std::string(find->Text(0, 0)) +
                                             "'); delete it first to import it again");
        // The run row first: a concurrent import of the same id waits on it, then fails unique.
        PgParams rp;
        rp.Text(r.id).Text(r.project).Text(r.name).Text(RunStateName(r.state));
        if (r.exit_code) {
          rp.Int(*r.exit_code);
        } else {
          rp.Null();
        }
        rp.Int(r.created_at_us);
        if (r.finished_at_us) {
          rp.Int(*r.finished_at_us);
        } else {
          rp.Null();
        }
        rp.Text(r.config_json).Text(r.tags_json);
        Status st = db.Exec(
            "INSERT INTO runs(id, project, name, state, exit_code, created_at, finished_at, "
            "config, "
            "tags) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            rp);
        if (!st.ok()) return st;
        st = db.Exec(
            "INSERT INTO projects(name, created_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
            PgParams().Text(r.project).Int(r.created_at_us));
        if (!st.ok()) return st;
        ImportPlanner plan(im.next_line, options_.merge_zstd_level, r.removed.to_line);
        st = plan.Run(pull, [&](const ImportChunk& c) {
          return InsertChunk(db, r.id, c.first_line, c.lines.data(), c.lines.size(), c.payload,
                             c.text_filter, c.writer_mask, true);
        });
        if (!st.ok()) return st;
        const RunCounters& c = plan.counters();
        PgParams cp;
        cp.Text(r.id)
            .Int(c.next_line)
            .Int(c.first_line)
            .Int(c.total)
            .Int(c.bytes)
            .Text(JoinCounts(c.level_counts.data(), kLevelCount))
            .Text(JoinCounts(c.source_counts.data(), kSourceCount));
        if (c.first_ts) {
          cp.Int(*c.first_ts).Int(*c.last_ts);
        } else {
          cp.Null().Null();
        }
        cp.Int(r.removed.from_line).Int(r.removed.to_line);
        if (r.removed.at_us) {
          cp.Int(*r.removed.at_us);
        } else {
          cp.Null();
        }
        st = db.Exec(
            "UPDATE runs SET next_line = $2, first_line = $3, total = $4, bytes = $5, "
            "level_counts = $6, source_counts = $7, first_ts = $8::bigint, last_ts = $9::bigint, "
            "removed_from = $10, removed_to = $11, removed_at = $12::bigint WHERE id = $1",
            cp);
        if (!st.ok()) return st;
        for (const AuditWriter& w : plan.writers()) {
          st = db.Exec(
              "INSERT INTO run_writers(run_id, writer, writer_id, max_seq, lines) VALUES "
              "($1, $2, $3, $4, $5)",
              PgParams().Text(r.id).Text(w.writer).Int(w.id).Int(w.max_seq).Int(w.lines));
          if (!st.ok()) return st;
        }
        return Status::Ok();
      },
      true);
}

// ---- retention ----

RetentionPolicy PgPolicyFromRow(const PgResult& q, int row, int first) {
  RetentionPolicy p;
  p.max_age_us = q.Int(row, first);
  p.age_action = ParseAgeAction(q.Text(row, first + 1)).value_or(AgeAction::kInherit);
  p.max_lines_per_run = q.Int(row, first + 2);
  p.max_bytes_per_run = q.Int(row, first + 3);
  p.max_bytes_per_project = q.Int(row, first + 4);
  p.updated_at_us = q.Int(row, first + 5);
  return p;
}

Result<RetentionPolicy> PostgresStore::GetRetention(const std::string& project) {
  ReadLease lease(this);
  if (!lease.status().ok()) return lease.status();
  auto e = lease.db().Query("SELECT 1 FROM projects WHERE name = $1", PgParams().Text(project));
  if (!e.ok()) return e.status();
  if (e->rows() == 0) return Status(Code::kNotFound, "project '" + project + "' not found");
  auto q = lease.db().Query(
      "SELECT max_age_us, age_action, max_lines_per_run, max_bytes_per_run, "
      "max_bytes_per_project, updated_at FROM retention_policies WHERE project = $1",
      PgParams().Text(project));
  if (!q.ok()) return q.status();
  if (q->rows() == 0) return RetentionPolicy{};
  return PgPolicyFromRow(*q, 0, 0);
}

Status PostgresStore::SetRetention(const std::string& project, const RetentionPolicy& p) {
  return Write("", [&](WriteContext& ctx) -> Status {
    auto e = ctx.db->Query("SELECT 1 FROM projects WHERE name = $1", PgParams().Text(project));
    if (!e.ok()) return e.status();
    if (e->rows() == 0) return Status(Code::kNotFound, "project '" + project + "' not found");
    if (p == RetentionPolicy{})
      return ctx.db->Exec("DELETE FROM retention_policies WHERE project = $1",
                          PgParams().Text(project));
    return ctx.db->Exec(
        "INSERT INTO retention_policies(project, max_age_us, age_action, max_lines_per_run, "
        "max_bytes_per_run, max_bytes_per_project, updated_at) VALUES ($1, $2, $3, $4, $5, $6, "
        "$7) ON CONFLICT (project) DO UPDATE SET max_age_us = excluded.max_age_us, age_action = "
        "excluded.age_action, max_lines_per_run = excluded.max_lines_per_run, max_bytes_per_run "
        "= excluded.max_bytes_per_run, max_bytes_per_project = excluded.max_bytes_per_project, "
        "updated_at = excluded.updated_at",
        PgParams()
            .Text(project)
            .Int(p.max_age_us)
            .Text(AgeActionName(p.age_action))
            .Int(p.max_lines_per_run)
            .Int(p.max_bytes_per_run)
            .Int(p.max_bytes_per_project)
            .Int(p.updated_at_us ? p.updated_at_us : NowMicros()));
  });
}

Result<std::map<std::string, RetentionPolicy>> PostgresStore::ListRetention() {
  ReadLease lease(this);
  if (!lease.status().ok()) return lease.status();
  auto q = lease.db().Query(
      "SELECT project, max_age_us, age_action, max_lines_per_run, max_bytes_per_run, "
      "max_bytes_per_project, updated_at FROM retention_policies");
  if (!q.ok()) return q.status();
  std::map<std::string, RetentionPolicy> out;
  for (int i = 0; i < q->rows(); ++i) out[std::string(q->Text(i, 0))] = PgPolicyFromRow(*q, i, 1);
  return out;
}

Result<std::vector<RetentionRun>> PostgresStore::RetentionRuns() {
  ReadLease lease(this);
  if (!lease.status().ok()) return lease.status();
  auto q = lease.db().Query(
      "SELECT id, project, state, created_at, finished_at, total, bytes FROM runs");
  if (!q.ok()) return q.status();
  std::vector<RetentionRun> out;
  out.reserve(q->rows());
  for (int i = 0; i < q->rows(); ++i) {
    RetentionRun r;
    r.id = q->Text(i, 0);
    r.project = q->Text(i, 1);
    r.state = ParseRunState(q->Text(i, 2)).value_or(RunState::kRunning);
    r.created_at_us = q->Int(i, 3);
    if (!q->IsNull(i, 4)) r.finished_at_us = q->Int(i, 4);
    r.total = q->Int(i, 5);
    r.bytes = q->Int(i, 6);
    out.push_back(std::move(r));
  }
  return out;
}

Result<RetentionView> PostgresStore::RetentionChunks(const std::string& run_id, int max_chunks) {
  ReadLease lease(this);
  if (!lease.status().ok()) return lease.status();
  PgConn& db = lease.db();
  if (Status s = db.Exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"); !s.ok()) return s;
  struct ReadTxn {
    PgConn& db;
    ~ReadTxn() { (void)db.Exec("COMMIT"); }
  } txn{db};
  if (Status s = RunExists(db, run_id); !s.ok()) return s;
  RetentionView v;
  auto w = db.Query("SELECT writer, writer_id, max_seq, lines FROM run_writers WHERE run_id = $1",
                    PgParams().Text(run_id));
  if (!w.ok()) return w.status();
  for (int i = 0; i < w->rows(); ++i)
    v.writers.push_back({std::string(w->Text(i, 0)), w->Int(i, 1), w->Int(i, 2), w->Int(i, 3)});
  auto q = db.Query(
      "SELECT first_line, last_line, n_lines, raw_bytes, level_counts, writer_mask, "
      "source_counts FROM log_chunks WHERE run_id = $1 ORDER BY first_line LIMIT $2",
      PgParams().Text(run_id).Int(max_chunks));
  if (!q.ok()) return q.status();
  for (int i = 0; i < q->rows(); ++i) {
    RetentionChunk c;
    c.first_line = q->Int(i, 0);
    c.last_line = q->Int(i, 1);
    c.n_lines = q->Int(i, 2);
    c.raw_bytes = q->Int(i, 3);
    ParseCounts(q->Text(i, 4), &c.level_counts);
    c.writer_mask = static_cast<uint64_t>(q->Int(i, 5));
    if (!q->IsNull(i, 6)) {
      c.source_counts.emplace();
      ParseCounts(q->Text(i, 6), &*c.source_counts);
    }
    v.chunks.push_back(std::move(c));
  }
  return v;
}

Status PostgresStore::RemoveChunks(const RetentionCut& cut) {
  return Write(cut.run_id, [&](WriteContext& ctx) -> Status {
    PgConn& db = *ctx.db;
    // The run's row lock: appends to this run (on any node) wait for this short transaction.
    auto r = db.Query(
        "SELECT total, bytes, level_counts, source_counts, removed_to FROM runs WHERE id = $1 "
        "FOR UPDATE",
        PgParams().Text(cut.run_id));
    if (!r.ok()) return r.status();
    if (r->rows() == 0) return NotFound(cut.run_id);
    RunCounters c;
    c.total = r->Int(0, 0);
    c.bytes = r->Int(0, 1);
    ParseCounts(r->Text(0, 2), &c.level_counts);
    ParseCounts(r->Text(0, 3), &c.source_counts);
    const int64_t removed_to = r->Int(0, 4);
    auto v = db.Query(
        "SELECT count(*)::bigint, coalesce(sum(n_lines), 0)::bigint, "
        "coalesce(min(first_line), 0)::bigint, coalesce(max(last_line), 0)::bigint FROM "
        "log_chunks WHERE run_id = $1 AND first_line <= $2",
        PgParams().Text(cut.run_id).Int(cut.last_first_line));
    if (!v.ok()) return v.status();
    if (v->Int(0, 0) != cut.chunks || v->Int(0, 1) != cut.removed.total ||
        v->Int(0, 2) != cut.first_line || v->Int(0, 3) != cut.last_line)
      return Status(Code::kConflict, "the chunks of run " + cut.run_id + " changed; planned again");
    Status st = db.Exec("DELETE FROM log_chunks WHERE run_id = $1 AND first_line <= $2",
                        PgParams().Text(cut.run_id).Int(cut.last_first_line));
    if (!st.ok()) return st;
    SubtractRemoved(cut.removed, &c);
    st = db.Exec(
        "UPDATE runs SET (first_line, first_ts, last_ts) = (SELECT coalesce(min(first_line), 0), "
        "min(ts_min), max(ts_max) FROM log_chunks WHERE run_id = $1), total = $2, bytes = $3, "
        "level_counts = $4, source_counts = $5, removed_from = CASE WHEN removed_to = 0 THEN $6 "
        "ELSE removed_from END, removed_to = $7, removed_at = $8 WHERE id = $1",
        PgParams()
            .Text(cut.run_id)
            .Int(c.total)
            .Int(c.bytes)
            .Text(JoinCounts(c.level_counts.data(), kLevelCount))
            .Text(JoinCounts(c.source_counts.data(), kSourceCount))
            .Int(cut.first_line)
            .Int(std::max(removed_to, cut.last_line))
            .Int(cut.now_us));
    if (!st.ok()) return st;
    for (const auto& [writer_id, n] : cut.by_writer) {
      st = db.Exec(
          "UPDATE run_writers SET lines = greatest(lines - $3, 0) WHERE run_id = $1 AND "
          "writer_id = $2",
          PgParams().Text(cut.run_id).Int(writer_id).Int(n));
      if (!st.ok()) return st;
    }
    return Status::Ok();
  });
}

Status PostgresStore::CompactNow() {
  std::lock_guard busy(merge_busy_);
  Status s = merge_db_->Ensure();
  if (!s.ok()) return s;
  while (MergeOnce(*merge_db_)) {
  }
  return Write("", [](WriteContext&) { return Status::Ok(); });
}

}  // namespace

bool IsPostgresUrl(const std::string& url) {
  if (url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0) return true;
  // key=value conninfo: a word followed by '=' at the start.
  for (const char* key : {"host=", "hostaddr=", "dbname=", "port=", "user=", "service="}) {
    if (url.rfind(key, 0) == 0 || url.find(std::string(" ") + key) != std::string::npos)
      return true;
  }
  return false;
}

Result<std::unique_ptr<LogStore>> OpenPostgresStore(const std::string& conninfo,
                                                    const PostgresStoreOptions& options) {
  auto store = std::make_unique<PostgresStore>(conninfo, options);
  Status s = store->Init();
  if (!s.ok()) return s;
  return std::unique_ptr<LogStore>(std::move(store));
}

}  // namespace wanllmdb
