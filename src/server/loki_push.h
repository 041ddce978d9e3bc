// The Loki push API (POST /loki/api/v1/push): decoding a push request — JSON (the v1 shape
// {"streams":[{"stream":{labels},"values":[["<ns>","line",{metadata}?]]}]}, and the legacy shape
// {"streams":[{"labels":"{a=\"b\"}","entries":[{"ts":"RFC 3339","line"}]}]} older clients send)
// or snappy-compressed protobuf (logproto.PushRequest) — into ForeignRecords routed by the
// stream's labels, then each entry's structured metadata.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "server/foreign_ingest.h"

namespace wanllmdb {

enum class LokiEncoding { kProtobuf, kJson };

// application/json → JSON; application/x-protobuf (or none, as Loki assumes) → snappy protobuf;
// anything else is kUnsupportedMediaType.
Result<LokiEncoding> LokiEncodingOf(std::string_view content_type);

// `body` is the request body after its Content-Encoding; the protobuf form is snappy-decoded
// here (it is part of that format, not a Content-Encoding).
Result<std::vector<ForeignRecord>> DecodeLokiPush(std::string& body, LokiEncoding encoding);

// A Prometheus-style label set: {name="value", ...} with \" \\ \n escapes.
Status ParseLokiLabels(std::string_view text,
                       std::vector<std::pair<std::string, std::string>>* out);

}  // namespace wanllmdb
