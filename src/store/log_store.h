// LogStore: the storage interface. SQLite (embedded, default) and PostgreSQL (many server
// nodes, one database) implement the same contract. Everything a backend
// must guarantee is written here, not in an implementation:
//   - Append is committed when it returns OK, and atomic per batch. Durable means what the
//     SyncMode promises (below): survives a killed process always; a power cut only with
//     SyncMode::kFull on SQLite, or PostgreSQL's synchronous_commit=on.
//   - Line numbers are dense per run, assigned in commit order, never reused (not even after
//     ClearLogs).
//   - Lines with a seq at or below the (run, writer) watermark are skipped as duplicates.
//   - ReadChunks returns chunks in line order covering disjoint ranges.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/log_line.h"
#include "core/status.h"

namespace wanllmdb {

class TextProbe;
class ProblemRuleSet;
struct AuditIds;
struct AuditRun;
struct AuditChunk;
struct RunRepair;
struct RunImport;
struct RetentionPolicy;
struct RetentionRun;
struct RetentionView;
struct RetentionCut;
// The next lines of a run, numbered, in ascending line order; an empty vector at the end.
using LinePuller = std::function<Result<std::vector<LogLine>>()>;

enum class RunState { kRunning, kFinished, kFailed, kCrashed };
std::string_view RunStateName(RunState s);
std::optional<RunState> ParseRunState(std::string_view s);

// The lines retention removed from a run (the oldest ones, a range): the summary and the viewer
// say "lines FROM–TO were removed by retention on AT" rather than silently starting later.
struct RetentionGap {
  int64_t from_line = 0, to_line = 0;  // both 0: nothing was removed
  std::optional<int64_t> at_us;        // when the last of them went
};

struct ProjectInfo {
  std::string name;
  int64_t created_at_us = 0;
  int64_t run_count = 0;
  std::optional<int64_t> last_run_at_us;
};

struct RunInfo {
  std::string id, project, name;
  RunState state = RunState::kRunning;
  std::optional<int64_t> exit_code;
  int64_t created_at_us = 0;
  std::optional<int64_t> finished_at_us;
  std::string config_json = "{}";  // opaque JSON object, stored as sent
  std::string tags_json = "[]";    // JSON array of strings
  int64_t line_count = 0, error_count = 0, last_line = 0;
  RetentionGap removed;
  // How many times the run's lines were cleared: a viewer that saw a smaller number missed a
  // clear (a node whose live bus lost messages finds out this way).
  int64_t clears = 0;
};

// What a runs listing asks for. Pages are keyset cursors: (sort key, id) of the last run of the
// previous page, so a page never repeats or skips a run that stays put while new ones arrive.
enum class RunSort { kCreatedAt, kDuration, kLines, kErrors };
struct RunQuery {
  std::string project;            // "" = every project
  std::optional<RunState> state;  // none = every state
  std::string text;               // name, id or a tag contains it (ASCII case-insensitive)
  std::string id_prefix;          // lower-case; "" = any id
  RunSort sort = RunSort::kCreatedAt;
  bool descending = true;
  std::optional<int64_t> after_key;  // with after_id: start after this run
  std::string after_id;
  int limit = 100;
  int64_t now_us = 0;  // the end of a running run's duration
};
struct RunPage {
  std::vector<RunInfo> runs;
  std::vector<int64_t> keys;  // each run's sort key (for the next cursor)
  bool has_more = false;
  int64_t total = 0;  // runs matching the query without the cursor
};

struct NewRun {
  std::string id;  // canonical UUID; the caller generates one when the client did not
  std::string project, name;
  std::string config_json = "{}", tags_json = "[]";
};

// One writer (rank) of a run of `world_size` processes ended with RunUpdate's state and exit
// code. Its fate is kept; the run's own state changes only when `world_size` writers have ended:
// crashed if any crashed, else failed if any failed, else finished, with the exit code of the
// first writer that ended badly (else 0). Until then the run stays as it is.
struct WriterEnd {
  std::string writer;
  int64_t world_size = 1;
};

struct RunUpdate {
  std::optional<RunState> state;
  std::optional<std::optional<int64_t>> exit_code;  // set to a value or to null
  std::optional<WriterEnd> writer_end;  // with a final state: one rank's end (WriterEnd)
};

struct LogSummary {
  int64_t total = 0, bytes = 0;
  std::array<int64_t, kLevelCount> by_level{};
  std::array<int64_t, kSourceCount> by_source{};
  std::map<std::string, int64_t> by_writer;
  std::optional<int64_t> first_timestamp_us, last_timestamp_us;
  int64_t first_line = 0;  // 0 when there are no lines
  int64_t last_line = 0;   // highest number ever assigned
  RetentionGap removed;    // lines before first_line that retention removed
};

// One batch from one writer. `seqs` is empty or parallel to `lines` (-1 = no seq).
// `detect_level` is empty (every level is explicit) or parallel to `lines`: 1 = the store detects
// the level from the line's layout, continuing the traceback state the writer's previous line
// left (kept per (run, writer) in the store, so it holds across batches and server nodes).
struct IngestBatch {
  std::string run_id;
  std::string writer = "main";
  std::vector<LogLine> lines;  // sanitized, split, with timestamps (and explicit levels)
  std::vector<int64_t> seqs;
  std::vector<uint8_t> detect_level;
  // The rules problems are detected with (core/problem_rules.h; the project's own included);
  // null: no problem detection (server --no-problem-detection).
  std::shared_ptr<const ProblemRuleSet> problem_rules;
};

// One stored problem (doc/problems.md): the first occurrence of a signature on one writer of a
// run, with how often it recurred. Readers fold the rows of one signature on many writers into
// one event ("× 8 ranks"), store/problem_events.h.
struct ProblemRow {
  std::string run_id, signature, writer;  // the key; writer "" = the run (a stall)
  std::string kind, rule, title, detail;
  Level level = Level::kError;
  int64_t first_line = 0, last_line = 0;  // the first occurrence's line range
  int64_t last_seen_line = 0;             // the last line of the latest occurrence
  int64_t occurrences = 1;
  int64_t first_ts_us = 0;     // the first line's timestamp
  int64_t detected_at_us = 0;  // server time of the first detection
};

// GET /projects/{name}/problems: rows of the project's runs, newest detection first.
struct ProblemQuery {
  std::string project;
  std::string kind;                 // "" = any
  std::optional<int64_t> since_us;  // detected_at >= since
  int limit = 500;                  // rows
};

// A run stores problem rows of at most this many distinct signatures (doc/problems.md): a row
// of a signature the run has is always stored (another writer, a recurrence); a new signature
// beyond the cap is counted (ProblemsDropped), not stored, so a run printing a new error on
// every line cannot grow run_problems without bound.
inline constexpr int64_t kMaxProblemSignaturesPerRun = 1000;

struct IngestResult {
  int64_t accepted = 0, duplicates = 0;
  int64_t first_line = 0, last_line = 0;  // 0 when nothing was accepted
  // The kinds of problems the batch found that the run had no row of before it, decided in the
  // append's transaction: each (run, kind) is reported by exactly one append, whichever node
  // stored it, and never again after a restart (alerts: a run's first problem of a kind).
  std::vector<std::string> new_problem_kinds;
  int64_t problems_dropped = 0;  // occurrences not stored: kMaxProblemSignaturesPerRun
};

// Webhook deliveries (doc/alerts.md): an outbox in the store, so a delivery survives a restart
// and the nodes sharing a PostgreSQL deliver each event once between them.
enum class DeliveryState { kPending, kDelivered, kGaveUp };
std::string_view DeliveryStateName(DeliveryState s);  // "pending", "delivered", "gave_up"
std::optional<DeliveryState> ParseDeliveryState(std::string_view s);

struct WebhookDelivery {
  int64_t id = 0;  // assigned by EnqueueDelivery
  std::string project, webhook_id;
  std::string event;  // "problem", "run_ended", "stalled"
  std::string run_id;
  // With (webhook_id, event, run_id) the event's identity: an event is enqueued once per
  // webhook, by whichever node or process saw it first (the problem kind; the stall's line).
  std::string key;
  std::string body;  // the POST body, built when the event was queued
  int attempts = 0;  // begun so far (ClaimDeliveries begins one)
  DeliveryState state = DeliveryState::kPending;
  int64_t next_attempt_us = 0;
  int last_status = 0;     // HTTP status of the latest attempt; 0: none or no answer
  std::string last_error;  // of the latest attempt; empty on success
  int64_t created_us = 0, updated_us = 0;
};

// The outcome of the attempt ClaimDeliveries began (`attempt` is the number it returned).
struct DeliveryOutcome {
  int64_t id = 0;
  int attempt = 0;
  int status = 0;
  std::string error;                              // empty: delivered
  DeliveryState state = DeliveryState::kPending;  // pending: retried at next_attempt_us
  int64_t next_attempt_us = 0;
};

// A webhook's delivery log: totals since it was created, and its latest deliveries.
struct DeliveryLog {
  int64_t delivered = 0, failed_attempts = 0, gave_up = 0, pending = 0;
  int last_status = 0;
  std::string last_error;
  std::optional<int64_t> last_attempt_us, last_success_us;
  std::vector<WebhookDelivery> recent;  // latest changed first
};

// Metadata and compressed payload of one stored chunk.
struct StoredChunk {
  int64_t first_line = 0, last_line = 0;
  int64_t ts_min = 0, ts_max = 0;
  uint32_t level_mask = 0, source_mask = 0;
  std::array<int64_t, kLevelCount> level_counts{};
  int codec = 0;
  std::string payload;
  // Ruled out by ChunkQuery::probe: no payload was read; only the key and metadata are valid.
  bool skipped = false;
};

// Which chunks a reader wants. Chunks are skipped by key range, time range and masks.
struct ChunkQuery {
  int64_t from_line = 1;        // chunks whose last_line >= from_line
  int64_t to_line = INT64_MAX;  // and whose first_line <= to_line
  bool descending = false;
  // With a probe, a store may answer past max_chunks with chunks the probe skips (no payload).
  int max_chunks = 16;
  std::optional<int64_t> since_us, until_us;
  uint32_t level_mask = 0, source_mask = 0;  // 0 = any
  bool with_payload = true;
  // With a payload: chunks whose text filter rules out a match come back `skipped`, without
  // their payload (still in the answer, so a reader's position moves past them).
  const TextProbe* probe = nullptr;
  // With a probe: the answer ends before the chunk that would be the (max_payloads + 1)th with
  // a payload, so a big page of keys never reads more payloads than a reader holds at once.
  int max_payloads = 64;
};

// The stores' rule for ChunkQuery::max_payloads, after the probe marked `chunks` skipped.
inline void TrimToPayloads(std::vector<StoredChunk>* chunks, int max_payloads) {
  int kept = 0;
  for (size_t k = 0; k < chunks->size(); ++k) {
    if ((*chunks)[k].skipped) continue;
    if (kept++ == max_payloads) {
      chunks->resize(k);
      return;
    }
  }
}

// What one run takes up (wanllmdb admin du).
struct RunUsage {
  std::string run_id, project, name;
  int64_t lines = 0;         // stored lines (the run's counter)
  int64_t raw_bytes = 0;     // their message bytes (the run's counter)
  int64_t chunks = 0;        // stored chunks
  int64_t stored_bytes = 0;  // their compressed payloads
};

// A line or a range of lines a user marked, with a note (GET/POST/DELETE /runs/{id}/bookmarks).
struct Bookmark {
  int64_t id = 0;  // unique per store, assigned by AddBookmark
  std::string run_id;
  int64_t first_line = 0, last_line = 0;  // inclusive; equal for a single line
  std::string note;
  std::string created_by;  // the API key's name ("" without auth)
  int64_t created_at = 0;  // microseconds since the epoch
};

inline Status TooManyBookmarks(size_t max_per_run) {
  return Status(Code::kInvalidValue, "a run keeps at most " + std::to_string(max_per_run) +
                                         " bookmarks: delete some first");
}

// Told after every commit that stored lines (on the committing thread: keep it short).
struct CommitEvent {
  std::string run_id;
  int64_t first_line = 0, last_line = 0;
  std::shared_ptr<const std::vector<LogLine>> lines;  // numbered
};
using CommitListener = std::function<void(const CommitEvent&)>;

class LiveBus;

// Thread-safety: every method may be called from any thread concurrently.
class LogStore {
 public:
  virtual ~LogStore() = default;

