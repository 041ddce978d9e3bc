#include "store/sqlite_schema.h"

#include <string>

#include "store/sqlite_db.h"

namespace wanllmdb {
namespace {

// Append only: a released migration is never edited. Every table keys on run_id first so the
// PostgreSQL twin can partition or distribute by it.
constexpr const char* kMigrations[] = {
    // 1: projects, runs with their log counters, writer watermarks, chunks.
    R"sql(
CREATE TABLE projects (
  name TEXT PRIMARY KEY,
  created_at INTEGER NOT NULL
);
CREATE TABLE runs (
  id TEXT PRIMARY KEY,
  project TEXT NOT NULL REFERENCES projects(name),
  name TEXT NOT NULL,
  state TEXT NOT NULL,
  exit_code INTEGER,
  created_at INTEGER NOT NULL,
  finished_at INTEGER,
  config TEXT NOT NULL DEFAULT '{}',
  tags TEXT NOT NULL DEFAULT '[]',
  next_line INTEGER NOT NULL DEFAULT 1,
  first_line INTEGER NOT NULL DEFAULT 0,
  total INTEGER NOT NULL DEFAULT 0,
  bytes INTEGER NOT NULL DEFAULT 0,
  level_counts TEXT NOT NULL DEFAULT '0,0,0,0,0',
  source_counts TEXT NOT NULL DEFAULT '0,0,0,0,0',
  first_ts INTEGER,
  last_ts INTEGER
);
CREATE INDEX runs_by_project ON runs(project, created_at);
CREATE TABLE run_writers (
  run_id TEXT NOT NULL,
  writer TEXT NOT NULL,
  writer_id INTEGER NOT NULL,
  max_seq INTEGER NOT NULL DEFAULT -1,
  lines INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (run_id, writer)
);
CREATE TABLE log_chunks (
  run_id TEXT NOT NULL,
  first_line INTEGER NOT NULL,
  last_line INTEGER NOT NULL,
  ts_min INTEGER NOT NULL,
  ts_max INTEGER NOT NULL,
  n_lines INTEGER NOT NULL,
  level_mask INTEGER NOT NULL,
  level_counts TEXT NOT NULL,
  source_mask INTEGER NOT NULL,
  writer_mask INTEGER NOT NULL,
  raw_bytes INTEGER NOT NULL,
  codec INTEGER NOT NULL,
  packed INTEGER NOT NULL DEFAULT 0,
  payload BLOB NOT NULL,
  PRIMARY KEY (run_id, first_line)
);
-- The merger's work list: chunks not yet recompressed (packed = 0) and small ones that a slow
-- run's next lines may still join; finding them never scans the table.
CREATE INDEX log_chunks_mergeable ON log_chunks(run_id, first_line) WHERE packed = 0 OR n_lines < 500;
)sql",
    // 2: the traceback state of each writer's streams (level detection across batches, and so
    // across server nodes).
    R"sql(
ALTER TABLE run_writers ADD COLUMN traceback INTEGER NOT NULL DEFAULT 0;
)sql",
    // 3: text filters of chunks (core/text_filter.h), beside the chunks rather than a column of
    // log_chunks: a column after the payload would be reached only through the payload's
    // overflow pages, and reading it must not read the payload. A chunk without a row here
    // (older chunks) is scanned. The trigger drops a chunk's filter with the chunk (clear,
    // delete, merge) so no deleting code has to remember it.
    R"sql(
CREATE TABLE chunk_filters (
  run_id TEXT NOT NULL,
  first_line INTEGER NOT NULL,
  filter BLOB NOT NULL,
  PRIMARY KEY (run_id, first_line)
);
CREATE TRIGGER log_chunks_drop_filter AFTER DELETE ON log_chunks BEGIN
  DELETE FROM chunk_filters WHERE run_id = old.run_id AND first_line = old.first_line;
END;
)sql",
    // 4: how each writer (rank) of a multi-process run ended; the run ends when all have.
    R"sql(
CREATE TABLE run_writer_fates (
  run_id TEXT NOT NULL,
  writer TEXT NOT NULL,
  state TEXT NOT NULL,
  exit_code INTEGER,
  ended_at INTEGER NOT NULL,
  PRIMARY KEY (run_id, writer)
);
)sql",
    // 5: bookmarks: lines or ranges a user marked with a note, per run. The id is unique in the
    // store so a permalink names one bookmark; the key keeps run_id first.
    R"sql(
CREATE TABLE bookmarks (
  run_id TEXT NOT NULL,
  id INTEGER NOT NULL,
  first_line INTEGER NOT NULL,
  last_line INTEGER NOT NULL,
  note TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (run_id, id)
);
)sql",
    // 6: problems found at ingest (doc/problems.md), one row
    // per (run, signature, writer), keyed by run_id first; and per-project settings (a
    // project's problem rules and stall time, as JSON).
    R"sql(
CREATE TABLE run_problems (
  run_id TEXT NOT NULL,
  signature TEXT NOT NULL,
  writer TEXT NOT NULL,
  kind TEXT NOT NULL,
  rule TEXT NOT NULL,
  level INTEGER NOT NULL,
  title TEXT NOT NULL,
  detail TEXT NOT NULL,
  first_line INTEGER NOT NULL,
  last_line INTEGER NOT NULL,
  last_seen_line INTEGER NOT NULL,
  occurrences INTEGER NOT NULL,
  first_ts INTEGER NOT NULL,
  detected_at INTEGER NOT NULL,
  PRIMARY KEY (run_id, signature, writer)
);
CREATE TABLE project_settings (
  project TEXT NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (project, key)
);
)sql",
    // 7: retention (store/retention.h). Per-source counts of each chunk beside it (as the text
    // filters: a column after the payload would be read through its overflow pages), so a
    // removal takes exact counts off the run's totals; chunks written before have no row and
    // are decoded when retention removes them. The runs row records the range retention
    // removed and when. Policies per project (-1: inherit the server default, 0: no limit).
    R"sql(
