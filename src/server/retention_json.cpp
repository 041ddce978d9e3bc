#include "server/retention_json.h"

#include <cmath>

namespace wanllmdb {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

Status Bad(const std::string& field, const std::string& why) {
  return Status(Code::kInvalidValue, field + ": " + why);
}

// An integer limit: null → kNoLimit, an integer in [1, max] → it.
Result<int64_t> IntLimit(const std::string& field, element v, int64_t max, const char* unit) {
  if (v.is_null()) return RetentionPolicy::kNoLimit;
  const std::string want = std::string("must be a whole number of ") + unit + " from 1 to " +
                           std::to_string(max) + ", or null for no limit";
  int64_t n = 0;
  if (v.type() == element_type::INT64) {
    n = v.get_int64().value();
  } else if (v.type() == element_type::UINT64) {
    return Bad(field, want);
  } else {
    return Bad(field, want + " (got " +
                          (v.type() == element_type::DOUBLE ? std::string("a fraction")
                                                            : std::string("another type")) +
                          ")");
  }
  if (n < 1 || n > max) return Bad(field, want + " (got " + std::to_string(n) + ")");
  return n;
}

}  // namespace

Result<RetentionPolicy> ParseRetentionBody(element body) {
  simdjson::dom::object obj;
  if (body.get(obj))
    return Status(Code::kBadRequest, "the body must be a JSON object of retention limits");
  RetentionPolicy p;
  for (auto field : obj) {
    const std::string key(field.key);
    element v = field.value;
    if (key == "max_age_days") {
      if (v.is_null()) {
        p.max_age_us = RetentionPolicy::kNoLimit;
        continue;
      }
      double days = 0;
      if (v.type() == element_type::INT64) {
        days = static_cast<double>(v.get_int64().value());
      } else if (v.type() == element_type::DOUBLE) {
        days = v.get_double().value();
      } else {
        return Bad(key, "must be a number of days (fractions allowed), or null for no limit");
      }
      if (!std::isfinite(days) || days <= 0 || days > kMaxRetentionDays)
        return Bad(key, "must be more than 0 and at most " +
                            std::to_string(static_cast<int>(kMaxRetentionDays)) +
                            " days, or null for no limit");
      p.max_age_us = std::max<int64_t>(1, std::llround(days * 86400e6));
    } else if (key == "max_age_action") {
      if (v.is_null()) {
        p.age_action = AgeAction::kInherit;
        continue;
      }
      std::string_view s;
      auto a = v.get(s) ? std::nullopt : ParseAgeAction(s);
      if (!a || *a == AgeAction::kInherit)
        return Bad(key, "must be \"delete_logs\" (remove the lines, keep the run) or "
                        "\"delete_run\" (remove the run), or null for the server default");
      p.age_action = *a;
    } else if (key == "max_lines_per_run") {
      auto n = IntLimit(key, v, kMaxRetentionLines, "lines");
      if (!n.ok()) return n.status();
      p.max_lines_per_run = *n;
    } else if (key == "max_bytes_per_run" || key == "max_bytes_per_project") {
      auto n = IntLimit(key, v, kMaxRetentionBytes, "bytes");
      if (!n.ok()) return n.status();
      (key == "max_bytes_per_run" ? p.max_bytes_per_run : p.max_bytes_per_project) = *n;
    } else {
      return Status(Code::kInvalidValue,
                    "unknown field '" + key.substr(0, 64) +
                        "' (retention takes max_age_days, max_age_action, max_lines_per_run, "
                        "max_bytes_per_run, max_bytes_per_project)");
    }
  }
  return p;
}

void WriteRetentionFields(JsonOut& j, const RetentionPolicy& p, bool all) {
  auto limit = [&](const char* key, int64_t v) {
    if (v == RetentionPolicy::kInherit) {
      if (!all) return;
      v = RetentionPolicy::kNoLimit;
    }
    j.Key(key);
    if (v == RetentionPolicy::kNoLimit) {
      j.Null();
    } else {
      j.Int(v);
    }
  };
  if (p.max_age_us != RetentionPolicy::kInherit || all) {
    j.Key("max_age_days");
    if (p.max_age_us > 0) {
      j.Double(static_cast<double>(p.max_age_us) / 86400e6);
    } else {
      j.Null();
    }
  }
  if (p.age_action != AgeAction::kInherit || all) {
    j.Key("max_age_action");
    if (p.age_action == AgeAction::kInherit) {
      j.Null();
    } else {
      j.String(AgeActionName(p.age_action));
    }
  }
  limit("max_lines_per_run", p.max_lines_per_run);
  limit("max_bytes_per_run", p.max_bytes_per_run);
  limit("max_bytes_per_project", p.max_bytes_per_project);
}

std::string RetentionJson(const std::string& project, const RetentionPolicy& own,
                          const RetentionPolicy& defaults) {
  JsonOut j;
  j.BeginObject().Key("project").String(project);
  j.Key("policy").BeginObject();
  WriteRetentionFields(j, own, false);
  j.EndObject();
  RetentionPolicy d = ResolveRetention({}, defaults);
  j.Key("defaults").BeginObject();
  WriteRetentionFields(j, d, true);
  j.EndObject();
  j.Key("effective").BeginObject();
  WriteRetentionFields(j, ResolveRetention(own, defaults), true);
  j.EndObject();
  j.Key("updated_at");
  if (own.updated_at_us) {
    j.Timestamp(own.updated_at_us);
  } else {
    j.Null();
  }
  j.EndObject();
  return j.Take();
}

}  // namespace wanllmdb
