// GET/PUT /projects/{project}/retention (doc/api.md "Retention").
#include "core/time_util.h"
#include "server/api.h"
#include "server/http_util.h"
#include "server/json_in.h"
#include "server/retention_json.h"

namespace wanllmdb {

ApiResponse Api::GetRetention(const std::string& project) {
  auto own = store_.GetRetention(project);
  if (!own.ok()) return ErrorResponse(own.status());
  return JsonResponse(200, RetentionJson(project, *own, options_.retention_defaults));
}

ApiResponse Api::PutRetention(const std::string& project, ApiRequest& req) {
  auto body = ParseJsonObjectBody(req.body);
  if (!body.ok()) return ErrorResponse(body.status());
  auto policy = ParseRetentionBody(*body);
  if (!policy.ok()) return ErrorResponse(policy.status());
  policy->updated_at_us = NowMicros();
  if (Status s = store_.SetRetention(project, *policy); !s.ok()) return ErrorResponse(s);
  return GetRetention(project);
}

}  // namespace wanllmdb
