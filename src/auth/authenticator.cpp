#include "auth/authenticator.h"

#include <algorithm>

#include "auth/secret_token.h"
#include "core/time_util.h"

namespace wanllmdb {
namespace {

constexpr size_t kMaxTrackedClients = 100000;  // failure records kept; memory stays bounded
constexpr size_t kMaxCachedKeys = 10000;

Status NoCredentials() {
  return Status(Code::kUnauthorized,
                "this server needs an API key: send 'Authorization: Bearer KEY' (create one with "
                "'wanllmdb keys create'), or sign in to the web UI");
}

Status BadCredentials() {
  return Status(Code::kForbidden, "invalid, revoked or expired credentials");
}

Principal FromRecord(const KeyRecord& k) {
  Principal p;
  p.key_id = k.id;
  p.key_name = k.name;
  p.scopes = k.scopes;
  p.projects = k.projects;
  return p;
}

}  // namespace

std::string_view CookieValue(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    size_t semi = header.find(';');
    std::string_view part = header.substr(0, semi);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    if (part.size() > name.size() && part.substr(0, name.size()) == name &&
        part[name.size()] == '=')
      return part.substr(name.size() + 1);
    if (semi == std::string_view::npos) break;
    header.remove_prefix(semi + 1);
  }
  return {};
}

Authenticator::Authenticator(KeyStore* keys, AuthOptions options)
    : keys_(keys),
      options_(std::move(options)),
      legacy_hash_(options_.legacy_key.empty() ? "" : Sha256Hex(options_.legacy_key)) {}

bool Authenticator::Enabled() {
  if (!legacy_hash_.empty()) return true;
  if (!keys_) return false;
  auto now = Clock::now();
  {
    std::lock_guard lock(mu_);
    if (has_keys_ && now - has_keys_->second < options_.cache_ttl) return has_keys_->first;
  }
  auto n = keys_->CountActiveKeys();
  std::lock_guard lock(mu_);
  // A store we cannot read (the database is restarting) keeps the last answer it gave, so an
  // open server's clients see the store's 503 and retry; with no answer yet, auth stays on:
  // failing open would hand out every scope.
  if (!n.ok()) return has_keys_ ? has_keys_->first : true;
  bool on = *n > 0;
  has_keys_ = {on, now};
  return on;
}

bool Authenticator::TooManyFailures(const std::string& client, bool record, int* retry_after_s) {
  auto now = Clock::now();
  std::lock_guard lock(mu_);
  if (record && failures_.size() >= kMaxTrackedClients && !failures_.count(client)) {
    failures_.clear();  // an address flood: start over rather than grow without bound
  }
  auto it = failures_.find(client);
  if (it == failures_.end()) {
    if (!record) return false;
    it = failures_.emplace(client, std::deque<Clock::time_point>{}).first;
  }
  auto& q = it->second;
  while (!q.empty() && now - q.front() >= options_.failure_window) q.pop_front();
  if (record) q.push_back(now);
  if (q.empty()) {
    failures_.erase(it);
    return false;
  }
  if (static_cast<int>(q.size()) < options_.max_failures + (record ? 1 : 0)) return false;
  auto wait =
      std::chrono::duration_cast<std::chrono::seconds>(q.front() + options_.failure_window - now);
  *retry_after_s = std::max<int>(1, static_cast<int>(wait.count()) + 1);
  return true;
}

Result<std::optional<KeyRecord>> Authenticator::CachedKey(const std::string& id) {
  auto now = Clock::now();
  {
    std::lock_guard lock(mu_);
    auto it = key_cache_.find(id);
    if (it != key_cache_.end() && now - it->second.fetched < options_.cache_ttl)
      return it->second.key;
  }
  auto found = keys_->FindKey(id);
  if (!found.ok()) return found.status();
  std::lock_guard lock(mu_);
  if (key_cache_.size() >= kMaxCachedKeys) key_cache_.clear();
  key_cache_[id] = {*found, now};
  return *found;
}

Result<Principal> Authenticator::FromKey(std::string_view key) {
  if (!legacy_hash_.empty() && DigestsEqual(Sha256Hex(key), legacy_hash_)) {
    Principal p;
    p.key_id = "legacy";
    p.key_name = "--api-key";
    p.scopes = kAllScopes;
    return p;
  }
  auto token = ParseSecretToken(kApiKeyPrefix, key);
  if (!token || !keys_) return BadCredentials();
  auto rec = CachedKey(token->id);
  if (!rec.ok())
    return Status(Code::kUnavailable, "cannot read API keys: " + rec.status().message());
  if (!*rec || (*rec)->revoked_at_us || !DigestsEqual((*rec)->secret_hash, token->secret_hash))
    return BadCredentials();
  return FromRecord(**rec);
}

