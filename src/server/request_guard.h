// RequestGuard: the checks every request passes before routing, in one place for HTTP and
// WebSocket alike — the Host header against DNS rebinding, JSON-only bodies against form-post
// CSRF — plus the headers every response carries and the access log's redaction of secrets.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "server/api_types.h"

namespace wanllmdb {

// Which Host headers the server answers. Thread-safety: immutable after construction.
class HostPolicy {
 public:
  // `any`: every host (a wildcard listen address with no --allowed-host); otherwise the
  // loopback names, `listen_host` and `extra`.
  HostPolicy(std::string listen_host, std::vector<std::string> extra);
  HostPolicy() : any_(true) {}
  // `host` is the Host header, possibly with a port ("localhost:8080", "[::1]:8080").
  bool Allows(std::string_view host) const;

 private:
  bool any_ = false;
  std::vector<std::string> names_;  // lowercase, without ports or brackets
};

// A POST/PUT/PATCH to a JSON route must say Content-Type: application/json (browsers cannot
// send that cross-site without a CORS preflight, which we never grant). kUnsupportedMediaType
// otherwise. `path` is the request path, `content_type` the header.
Status CheckBodyType(std::string_view method, std::string_view path, std::string_view content_type,
                     size_t body_bytes);

// nosniff, no framing, and a Content-Security-Policy (strict for the UI's pages, none-at-all for
// API answers) on every response.
void AddSecurityHeaders(ApiResponse* response);

// The request target with the values of credential-like query parameters replaced by "***", for
// the access log.
std::string RedactTarget(std::string_view target);

}  // namespace wanllmdb
