#include "store/pg_schema.h"

#include <string>

#include "store/pg_conn.h"

namespace wanllmdb {
namespace {

// The advisory lock key of migrations ("wanllmdb" in ASCII).
constexpr int64_t kMigrationLock = 0x77616e6c6c6d6462;

// Append only: a released migration is never edited. The same tables and columns as SQLite's
// (sqlite_schema.cpp), typed for PostgreSQL; every table keys on run_id first so it can be
// partitioned or distributed by it (doc/deploy.md, Citus).
constexpr const char* kMigrations[] = {
    // 1: projects, runs with their log counters, writer watermarks and traceback state, chunks.
    R"sql(
CREATE TABLE projects (
  name TEXT PRIMARY KEY,
  created_at BIGINT NOT NULL
);
CREATE TABLE runs (
  id TEXT PRIMARY KEY,
  project TEXT NOT NULL,
  name TEXT NOT NULL,
  state TEXT NOT NULL,
  exit_code BIGINT,
  created_at BIGINT NOT NULL,
  finished_at BIGINT,
  config TEXT NOT NULL DEFAULT '{}',
  tags TEXT NOT NULL DEFAULT '[]',
  next_line BIGINT NOT NULL DEFAULT 1,
  first_line BIGINT NOT NULL DEFAULT 0,
  total BIGINT NOT NULL DEFAULT 0,
  bytes BIGINT NOT NULL DEFAULT 0,
  level_counts TEXT NOT NULL DEFAULT '0,0,0,0,0',
  source_counts TEXT NOT NULL DEFAULT '0,0,0,0,0',
  first_ts BIGINT,
  last_ts BIGINT
);
CREATE INDEX runs_by_project ON runs(project, created_at);
CREATE TABLE run_writers (
  run_id TEXT NOT NULL,
  writer TEXT NOT NULL,
  writer_id BIGINT NOT NULL,
  max_seq BIGINT NOT NULL DEFAULT -1,
  lines BIGINT NOT NULL DEFAULT 0,
  traceback BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (run_id, writer)
);
CREATE TABLE log_chunks (
  run_id TEXT NOT NULL,
  first_line BIGINT NOT NULL,
  last_line BIGINT NOT NULL,
  ts_min BIGINT NOT NULL,
  ts_max BIGINT NOT NULL,
  n_lines BIGINT NOT NULL,
  level_mask BIGINT NOT NULL,
  level_counts TEXT NOT NULL,
  source_mask BIGINT NOT NULL,
  writer_mask BIGINT NOT NULL,
  raw_bytes BIGINT NOT NULL,
  codec BIGINT NOT NULL,
  packed BIGINT NOT NULL DEFAULT 0,
  payload BYTEA NOT NULL,
  PRIMARY KEY (run_id, first_line)
);
-- The payload is zstd already: TOAST stores it out of line without trying to compress it again.
ALTER TABLE log_chunks ALTER COLUMN payload SET STORAGE EXTERNAL;
CREATE INDEX log_chunks_mergeable ON log_chunks(run_id, first_line) WHERE packed = 0 OR n_lines < 500;
)sql",
    // 2: API keys and UI sessions (src/auth), shared by every node. Small: Citus reference
    // tables.
    R"sql(
CREATE TABLE api_keys (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, secret_hash TEXT NOT NULL, scopes BIGINT NOT NULL,
  projects TEXT NOT NULL DEFAULT '', created_at BIGINT NOT NULL, revoked_at BIGINT);
CREATE TABLE auth_sessions (
  id TEXT PRIMARY KEY, secret_hash TEXT NOT NULL, key_id TEXT NOT NULL,
  expires_at BIGINT NOT NULL);
)sql",
    // 3: text filters of chunks (core/text_filter.h). A column here (unlike SQLite): the payload
    // is TOASTed out of line, so reading the filter never reads the payload. NULL: scanned.
    R"sql(
ALTER TABLE log_chunks ADD COLUMN text_filter BYTEA;
)sql",
    // 4: how each writer (rank) of a multi-process run ended; the run ends when all have.
    R"sql(
CREATE TABLE run_writer_fates (
  run_id TEXT NOT NULL,
  writer TEXT NOT NULL,
  state TEXT NOT NULL,
  exit_code BIGINT,
  ended_at BIGINT NOT NULL,
  PRIMARY KEY (run_id, writer)
);
)sql",
    // 5: bookmarks (the SQLite twin's comment); ids from a sequence, so nodes never collide.
    R"sql(
