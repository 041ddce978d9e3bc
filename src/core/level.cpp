#include "core/log_line.h"

#include <array>
#include <cctype>

namespace wanllmdb {
namespace {

constexpr std::array<std::string_view, kLevelCount> kLevelNames = {"DEBUG", "INFO", "WARNING",
                                                                   "ERROR", "CRITICAL"};
constexpr std::array<std::string_view, kSourceCount> kSourceNames = {"stdout", "stderr", "sdk",
                                                                     "user", "system"};

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::toupper(static_cast<unsigned char>(a[i])) !=
        std::toupper(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

}  // namespace

std::string_view LevelName(Level level) {
  return kLevelNames[static_cast<size_t>(level)];
}
std::string_view SourceName(Source source) {
  return kSourceNames[static_cast<size_t>(source)];
}

std::optional<Level> ParseLevel(std::string_view name) {
  for (size_t i = 0; i < kLevelNames.size(); ++i) {
    if (EqualsIgnoreCase(name, kLevelNames[i])) return static_cast<Level>(i);
  }
  if (EqualsIgnoreCase(name, "WARN")) return Level::kWarning;
  if (EqualsIgnoreCase(name, "FATAL")) return Level::kCritical;
  return std::nullopt;
}

std::optional<NamedLevel> ParseAnyLevel(std::string_view name) {
  if (name.empty() || name.size() > kMaxLevelNameBytes ||
      !std::isalpha(static_cast<unsigned char>(name[0])))
    return std::nullopt;
  std::string upper;
  for (char c : name) {
    auto u = static_cast<unsigned char>(c);
    if (!std::isalnum(u) && c != '_' && c != '-') return std::nullopt;
    upper.push_back(static_cast<char>(std::toupper(u)));
  }
  for (size_t i = 0; i < kLevelNames.size(); ++i) {
    if (upper == kLevelNames[i]) return NamedLevel{static_cast<Level>(i), {}};
  }
  // Names seen in the wild (syslog, loguru, log4j, zap, Go, Rust tracing), by what they mean.
  // Mere spellings of a canonical level (WARN, ERR) keep no name of their own.
  struct Alias {
    std::string_view name;
    Level level;
    bool spelling;
  };
  static constexpr Alias kAliases[] = {
      {"WARN", Level::kWarning, true},    {"ERR", Level::kError, true},
      {"DBG", Level::kDebug, true},       {"INFORMATION", Level::kInfo, true},
      {"TRACE", Level::kDebug, false},    {"VERBOSE", Level::kDebug, false},
      {"FINE", Level::kDebug, false},     {"FINER", Level::kDebug, false},
      {"FINEST", Level::kDebug, false},   {"NOTICE", Level::kInfo, false},
      {"SUCCESS", Level::kInfo, false},   {"SEVERE", Level::kError, false},
      {"FATAL", Level::kCritical, false}, {"PANIC", Level::kCritical, false},
      {"ALERT", Level::kCritical, false}, {"CRIT", Level::kCritical, false},
      {"EMERG", Level::kCritical, false}, {"EMERGENCY", Level::kCritical, false},
  };
  for (const Alias& a : kAliases) {
    if (upper == a.name) return NamedLevel{a.level, a.spelling ? std::string() : std::move(upper)};
  }
  return NamedLevel{Level::kInfo, std::move(upper)};
}

std::optional<Source> ParseSource(std::string_view name) {
  for (size_t i = 0; i < kSourceNames.size(); ++i) {
    if (EqualsIgnoreCase(name, kSourceNames[i])) return static_cast<Source>(i);
  }
  return std::nullopt;
}

}  // namespace wanllmdb
