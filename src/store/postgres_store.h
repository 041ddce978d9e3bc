// PostgresStore: the LogStore of a team server (DESIGN §3): many `wanllmdb server` nodes share
// one PostgreSQL. Same tables, same chunk codec and the same store core (append_planner,
// chunk_writer, merge_planner) as SQLite; this file holds only SQL and connections.
//
// Writes: one writer thread per node with its own connection runs every mutation queued in one
// transaction (each op under a SAVEPOINT), sorted by run id so two nodes lock runs rows in the
// same order: group commit per node, no deadlock between nodes. An append locks its runs row
// (SELECT ... FOR UPDATE), so line numbers stay dense and in commit order when several nodes
// append to one run; the seq watermark and the traceback state are read and written in that
// same transaction. NOTIFY wanllmdb_logs is sent in it too, so it is delivered at commit.
// Merges: every node may run them; a merge locks its chunks with FOR UPDATE SKIP LOCKED, so two
// nodes never merge the same chunks. Reads: a small connection pool.
// Faults: a lost connection fails the ops in flight with kUnavailable (503, the clients retry)
// and is re-opened on next use; nothing is acknowledged before COMMIT returned.
#pragma once

#include <memory>
#include <string>

#include "store/log_store.h"

namespace wanllmdb {

struct PostgresStoreOptions {
  int ingest_zstd_level = 1;
  int merge_zstd_level = 9;
  int read_connections = 4;
  bool background_merge = true;
  SyncMode sync = SyncMode::kNormal;
};

// "postgresql://", "postgres://" or a key=value conninfo with host=/dbname=/port=/user=.
bool IsPostgresUrl(const std::string& url);

Result<std::unique_ptr<LogStore>> OpenPostgresStore(const std::string& conninfo,
                                                    const PostgresStoreOptions& options = {});

}  // namespace wanllmdb
