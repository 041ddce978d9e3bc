#include "server/loki_push.h"

#include <charconv>
#include <cstdint>

#include "core/text.h"
#include "core/time_util.h"
#include "server/body_codec.h"
#include "server/json_in.h"
#include "src/server/proto/loki_push.pb.h"  // generated (build/proto)

namespace wanllmdb {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;
constexpr int64_t kMaxUnixNanos = INT64_MAX;  // int64 nanoseconds end in the year 2262

Status Bad(const std::string& where, std::string_view what) {
  return Status(Code::kBadRequest, where + ": " + std::string(what));
}

Result<int64_t> NanosFromString(std::string_view s, const std::string& where) {
  int64_t ns = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), ns);
  if (ec != std::errc() || end != s.data() + s.size() || ns < 0 || ns > kMaxUnixNanos)
    return Bad(where, "'" + std::string(s.substr(0, 40)) +
                          "' is not a time in nanoseconds since 1970 (a decimal string)");
  return ns;
}

bool LabelNameChar(char c, bool first) {
  return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (!first && ((c >= '0' && c <= '9') || c == '.'));
}

Status RouteAll(const std::vector<std::pair<std::string, std::string>>& labels,
                const std::string& where, RecordRouting* routing) {
  for (const auto& [k, v] : labels) {
    if (Status s = routing->Set(k, v); !s.ok()) return Status(s.code(), where + ": " + s.message());
  }
  return Status::Ok();
}

Status AddEntry(const RecordRouting& stream, int64_t ns, std::string line,
                const std::vector<std::pair<std::string, std::string>>& metadata,
                const std::string& where, std::vector<ForeignRecord>* out) {
  if (out->size() >= kMaxForeignRecords)
    return Status(Code::kTooLarge,
                  "at most " + std::to_string(kMaxForeignRecords) + " entries in a push");
  ForeignRecord r;
  r.routing = stream;
  if (Status s = RouteAll(metadata, where, &r.routing); !s.ok()) return s;
  r.line.timestamp_us = ns / 1000;
  r.line.message = std::move(line);
  r.line.source = Source::kStdout;  // what a shipper tails is a program's output
  out->push_back(std::move(r));
  return Status::Ok();
}

Result<std::vector<std::pair<std::string, std::string>>> LabelObject(element v,
                                                                     const std::string& where) {
  std::vector<std::pair<std::string, std::string>> out;
  if (v.type() != element_type::OBJECT)
    return Bad(where, "must be an object of label names to strings");
  // Named, not a range-for over a temporary simdjson_result (it would dangle).
  simdjson::dom::object obj = v.get_object().value_unsafe();
  for (auto [k, val] : obj) {
    if (val.type() != element_type::STRING)
      return Bad(where + "." + std::string(k), "must be a string");
    out.emplace_back(std::string(k), std::string(val.get_string().value_unsafe()));
  }
  return out;
}

