#include "server/ingest.h"

#include <algorithm>
#include <cmath>

#include "core/text.h"
#include "core/time_util.h"
#include "server/json_in.h"
#include "server/structured_line.h"

namespace wanllmdb {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

Status Bad(const std::string& where, std::string_view what) {
  return Status(Code::kBadRequest, where + ": " + std::string(what));
}
Status Invalid(const std::string& where, std::string_view what) {
  return Status(Code::kInvalidValue, where + ": " + std::string(what));
}

Result<std::optional<int64_t>> ParseTimestamp(element v, const std::string& where) {
  switch (v.type()) {
    case element_type::NULL_VALUE:
      return std::optional<int64_t>();
    case element_type::STRING: {
      std::string_view s = v.get_string().value_unsafe();
      auto t = ParseIsoMicros(s);
      if (!t) return Invalid(where, "'" + std::string(s) + "' is not an ISO 8601 time");
      return std::optional<int64_t>(*t);
    }
    case element_type::INT64:
    case element_type::UINT64:
    case element_type::DOUBLE: {
      double secs = v.get_double().value_unsafe();
      if (!std::isfinite(secs) || secs < 0 || secs > 253402300799.0)
        return Invalid(where, "a number timestamp is seconds since 1970 (0 to year 9999)");
      return std::optional<int64_t>(static_cast<int64_t>(std::llround(secs * 1e6)));
    }
    default:
      return Bad(where, std::string("must be an ISO 8601 string or a number, not ") +
                            std::string(JsonTypeName(v.type())));
  }
}

// Any level name a program uses is kept (custom levels: SUCCESS, TRACE, NOTICE, ...), mapped
// onto the five canonical ones for filters and counts.
Result<std::optional<NamedLevel>> ParseLevelField(element v, const std::string& where) {
  if (v.type() == element_type::NULL_VALUE) return std::optional<NamedLevel>();
  if (v.type() != element_type::STRING)
    return Bad(where, std::string("must be a string, not ") + std::string(JsonTypeName(v.type())));
  std::string_view s = v.get_string().value_unsafe();
  auto l = ParseAnyLevel(s);
  if (!l)
    return Invalid(where, "'" + std::string(s.substr(0, 64)) +
                              "' is not a level name (DEBUG, INFO, WARNING, ERROR, CRITICAL, or "
                              "a custom name of 1 to 32 letters, digits, '_' and '-')");
  return std::optional<NamedLevel>(std::move(*l));
}

Result<Source> ParseSourceField(element v, const std::string& where, Source fallback) {
  if (v.type() == element_type::NULL_VALUE) return fallback;
  if (v.type() != element_type::STRING)
    return Bad(where, std::string("must be a string, not ") + std::string(JsonTypeName(v.type())));
  std::string_view s = v.get_string().value_unsafe();
  auto src = ParseSource(s);
  if (!src)
    return Invalid(where, "unknown source '" + std::string(s) +
                              "' (want stdout, stderr, sdk, user or system)");
  return *src;
}

Result<std::string> ParseWriter(element obj) {
  element w;
  if (obj.at_key("writer").get(w)) return std::string("main");
  if (w.type() == element_type::NULL_VALUE) return std::string("main");
  if (w.type() != element_type::STRING) return Bad("writer", "must be a string");
  std::string_view s = w.get_string().value_unsafe();
  if (s.empty() || s.size() > 128) return Invalid("writer", "must be 1 to 128 characters");
  return std::string(s);
}

// Parses `body` (a JSON object, left in *root) and starts a batch for `run_id` with the body's
// writer ("main" when absent).
Result<IngestBatch> StartBatch(const std::string& run_id, std::string& body, element* root) {
  auto doc = ParseJsonObjectBody(body);
  if (!doc.ok()) return doc.status();
  *root = *doc;
  auto writer = ParseWriter(*root);
  if (!writer.ok()) return writer.status();
  IngestBatch b;
  b.run_id = run_id;
  b.writer = *writer;
  return b;
}

Status TooManyLines() {
  return Status(Code::kTooLarge, "a request stores at most " + std::to_string(kMaxBatchLines) +
                                     " lines, counted after splitting messages on newlines and "
                                     "at 64 KiB: split it");
}

Status TooManyBytes() {
  return Status(Code::kTooLarge, "a request stores at most " +
                                     std::to_string(kMaxBatchBytes >> 20) +
                                     " MiB of messages and fields: split it");
}

// Every piece of a message becomes a stored line; pieces share the message's seq. Fails (and
// the caller drops the whole batch) when the batch would pass kMaxBatchLines or kMaxBatchBytes;
// `lines_elsewhere` are the request's lines in its other batches (foreign ingest).
// What a line says of itself beyond its message: its level (with a custom name) and fields.
// Whether a message's structure is parsed is the server's setting (--no-field-parsing), so
// every line is made with it.
struct LineExtras {
  explicit LineExtras(bool parse) : parse_structure(parse) {}
  std::optional<NamedLevel> level;
  std::string fields;  // explicit fields (compact JSON object); empty: parse the message
  bool parse_structure;
};

// Parses a structured piece (JSON, Python dict, logfmt) into its line: fields always, the level
// and time only where the request did not give them.
void ApplyStructure(std::string_view piece, bool level_given, bool time_given, LogLine* l,
                    uint8_t* explicit_l) {
  auto st = ParseStructuredLine(piece);
  if (!st) return;
  l->fields = std::move(st->fields);
  if (st->level && !level_given) {
    l->level = st->level->level;
    l->level_name = std::move(st->level->name);
    *explicit_l = 1;
  }
  if (st->timestamp_us && !time_given) l->timestamp_us = *st->timestamp_us;
}

Status AppendPieces(IngestBatch* b, std::string_view message, const LineExtras& extras,
                    Source source, int64_t ts, bool time_given, int64_t seq, bool has_seq,
                    std::vector<uint8_t>* explicit_level, size_t* bytes,
                    size_t lines_elsewhere = 0) {
  const Level level = extras.level ? extras.level->level : Level::kInfo;
  const bool explicit_l = extras.level.has_value();
  // Counted before splitting so that a message of millions of newlines is refused without
  // first building millions of pieces.
  const size_t used = lines_elsewhere + b->lines.size();
  const size_t room = kMaxBatchLines - std::min(used, kMaxBatchLines);
  if (static_cast<size_t>(std::count(message.begin(), message.end(), '\n')) > room)
    return TooManyLines();
  *bytes += message.size();
  if (*bytes > kMaxBatchBytes) return TooManyBytes();
  thread_local std::vector<std::string_view> pieces;
  pieces.clear();
  SplitIntoLines(message, kMaxLineBytes, &pieces);
  if (pieces.size() > room) return TooManyLines();
  *bytes += extras.fields.size() * pieces.size();  // fields are copied onto every piece
  if (*bytes > kMaxBatchBytes) return TooManyBytes();
  for (size_t k = 0; k < pieces.size(); ++k) {
    std::string_view p = pieces[k];
    LogLine l;
    l.timestamp_us = ts;
    l.level = level;
    if (extras.level) l.level_name = extras.level->name;
    l.source = source;
    l.message.assign(p.data(), p.size());
    uint8_t is_explicit = explicit_l;
    if (!extras.fields.empty()) {
      l.fields = extras.fields;  // a message's fields describe each of its lines
    } else if (extras.parse_structure) {
      ApplyStructure(p, explicit_l, time_given, &l, &is_explicit);
    }
    b->lines.push_back(std::move(l));
    if (has_seq) b->seqs.push_back(seq);
    explicit_level->push_back(is_explicit);
  }
  if (pieces.capacity() > 4096) std::vector<std::string_view>().swap(pieces);  // keep it small
  return Status::Ok();
}

}  // namespace

