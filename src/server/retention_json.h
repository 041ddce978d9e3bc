// Retention policies on the wire (doc/api.md "Retention"): the body of
// PUT /api/v1/projects/{name}/retention and the answer of GET, shared by the API and
// `wanllmdb admin retention`. Days on the wire (fractions allowed), microseconds inside.
#pragma once

#include <simdjson.h>

#include <string>

#include "core/status.h"
#include "server/json_out.h"
#include "store/retention.h"

namespace wanllmdb {

// The limits, in API units, and their bounds (every input is checked against them).
inline constexpr double kMaxRetentionDays = 36500;           // 100 years
inline constexpr int64_t kMaxRetentionLines = 1000000000000000;  // 10^15
inline constexpr int64_t kMaxRetentionBytes = int64_t{1} << 60;   // 1 EiB

// A PUT body: an object with any of max_age_days (number > 0, or null: no limit),
// max_age_action ("delete_logs" | "delete_run", or null: the default's), max_lines_per_run,
// max_bytes_per_run, max_bytes_per_project (integers >= 1, or null: no limit). An absent field
// inherits the server default. Unknown fields and values out of range: kInvalidValue, saying
// which and why; not an object: kBadRequest.
Result<RetentionPolicy> ParseRetentionBody(simdjson::dom::element body);

// A policy's fields as an open JSON object's members: with `all`, every field (a resolved
// policy: null = no limit); else only those it sets (null = no limit, absent = inherit).
void WriteRetentionFields(JsonOut& j, const RetentionPolicy& p, bool all);

// {"project", "policy": own fields, "defaults": every field, "effective": every field,
//  "updated_at"}: the answer of GET and PUT.
std::string RetentionJson(const std::string& project, const RetentionPolicy& own,
                          const RetentionPolicy& defaults);

}  // namespace wanllmdb