Status DecodeJson(std::string& body, std::vector<ForeignRecord>* out) {
  auto doc = ParseJsonObjectBody(body);
  if (!doc.ok()) return Status(Code::kBadRequest, doc.status().message());
  element streams;
  if (doc->at_key("streams").get(streams)) return Bad("streams", "is required");
  if (streams.type() != element_type::ARRAY) return Bad("streams", "must be an array");
  size_t i = 0;
  simdjson::dom::array stream_list = streams.get_array().value_unsafe();
  for (element st : stream_list) {
    std::string at = "streams[" + std::to_string(i++) + "]";
    if (st.type() != element_type::OBJECT) return Bad(at, "must be an object");
    RecordRouting routing;
    element f;
    if (!st.at_key("stream").get(f)) {  // v1
      auto labels = LabelObject(f, at + ".stream");
      if (!labels.ok()) return labels.status();
      if (Status s = RouteAll(*labels, at + ".stream", &routing); !s.ok()) return s;
      element values;
      if (st.at_key("values").get(values) || values.type() != element_type::ARRAY)
        return Bad(at + ".values", "is required (an array of [time, line] pairs)");
      size_t j = 0;
      simdjson::dom::array value_list = values.get_array().value_unsafe();
      for (element v : value_list) {
        std::string where = at + ".values[" + std::to_string(j++) + "]";
        if (v.type() != element_type::ARRAY) return Bad(where, "must be [time, line]");
        auto arr = v.get_array().value_unsafe();
        if (arr.size() < 2 || arr.size() > 3) return Bad(where, "must be [time, line, metadata?]");
        element ts = arr.at(0).value_unsafe(), line = arr.at(1).value_unsafe();
        if (ts.type() != element_type::STRING || line.type() != element_type::STRING)
          return Bad(where, "time and line must be strings");
        auto ns = NanosFromString(ts.get_string().value_unsafe(), where + "[0]");
        if (!ns.ok()) return ns.status();
        std::vector<std::pair<std::string, std::string>> metadata;
        if (arr.size() == 3) {
          auto m = LabelObject(arr.at(2).value_unsafe(), where + "[2]");
          if (!m.ok()) return m.status();
          metadata = std::move(*m);
        }
        if (Status s = AddEntry(routing, *ns, std::string(line.get_string().value_unsafe()),
                                metadata, where, out);
            !s.ok())
          return s;
      }
    } else if (!st.at_key("labels").get(f)) {  // legacy: labels as text, entries with RFC 3339
      if (f.type() != element_type::STRING) return Bad(at + ".labels", "must be a string");
      std::vector<std::pair<std::string, std::string>> labels;
      if (Status s = ParseLokiLabels(f.get_string().value_unsafe(), &labels); !s.ok())
        return Bad(at + ".labels", s.message());
      if (Status s = RouteAll(labels, at + ".labels", &routing); !s.ok()) return s;
      element entries;
      if (st.at_key("entries").get(entries) || entries.type() != element_type::ARRAY)
        return Bad(at + ".entries", "is required (an array of {ts, line})");
      size_t j = 0;
      simdjson::dom::array entry_list = entries.get_array().value_unsafe();
      for (element e : entry_list) {
        std::string where = at + ".entries[" + std::to_string(j++) + "]";
        element ts, line;
        if (e.type() != element_type::OBJECT || e.at_key("ts").get(ts) ||
            e.at_key("line").get(line) || ts.type() != element_type::STRING ||
            line.type() != element_type::STRING)
          return Bad(where, "must be {\"ts\": \"RFC 3339 time\", \"line\": \"...\"}");
        auto us = ParseIsoMicros(ts.get_string().value_unsafe());
        if (!us) return Bad(where + ".ts", "is not an RFC 3339 time");
        // Nanoseconds since 1970 in an int64: 1970 to 2262 (the fuzzer sent the year 1012).
        if (*us < 0 || *us > INT64_MAX / 1000) return Bad(where + ".ts", "is out of range");
        if (Status s = AddEntry(routing, *us * 1000, std::string(line.get_string().value_unsafe()),
                                {}, where, out);
            !s.ok())
          return s;
      }
    } else {
      return Bad(at, "needs \"stream\" and \"values\"");
    }
  }
  return Status::Ok();
}

