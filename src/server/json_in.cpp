#include "server/json_in.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <memory>

#include "core/text.h"

namespace wanllmdb {

std::string_view JsonTypeName(simdjson::dom::element_type t) {
  using T = simdjson::dom::element_type;
  switch (t) {
    case T::ARRAY:
      return "an array";
    case T::OBJECT:
      return "an object";
    case T::INT64:
    case T::UINT64:
    case T::DOUBLE:
      return "a number";
    case T::STRING:
      return "a string";
    case T::BOOL:
      return "a boolean";
    case T::NULL_VALUE:
      return "null";
  }
  return "a value";
}

namespace {

Status Explain(const std::string& body) {
  if (body.empty()) return Status(Code::kMalformedJson, "the request body is empty; JSON expected");
  rapidjson::Document d;
  d.Parse<rapidjson::kParseStopWhenDoneFlag>(body.data(), body.size());
  if (d.HasParseError()) {
    size_t at = d.GetErrorOffset();
    size_t line = 1, col = 1;
    for (size_t i = 0; i < at && i < body.size(); ++i) {
      if (body[i] == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
    return Status(Code::kMalformedJson, "malformed JSON at byte " + std::to_string(at) + " (line " +
                                            std::to_string(line) + ", column " +
                                            std::to_string(col) +
                                            "): " + rapidjson::GetParseError_En(d.GetParseError()));
  }
  return Status(Code::kMalformedJson,
                "malformed JSON (trailing content after the value, or "
                "nesting deeper than 1024)");
}

}  // namespace

namespace {

// Each worker thread's parser grows to the largest body it has parsed; TrimJsonParser gives a
// big one back after the request (a 16 MiB body costs simdjson ~50 MiB of tape and strings).
constexpr size_t kKeptParserCapacity = 1 << 20;
thread_local std::unique_ptr<simdjson::dom::parser> tls_parser;

}  // namespace

void TrimJsonParser() {
  if (tls_parser && tls_parser->capacity() > kKeptParserCapacity) tls_parser.reset();
}

Result<simdjson::dom::element> ParseJsonBody(std::string& body) {
  if (!tls_parser) tls_parser = std::make_unique<simdjson::dom::parser>();
  simdjson::dom::parser& parser = *tls_parser;
  simdjson::dom::element doc;
  auto err = parser.parse(body.data(), body.size(), true).get(doc);
  if (err == simdjson::UTF8_ERROR) {
    body = SanitizeUtf8(body);
    err = parser.parse(body.data(), body.size(), true).get(doc);
  }
  if (err) return Explain(body);
  return doc;
}

Result<simdjson::dom::element> ParseJsonObjectBody(std::string& body) {
  auto doc = ParseJsonBody(body);
  if (!doc.ok()) return doc.status();
  if (doc->type() != simdjson::dom::element_type::OBJECT) {
    return Status(Code::kBadRequest,
                  "body: must be a JSON object, not " + std::string(JsonTypeName(doc->type())));
  }
  return *doc;
}

Result<std::string> OptStringField(simdjson::dom::element obj, const char* key, size_t max_len) {
  using simdjson::dom::element_type;
  simdjson::dom::element v;
  if (obj.at_key(key).get(v) || v.type() == element_type::NULL_VALUE) return std::string();
  if (v.type() != element_type::STRING) {
    return Status(Code::kBadRequest, std::string(key) + ": must be a string, not " +
                                         std::string(JsonTypeName(v.type())));
  }
  std::string_view s = v.get_string().value_unsafe();
  if (s.size() > max_len) {
    return Status(Code::kInvalidValue,
                  std::string(key) + ": at most " + std::to_string(max_len) + " characters");
  }
  return std::string(s);
}

}  // namespace wanllmdb
