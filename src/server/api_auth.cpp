// Keys, UI sessions and "who am I" (doc/api.md "Access control"); also the Api's constructor
// and the run → project cache that project-limited keys are checked against.
#include "server/api.h"
#include "server/http_util.h"
#include "server/json_in.h"
#include "server/json_out.h"

namespace wanllmdb {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

constexpr size_t kMaxCachedRunProjects = 100000;

void WriteScopes(JsonOut& j, ScopeSet scopes) {
  j.BeginArray();
  for (Scope s : {kScopeIngest, kScopeRead, kScopeAdmin})
    if (scopes & s) j.String(ScopeName(s));
  j.EndArray();
}

void WriteKey(JsonOut& j, const KeyRecord& k) {
  j.Key("id").String(k.id).Key("name").String(k.name).Key("scopes");
  WriteScopes(j, k.scopes);
  j.Key("projects").BeginArray();
  for (const auto& p : k.projects) j.String(p);
  j.EndArray();
  j.Key("created_at").Timestamp(k.created_at_us).Key("revoked_at").OptTimestamp(k.revoked_at_us);
}

// "scopes": ["read", "ingest"] or "read,ingest".
Result<ScopeSet> ScopesField(element obj) {
  element v;
  if (obj.at_key("scopes").get(v))
    return Status(Code::kBadRequest, "scopes: is required (e.g. [\"ingest\"])");
  std::string list;
  if (v.type() == element_type::STRING) {
    list = std::string(v.get_string().value_unsafe());
  } else if (v.type() == element_type::ARRAY) {
    simdjson::dom::array items = v.get_array().value_unsafe();  // alive for the loop
    for (element e : items) {
      if (e.type() != element_type::STRING)
        return Status(Code::kBadRequest, "scopes: must be an array of strings");
      list += std::string(e.get_string().value_unsafe()) + ",";
    }
  } else {
    return Status(Code::kBadRequest, "scopes: must be an array of strings");
  }
  auto scopes = ParseScopes(list);
  if (!scopes) return Status(Code::kInvalidValue, "scopes: want some of ingest, read, admin");
  return *scopes;
}

Result<std::vector<std::string>> ProjectsField(element obj) {
  std::vector<std::string> out;
  element v;
  if (obj.at_key("projects").get(v) || v.type() == element_type::NULL_VALUE) return out;
  if (v.type() != element_type::ARRAY)
    return Status(Code::kBadRequest, "projects: must be an array of project names");
  simdjson::dom::array items = v.get_array().value_unsafe();  // alive for the loop
  for (element e : items) {
    if (e.type() != element_type::STRING || e.get_string().value_unsafe().empty())
      return Status(Code::kBadRequest, "projects: must be an array of project names");
    if (out.size() >= 100) return Status(Code::kInvalidValue, "projects: at most 100");
    out.emplace_back(e.get_string().value_unsafe());
  }
  return out;
}

std::string SessionCookie(const std::string& value, int64_t max_age_s, bool tls) {
  std::string c = std::string(kSessionCookie) + "=" + value +
                  "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" + std::to_string(max_age_s);
  if (tls) c += "; Secure";
  return c;
}

}  // namespace

Api::Api(LogStore& store, LiveHub& hub, LiveBus& bus, Authenticator& auth, ApiOptions options)
    : store_(store),
      hub_(hub),
      bus_(bus),
      auth_(auth),
      engine_(store),
      ingest_(options.parse_fields),
      options_(std::move(options)),
      views_(engine_, options_.view_cache_bytes),
      locator_(store_, engine_) {}

Result<std::string> Api::ProjectOfRun(const std::string& run_id) {
  {
    std::lock_guard lock(run_project_mu_);
    if (auto it = run_project_.find(run_id); it != run_project_.end()) return it->second;
  }
  auto run = store_.GetRun(run_id);
  if (!run.ok()) return run.status();
  std::lock_guard lock(run_project_mu_);
  if (run_project_.size() >= kMaxCachedRunProjects) run_project_.clear();
  run_project_[run_id] = run->project;
  return run->project;
}

