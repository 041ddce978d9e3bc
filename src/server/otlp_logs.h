// OTLP/HTTP logs (POST /v1/logs): decoding an ExportLogsServiceRequest, in either encoding the
// OTLP/HTTP spec defines (binary protobuf, or its JSON mapping: camelCase or snake_case keys,
// 64-bit integers as strings or numbers, enums as numbers or names), into ForeignRecords; and
// the replies the spec wants (an ExportLogsServiceResponse on success, a google.rpc.Status on
// failure), in the request's encoding.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "server/foreign_ingest.h"

namespace wanllmdb {

enum class OtlpEncoding { kProtobuf, kJson };

// application/x-protobuf (also application/protobuf) or application/json, parameters ignored;
// anything else is kUnsupportedMediaType (415).
Result<OtlpEncoding> OtlpEncodingOf(std::string_view content_type);

// Every log record of the request, routed by its resource attributes then its own attributes.
// `now_us` stamps records without a time. kBadRequest (with where) for a payload that is not a
// request or holds a bad value.
Result<std::vector<ForeignRecord>> DecodeOtlpLogs(std::string& body, OtlpEncoding encoding,
                                                  int64_t now_us);

std::string OtlpSuccessBody(OtlpEncoding encoding);
std::string OtlpErrorBody(OtlpEncoding encoding, int http_status, const std::string& message);
std::string_view OtlpContentType(OtlpEncoding encoding);

}  // namespace wanllmdb
