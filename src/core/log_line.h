// The log line, its level and its source: the vocabulary every layer shares (DESIGN §2).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace wanllmdb {

// Numeric values are stored in chunk payloads and masks: never renumber.
enum class Level : uint8_t { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3, kCritical = 4 };
inline constexpr int kLevelCount = 5;

enum class Source : uint8_t { kStdout = 0, kStderr = 1, kSdk = 2, kUser = 3, kSystem = 4 };
inline constexpr int kSourceCount = 5;

std::string_view LevelName(Level level);
std::string_view SourceName(Source source);
// Exact upper-case names for levels ("WARN" and "FATAL" accepted as aliases, any case);
// lower-case names for sources. nullopt when unknown.
std::optional<Level> ParseLevel(std::string_view name);
std::optional<Source> ParseSource(std::string_view name);

// One stored line. Thread-safety: a value type.
struct LogLine {
  int64_t line_number = 0;   // dense per run, assigned by the store
  int64_t timestamp_us = 0;  // microseconds since the Unix epoch, UTC
  Level level = Level::kInfo;
  Source source = Source::kStdout;
  std::string writer;   // which process wrote it ("main", "rank-0", …)
  std::string message;  // valid UTF-8, no '\n'
};

// Messages longer than this are split into continuation lines (DESIGN §6).
inline constexpr size_t kMaxLineBytes = 64 * 1024;

}  // namespace wanllmdb
