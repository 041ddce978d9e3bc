// RunEnd: how a run ended, and the one rule for combining ends when several processes write one
// run (DESIGN §6): running < finished < crashed < failed; the worse end wins with its exit code,
// and on a tie the end already there stays. PATCH with "merge" applies it to the run's end; the
// writer fates (one rank's end, WriterEnd in log_store.h) are folded with it in the order they
// ended, so the first rank that ended worst gives the exit code.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "store/log_store.h"

namespace wanllmdb {

struct RunEnd {
  RunState state = RunState::kRunning;
  std::optional<int64_t> exit_code;
};

// 0 for running, then finished, crashed, failed.
int EndSeverity(RunState s);

// `next` when it is worse than `current`, else `current`.
RunEnd WorseEnd(const RunEnd& current, const RunEnd& next);

// The end a run gets once `world_size` writers have ended: `run` (its own end now) with every
// fate folded in by WorseEnd, in the order given. nullopt while fewer than world_size have ended.
// Thread-safety: a pure function.
std::optional<RunEnd> EndOfWriters(const RunEnd& run, const std::vector<RunEnd>& fates,
                                   int64_t world_size);

}  // namespace wanllmdb
