#include "server/http_util.h"

#include <algorithm>
#include <charconv>

#include "core/time_util.h"
#include "server/json_out.h"

namespace wanllmdb {

int HttpStatusOf(Code code) {
  switch (code) {
    case Code::kOk:
      return 200;
    case Code::kBadRequest:
    case Code::kMalformedJson:
      return 400;
    case Code::kUnauthorized:
      return 401;
    case Code::kForbidden:
      return 403;
    case Code::kNotFound:
      return 404;
    case Code::kConflict:
      return 409;
    case Code::kTooLarge:
      return 413;
    case Code::kInvalidValue:
      return 422;
    case Code::kUnavailable:
      return 503;
    case Code::kInternal:
      return 500;
    case Code::kMethodNotAllowed:
      return 405;
    case Code::kUnsupportedMediaType:
      return 415;
    case Code::kTooManyRequests:
      return 429;
    case Code::kInsufficientStorage:
      return 507;
  }
  return 500;
}

std::string_view ErrorCodeName(Code code) {
  switch (code) {
    case Code::kOk:
      return "ok";
    case Code::kBadRequest:
      return "bad_request";
    case Code::kMalformedJson:
      return "malformed_json";
    case Code::kUnauthorized:
      return "unauthorized";
    case Code::kForbidden:
      return "forbidden";
    case Code::kNotFound:
      return "not_found";
    case Code::kConflict:
      return "conflict";
    case Code::kTooLarge:
      return "too_large";
    case Code::kInvalidValue:
      return "invalid_value";
    case Code::kUnavailable:
      return "unavailable";
    case Code::kInternal:
      return "internal";
    case Code::kMethodNotAllowed:
      return "method_not_allowed";
    case Code::kUnsupportedMediaType:
      return "unsupported_media_type";
    case Code::kTooManyRequests:
      return "too_many_requests";
    case Code::kInsufficientStorage:
      return "insufficient_storage";
  }
  return "internal";
}

ApiResponse ErrorResponse(const Status& status) {
  JsonOut j;
  j.BeginObject().Key("error").BeginObject();
  j.Key("code").String(ErrorCodeName(status.code()));
  j.Key("message").String(status.message());
  j.EndObject().EndObject();
  ApiResponse r = JsonResponse(HttpStatusOf(status.code()), j.Take());
  // 503 is temporary here (the database is restarting, the server is stopping): say when to
  // come back. The SDK and the capture retry with their own backoff at least this long.
  if (r.status == 503) r.headers.emplace_back("Retry-After", "1");
  return r;
}

ApiResponse RetryLaterResponse(const Status& status, int retry_after_s) {
  ApiResponse r = ErrorResponse(status);
  r.headers.emplace_back("Retry-After", std::to_string(std::max(1, retry_after_s)));
  return r;
}

ApiResponse JsonResponse(int status, std::string body) {
  ApiResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

ApiResponse NoContent() {
  ApiResponse r;
  r.status = 204;
  return r;
}

std::string UrlDecode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else if (c == '%' && i + 2 < s.size() &&
               std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
               std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      int v = 0;
      std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16);
      out.push_back(static_cast<char>(v));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::map<std::string, std::string> ParseQuery(std::string_view q) {
  std::map<std::string, std::string> out;
  while (!q.empty()) {
    size_t amp = q.find('&');
    std::string_view part = q.substr(0, amp);
    if (!part.empty()) {
      size_t eq = part.find('=');
      std::string key = UrlDecode(part.substr(0, eq), true);
      std::string value = eq == std::string_view::npos ? "" : UrlDecode(part.substr(eq + 1), true);
      out[key] = value;
    }
    if (amp == std::string_view::npos) break;
    q.remove_prefix(amp + 1);
  }
  return out;
}

namespace {

template <typename F>
Status ForEachListItem(const std::string& value, F f) {
  size_t start = 0;
  while (start <= value.size()) {
    size_t comma = value.find(',', start);
    if (comma == std::string::npos) comma = value.size();
    std::string item = value.substr(start, comma - start);
    while (!item.empty() && item.back() == ' ') item.pop_back();
    while (!item.empty() && item.front() == ' ') item.erase(0, 1);
    if (!item.empty()) {
      Status s = f(item);
      if (!s.ok()) return s;
    }
    start = comma + 1;
  }
  return Status::Ok();
}

}  // namespace

Result<LogFilter> FilterFromQuery(const std::map<std::string, std::string>& q) {
  LogFilter f;
  auto get = [&](const char* k) -> const std::string* {
    auto it = q.find(k);
    return it == q.end() ? nullptr : &it->second;
  };
  if (auto* v = get("level"); v && *v != "ALL" && *v != "all") {
    Status s = ForEachListItem(*v, [&](const std::string& item) {
      auto l = ParseLevel(item);
      if (!l) {
        return Status(Code::kInvalidValue, "unknown level '" + item +
                                               "' (want DEBUG, INFO, WARNING, ERROR or CRITICAL)");
      }
      f.level_mask |= 1u << static_cast<int>(*l);
      return Status::Ok();
    });
    if (!s.ok()) return s;
  }
  if (auto* v = get("source"); v && *v != "ALL" && *v != "all") {
    Status s = ForEachListItem(*v, [&](const std::string& item) {
      auto src = ParseSource(item);
      if (!src) {
        return Status(Code::kInvalidValue,
                      "unknown source '" + item + "' (want stdout, stderr, sdk, user or system)");
      }
      f.source_mask |= 1u << static_cast<int>(*src);
      return Status::Ok();
    });
    if (!s.ok()) return s;
  }
  if (auto* v = get("writer")) {
    (void)ForEachListItem(*v, [&](const std::string& item) {  // never fails: every item is kept
      f.writers.push_back(item);
      return Status::Ok();
    });
  }
  if (auto* v = get("search")) f.search = *v;
  if (auto* v = get("regex")) f.regex = *v;
  // Field filters: field=loss>1.5,rank=3 or, as written in the search box, field.loss>1.5 and
  // field.rank=3 as parameters of their own (the query splits "field.rank=3" at its '=', so the
  // expression is the name, '=' and the value again; a name alone tests that the field exists).
  std::vector<std::string> exprs;
  if (auto* v = get("field")) {
    Status s = ForEachListItem(*v, [&](const std::string& item) {
      exprs.push_back(item);
      return Status::Ok();
    });
    if (!s.ok()) return s;
  }
  for (const auto& [key, value] : q) {
    if (key.rfind("field.", 0) != 0) continue;
    std::string expr = key.substr(6);
    if (!value.empty()) expr += "=" + value;
    exprs.push_back(std::move(expr));
  }
  if (exprs.size() > kMaxFieldPredicates) {
    return Status(Code::kInvalidValue, "at most " + std::to_string(kMaxFieldPredicates) +
                                           " field filters, not " + std::to_string(exprs.size()));
  }
  for (const std::string& e : exprs) {
    auto p = FieldPredicate::Parse(e);
    if (!p.ok()) return p.status();
    f.fields.push_back(std::move(*p));
  }
  for (const char* key : {"since", "until"}) {
    if (auto* v = get(key); v && !v->empty()) {
      auto t = ParseIsoMicros(*v);
      if (!t) {
        return Status(Code::kInvalidValue, std::string(key) + ": '" + *v +
                                               "' is not an ISO 8601 time (e.g. "
                                               "2024-11-16T10:00:00Z)");
      }
      (std::string_view(key) == "since" ? f.since_us : f.until_us) = *t;
    }
  }
  return f;
}

Result<std::optional<int64_t>> OptIntParam(const std::map<std::string, std::string>& q,
                                           const std::string& name) {
  auto it = q.find(name);
  if (it == q.end() || it->second.empty()) return std::optional<int64_t>();
  int64_t v = 0;
  const std::string& s = it->second;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) {
    return Status(Code::kInvalidValue, name + ": '" + s + "' is not an integer");
  }
  return std::optional<int64_t>(v);
}

Result<std::optional<int64_t>> LineParam(const std::map<std::string, std::string>& q,
                                         const std::string& name) {
  auto v = OptIntParam(q, name);
  if (!v.ok() || !*v) return v;
  if (**v < 0 || **v > kMaxLineParam) {
    return Status(Code::kInvalidValue, name + " must be between 0 and " +
                                           std::to_string(kMaxLineParam) + ", got " +
                                           std::to_string(**v));
  }
  return v;
}

Result<int64_t> IntParam(const std::map<std::string, std::string>& q, const std::string& name,
                         int64_t fallback, int64_t min, int64_t max) {
  auto v = OptIntParam(q, name);
  if (!v.ok()) return v.status();
  if (!*v) return fallback;
  if (**v < min || **v > max) {
    return Status(Code::kInvalidValue, name + " must be between " + std::to_string(min) + " and " +
                                           std::to_string(max) + ", got " + std::to_string(**v));
  }
  return **v;
}

}  // namespace wanllmdb
