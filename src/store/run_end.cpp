#include "store/run_end.h"

namespace wanllmdb {

int EndSeverity(RunState s) {
  switch (s) {
    case RunState::kRunning:
      return 0;
    case RunState::kFinished:
      return 1;
    case RunState::kCrashed:
      return 2;
    case RunState::kFailed:
      return 3;
  }
  return 0;
}

RunEnd WorseEnd(const RunEnd& current, const RunEnd& next) {
  return EndSeverity(next.state) > EndSeverity(current.state) ? next : current;
}

std::optional<RunEnd> EndOfWriters(const RunEnd& run, const std::vector<RunEnd>& fates,
                                   int64_t world_size) {
  if (static_cast<int64_t>(fates.size()) < world_size) return std::nullopt;
  RunEnd end = run;
  for (const RunEnd& f : fates) end = WorseEnd(end, f);
  return end;
}

}  // namespace wanllmdb
