#include "capture/sync_marker.h"

#include <cstring>

namespace wanllmdb {
namespace {

constexpr std::string_view kPrefix = "\x1b_wanllmdb-sync:";
constexpr std::string_view kSuffix = "\x1b\\";
constexpr size_t kMaxDigits = 19;

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}

// `rest` starts right after kPrefix: the digits and the suffix, complete; 0 when it is not a
// (complete) marker, else its length after the prefix.
size_t CompleteTail(std::string_view rest, int64_t* id) {
  size_t i = 0;
  int64_t v = 0;
  while (i < rest.size() && i < kMaxDigits && IsDigit(rest[i])) v = v * 10 + (rest[i++] - '0');
  if (i == 0 || rest.substr(i, kSuffix.size()) != kSuffix) return 0;
  *id = v;
  return i + kSuffix.size();
}

}  // namespace

SyncMarker FindSyncMarker(std::string_view data) {
  size_t from = 0;
  while (from < data.size()) {
    const void* hit = std::memchr(data.data() + from, '\x1b', data.size() - from);
    if (hit == nullptr) break;
    size_t at = static_cast<size_t>(static_cast<const char*>(hit) - data.data());
    if (data.substr(at, kPrefix.size()) == kPrefix) {
      int64_t id = 0;
      size_t tail = CompleteTail(data.substr(at + kPrefix.size()), &id);
      if (tail) return SyncMarker{at, at + kPrefix.size() + tail, id};
    }
    from = at + 1;
  }
  return SyncMarker{};
}

size_t PartialSyncMarkerStart(std::string_view data) {
  // A marker is short: only the last few bytes can hold the start of an incomplete one.
  constexpr size_t kMaxMarker = kPrefix.size() + kMaxDigits + kSuffix.size();
  size_t start = data.size() > kMaxMarker ? data.size() - kMaxMarker : 0;
  for (size_t at = data.find('\x1b', start); at != std::string_view::npos;
       at = data.find('\x1b', at + 1)) {
    std::string_view rest = data.substr(at);
    if (rest.size() <= kPrefix.size()) {
      if (kPrefix.substr(0, rest.size()) == rest) return at;
      continue;
    }
    if (rest.substr(0, kPrefix.size()) != kPrefix) continue;
    // The prefix is whole: digits, then possibly the start of the suffix.
    size_t i = kPrefix.size();
    while (i < rest.size() && IsDigit(rest[i])) ++i;
    if (i == rest.size() || (i + 1 == rest.size() && rest[i] == '\x1b')) return at;
  }
  return data.size();
}

}  // namespace wanllmdb