  virtual Result<ProjectInfo> CreateProject(const std::string& name, bool* created) = 0;
  virtual Result<std::vector<ProjectInfo>> ListProjects() = 0;

  // Creates the run (and its project); when the id exists in the same project, returns it with
  // *created = false; in another project: kConflict.
  virtual Result<RunInfo> CreateRun(const NewRun& run, bool* created) = 0;
  virtual Result<RunInfo> GetRun(const std::string& id) = 0;
  virtual Result<RunPage> ListRuns(const RunQuery& query) = 0;
  virtual Result<RunInfo> UpdateRun(const std::string& id, const RunUpdate& update) = 0;
  virtual Status DeleteRun(const std::string& id) = 0;

  virtual Result<IngestResult> Append(IngestBatch batch) = 0;
  // Several batches (runs, writers) as one: all stored or none, results in order. The foreign
  // ingest protocols (OTLP, Loki push) carry many writers in one request. The default serves
  // one batch; a backend that can do more in one transaction overrides it.
  virtual Result<std::vector<IngestResult>> AppendAll(std::vector<IngestBatch> batches) {
    if (batches.size() > 1)
      return Status(Code::kInternal, "this store cannot store several writers atomically");
    std::vector<IngestResult> out;
    if (batches.empty()) return out;
    auto r = Append(std::move(batches.front()));
    if (!r.ok()) return r.status();
    out.push_back(*r);
    return out;
  }
  // Clearing a run's logs drops its bookmarks too (their lines are gone); so does DeleteRun.
  virtual Status ClearLogs(const std::string& run_id) = 0;
  // Oldest first. kNotFound when the run does not exist.
  virtual Result<std::vector<Bookmark>> ListBookmarks(const std::string& run_id) = 0;
  // Stores `b` (id and created_at are assigned) and returns it as stored; kInvalidValue when the
  // run already has `max_per_run` bookmarks (counted in the same transaction).
  virtual Result<Bookmark> AddBookmark(const Bookmark& b, size_t max_per_run) = 0;
  // kNotFound when the run has no bookmark `id`.
  virtual Status DeleteBookmark(const std::string& run_id, int64_t id) = 0;
  virtual Result<LogSummary> Summary(const std::string& run_id) = 0;

