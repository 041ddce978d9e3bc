// PgBus: the LiveBus of nodes sharing one PostgreSQL (DESIGN §4). Each node LISTENs on
// kPgBusChannel on a dedicated connection and feeds what other nodes sent to its sink; what
// this node publishes goes to its own sink at once and to the others by NOTIFY. Commits are
// notified by PostgresStore inside the commit's transaction (delivered exactly when the lines
// are visible); run states, clears and progress frames by Publish, after the API stored them.
//
// Payloads (text, fields separated by one space; the node id lets a node skip its own):
//   c NODE RUN LAST_LINE
//   s NODE RUN STATE EXIT_CODE|-
//   x NODE RUN
//   p NODE RUN TIMESTAMP LEVEL SOURCE WRITER_BYTES WRITER MESSAGE   (message cut to fit 8000 B)
// A lost LISTEN connection is re-opened with backoff; the sink then gets kResync, so the hub
// re-reads the runs it watches and viewers catch up from their cursors.
#pragma once

#include <memory>
#include <string>

#include "store/live_bus.h"

namespace wanllmdb {

inline constexpr const char* kPgBusChannel = "wanllmdb_logs";

std::string PgBusCommitPayload(const std::string& node, const std::string& run_id,
                               int64_t last_line);

std::unique_ptr<LiveBus> NewPgBus(const std::string& conninfo, const std::string& node_id);

}  // namespace wanllmdb
