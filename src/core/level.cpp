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

std::optional<Source> ParseSource(std::string_view name) {
  for (size_t i = 0; i < kSourceNames.size(); ++i) {
    if (EqualsIgnoreCase(name, kSourceNames[i])) return static_cast<Source>(i);
  }
  return std::nullopt;
}

}  // namespace wanllmdb
