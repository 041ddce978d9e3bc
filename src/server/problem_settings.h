// A project's problem settings (doc/problems.md): its own detection rules and how long a running
// run may stay silent before it is `stalled`. Stored as one JSON project setting ("problems"),
// read through a short-lived cache by ingest (every batch needs its project's rules) and by the
// stall sweep.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/problem_rules.h"
#include "store/log_store.h"

namespace wanllmdb {

class JsonOut;  // server/json_out.h

struct ProblemSettings {
  int64_t stall_after_s = 900;  // 0: no stall detection for the project
  std::vector<ProjectRule> rules;
};
inline constexpr int64_t kMaxStallAfterS = 7 * 24 * 3600;
inline constexpr const char* kProblemSettingsKey = "problems";

// Parses `json` ({"stall_after_seconds"?, "rules"?: [{"name", "regex", "level"?}]}) over `base`
// (fields left out keep base's value). kMalformedJson / kBadRequest / kInvalidValue (a bad
// regex, name, level, or a value out of range) as the API answers them.
Result<ProblemSettings> ParseProblemSettings(std::string_view json, const ProblemSettings& base);
// The stored form (and the API's "stall_after_seconds" and "rules").
std::string ProblemSettingsJson(const ProblemSettings& s);
// Writes the "stall_after_seconds" and "rules" members into an open object: the stored form and
// the API's answer share them.
void AppendProblemSettingsMembers(JsonOut& j, const ProblemSettings& s);

// Thread-safety: thread-safe.
class ProblemSettingsCache {
 public:
  struct Entry {
    ProblemSettings settings;
    std::shared_ptr<const ProblemRuleSet> rules;  // built-ins + the project's
  };
  // `ttl`: how stale another node's change may be seen (this node's own changes Invalidate).
  ProblemSettingsCache(LogStore& store, std::chrono::milliseconds ttl = std::chrono::seconds(2));

  // The project's entry; the defaults (built-in rules, 15 min) when it has none or the store
  // fails (detection never fails an ingest).
  std::shared_ptr<const Entry> Get(const std::string& project);
  void Invalidate(const std::string& project);

 private:
  struct Cached {
    std::shared_ptr<const Entry> entry;
    std::chrono::steady_clock::time_point loaded;
  };
  LogStore& store_;
  const std::chrono::milliseconds ttl_;
  std::shared_ptr<const Entry> defaults_;
  std::mutex mu_;
  std::unordered_map<std::string, Cached> cache_;  // Guarded by mu_
};

}  // namespace wanllmdb
