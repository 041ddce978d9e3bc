#include "server/request_guard.h"

#include <algorithm>
#include <cctype>

#include "server/http_util.h"

namespace wanllmdb {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// "[::1]:8080" → "::1"; "Example.com:80" → "example.com"; "::1" stays.
std::string HostName(std::string_view host) {
  if (!host.empty() && host.front() == '[') {
    size_t close = host.find(']');
    return Lower(host.substr(1, close == std::string_view::npos ? host.npos : close - 1));
  }
  size_t colon = host.find(':');
  if (colon != std::string_view::npos && host.find(':', colon + 1) == std::string_view::npos)
    host = host.substr(0, colon);
  return Lower(host);
}

bool IsCredentialParam(std::string_view key) {
  std::string k = Lower(key);
  for (std::string_view c : {"api_key", "apikey", "key", "token", "access_token", "password",
                             "secret", "auth", "authorization"})
    if (k == c) return true;
  return false;
}

}  // namespace

HostPolicy::HostPolicy(std::string listen_host, std::vector<std::string> extra) {
  std::string listen = HostName(listen_host);
  if ((listen == "0.0.0.0" || listen == "::" || listen.empty()) && extra.empty()) {
    any_ = true;  // listening everywhere: the operator names hosts with --allowed-host
    return;
  }
  names_ = {"localhost", "127.0.0.1", "::1"};
  if (listen != "0.0.0.0" && listen != "::") names_.push_back(listen);
  for (const auto& e : extra) names_.push_back(HostName(e));
}

bool HostPolicy::Allows(std::string_view host) const {
  if (any_) return true;
  if (host.empty()) return false;  // HTTP/1.1 requires Host
  std::string name = HostName(host);
  if (name.size() > 10 && name.substr(name.size() - 10) == ".localhost") return true;
  return std::find(names_.begin(), names_.end(), name) != names_.end();
}

Status CheckBodyType(std::string_view method, std::string_view path, std::string_view content_type,
                     size_t body_bytes) {
  if (method != "POST" && method != "PUT" && method != "PATCH") return Status::Ok();
  if (path.rfind("/api/v1/", 0) != 0) return Status::Ok();  // other protocols bring their own
  std::string type = Lower(content_type.substr(0, content_type.find(';')));
  while (!type.empty() && type.back() == ' ') type.pop_back();
  if (type == "application/json") return Status::Ok();
  if (type.empty() && body_bytes == 0) return Status::Ok();  // nothing a form could carry
  return Status(Code::kUnsupportedMediaType,
                "send JSON with 'Content-Type: application/json' (got '" +
                    std::string(content_type) + "')");
}

void AddSecurityHeaders(ApiResponse* r) {
  r->headers.emplace_back("X-Content-Type-Options", "nosniff");
  r->headers.emplace_back("X-Frame-Options", "DENY");
  r->headers.emplace_back("Referrer-Policy", "same-origin");
  if (r->content_type.rfind("text/html", 0) == 0) {
    // The UI: our own scripts and styles only; inline style attributes are React's; WebSocket
    // and fetch to this origin ('self' covers ws:/wss: of the same host).
    r->headers.emplace_back(
        "Content-Security-Policy",
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
        "form-action 'self'; object-src 'none'");
  } else {
    r->headers.emplace_back("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
  }
}

std::string RedactTarget(std::string_view target) {
  size_t q = target.find('?');
  if (q == std::string_view::npos) return std::string(target);
  std::string out(target.substr(0, q + 1));
  std::string_view query = target.substr(q + 1);
  bool first = true;
  while (true) {
    size_t amp = query.find('&');
    std::string_view part = query.substr(0, amp);
    if (!first) out.push_back('&');
    first = false;
    size_t eq = part.find('=');
    if (eq != std::string_view::npos && IsCredentialParam(UrlDecode(part.substr(0, eq), true))) {
      out.append(part.substr(0, eq + 1)).append("***");
    } else {
      out.append(part);
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return out;
}

}  // namespace wanllmdb
