// SqliteStore: the embedded LogStore (DESIGN §3) on one SQLite database file in WAL mode.
//
// Writes: every mutation is a closure run by one writer thread on the one write connection.
// The writer takes everything queued, runs it in one transaction (each op under its own
// SAVEPOINT, so one failing op does not sink the others), commits, then wakes the callers:
// group commit, so concurrent batches share one fsync and throughput grows with load. When
// idle it merges runs of small chunks into ~1,000-line chunks, recompressed harder.
// Reads: a small pool of read connections; WAL lets them run beside the writer.
// Compression of an ingest batch happens on the caller's thread before it is queued, so the
// writer thread only does SQL (it re-encodes only when a retried batch turns out partly
// duplicate). A merger thread packs fresh chunks in the background: neighbours merged up to
// ~1,000 lines / 128 KiB and recompressed at a higher zstd level, then swapped in by one small
// write op that checks the chunks are still the ones it read.
#pragma once

#include <memory>
#include <string>

#include "store/log_store.h"

namespace wanllmdb {

struct SqliteStoreOptions {
  int ingest_zstd_level = 1;  // fast at ingest: the merger recompresses harder
  int merge_zstd_level = 9;
  int read_connections = 4;
  bool background_merge = true;
  SyncMode sync = SyncMode::kNormal;
};

Result<std::unique_ptr<LogStore>> OpenSqliteStore(const std::string& path,
                                                  const SqliteStoreOptions& options = {});

}  // namespace wanllmdb
