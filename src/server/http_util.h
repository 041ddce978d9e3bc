// Query strings and the list filters every log endpoint shares (doc/api.md "Log lines").
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "server/api_types.h"
#include "store/log_query.h"

namespace wanllmdb {

std::string UrlDecode(std::string_view s, bool plus_is_space);
std::map<std::string, std::string> ParseQuery(std::string_view query);

// level, source, writer, search, regex, since, until. Unknown level/source or a bad time → 422.
Result<LogFilter> FilterFromQuery(const std::map<std::string, std::string>& q);
// An integer query parameter in [min, max]; `fallback` when absent.
Result<int64_t> IntParam(const std::map<std::string, std::string>& q, const std::string& name,
                         int64_t fallback, int64_t min, int64_t max);
Result<std::optional<int64_t>> OptIntParam(const std::map<std::string, std::string>& q,
                                           const std::string& name);
// A line number parameter (after_line, before_line, locate's line): absent, or 0 to 2^53-1 (the
// largest integer a JavaScript client holds exactly; line numbers never get near it). The bound
// keeps `line ± 1` and `line - first_line` in the query engine from wrapping. Else 422.
inline constexpr int64_t kMaxLineParam = (int64_t{1} << 53) - 1;
Result<std::optional<int64_t>> LineParam(const std::map<std::string, std::string>& q,
                                         const std::string& name);

}  // namespace wanllmdb
