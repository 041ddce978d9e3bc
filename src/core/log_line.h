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
  // The program's own level name when it is not the canonical one ("SUCCESS", "TRACE", "NOTICE");
  // `level` is what it maps to for filters and counts. Empty: LevelName(level).
  std::string level_name;
  // Parsed fields of a structured line: a compact JSON object ({"loss":1.5,"rank":3}), written by
  // core/structured_fields.h. Empty: none.
  std::string fields;
};

// A custom level name: 1 to kMaxLevelNameBytes of [A-Za-z0-9_-], starting with a letter.
inline constexpr size_t kMaxLevelNameBytes = 32;
// The canonical level of any level name a program may use (TRACE → DEBUG, NOTICE/SUCCESS → INFO,
// WARN → WARNING, ERR → ERROR, FATAL/PANIC/ALERT/EMERGENCY → CRITICAL; unknown names → INFO), and
// the name to keep beside it: empty when `name` is the canonical name itself (any case), else the
// name upper-cased. nullopt when `name` is not a valid level name.
struct NamedLevel {
  Level level;
  std::string name;  // empty: canonical
};
std::optional<NamedLevel> ParseAnyLevel(std::string_view name);

// Messages longer than this are split into continuation lines (DESIGN §6).
inline constexpr size_t kMaxLineBytes = 64 * 1024;

}  // namespace wanllmdb