ApiResponse Api::WhoAmI(const ApiRequest& req) {
  const Principal& p = req.principal;
  JsonOut j;
  j.BeginObject().Key("auth_required").Bool(auth_.Enabled());
  j.Key("signed_in").Bool(p.scopes != 0).Key("anonymous").Bool(p.anonymous);
  j.Key("via").String(p.scopes == 0  ? "none"
                      : p.anonymous  ? "anonymous"
                      : p.via_cookie ? "cookie"
                                     : "key");
  j.Key("name").String(p.key_name).Key("scopes");
  WriteScopes(j, p.scopes);
  j.Key("projects").BeginArray();
  for (const auto& name : p.projects) j.String(name);
  j.EndArray().EndObject();
  return JsonResponse(200, j.Take());
}

ApiResponse Api::SignIn(ApiRequest& req) {
  auto obj = ParseJsonObjectBody(req.body);
  if (!obj.ok()) return ErrorResponse(obj.status());
  auto key = OptStringField(*obj, "key", 200);
  if (!key.ok()) return ErrorResponse(key.status());
  if (key->empty()) return ErrorResponse(Status(Code::kBadRequest, "key: is required"));
  int retry_after_s = 0;
  Principal who;
  auto token = auth_.SignIn(*key, req.client_address, &retry_after_s, &who);
  if (!token.ok()) {
    return retry_after_s > 0 ? RetryLaterResponse(token.status(), retry_after_s)
                             : ErrorResponse(token.status());
  }
  ApiRequest as_signed_in;
  as_signed_in.principal = who;
  ApiResponse r = WhoAmI(as_signed_in);
  r.headers.emplace_back("Set-Cookie",
                         SessionCookie(*token, auth_.session_lifetime().count(), req.tls));
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

ApiResponse Api::SignOut(const ApiRequest& req) {
  if (Status s = auth_.SignOut(req.cookie); !s.ok()) return ErrorResponse(s);
  ApiResponse r = NoContent();
  r.headers.emplace_back("Set-Cookie", SessionCookie("", 0, req.tls));
  return r;
}

ApiResponse Api::CreateKey(ApiRequest& req) {
  auto obj = ParseJsonObjectBody(req.body);
  if (!obj.ok()) return ErrorResponse(obj.status());
  auto name = OptStringField(*obj, "name", 200);
  if (!name.ok()) return ErrorResponse(name.status());
  auto scopes = ScopesField(*obj);
  if (!scopes.ok()) return ErrorResponse(scopes.status());
  auto projects = ProjectsField(*obj);
  if (!projects.ok()) return ErrorResponse(projects.status());
  // A key limited to projects can only make keys within its own projects.
  for (const auto& p : *projects)
    if (!req.principal.AllowsProject(p))
      return ErrorResponse(Status(Code::kForbidden, "not allowed in project '" + p + "'"));
  if (!req.principal.projects.empty() && projects->empty()) *projects = req.principal.projects;
  std::string token;
  auto key = auth_.CreateKey(*name, *scopes, *projects, &token);
  if (!key.ok()) return ErrorResponse(key.status());
  JsonOut j;
  j.BeginObject().Key("key").String(token);
  WriteKey(j, *key);
  j.EndObject();
  ApiResponse r = JsonResponse(201, j.Take());
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

ApiResponse Api::ListKeys() {
  auto keys = auth_.ListKeys();
  if (!keys.ok()) return ErrorResponse(keys.status());
  JsonOut j;
  j.BeginObject().Key("keys").BeginArray();
  for (const auto& k : *keys) {
    j.BeginObject();
    WriteKey(j, k);
    j.EndObject();
  }
  j.EndArray().EndObject();
  return JsonResponse(200, j.Take());
}

ApiResponse Api::RevokeKey(const std::string& id) {
  if (Status s = auth_.RevokeKey(id); !s.ok()) return ErrorResponse(s);
  return NoContent();
}

}  // namespace wanllmdb
