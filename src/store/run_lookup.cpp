#include "store/run_lookup.h"

#include <cctype>

#include "core/uuid.h"

namespace wanllmdb {

namespace {

// A lower-cased prefix of the canonical 8-4-4-4-12 form, or "" when `id` cannot be one.
std::string PrefixOf(std::string_view id) {
  constexpr std::string_view kShape = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
  if (id.size() > kShape.size()) return "";
  std::string out;
  size_t hex = 0;
  for (size_t i = 0; i < id.size(); ++i) {
    char c = id[i];
    if (kShape[i] == '-') {
      if (c != '-') return "";
    } else if (std::isxdigit(static_cast<unsigned char>(c))) {
      ++hex;
    } else {
      return "";
    }
    out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return hex >= kMinRunIdPrefix ? out : "";
}

}  // namespace

Result<std::string> ResolveRunId(LogStore& store, std::string_view id) {
  if (IsUuid(id)) return CanonicalUuid(id);
  std::string prefix = PrefixOf(id);
  if (prefix.empty()) return Status(Code::kNotFound, "run " + std::string(id) + " not found");
  RunQuery q;
  q.id_prefix = prefix;
  q.limit = 2;
  auto page = store.ListRuns(q);
  if (!page.ok()) return page.status();
  if (page->runs.empty()) return Status(Code::kNotFound, "run " + std::string(id) + " not found");
  if (page->runs.size() > 1) {
    return Status(Code::kConflict, "run id prefix '" + std::string(id) +
                                       "' is ambiguous: " + std::to_string(page->total) +
                                       " runs match (" + page->runs[0].id + ", " +
                                       page->runs[1].id + ", ...); give more digits");
  }
  return page->runs[0].id;
}

}  // namespace wanllmdb