CREATE SEQUENCE bookmark_ids;
CREATE TABLE bookmarks (
  run_id TEXT NOT NULL,
  id BIGINT NOT NULL DEFAULT nextval('bookmark_ids'),
  first_line BIGINT NOT NULL,
  last_line BIGINT NOT NULL,
  note TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_at BIGINT NOT NULL,
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
  level BIGINT NOT NULL,
  title TEXT NOT NULL,
  detail TEXT NOT NULL,
  first_line BIGINT NOT NULL,
  last_line BIGINT NOT NULL,
  last_seen_line BIGINT NOT NULL,
  occurrences BIGINT NOT NULL,
  first_ts BIGINT NOT NULL,
  detected_at BIGINT NOT NULL,
  PRIMARY KEY (run_id, signature, writer)
);
CREATE TABLE project_settings (
  project TEXT NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (project, key)
);
)sql",
    // 7: retention (store/retention.h): per-source counts of each chunk (NULL for chunks
    // written before: decoded when retention removes them), the range retention removed from
    // a run and when, and policies per project (-1: inherit the server default, 0: no limit).
    R"sql(
ALTER TABLE log_chunks ADD COLUMN source_counts TEXT;
ALTER TABLE runs ADD COLUMN removed_from BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN removed_to BIGINT NOT NULL DEFAULT 0, ADD COLUMN removed_at BIGINT;
CREATE TABLE retention_policies (
  project TEXT PRIMARY KEY,
  max_age_us BIGINT NOT NULL DEFAULT -1,
  age_action TEXT NOT NULL DEFAULT '',
  max_lines_per_run BIGINT NOT NULL DEFAULT -1,
  max_bytes_per_run BIGINT NOT NULL DEFAULT -1,
  max_bytes_per_project BIGINT NOT NULL DEFAULT -1,
  updated_at BIGINT NOT NULL
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
  id BIGSERIAL PRIMARY KEY,
  project TEXT NOT NULL,
  webhook_id TEXT NOT NULL,
  event TEXT NOT NULL,
  run_id TEXT NOT NULL,
  key TEXT NOT NULL,
  body TEXT NOT NULL,
  attempts BIGINT NOT NULL DEFAULT 0,
  next_attempt_at BIGINT NOT NULL,
  lease_until BIGINT NOT NULL DEFAULT 0,
  state TEXT NOT NULL DEFAULT 'pending',
  last_status BIGINT NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT '',
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  UNIQUE (webhook_id, event, run_id, key)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(next_attempt_at) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_by_hook ON webhook_deliveries(webhook_id, updated_at);
CREATE TABLE webhook_stats (
  webhook_id TEXT PRIMARY KEY,
  delivered BIGINT NOT NULL DEFAULT 0,
  failed_attempts BIGINT NOT NULL DEFAULT 0,
  gave_up BIGINT NOT NULL DEFAULT 0,
  last_status BIGINT NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT '',
  last_attempt_at BIGINT,
  last_success_at BIGINT
);
ALTER TABLE runs ADD COLUMN problems_dropped BIGINT NOT NULL DEFAULT 0;
CREATE INDEX run_problems_by_kind ON run_problems(run_id, kind);
)sql",
    // 9: how many times a run's lines were cleared (see the SQLite schema).
    R"sql(
ALTER TABLE runs ADD COLUMN clears BIGINT NOT NULL DEFAULT 0;
)sql",
    // 10: nothing; the number is SQLite's covering index of chunk metadata (see there), kept so
    // both stores count migrations alike. PostgreSQL's chunk listing reads each row's xmin (the
    // filter cache's token), which no index holds, and its rows are small (payload TOASTed).
    R"sql(
SELECT 1;
)sql",
};

}  // namespace

Status MigratePostgres(PgConn& conn) {
  Status s = conn.Exec("SELECT pg_advisory_lock($1)", PgParams().Int(kMigrationLock));
  if (!s.ok()) return s;
  auto migrate = [&]() -> Status {
    Status st = conn.Exec("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)");
    if (!st.ok()) return st;
    auto q = conn.Query("SELECT coalesce(max(version), 0)::bigint FROM schema_version");
    if (!q.ok()) return q.status();
    int64_t version = q->Int(0, 0);
    constexpr int64_t kLatest = sizeof(kMigrations) / sizeof(kMigrations[0]);
    if (version > kLatest) {
      return Status(Code::kUnavailable, "database schema version " + std::to_string(version) +
                                            " is newer than this binary knows (" +
                                            std::to_string(kLatest) + "); upgrade wanllmdb");
    }
    for (int64_t v = version; v < kLatest; ++v) {
      if (!(st = conn.Exec("BEGIN")).ok()) return st;
      st = conn.ExecScript(kMigrations[v]);
      if (st.ok()) st = conn.Exec("INSERT INTO schema_version VALUES ($1)", PgParams().Int(v + 1));
      if (!st.ok()) {
        (void)conn.Exec("ROLLBACK");  // the migration's own error is the one to report
        return Status(st.code(), "migration " + std::to_string(v + 1) + ": " + st.message());
      }
      if (!(st = conn.Exec("COMMIT")).ok()) return st;
    }
    return Status::Ok();
  };
  s = migrate();
  // Released with the session anyway: a failed unlock must not hide the migration's outcome.
  (void)conn.Exec("SELECT pg_advisory_unlock($1)", PgParams().Int(kMigrationLock));
  return s;
}

}  // namespace wanllmdb