// Lines without an explicit level are detected by the store (the traceback state that spans
// batches lives there, per (run, writer)); an all-explicit batch needs no flags.
static void MarkDetection(IngestBatch* batch, std::vector<uint8_t>& explicit_level) {
  bool any = false;
  for (uint8_t& e : explicit_level) {
    e = !e;
    any |= e != 0;
  }
  if (any) batch->detect_level = std::move(explicit_level);
}

Result<IngestBatch> IngestParser::ParseBatch(const std::string& run_id, std::string& body) {
  element root;
  auto started = StartBatch(run_id, body, &root);
  if (!started.ok()) return started.status();
  IngestBatch& b = *started;
  element logs;
  if (root.at_key("logs").get(logs)) return Bad("logs", "is required (an array of lines)");
  if (logs.type() != element_type::ARRAY)
    return Bad("logs",
               std::string("must be an array, not ") + std::string(JsonTypeName(logs.type())));
  simdjson::dom::array arr = logs.get_array().value_unsafe();
  if (arr.size() > kMaxBatchLines)
    return Status(Code::kTooLarge, "a batch holds at most " + std::to_string(kMaxBatchLines) +
                                       " lines; this one has " + std::to_string(arr.size()) +
                                       ": split it");
  size_t bytes = 0;
  const int64_t now = NowMicros();
  b.lines.reserve(arr.size());
  std::vector<uint8_t> explicit_level;
  explicit_level.reserve(arr.size());
  bool any_seq = false;
  size_t i = 0;
  std::string where;
  for (element item : arr) {
    auto at = [&](const char* field) {
      return "logs[" + std::to_string(i) + "]" + (field[0] ? "." : "") + field;
    };
    if (item.type() != element_type::OBJECT)
      return Bad(at(""),
                 std::string("must be an object, not ") + std::string(JsonTypeName(item.type())));
    std::string_view message;
    LineExtras extras(parse_fields_);
    Source source = Source::kStdout;
    int64_t ts = now, seq = -1;
    bool has_message = false, time_given = false;
    std::optional<NamedLevel> level_name;
    simdjson::dom::object fields = item.get_object().value_unsafe();  // alive for the loop
    for (auto [key, value] : fields) {
      if (key == "message") {
        if (value.type() != element_type::STRING)
          return Bad(at("message"), std::string("must be a string, not ") +
                                        std::string(JsonTypeName(value.type())));
        message = value.get_string().value_unsafe();
        has_message = true;
      } else if (key == "level") {
        auto l = ParseLevelField(value, at("level"));
        if (!l.ok()) return l.status();
        extras.level = std::move(*l);
      } else if (key == "level_name") {
        // The program's own name for the line's level (logging.addLevelName(25, "SUCCESS")):
        // kept beside the canonical `level`, which still decides filters and counts.
        if (value.type() == element_type::NULL_VALUE) continue;
        auto l = ParseLevelField(value, at("level_name"));
        if (!l.ok()) return l.status();
        level_name = std::move(*l);
      } else if (key == "fields") {
        if (value.type() == element_type::NULL_VALUE) continue;
        auto f = CompactFields(value, at("fields"));
        if (!f.ok()) return f.status();
        extras.fields = std::move(*f);
      } else if (key == "source") {
        auto s = ParseSourceField(value, at("source"), Source::kStdout);
        if (!s.ok()) return s.status();
        source = *s;
      } else if (key == "timestamp") {
        auto t = ParseTimestamp(value, at("timestamp"));
        if (!t.ok()) return t.status();
        if (*t) {
          ts = **t;
          time_given = true;
        }
      } else if (key == "seq") {
        if (value.type() == element_type::NULL_VALUE) continue;
        if (value.type() != element_type::INT64 && value.type() != element_type::UINT64)
          return Bad(at("seq"), "must be a whole number");
        int64_t v = 0;
        if (value.get_int64().get(v) || v < 0)
          return Invalid(at("seq"), "must be between 0 and 2^63-1");
        seq = v;
      }
    }
    if (!has_message) return Bad(at("message"), "is required");
    if (level_name) {
      // Without `level`, the name decides it (SUCCESS → INFO).
      if (extras.level) {
        extras.level->name = std::move(level_name->name);
      } else {
        extras.level = std::move(level_name);
      }
    }
    if (seq >= 0) any_seq = true;
    if (any_seq && b.seqs.size() != b.lines.size()) b.seqs.assign(b.lines.size(), -1);
    // The SDK's own lines (log_message) say what they are; captured output may be structured.
    Status appended = AppendPieces(&b, message, extras, source, ts, time_given, seq, any_seq,
                                   &explicit_level, &bytes);
    if (!appended.ok()) return appended;
    ++i;
  }
  MarkDetection(&b, explicit_level);
  return started;
}

