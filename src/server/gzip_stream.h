// GzipStream: gzip (RFC 1952) for a body produced piece by piece. Each piece is deflated with a
// sync flush, so every piece yields bytes (a chunked response never sends an empty chunk before
// the end) and a client sees data as soon as it is scanned. Thread-safety: one stream, one thread
// at a time (a BodyStream is called by one session).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"

namespace wanllmdb {

class GzipStream {
 public:
  GzipStream();
  ~GzipStream();
  GzipStream(const GzipStream&) = delete;
  GzipStream& operator=(const GzipStream&) = delete;

  // Appends the compressed form of `in` to `out`; with `last`, also the gzip trailer.
  Status Write(std::string_view in, bool last, std::string* out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// True when an Accept-Encoding header value accepts gzip (a q=0 refuses it).
bool AcceptsGzip(std::string_view accept_encoding);

}  // namespace wanllmdb
