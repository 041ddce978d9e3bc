// Request body codecs of the foreign ingest protocols: Content-Encoding gzip (OTLP/HTTP, Loki)
// and snappy block compression (the Loki protobuf push). Both are bounded: a small body that
// inflates past `max_bytes` is refused (413), never allocated.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace wanllmdb {

inline constexpr size_t kMaxDecodedBodyBytes = 64 * 1024 * 1024;

// Decodes a gzip (or zlib) stream. kBadRequest when it is not one, kTooLarge past max_bytes.
Result<std::string> GunzipBody(std::string_view data, size_t max_bytes = kMaxDecodedBodyBytes);
// Decodes a snappy block. kBadRequest when it is not one, kTooLarge past max_bytes.
Result<std::string> UnsnappyBody(std::string_view data, size_t max_bytes = kMaxDecodedBodyBytes);
// Applies a Content-Encoding header: "" or "identity" → as is; "gzip" → GunzipBody; "snappy" →
// UnsnappyBody; anything else → kUnsupportedMediaType (415).
Status DecodeContentEncoding(std::string_view encoding, std::string* body);

}  // namespace wanllmdb