CREATE TABLE chunk_counts (
  run_id TEXT NOT NULL,
  first_line INTEGER NOT NULL,
  source_counts TEXT NOT NULL,
  PRIMARY KEY (run_id, first_line)
);
CREATE TRIGGER log_chunks_drop_counts AFTER DELETE ON log_chunks BEGIN
  DELETE FROM chunk_counts WHERE run_id = old.run_id AND first_line = old.first_line;
END;
ALTER TABLE runs ADD COLUMN removed_from INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN removed_to INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN removed_at INTEGER;
CREATE TABLE retention_policies (
  project TEXT PRIMARY KEY,
  max_age_us INTEGER NOT NULL DEFAULT -1,
  age_action TEXT NOT NULL DEFAULT '',
  max_lines_per_run INTEGER NOT NULL DEFAULT -1,
  max_bytes_per_run INTEGER NOT NULL DEFAULT -1,
  max_bytes_per_project INTEGER NOT NULL DEFAULT -1,
  updated_at INTEGER NOT NULL
);
)sql",
    // 8: webhook deliveries (doc/alerts.md), an outbox shared by every node: one row per
    // (webhook, event, run, key), so an event is enqueued once whoever saw it, with its attempts
    // and outcome; each webhook's totals (they outlive pruned deliveries); the occurrences of
    // problems a run did not store (kMaxProblemSignaturesPerRun); run_problems by kind, for
    // the append's "first problem of this kind" check. The outbox is keyed by its own id, not
    // run_id: small, like the settings tables.
    R"sql(
CREATE TABLE webhook_deliveries (
  id INTEGER PRIMARY KEY,
  project TEXT NOT NULL,
  webhook_id TEXT NOT NULL,
  event TEXT NOT NULL,
  run_id TEXT NOT NULL,
  key TEXT NOT NULL,
  body TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  lease_until INTEGER NOT NULL DEFAULT 0,
  state TEXT NOT NULL DEFAULT 'pending',
  last_status INTEGER NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE (webhook_id, event, run_id, key)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(next_attempt_at) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_by_hook ON webhook_deliveries(webhook_id, updated_at);
CREATE TABLE webhook_stats (
  webhook_id TEXT PRIMARY KEY,
  delivered INTEGER NOT NULL DEFAULT 0,
  failed_attempts INTEGER NOT NULL DEFAULT 0,
  gave_up INTEGER NOT NULL DEFAULT 0,
  last_status INTEGER NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT '',
  last_attempt_at INTEGER,
  last_success_at INTEGER
);
ALTER TABLE runs ADD COLUMN problems_dropped INTEGER NOT NULL DEFAULT 0;
CREATE INDEX run_problems_by_kind ON run_problems(run_id, kind);
)sql",
    // 9: how many times a run's lines were cleared. A node whose LISTEN connection was down
    // while a run was cleared compares it with what its viewers saw, so they still drop the
    // cleared lines (DESIGN §4).
    R"sql(
ALTER TABLE runs ADD COLUMN clears INTEGER NOT NULL DEFAULT 0;
)sql",
    // 10: the chunk metadata a search reads for every chunk (SqliteStore::ReadChunks: range,
    // time span, masks, counts, codec and the row id), in one index, so listing a run's chunks
    // never visits the table rows (a seek each, in the pages that also hold the start of the
    // payload): half the time of a project search's per-run step (doc/chunk_format.md).
    R"sql(
CREATE INDEX log_chunks_meta ON log_chunks(run_id, first_line, last_line, ts_min, ts_max,
  level_mask, source_mask, level_counts, codec);
)sql",
};

}  // namespace

Status MigrateSqlite(SqliteDb& db) {
  Status s = db.Exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
  if (!s.ok()) return s;
  int64_t version = 0;
  {
    SqliteStmt q(db, "SELECT max(version) FROM schema_version");
    if (q.Step() && !q.IsNull(0)) version = q.Int(0);
    if (!q.status().ok()) return q.status();
  }
  constexpr int64_t kLatest = sizeof(kMigrations) / sizeof(kMigrations[0]);
  if (version > kLatest) {
    return Status(Code::kUnavailable, "database schema version " + std::to_string(version) +
                                          " is newer than this binary knows (" +
                                          std::to_string(kLatest) + "); upgrade wanllmdb");
  }
  for (int64_t v = version; v < kLatest; ++v) {
    if (!(s = db.Exec("BEGIN IMMEDIATE")).ok()) return s;
    s = db.Exec(kMigrations[v]);
    if (s.ok()) s = db.Exec("INSERT INTO schema_version VALUES (" + std::to_string(v + 1) + ")");
    if (!s.ok()) {
      (void)db.Exec("ROLLBACK");  // the migration's error is the one to report
      return Status(Code::kInternal, "migration " + std::to_string(v + 1) + ": " + s.message());
    }
    if (!(s = db.Exec("COMMIT")).ok()) return s;
  }
  return Status::Ok();
}

}  // namespace wanllmdb
