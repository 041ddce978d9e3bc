#include "auth/scope.h"

namespace wanllmdb {

std::string_view ScopeName(Scope s) {
  switch (s) {
    case kScopeIngest:
      return "ingest";
    case kScopeRead:
      return "read";
    case kScopeAdmin:
      return "admin";
    default:
      return "none";
  }
}

std::optional<ScopeSet> ParseScopes(std::string_view list) {
  ScopeSet out = 0;
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item == "ingest") {
      out |= kScopeIngest;
    } else if (item == "read") {
      out |= kScopeRead;
    } else if (item == "admin") {
      out |= kScopeAdmin;
    } else if (!item.empty()) {
      return std::nullopt;
    }
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  if (out == 0) return std::nullopt;
  return out;
}

std::string FormatScopes(ScopeSet scopes) {
  std::string out;
  for (Scope s : {kScopeIngest, kScopeRead, kScopeAdmin}) {
    if (!(scopes & s)) continue;
    if (!out.empty()) out.push_back(',');
    out.append(ScopeName(s));
  }
  return out;
}

}  // namespace wanllmdb