Result<IngestBatch> IngestParser::BuildBatch(const std::string& run_id, const std::string& writer,
                                             const std::vector<IncomingLine>& lines,
                                             RequestBudget* budget) {
  IngestBatch b;
  b.run_id = run_id;
  b.writer = writer;
  b.lines.reserve(lines.size());
  bool any_seq = false;
  for (const auto& l : lines) any_seq |= l.seq >= 0;
  std::vector<uint8_t> explicit_level;
  explicit_level.reserve(lines.size());
  std::string repaired;
  for (const auto& l : lines) {
    std::string_view message = l.message;
    if (!IsValidUtf8(message)) {
      repaired.clear();
      AppendSanitizedUtf8(message, &repaired);
      message = repaired;
    }
    LineExtras extras(parse_fields_);
    if (l.level) extras.level = NamedLevel{*l.level, {}};
    Status appended = AppendPieces(&b, message, extras, l.source, l.timestamp_us, true, l.seq,
                                   any_seq, &explicit_level, &budget->bytes, budget->lines);
    if (!appended.ok()) return appended;
  }
  budget->lines += b.lines.size();
  MarkDetection(&b, explicit_level);
  return b;
}

Result<IngestBatch> IngestParser::ParseSingle(const std::string& run_id, std::string& body,
                                              Source default_source) {
  element root;
  auto started = StartBatch(run_id, body, &root);
  if (!started.ok()) return started.status();
  IngestBatch& b = *started;
  element v;
  if (root.at_key("message").get(v)) return Bad("message", "is required");
  if (v.type() != element_type::STRING)
    return Bad("message",
               std::string("must be a string, not ") + std::string(JsonTypeName(v.type())));
  std::string_view message = v.get_string().value_unsafe();
  LineExtras extras(parse_fields_);
  if (!root.at_key("level").get(v)) {
    auto l = ParseLevelField(v, "level");
    if (!l.ok()) return l.status();
    extras.level = std::move(*l);
  }
  if (!root.at_key("fields").get(v) && v.type() != element_type::NULL_VALUE) {
    auto f = CompactFields(v, "fields");
    if (!f.ok()) return f.status();
    extras.fields = std::move(*f);
  }
  Source source = default_source;
  if (!root.at_key("source").get(v)) {
    auto s = ParseSourceField(v, "source", default_source);
    if (!s.ok()) return s.status();
    source = *s;
  }
  int64_t ts = NowMicros();
  bool time_given = false;
  if (!root.at_key("timestamp").get(v)) {
    auto t = ParseTimestamp(v, "timestamp");
    if (!t.ok()) return t.status();
    if (*t) {
      ts = **t;
      time_given = true;
    }
  }
  std::vector<uint8_t> explicit_level;
  size_t bytes = 0;
  Status appended =
      AppendPieces(&b, message, extras, source, ts, time_given, -1, false, &explicit_level, &bytes);
  if (!appended.ok()) return appended;
  MarkDetection(&b, explicit_level);
  return started;
}

}  // namespace wanllmdb
