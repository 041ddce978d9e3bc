// The JSON encoding is read into the same generated protobuf classes as the binary one, so one
// mapping (RecordsOf) serves both.
#include "server/otlp_logs.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <type_traits>

#include "core/text.h"
#include "server/json_in.h"
#include "server/json_out.h"
#include "src/server/proto/otlp_logs.pb.h"  // generated (build/proto)

namespace wanllmdb {
namespace {

namespace pb = opentelemetry::proto::collector::logs::v1;
using simdjson::dom::element;
using simdjson::dom::element_type;

constexpr int kMaxAnyValueDepth = 32;
constexpr int64_t kMaxUnixNanos = INT64_MAX;  // int64 nanoseconds end in the year 2262

Status Bad(const std::string& where, std::string_view what) {
  return Status(Code::kBadRequest, where + ": " + std::string(what));
}

// ---- JSON → protobuf messages ----

// The value of `camel` or `snake` (protobuf's JSON mapping accepts both names).
bool Field(element obj, std::string_view camel, std::string_view snake, element* out) {
  if (!obj.at_key(camel).get(*out) && out->type() != element_type::NULL_VALUE) return true;
  if (!snake.empty() && !obj.at_key(snake).get(*out) && out->type() != element_type::NULL_VALUE)
    return true;
  return false;
}

Result<simdjson::dom::array> ArrayOf(element v, const std::string& where) {
  if (v.type() != element_type::ARRAY)
    return Bad(where, "must be an array, not " + std::string(JsonTypeName(v.type())));
  return v.get_array().value_unsafe();
}

Status CheckObject(element v, const std::string& where) {
  if (v.type() != element_type::OBJECT)
    return Bad(where, "must be an object, not " + std::string(JsonTypeName(v.type())));
  return Status::Ok();
}

Result<std::string> StringOf(element v, const std::string& where) {
  if (v.type() != element_type::STRING)
    return Bad(where, "must be a string, not " + std::string(JsonTypeName(v.type())));
  return std::string(v.get_string().value_unsafe());
}

// A 64-bit integer as a JSON number or a decimal string (the proto3 JSON mapping of int64).
template <typename T>
Result<T> IntegerOf(element v, const std::string& where) {
  T out{};
  if (v.type() == element_type::STRING) {
    std::string_view s = v.get_string().value_unsafe();
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    if (ec != std::errc() || end != s.data() + s.size())
      return Bad(where, "'" + std::string(s.substr(0, 40)) + "' is not an integer");
    return out;
  }
  if (v.type() == element_type::INT64) {
    int64_t i = v.get_int64().value_unsafe();
    if constexpr (std::is_unsigned_v<T>) {
      if (i < 0) return Bad(where, "must not be negative");
    }
    return static_cast<T>(i);
  }
  if (v.type() == element_type::UINT64) {
    uint64_t u = v.get_uint64().value_unsafe();
    if constexpr (std::is_signed_v<T>) {
      if (u > static_cast<uint64_t>(INT64_MAX)) return Bad(where, "is out of range");
    }
    return static_cast<T>(u);
  }
  return Bad(where, "must be an integer, not " + std::string(JsonTypeName(v.type())));
}

Status AnyValueFromJson(element v, const std::string& where, int depth, pb::AnyValue* out);

Status KeyValuesFromJson(element arr_el, const std::string& where, int depth,
                         google::protobuf::RepeatedPtrField<pb::KeyValue>* out) {
  auto arr = ArrayOf(arr_el, where);
  if (!arr.ok()) return arr.status();
  size_t i = 0;
  for (element kv : *arr) {
    std::string at = where + "[" + std::to_string(i++) + "]";
    if (Status s = CheckObject(kv, at); !s.ok()) return s;
    pb::KeyValue* k = out->Add();
    element f;
    if (Field(kv, "key", "", &f)) {
      auto key = StringOf(f, at + ".key");
      if (!key.ok()) return key.status();
      k->set_key(*key);
    }
    if (Field(kv, "value", "", &f)) {
      if (Status s = AnyValueFromJson(f, at + ".value", depth + 1, k->mutable_value()); !s.ok())
        return s;
    }
  }
  return Status::Ok();
}

Status AnyValueFromJson(element v, const std::string& where, int depth, pb::AnyValue* out) {
  if (depth > kMaxAnyValueDepth) return Bad(where, "is nested too deeply");
  if (Status s = CheckObject(v, where); !s.ok()) return s;
  element f;
  if (Field(v, "stringValue", "string_value", &f)) {
    auto s = StringOf(f, where + ".stringValue");
    if (!s.ok()) return s.status();
    out->set_string_value(*s);
  } else if (Field(v, "boolValue", "bool_value", &f)) {
    if (f.type() != element_type::BOOL) return Bad(where + ".boolValue", "must be true or false");
    out->set_bool_value(f.get_bool().value_unsafe());
  } else if (Field(v, "intValue", "int_value", &f)) {
    auto i = IntegerOf<int64_t>(f, where + ".intValue");
    if (!i.ok()) return i.status();
    out->set_int_value(*i);
  } else if (Field(v, "doubleValue", "double_value", &f)) {
    if (f.type() == element_type::STRING) {  // "NaN", "Infinity" in the proto3 JSON mapping
      std::string_view s = f.get_string().value_unsafe();
      out->set_double_value(s == "NaN"         ? NAN
                            : s == "Infinity"  ? INFINITY
                            : s == "-Infinity" ? -INFINITY
                                               : std::strtod(std::string(s).c_str(), nullptr));
    } else if (f.is_number()) {
      out->set_double_value(f.get_double().value_unsafe());
    } else {
      return Bad(where + ".doubleValue", "must be a number");
    }
  } else if (Field(v, "arrayValue", "array_value", &f)) {
    if (Status s = CheckObject(f, where + ".arrayValue"); !s.ok()) return s;
    element values;
    if (Field(f, "values", "", &values)) {
      auto arr = ArrayOf(values, where + ".arrayValue.values");
      if (!arr.ok()) return arr.status();
      size_t i = 0;
      for (element item : *arr) {
        if (Status s =
                AnyValueFromJson(item, where + ".arrayValue.values[" + std::to_string(i++) + "]",
                                 depth + 1, out->mutable_array_value()->add_values());
            !s.ok())
          return s;
      }
    } else {
      out->mutable_array_value();
    }
  } else if (Field(v, "kvlistValue", "kvlist_value", &f)) {
    if (Status s = CheckObject(f, where + ".kvlistValue"); !s.ok()) return s;
    element values;
    out->mutable_kvlist_value();
    if (Field(f, "values", "", &values)) {
      if (Status s = KeyValuesFromJson(values, where + ".kvlistValue.values", depth + 1,
                                       out->mutable_kvlist_value()->mutable_values());
          !s.ok())
        return s;
    }
  } else if (Field(v, "bytesValue", "bytes_value", &f)) {
    auto s = StringOf(f, where + ".bytesValue");
    if (!s.ok()) return s.status();
    out->set_bytes_value(*s);  // kept as its base64 text: it is only ever shown
  }
  return Status::Ok();
}

std::optional<int> SeverityNumberFromName(std::string_view name) {
  static constexpr std::string_view kNames[] = {
      "UNSPECIFIED", "TRACE",  "TRACE2", "TRACE3", "TRACE4", "DEBUG",  "DEBUG2", "DEBUG3", "DEBUG4",
      "INFO",        "INFO2",  "INFO3",  "INFO4",  "WARN",   "WARN2",  "WARN3",  "WARN4",  "ERROR",
      "ERROR2",      "ERROR3", "ERROR4", "FATAL",  "FATAL2", "FATAL3", "FATAL4"};
  constexpr std::string_view kPrefix = "SEVERITY_NUMBER_";
  if (name.rfind(kPrefix, 0) != 0) return std::nullopt;
  name.remove_prefix(kPrefix.size());
  for (int i = 0; i < 25; ++i)
    if (kNames[i] == name) return i;
  return std::nullopt;
}

Status LogRecordFromJson(element rec, const std::string& where, pb::LogRecord* out) {
  if (Status s = CheckObject(rec, where); !s.ok()) return s;
  element f;
  if (Field(rec, "timeUnixNano", "time_unix_nano", &f)) {
    auto t = IntegerOf<uint64_t>(f, where + ".timeUnixNano");
    if (!t.ok()) return t.status();
    out->set_time_unix_nano(*t);
  }
  if (Field(rec, "observedTimeUnixNano", "observed_time_unix_nano", &f)) {
    auto t = IntegerOf<uint64_t>(f, where + ".observedTimeUnixNano");
    if (!t.ok()) return t.status();
    out->set_observed_time_unix_nano(*t);
  }
  if (Field(rec, "severityNumber", "severity_number", &f)) {
    if (f.type() == element_type::STRING) {
      auto n = SeverityNumberFromName(f.get_string().value_unsafe());
      if (!n) return Bad(where + ".severityNumber", "is not a SeverityNumber name");
      out->set_severity_number(*n);
    } else {
      auto n = IntegerOf<int64_t>(f, where + ".severityNumber");
      if (!n.ok()) return n.status();
      if (*n < 0 || *n > 24) return Bad(where + ".severityNumber", "must be 0 to 24");
      out->set_severity_number(static_cast<int>(*n));
    }
  }
  if (Field(rec, "severityText", "severity_text", &f)) {
    auto s = StringOf(f, where + ".severityText");
    if (!s.ok()) return s.status();
    out->set_severity_text(*s);
  }
  if (Field(rec, "body", "", &f)) {
    if (Status s = AnyValueFromJson(f, where + ".body", 0, out->mutable_body()); !s.ok()) return s;
  }
  if (Field(rec, "attributes", "", &f)) {
    if (Status s = KeyValuesFromJson(f, where + ".attributes", 0, out->mutable_attributes());
        !s.ok())
      return s;
  }
  return Status::Ok();
}

Status RequestFromJson(std::string& body, pb::ExportLogsServiceRequest* out) {
  auto doc = ParseJsonObjectBody(body);
  if (!doc.ok()) return doc.status();
  element resource_logs;
  if (!Field(*doc, "resourceLogs", "resource_logs", &resource_logs)) return Status::Ok();
  auto rls = ArrayOf(resource_logs, "resourceLogs");
  if (!rls.ok()) return rls.status();
  size_t i = 0;
  for (element rl : *rls) {
    std::string at = "resourceLogs[" + std::to_string(i++) + "]";
    if (Status s = CheckObject(rl, at); !s.ok()) return s;
    pb::ResourceLogs* out_rl = out->add_resource_logs();
    element f;
    if (Field(rl, "resource", "", &f)) {
      if (Status s = CheckObject(f, at + ".resource"); !s.ok()) return s;
      element attrs;
      if (Field(f, "attributes", "", &attrs)) {
        if (Status s = KeyValuesFromJson(attrs, at + ".resource.attributes", 0,
                                         out_rl->mutable_resource()->mutable_attributes());
            !s.ok())
          return s;
      }
    }
    if (!Field(rl, "scopeLogs", "scope_logs", &f)) continue;
    auto sls = ArrayOf(f, at + ".scopeLogs");
    if (!sls.ok()) return sls.status();
    size_t j = 0;
    for (element sl : *sls) {
      std::string at2 = at + ".scopeLogs[" + std::to_string(j++) + "]";
      if (Status s = CheckObject(sl, at2); !s.ok()) return s;
      pb::ScopeLogs* out_sl = out_rl->add_scope_logs();
      element recs;
      if (!Field(sl, "logRecords", "log_records", &recs)) continue;
      auto arr = ArrayOf(recs, at2 + ".logRecords");
      if (!arr.ok()) return arr.status();
      if (arr->size() > kMaxForeignRecords)
        return Status(Code::kTooLarge, "at most " + std::to_string(kMaxForeignRecords) +
                                           " log records in a request");
      size_t k = 0;
      for (element rec : *arr) {
        if (Status s = LogRecordFromJson(rec, at2 + ".logRecords[" + std::to_string(k++) + "]",
                                         out_sl->add_log_records());
            !s.ok())
          return s;
      }
    }
  }
  return Status::Ok();
}

// ---- protobuf messages → records ----

void AnyValueToJson(const pb::AnyValue& v, JsonOut* j) {
  switch (v.value_case()) {
    case pb::AnyValue::kStringValue:
      j->String(v.string_value());
      break;
    case pb::AnyValue::kBoolValue:
      j->Bool(v.bool_value());
      break;
    case pb::AnyValue::kIntValue:
      j->Int(v.int_value());
      break;
    case pb::AnyValue::kDoubleValue:
      j->Double(v.double_value());
      break;
    case pb::AnyValue::kArrayValue:
      j->BeginArray();
      for (const auto& item : v.array_value().values()) AnyValueToJson(item, j);
      j->EndArray();
      break;
    case pb::AnyValue::kKvlistValue:
      j->BeginObject();
      for (const auto& kv : v.kvlist_value().values()) {
        j->Key(kv.key());
        AnyValueToJson(kv.value(), j);
      }
      j->EndObject();
      break;
    case pb::AnyValue::kBytesValue:
    case pb::AnyValue::VALUE_NOT_SET:
      j->String(v.bytes_value());
      break;
  }
}

// The text a value stands for: strings as they are, scalars as JSON, structures as JSON text.
std::string AnyValueText(const pb::AnyValue& v) {
  switch (v.value_case()) {
    case pb::AnyValue::kStringValue:
      return v.string_value();
    case pb::AnyValue::kBytesValue:
      return v.bytes_value();
    case pb::AnyValue::VALUE_NOT_SET:
      return "";
    default: {
      JsonOut j;
      AnyValueToJson(v, &j);
      return j.Take();
    }
  }
}

Status Route(const google::protobuf::RepeatedPtrField<pb::KeyValue>& attrs,
             const std::string& where, RecordRouting* routing) {
  for (const auto& kv : attrs) {
    Status s = kv.value().value_case() == pb::AnyValue::kIntValue
                   ? routing->SetSeq(kv.key(), kv.value().int_value())
                   : Status::Ok();
    if (s.ok()) s = routing->Set(kv.key(), AnyValueText(kv.value()));
    if (!s.ok()) return Status(s.code(), where + ": " + s.message());
  }
  return Status::Ok();
}

std::optional<Level> LevelOfSeverity(int n) {
  if (n >= 1 && n <= 8) return Level::kDebug;
  if (n >= 9 && n <= 12) return Level::kInfo;
  if (n >= 13 && n <= 16) return Level::kWarning;
  if (n >= 17 && n <= 20) return Level::kError;
  if (n >= 21 && n <= 24) return Level::kCritical;
  return std::nullopt;
}

Result<std::vector<ForeignRecord>> RecordsOf(const pb::ExportLogsServiceRequest& req,
                                             int64_t now_us) {
  std::vector<ForeignRecord> out;
  for (int i = 0; i < req.resource_logs_size(); ++i) {
    const auto& rl = req.resource_logs(i);
    std::string at = "resourceLogs[" + std::to_string(i) + "]";
    RecordRouting resource;
    if (Status s = Route(rl.resource().attributes(), at + ".resource", &resource); !s.ok())
      return s;
    for (int j = 0; j < rl.scope_logs_size(); ++j) {
      const auto& sl = rl.scope_logs(j);
      for (int k = 0; k < sl.log_records_size(); ++k) {
        const auto& rec = sl.log_records(k);
        std::string where =
            at + ".scopeLogs[" + std::to_string(j) + "].logRecords[" + std::to_string(k) + "]";
        if (out.size() >= kMaxForeignRecords)
          return Status(Code::kTooLarge, "at most " + std::to_string(kMaxForeignRecords) +
                                             " log records in a request");
        ForeignRecord r;
        r.routing = resource;
        if (Status s = Route(rec.attributes(), where, &r.routing); !s.ok()) return s;
        int sev = rec.severity_number();
        if (sev < 0 || sev > 24) return Bad(where + ".severityNumber", "must be 0 to 24");
        r.line.level = LevelOfSeverity(sev);
        if (!r.line.level && !rec.severity_text().empty())
          r.line.level = ParseLevelAlias(rec.severity_text());
        uint64_t ns = rec.time_unix_nano() ? rec.time_unix_nano() : rec.observed_time_unix_nano();
        if (ns > static_cast<uint64_t>(kMaxUnixNanos))
          return Bad(where + ".timeUnixNano", "is after the year 2262");
        r.line.timestamp_us = ns ? static_cast<int64_t>(ns / 1000) : now_us;
        r.line.message = AnyValueText(rec.body());
        r.line.source = Source::kUser;
        out.push_back(std::move(r));
      }
    }
  }
  return out;
}

}  // namespace

Result<OtlpEncoding> OtlpEncodingOf(std::string_view content_type) {
  std::string t = AsciiLower(content_type.substr(0, content_type.find(';')));
  while (!t.empty() && t.back() == ' ') t.pop_back();
  if (t == "application/x-protobuf" || t == "application/protobuf") return OtlpEncoding::kProtobuf;
  if (t == "application/json") return OtlpEncoding::kJson;
  return Status(Code::kUnsupportedMediaType,
                "Content-Type '" + std::string(content_type.substr(0, 100)) +
                    "' is not an OTLP encoding (application/x-protobuf or application/json)");
}

Result<std::vector<ForeignRecord>> DecodeOtlpLogs(std::string& body, OtlpEncoding encoding,
                                                  int64_t now_us) {
  pb::ExportLogsServiceRequest req;
  if (encoding == OtlpEncoding::kProtobuf) {
    // libprotobuf writes an ERROR line to stderr for each string field that is not UTF-8: a
    // hostile client would flood the server's log. The answer (400) says what is wrong.
    google::protobuf::LogSilencer quiet;
    if (!req.ParseFromString(body))
      return Status(Code::kBadRequest, "the body is not an OTLP ExportLogsServiceRequest");
  } else if (Status s = RequestFromJson(body, &req); !s.ok()) {
    return s.code() == Code::kMalformedJson ? Status(Code::kBadRequest, s.message()) : s;
  }
  return RecordsOf(req, now_us);
}

std::string OtlpSuccessBody(OtlpEncoding encoding) {
  if (encoding == OtlpEncoding::kJson) return "{}";
  return pb::ExportLogsServiceResponse().SerializeAsString();
}

std::string OtlpErrorBody(OtlpEncoding encoding, int http_status, const std::string& message) {
  // google.rpc.Code of the HTTP status (the mapping of the gRPC-HTTP spec).
  int code = http_status == 400   ? 3    // INVALID_ARGUMENT
             : http_status == 401 ? 16   // UNAUTHENTICATED
             : http_status == 403 ? 7    // PERMISSION_DENIED
             : http_status == 404 ? 5    // NOT_FOUND
             : http_status == 413 ? 8    // RESOURCE_EXHAUSTED
             : http_status == 415 ? 3    // INVALID_ARGUMENT
             : http_status == 429 ? 8    // RESOURCE_EXHAUSTED (an ingest quota)
             : http_status == 503 ? 14   // UNAVAILABLE
                                  : 13;  // INTERNAL
  if (encoding == OtlpEncoding::kJson) {
    JsonOut j;
    j.BeginObject().Key("code").Int(code).Key("message").String(message).EndObject();
    return j.Take();
  }
  pb::RpcStatus s;
  s.set_code(code);
  s.set_message(message);
  return s.SerializeAsString();
}

std::string_view OtlpContentType(OtlpEncoding encoding) {
  return encoding == OtlpEncoding::kJson ? "application/json" : "application/x-protobuf";
}

}  // namespace wanllmdb