  // Problems (doc/problems.md). Rows are written with the batch that found them (Append), or
  // by RecordProblems; deleting a run or clearing its logs drops them.
  // Every row of the given runs, by run then first_line (unknown runs have none).
  virtual Result<std::vector<ProblemRow>> ProblemsOfRuns(
      const std::vector<std::string>& run_ids) = 0;
  // Rows of the project's runs matching the query, newest detected first, at most query.limit.
  virtual Result<std::vector<ProblemRow>> ProjectProblems(const ProblemQuery& query) = 0;
  // Upserts rows by (run_id, signature, writer): a new key is inserted; an existing one only
  // changes when the row's last_seen_line is higher than the stored one — occurrences are
  // added and last_seen_line moves up (so a repeated stall sweep of an unchanged run is a
  // no-op). The same rule Append applies. kNotFound for an unknown run.
  virtual Status RecordProblems(const std::vector<ProblemRow>& rows) = 0;
  // How many problem occurrences the run did not store (kMaxProblemSignaturesPerRun); 0 for an
  // unknown run. Clearing the run's logs resets it.
  virtual Result<int64_t> ProblemsDropped(const std::string& run_id) = 0;

  // Webhook deliveries (WebhookDelivery). Enqueues `d` (id, attempts, state, times are set
  // here) unless a delivery with its (webhook_id, event, run_id, key) exists: true when added.
  virtual Result<bool> EnqueueDelivery(const WebhookDelivery& d) = 0;
  // Begins an attempt of at most `limit` pending deliveries due at `now_us`, oldest due first:
  // their attempt count goes up by one and they come back with it. PostgreSQL: each is leased
  // until now_us + lease_us (FOR UPDATE SKIP LOCKED), so no other node claims it meanwhile;
  // a node that dies mid-attempt leaves it to be claimed again when the lease ends. SQLite (one
  // process): no lease is needed.
  virtual Result<std::vector<WebhookDelivery>> ClaimDeliveries(int64_t now_us, int64_t lease_us,
                                                               int limit) = 0;
  // Records the claimed attempt's outcome and adds it to the webhook's totals. Ignored (OK)
  // when the delivery has moved on since (deleted, or claimed again after the lease ended).
  virtual Status RecordDeliveryAttempt(const DeliveryOutcome& outcome) = 0;
  // When the next pending delivery is due (lease included); nullopt when none is pending.
  virtual Result<std::optional<int64_t>> NextDeliveryDue() = 0;
  // The webhook's totals, pending count and its `recent` latest deliveries.
  virtual Result<DeliveryLog> WebhookDeliveryLog(const std::string& webhook_id, int recent) = 0;
  // Removes finished deliveries beyond the latest `keep` of each webhook.
  virtual Status PruneDeliveries(int keep) = 0;
  // Removes every delivery and the totals of a deleted webhook.
  virtual Status ForgetWebhook(const std::string& webhook_id) = 0;

