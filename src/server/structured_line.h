// StructuredLine: the fields of a structured log line, parsed at ingest (doc/api.md "Structured
// lines"). A message that is a JSON object, or logfmt (`key=value key2="two words"`), yields its
// fields as one compact JSON object (LogLine::fields); the keys that name the line's own columns
// are taken out of the fields and into the columns: `msg`/`message` stay in the message (the line
// keeps what the program printed), `level`/`severity`/`lvl` set the level (custom names kept as
// level_name), `time`/`ts`/`timestamp` the timestamp.
#pragma once

#include <simdjson.h>

#include <optional>
#include <string>
#include <string_view>

#include "core/log_line.h"
#include "core/status.h"

namespace wanllmdb {

// A JSON object of fields holds at most this many bytes; a bigger one is kept as plain text
// (explicit fields over it are refused with 413 by the batch parser).
inline constexpr size_t kMaxFieldsBytes = 16 * 1024;
// Keys of fields are 1..kMaxFieldKeyBytes bytes (longer ones make a line plain text / a 422).
inline constexpr size_t kMaxFieldKeyBytes = 128;

struct StructuredLine {
  std::string fields;               // compact JSON object; empty: the line has no other fields
  std::optional<NamedLevel> level;  // from level/severity/lvl
  std::optional<int64_t> timestamp_us;
};

// Thread-safety: stateless functions (a thread-local simdjson parser).
// The fields of `message` when it is a JSON object or logfmt; nullopt when it is plain text (the
// common case, decided from its first bytes in a few nanoseconds).
std::optional<StructuredLine> ParseStructuredLine(std::string_view message);

// Explicit fields sent with a line (the SDK's log_message(..., **fields), logging's extra=): a
// JSON object, re-written compactly. kInvalidValue when it is not an object, a key is empty or
// too long, or it is over kMaxFieldsBytes.
Result<std::string> CompactFields(simdjson::dom::element fields, const std::string& where);

}  // namespace wanllmdb
