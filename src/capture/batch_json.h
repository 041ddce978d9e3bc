// The JSON of a log batch, as sent to POST /runs/{id}/logs/batch and stored in spool segments
// (doc/spool_format.md): {"writer": W, "logs": [line, ...]} with
// line = {"seq", "timestamp" (seconds, microsecond precision), "source", "level"?, "level_name"?,
// "fields"?, "message"}.
// Lines are encoded once, as fragments, and joined into batches without re-encoding.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/log_line.h"

namespace wanllmdb {

// Appends one line object to `out`. `level` empty: none (the server detects it).
// `message` must be valid UTF-8 (the line assembler guarantees it). `extras`: the SDK's custom
// level name and fields (a compact JSON object, already valid), for lines log_message() and
// logging records send through the agent.
struct LineExtrasJson {
  std::string level_name;
  std::string fields;
};
void AppendLineJson(int64_t seq, int64_t timestamp_us, Source source, std::string_view level,
                    std::string_view message, std::string* out,
                    const LineExtrasJson* extras = nullptr);

// `{"writer":"W","logs":[`; a batch is this, fragments joined by ',', then kBatchSuffix.
std::string BatchPrefix(std::string_view writer);
inline constexpr std::string_view kBatchSuffix = "]}";

// Any JSON value built with RapidJSON: {"state":..., "exit_code":..., "applied":...}.
std::string FinalJson(std::string_view state, const int64_t* exit_code, bool applied);
std::string AckedJson(int64_t seq);
// The POST /runs body: {"project", "id", "name"?, "tags"?}.
std::string RunBodyJson(std::string_view project, std::string_view id, std::string_view name,
                        const std::vector<std::string>& tags);
// The POST /runs/{id}/logs/progress body: {"writer", "source", "timestamp", "message"}.
std::string ProgressJson(std::string_view writer, Source source, int64_t timestamp_us,
                         std::string_view message);
// The PATCH /runs/{id} body: {"state":..., "exit_code":..., "merge":true} — merge: a run another
// writer already ended worse (a rank failed) keeps that end (doc/api.md).
std::string RunStateJson(std::string_view state, const int64_t* exit_code);
// The same for one rank of a multi-process run: {"state","exit_code","writer","world_size"}.
std::string RankStateJson(std::string_view state, const int64_t* exit_code, std::string_view writer,
                          int64_t world_size);

}  // namespace wanllmdb