  // A project's setting (JSON text) by key; nullopt when unset. kNotFound for an unknown project.
  virtual Result<std::optional<std::string>> GetProjectSetting(const std::string& project,
                                                               const std::string& key) = 0;
  virtual Status PutProjectSetting(const std::string& project, const std::string& key,
                                   const std::string& value_json) = 0;
  // Chunks in line order (or reverse); an empty vector when no more match.
  virtual Result<std::vector<StoredChunk>> ReadChunks(const std::string& run_id,
                                                      const ChunkQuery& query) = 0;

  virtual void SetCommitListener(CommitListener listener) = 0;
  // The live bus fitting this store (store/live_bus.h): in-process for SQLite, NOTIFY/LISTEN
  // between the nodes sharing a PostgreSQL.
  virtual Result<std::unique_ptr<LiveBus>> OpenBus();
  // Flushes, stops background work, closes. Idempotent.
  virtual void Close() = 0;
  // Whether the store answers now (GET /api/v1/ready): one round trip to the database.
  // kUnavailable when it does not (PostgreSQL down or unreachable).
  virtual Status Ping() = 0;
  // Storage figures for benchmarks and the health page.
  virtual Result<int64_t> BytesOnDisk() = 0;
  // Every run's size: the runs' counters and their chunks' payload lengths (chunk keys only;
  // no payload is read). Any order.
  virtual Result<std::vector<RunUsage>> Usage() = 0;
  // Runs background merges now until nothing is left to merge (tests, benchmarks).
  virtual Status CompactNow() = 0;

