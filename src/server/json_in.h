// JSON input: simdjson parses request bodies (fast enough for a million lines a second); when
// it rejects one, RapidJSON re-reads it only to say where and why (simdjson does not report a
// position). A body that is JSON but not valid UTF-8 is repaired (U+FFFD) and parsed again:
// invalid bytes in a log line are never a reason to reject it (DESIGN §6).
#pragma once

#include <simdjson.h>

#include <string>

#include "core/status.h"

namespace wanllmdb {

// Parses `body` with a thread-local parser. The element lives until the next call on this
// thread.
Result<simdjson::dom::element> ParseJsonBody(std::string& body);

// Frees this thread's parser memory if a big body made it grow; call when the request (and every
// element it parsed) is done.
void TrimJsonParser();

// Same, and the body must be a JSON object (else kBadRequest saying what it is instead).
Result<simdjson::dom::element> ParseJsonObjectBody(std::string& body);

// An optional string field of an object: absent or null → ""; another type → kBadRequest; over
// `max_len` bytes → kInvalidValue.
Result<std::string> OptStringField(simdjson::dom::element obj, const char* key, size_t max_len);

// "an object", "a string", … for error messages.
std::string_view JsonTypeName(simdjson::dom::element_type t);

}  // namespace wanllmdb
