// LiveBus: everything a viewer hears about — commits, run state changes, clears, progress
// frames — travels through one bus (DESIGN §4), never straight from an API handler to the hub.
// One node: the in-process bus hands each message to the sink at once. Many nodes on one
// PostgreSQL: NOTIFY wanllmdb_logs, and every node LISTENs and feeds its own sink; the database
// stays the single source of truth (a remote commit carries only "lines up to N exist").
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/log_line.h"
#include "store/log_store.h"

namespace wanllmdb {

struct BusMessage {
  enum class Kind {
    kCommit,    // lines up to last_line exist (lines set when committed by this node)
    kRunState,  // the run's state changed
    kCleared,   // the run's lines were deleted
    kProgress,  // a line still being written (shown, never stored)
    kResync,    // messages may have been lost (the LISTEN connection dropped): re-read state
  };
  Kind kind = Kind::kCommit;
  std::string run_id;
  int64_t first_line = 0, last_line = 0;
  std::shared_ptr<const std::vector<LogLine>> lines;
  RunState state = RunState::kRunning;
  std::optional<int64_t> exit_code;
  std::shared_ptr<const LogLine> partial;
  int64_t clears = 0;  // kCleared: the run's RunInfo::clears after the clear (0: not known)
};
using BusSink = std::function<void(const BusMessage&)>;

// Thread-safety: thread-safe. The sink is called from the publishing thread (in-process) or
// from the bus's own thread (messages from other nodes); it must be quick.
class LiveBus {
 public:
  virtual ~LiveBus() = default;
  // Set once, before anything is published.
  virtual void SetSink(BusSink sink) = 0;
  // Delivers to this node's sink and, on a shared store, to every other node's.
  virtual void Publish(const BusMessage& m) = 0;
  // Commits the store made on this node (the store tells other nodes itself, in the commit).
  virtual void PublishLocalCommit(const CommitEvent& e) = 0;
  virtual void Close() = 0;
};

// The bus of one process.
std::unique_ptr<LiveBus> NewInProcessBus();

}  // namespace wanllmdb
