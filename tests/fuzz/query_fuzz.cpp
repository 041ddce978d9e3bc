// Query strings and the log filters (src/server/http_util.*, as every log endpoint of
// api_logs.cpp reads them): any query string parses, a bad filter is a 422 and never a crash,
// and integer parameters come back inside their range.
//
// Input: the query string (the part after '?').
#include <cstdint>
#include <string>

#include "fuzz_check.h"
#include "server/http_util.h"
#include "store/log_query.h"

using namespace wanllmdb;

namespace {

std::string PercentEncodeAll(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    out.push_back('%');
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view raw(reinterpret_cast<const char*>(data), size);

  // UrlDecode undoes percent-encoding exactly, and never grows its input.
  FUZZ_CHECK(UrlDecode(PercentEncodeAll(raw), true) == raw);
  FUZZ_CHECK(UrlDecode(raw, true).size() <= raw.size());
  FUZZ_CHECK(UrlDecode(raw, false).size() <= raw.size());

  auto q = ParseQuery(raw);
  for (const auto& [k, v] : q) FUZZ_CHECK(k.size() + v.size() <= raw.size());

  // The integer parameters of the log endpoints, with their ranges.
  auto limit = IntParam(q, "limit", 500, 1, 10000);
  if (limit.ok()) {
    FUZZ_CHECK(*limit >= 1 && *limit <= 10000);
  } else {
    FUZZ_CHECK(limit.status().code() == Code::kInvalidValue);
  }
  for (const char* name : {"after_line", "before_line", "line"}) {
    auto v = OptIntParam(q, name);
    if (!v.ok()) FUZZ_CHECK(v.status().code() == Code::kInvalidValue);
  }

  auto filter = FilterFromQuery(q);
  if (!filter.ok()) {
    FUZZ_CHECK(filter.status().code() == Code::kInvalidValue);
    return 0;
  }
  FUZZ_CHECK(filter->level_mask < (1u << kLevelCount));
  FUZZ_CHECK(filter->source_mask < (1u << kSourceCount));
  auto m = LineMatcher::Compile(*filter);
  if (!m.ok()) {
    FUZZ_CHECK(m.status().code() == Code::kInvalidValue);
    return 0;
  }
  LogLine line;
  line.writer = "main";
  line.message = "2024-11-16 10:00:00 ERROR step=1 loss=0.5 \xe2\x9c\x93";
  (void)(*m)->MatchLine(line);
  (void)(*m)->MatchMessage("");
  return 0;
}
