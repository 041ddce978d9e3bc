#include "server/access_setup.h"

#include <cstdio>
#include <fstream>
#include <sstream>

#include "auth/secret_token.h"
#include "core/time_util.h"

namespace wanllmdb {
namespace {

Status InstallKey(KeyStore& keys, const std::string& token, const std::string& name) {
  auto parsed = ParseSecretToken(kApiKeyPrefix, token);
  if (!parsed) {
    return Status(Code::kInvalidValue,
                  "the bootstrap key is not a wanLLMDB key (make one with 'wanllmdb keys "
                  "generate')");
  }
  KeyRecord k;
  k.id = parsed->id;
  k.secret_hash = parsed->secret_hash;
  k.name = name;
  k.scopes = kAllScopes;
  k.created_at_us = NowMicros();
  return keys.CreateKey(k);
}

}  // namespace

Result<std::unique_ptr<KeyStore>> SetUpAccess(const ServerOptions& o, const std::string& url,
                                              bool loopback) {
  std::unique_ptr<KeyStore> keys;
  auto opened = OpenKeyStore(url);
  if (opened.ok()) {
    keys = std::move(*opened);
  } else if (o.require_auth || !o.bootstrap_key_file.empty()) {
    return opened.status();
  }
  int64_t active = 0;
  if (keys) {
    auto n = keys->CountActiveKeys();
    if (!n.ok()) return n.status();
    active = *n;
  }
  if (active == 0 && keys && !o.bootstrap_key_file.empty()) {
    std::ifstream in(o.bootstrap_key_file);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string token = ss.str();
    while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' '))
      token.pop_back();
    if (!in) return Status(Code::kInvalidValue, "cannot read " + o.bootstrap_key_file);
    if (Status s = InstallKey(*keys, token, "bootstrap"); !s.ok()) return s;
    std::fprintf(stderr, "wanllmdb: installed the admin key from %s\n",
                 o.bootstrap_key_file.c_str());
    active = 1;
  }
  if (active == 0 && keys && o.require_auth) {
    std::string token;
    SecretToken t = NewSecretToken(kApiKeyPrefix, &token);
    KeyRecord k{t.id, "bootstrap", t.secret_hash, kAllScopes, {}, NowMicros(), std::nullopt};
    if (Status s = keys->CreateKey(k); !s.ok()) return s;
    std::fprintf(stderr,
                 "wanllmdb: created the first admin key (shown only now; store it safely):\n"
                 "  %s\n"
                 "Use it as 'Authorization: Bearer KEY', to sign in to the web UI, or to make "
                 "narrower keys with 'wanllmdb keys create'.\n",
                 token.c_str());
    active = 1;
  }
  if (active == 0 && o.api_key.empty() && !loopback) {
    if (!o.allow_anonymous) {
      return Status(Code::kInvalidValue,
                    "refusing to serve " + o.host +
                        " without API keys: anyone who can reach it could read and delete every "
                        "log. Start with --require-auth (prints a first admin key), create one "
                        "with 'wanllmdb keys create --scopes admin', or pass --allow-anonymous "
                        "if this network is trusted");
    }
    std::fprintf(stderr,
                 "wanllmdb: WARNING: anonymous access on %s (--allow-anonymous): anyone who can "
                 "reach this address can read, write and delete every log\n",
                 o.host.c_str());
  }
  if (!o.api_key.empty() && o.api_key_on_argv) {
    std::fprintf(stderr,
                 "wanllmdb: warning: --api-key on the command line is visible to every user in "
                 "'ps'; prefer $WANLLMDB_SERVER_API_KEY or keys made with 'wanllmdb keys'\n");
  }
  return keys;
}

}  // namespace wanllmdb