  // `wanllmdb admin check` (store/store_audit.h, store/store_check.h): raw rows, no checks.
  virtual Result<AuditIds> AuditRunIds() = 0;
  // The run's row and writers into `run`, then every chunk of the run in key order (payload
  // and text filter included) to `on_chunk`, all from one read snapshot: a check beside a
  // running server never sees half an append. Stops with the first failing Status of
  // `on_chunk`. kNotFound when the run has no row.
  virtual Status AuditRunRows(const std::string& run_id, AuditRun* run,
                              const std::function<Status(const AuditChunk&)>& on_chunk) = 0;
  // Writes `repair` in one transaction (RunRepair says when it refuses: kConflict).
  virtual Status RepairRun(const RunRepair& repair) = 0;
  // `wanllmdb admin import-run` (store/run_import.h): creates the run as given (its project
  // too) with the lines `pull` yields, keeping their numbers, in one transaction: all stored or
  // nothing. kConflict when a run with that id exists; a failing Status of `pull` aborts it.
  virtual Status ImportRun(const RunImport& run, const LinePuller& pull) = 0;

  // Retention (store/retention.h; the sweep is store/retention_sweep.h). A project's own policy
  // (all kInherit when it has none); kNotFound for a project that does not exist.
  virtual Result<RetentionPolicy> GetRetention(const std::string& project) = 0;
  // Replaces the project's policy (all kInherit: removes it). kNotFound: no such project.
  virtual Status SetRetention(const std::string& project, const RetentionPolicy& policy) = 0;
  // Every project that has a policy of its own.
  virtual Result<std::map<std::string, RetentionPolicy>> ListRetention() = 0;
  // Every run's counters as the planner needs them (runs rows only: no chunk is read).
  virtual Result<std::vector<RetentionRun>> RetentionRuns() = 0;
  // The run's writers and its oldest `max_chunks` chunk rows (metadata, no payload), in line
  // order, from one snapshot. kNotFound when the run has no row.
  virtual Result<RetentionView> RetentionChunks(const std::string& run_id, int max_chunks) = 0;
  // Removes the chunks `cut` names and takes what they held off the run's counters, in one
  // short transaction (the run's row locked: appends to it wait for it, nothing else does);
  // records the removed range and time on the run. kConflict (nothing written) when the
  // chunks are not exactly those any more; kNotFound when the run is gone.
  virtual Status RemoveChunks(const RetentionCut& cut) = 0;
  // Gives up to `max_pages` free pages back to the file system (SQLite incremental vacuum, one
  // short write). Returns how many it gave back (fewer than max_pages: nothing more to do).
  // PostgreSQL: autovacuum does this; returns 0.
  virtual Result<int64_t> ReclaimSpace(int64_t max_pages) = 0;
};

// How hard a commit is pushed to stable storage before Append returns (doc/deploy.md).
enum class SyncMode {
  kNormal,  // SQLite: synchronous=NORMAL (WAL): survives the process being killed, not a power
            // cut (the last transactions may be lost). PostgreSQL: the server's own
            // synchronous_commit (on by default: survives both).
  kFull,    // SQLite: synchronous=FULL: every commit is fsynced, survives a power cut.
            // PostgreSQL: synchronous_commit=on for this node's sessions whatever the server says.
};

struct StoreOptions {
  SyncMode sync = SyncMode::kNormal;
  // Background merges. Off for tools that open a running server's store beside it (admin du):
  // they only read.
  bool background_work = true;
};

// "sqlite:PATH" (or a bare path), or a PostgreSQL connection string: "postgresql://..." /
// "postgres://..." URIs or "host=... dbname=..." key=value conninfo (password also from
// PGPASSWORD or ~/.pgpass, as libpq reads them). Opens, migrates, starts background work.
// The store URL with any password replaced by "***", for logs.
std::string RedactStoreUrl(const std::string& url);

Result<std::unique_ptr<LogStore>> OpenStore(const std::string& url,
                                            const StoreOptions& options = {});

}  // namespace wanllmdb