Result<Principal> Authenticator::FromSession(std::string_view value) {
  auto token = ParseSecretToken(kSessionPrefix, value);
  if (!token || !keys_) return BadCredentials();
  auto session = keys_->FindSession(token->id);
  if (!session.ok()) return Status(Code::kUnavailable, "cannot read sessions");
  if (!*session || !DigestsEqual((*session)->secret_hash, token->secret_hash) ||
      (*session)->expires_at_us < NowMicros())
    return BadCredentials();
  auto rec = CachedKey((*session)->key_id);
  if (!rec.ok()) return Status(Code::kUnavailable, "cannot read API keys");
  if (!*rec || (*rec)->revoked_at_us) return BadCredentials();
  Principal p = FromRecord(**rec);
  p.via_cookie = true;
  return p;
}

Result<Principal> Authenticator::Authenticate(std::string_view authorization,
                                              std::string_view cookie, const std::string& client,
                                              int* retry_after_s) {
  constexpr std::string_view kBearer = "Bearer ";
  std::string_view session = CookieValue(cookie, kSessionCookie);
  const bool has_bearer = authorization.substr(0, kBearer.size()) == kBearer;
  if (!Enabled()) {
    Principal p;
    p.anonymous = true;
    p.scopes = kAllScopes;
    p.via_cookie = !has_bearer;  // a browser may be asking: same-origin rules still apply
    return p;
  }
  if (!has_bearer && session.empty()) return NoCredentials();
  if (TooManyFailures(client, false, retry_after_s))
    return Status(Code::kTooManyRequests, "too many failed sign-in attempts from this address");
  auto p = has_bearer ? FromKey(authorization.substr(kBearer.size())) : FromSession(session);
  if (!p.ok() && p.status().code() == Code::kForbidden &&
      TooManyFailures(client, true, retry_after_s))
    return Status(Code::kTooManyRequests, "too many failed sign-in attempts from this address");
  return p;
}

Result<std::string> Authenticator::SignIn(std::string_view key, const std::string& client,
                                          int* retry_after_s, Principal* who) {
  if (TooManyFailures(client, false, retry_after_s))
    return Status(Code::kTooManyRequests, "too many failed sign-in attempts from this address");
  auto p = FromKey(key);
  if (!p.ok()) {
    if (p.status().code() == Code::kForbidden && TooManyFailures(client, true, retry_after_s))
      return Status(Code::kTooManyRequests, "too many failed sign-in attempts from this address");
    return p.status();
  }
  if (!keys_ || p->key_id == "legacy")
    return Status(Code::kInvalidValue, "sign in with a key from 'wanllmdb keys create'");
  std::string token;
  SecretToken t = NewSecretToken(kSessionPrefix, &token);
  SessionRecord s{
      t.id, t.secret_hash, p->key_id,
      NowMicros() +
          std::chrono::duration_cast<std::chrono::microseconds>(options_.session_lifetime).count()};
  if (Status st = keys_->CreateSession(s); !st.ok()) return st;
  *who = *p;
  who->via_cookie = true;
  return token;
}

Status Authenticator::SignOut(std::string_view cookie) {
  auto token = ParseSecretToken(kSessionPrefix, CookieValue(cookie, kSessionCookie));
  if (!token || !keys_) return Status::Ok();
  return keys_->DeleteSession(token->id);
}

Result<KeyRecord> Authenticator::CreateKey(const std::string& name, ScopeSet scopes,
                                           std::vector<std::string> projects, std::string* token) {
  if (!keys_) return Status(Code::kInvalidValue, "this store keeps no API keys");
  SecretToken t = NewSecretToken(kApiKeyPrefix, token);
  KeyRecord k;
  k.id = t.id;
  k.secret_hash = t.secret_hash;
  k.name = name;
  k.scopes = scopes;
  k.projects = std::move(projects);
  k.created_at_us = NowMicros();
  if (Status s = keys_->CreateKey(k); !s.ok()) return s;
  std::lock_guard lock(mu_);
  has_keys_.reset();
  return k;
}

Status Authenticator::RevokeKey(const std::string& id) {
  if (!keys_) return Status(Code::kNotFound, "no API key with id '" + id + "'");
  Status s = keys_->RevokeKey(id, NowMicros());
  std::lock_guard lock(mu_);
  key_cache_.erase(id);
  has_keys_.reset();
  return s;
}

Result<std::vector<KeyRecord>> Authenticator::ListKeys() {
  if (!keys_) return std::vector<KeyRecord>{};
  return keys_->ListKeys();
}

}  // namespace wanllmdb
