#include "server/forwarded.h"

#include <arpa/inet.h>

#include <algorithm>

namespace wanllmdb {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::string CanonicalAddress(std::string_view text) {
  text = Trim(text);
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']') {
    text = text.substr(1, text.size() - 2);
  }
  if (text.empty() || text.size() > 64) return "";
  std::string s(text);
  char out[INET6_ADDRSTRLEN];
  unsigned char buf[sizeof(in6_addr)];
  if (inet_pton(AF_INET, s.c_str(), buf) == 1) {
    return inet_ntop(AF_INET, buf, out, sizeof out) ? out : "";
  }
  if (inet_pton(AF_INET6, s.c_str(), buf) == 1) {
    return inet_ntop(AF_INET6, buf, out, sizeof out) ? out : "";
  }
  return "";
}

Result<TrustedProxies> TrustedProxies::Parse(const std::vector<std::string>& addresses) {
  TrustedProxies t;
  for (const std::string& a : addresses) {
    std::string c = CanonicalAddress(a);
    if (c.empty()) {
      return Status(Code::kInvalidValue,
                    "--trust-proxy wants the proxy's IP address (e.g. 127.0.0.1), not '" + a + "'");
    }
    t.addresses_.push_back(std::move(c));
  }
  return t;
}

bool TrustedProxies::Trusts(std::string_view address) const {
  if (addresses_.empty()) return false;
  std::string c = CanonicalAddress(address);
  return !c.empty() && std::find(addresses_.begin(), addresses_.end(), c) != addresses_.end();
}

void TrustedProxies::Apply(std::string_view peer, std::string_view forwarded_for,
                           std::string_view forwarded_proto, std::string* client,
                           bool* tls) const {
  if (!Trusts(peer)) return;
  // Right to left: each trusted hop appended the address it saw; the first untrusted one is
  // the real client as far as anyone we trust can tell.
  std::string_view rest = forwarded_for;
  while (!rest.empty()) {
    size_t comma = rest.rfind(',');
    std::string_view entry = comma == std::string_view::npos ? rest : rest.substr(comma + 1);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(0, comma);
    std::string c = CanonicalAddress(entry);
    if (c.empty()) break;  // garbage: stop, keep the last good address
    *client = c;
    if (!Trusts(c)) break;
  }
  std::string_view proto = Trim(forwarded_proto);
  if (proto == "https") {
    *tls = true;
  } else if (proto == "http") {
    *tls = false;
  }
}

}  // namespace wanllmdb