Status DecodeProtobuf(std::string& body, std::vector<ForeignRecord>* out) {
  auto raw = UnsnappyBody(body);
  if (!raw.ok()) return raw.status();
  logproto::PushRequest req;
  // As for OTLP (server/otlp_logs.cpp): no stderr line per string that is not UTF-8.
  google::protobuf::LogSilencer quiet;
  if (!req.ParseFromString(*raw))
    return Status(Code::kBadRequest, "the body is not a snappy-compressed logproto.PushRequest");
  for (int i = 0; i < req.streams_size(); ++i) {
    const auto& st = req.streams(i);
    std::string at = "streams[" + std::to_string(i) + "]";
    std::vector<std::pair<std::string, std::string>> labels;
    if (Status s = ParseLokiLabels(st.labels(), &labels); !s.ok())
      return Bad(at + ".labels", s.message());
    RecordRouting routing;
    if (Status s = RouteAll(labels, at + ".labels", &routing); !s.ok()) return s;
    for (int j = 0; j < st.entries_size(); ++j) {
      const auto& e = st.entries(j);
      std::string where = at + ".entries[" + std::to_string(j) + "]";
      int64_t secs = e.timestamp().seconds(), nanos = e.timestamp().nanos();
      if (secs < 0 || secs >= kMaxUnixNanos / 1000000000 || nanos < 0 || nanos > 999999999)
        return Bad(where + ".timestamp", "is out of range");
      std::vector<std::pair<std::string, std::string>> metadata;
      for (const auto& m : e.structuredmetadata()) metadata.emplace_back(m.name(), m.value());
      if (Status s = AddEntry(routing, secs * 1000000000 + nanos, e.line(), metadata, where, out);
          !s.ok())
        return s;
    }
  }
  return Status::Ok();
}

}  // namespace

Status ParseLokiLabels(std::string_view text,
                       std::vector<std::pair<std::string, std::string>>* out) {
  size_t i = 0;
  auto skip_space = [&] {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
  };
  skip_space();
  if (i >= text.size() || text[i] != '{') return Status(Code::kBadRequest, "must start with '{'");
  ++i;
  skip_space();
  if (i < text.size() && text[i] == '}') {
    ++i;
  } else {
    while (true) {
      skip_space();
      size_t start = i;
      while (i < text.size() && LabelNameChar(text[i], i == start)) ++i;
      if (i == start) return Status(Code::kBadRequest, "a label name is expected");
      std::string name(text.substr(start, i - start));
      skip_space();
      if (i >= text.size() || text[i] != '=')
        return Status(Code::kBadRequest, "'=' is expected after " + name);
      ++i;
      skip_space();
      if (i >= text.size() || text[i] != '"')
        return Status(Code::kBadRequest, "a quoted value is expected for " + name);
      ++i;
      std::string value;
      while (true) {
        if (i >= text.size()) return Status(Code::kBadRequest, "unterminated value of " + name);
        char c = text[i++];
        if (c == '"') break;
        if (c == '\\') {
          if (i >= text.size()) return Status(Code::kBadRequest, "unterminated value of " + name);
          char e = text[i++];
          value.push_back(e == 'n' ? '\n' : e == 't' ? '\t' : e);
        } else {
          value.push_back(c);
        }
      }
      out->emplace_back(std::move(name), std::move(value));
      skip_space();
      if (i < text.size() && text[i] == ',') {
        ++i;
        continue;
      }
      if (i < text.size() && text[i] == '}') {
        ++i;
        break;
      }
      return Status(Code::kBadRequest, "',' or '}' is expected");
    }
  }
  skip_space();
  if (i != text.size()) return Status(Code::kBadRequest, "unexpected text after '}'");
  return Status::Ok();
}

Result<LokiEncoding> LokiEncodingOf(std::string_view content_type) {
  std::string t = AsciiLower(content_type.substr(0, content_type.find(';')));
  while (!t.empty() && t.back() == ' ') t.pop_back();
  if (t == "application/json") return LokiEncoding::kJson;
  if (t.empty() || t == "application/x-protobuf" || t == "application/protobuf" ||
      t == "application/x-snappy")
    return LokiEncoding::kProtobuf;
  return Status(Code::kUnsupportedMediaType,
                "Content-Type '" + std::string(content_type.substr(0, 100)) +
                    "' is not a Loki push encoding (application/json or application/x-protobuf)");
}

Result<std::vector<ForeignRecord>> DecodeLokiPush(std::string& body, LokiEncoding encoding) {
  std::vector<ForeignRecord> out;
  Status s = encoding == LokiEncoding::kJson ? DecodeJson(body, &out) : DecodeProtobuf(body, &out);
  if (!s.ok()) return s;
  return out;
}

}  // namespace wanllmdb
