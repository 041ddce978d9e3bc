// The request and response a handler sees: plain structs, no Beast, so handler files compile
// without the network headers and tests can call handlers directly.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "auth/principal.h"
#include "core/status.h"

namespace wanllmdb {

struct ApiRequest {
  std::string method;                        // "GET", "POST", …
  std::string path;                          // decoded path without the query
  std::map<std::string, std::string> query;  // decoded; a repeated key keeps its last value
  std::string body;
  std::string authorization;        // the Authorization header, if any
  std::string cookie;               // the Cookie header, if any
  std::string origin;               // the Origin header, if any (browsers send it)
  std::string host;                 // the Host header
  std::string client_address;       // the peer's IP address
  bool tls = false;                 // arrived over HTTPS
  std::string accept_encoding;      // the Accept-Encoding header, if any (gzip downloads)
  std::vector<std::string> params;  // path parameters captured by the router ({run_id})
  Principal principal;              // set by the router once the request is authorized
  // The path is from the server root, not under /api/v1 (GET /metrics, where scrapers look).
  bool root_path = false;
  // The row of Api::Routes() the router matched (metrics and logs label requests by it; -1: no
  // route matched).
  int route = -1;
  std::string content_type;      // the Content-Type header, if any
  std::string content_encoding;  // the Content-Encoding header, if any
};

// A body produced piece by piece (downloads of any size). Fills `piece` and sets *done on the
// last one. A failing Status mid-way closes the connection without the final chunk, so the
// client sees a truncated download rather than a short one that looks complete.
using BodyStream = std::function<Status(std::string* piece, bool* done)>;

struct ApiResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  BodyStream stream;  // when set, body is ignored and the response is sent chunked
};

// An error response that also says when to come back (429, 503, 507).
ApiResponse RetryLaterResponse(const Status& status, int retry_after_s);

int HttpStatusOf(Code code);
std::string_view ErrorCodeName(Code code);
ApiResponse ErrorResponse(const Status& status);
ApiResponse JsonResponse(int status, std::string body);
ApiResponse NoContent();  // 204

}  // namespace wanllmdb
