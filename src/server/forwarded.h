// TrustedProxies: whose X-Forwarded-For and X-Forwarded-Proto the server believes.
//
// Behind a reverse proxy every request comes from the proxy's address over plain HTTP. Without
// the forwarded headers, the failed-sign-in limit would count every user as one client, the
// access log would name only the proxy, the session cookie would lack `Secure`, and the browser's
// `Origin: https://…` would not match the server's idea of its own origin (http://…), so cookie
// writes would be refused. The headers are believed only from the addresses given with
// --trust-proxy: anyone else could send them to pose as another client.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace wanllmdb {

// Thread-safety: immutable after Parse; Apply may run on many threads.
class TrustedProxies {
 public:
  TrustedProxies() = default;
  // Exact IPv4/IPv6 addresses (as --trust-proxy gives them); kInvalidValue names a bad one.
  [[nodiscard]] static Result<TrustedProxies> Parse(const std::vector<std::string>& addresses);

  bool empty() const { return addresses_.empty(); }
  bool Trusts(std::string_view address) const;

  // For a request from `peer`: when it is a trusted proxy, `*client` becomes the rightmost
  // X-Forwarded-For entry that is not itself a trusted proxy (earlier entries are whatever the
  // client claimed), and `*tls` follows X-Forwarded-Proto ("https" or "http"). Otherwise
  // nothing changes. Malformed entries are ignored, never trusted.
  void Apply(std::string_view peer, std::string_view forwarded_for,
             std::string_view forwarded_proto, std::string* client, bool* tls) const;

 private:
  std::vector<std::string> addresses_;  // canonical text (inet_ntop)
};

// The canonical text of an IP address ("::ffff:1.2.3.4" stays as given by inet_ntop), or "" when
// `text` is not one.
std::string CanonicalAddress(std::string_view text);

}  // namespace wanllmdb
