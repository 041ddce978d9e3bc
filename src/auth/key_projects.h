// How a key's project list is kept in a text column ("a\nb"): one rule for both key stores.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace wanllmdb {

inline std::string JoinProjects(const std::vector<std::string>& projects) {
  std::string out;
  for (const auto& p : projects) {
    if (!out.empty()) out.push_back('\n');
    out += p;
  }
  return out;
}

inline std::vector<std::string> SplitProjects(std::string_view s) {
  std::vector<std::string> out;
  while (!s.empty()) {
    size_t nl = s.find('\n');
    out.emplace_back(s.substr(0, nl));
    if (nl == std::string_view::npos) break;
    s.remove_prefix(nl + 1);
  }
  return out;
}

}  // namespace wanllmdb
