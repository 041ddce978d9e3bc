// Webhooks of a project (doc/alerts.md): list with each one's delivery log, add, delete.
#include "core/time_util.h"
#include "core/uuid.h"
#include "server/alerts.h"
#include "server/api.h"
#include "server/http_util.h"
#include "server/json_out.h"

namespace wanllmdb {
namespace {

Result<std::vector<Webhook>> LoadHooks(LogStore& store, const std::string& project) {
  auto stored = store.GetProjectSetting(project, kWebhooksKey);
  if (!stored.ok()) return stored.status();
  if (!stored->has_value()) return std::vector<Webhook>();
  return ParseWebhookList(**stored);
}

// The webhook with its delivery log, read from the store: the same on every node and after a
// restart. `recent` lists deliveries (each with its latest attempt), latest changed first.
Status HookJson(LogStore& store, JsonOut& j, const Webhook& h) {
  auto log = store.WebhookDeliveryLog(h.id, kRecentDeliveries);
  if (!log.ok()) return log.status();
  j.BeginObject();
  AppendWebhookMembers(j, h);
  j.Key("created_at").Timestamp(h.created_at_us);
  j.Key("deliveries").BeginObject();
  j.Key("delivered").Int(log->delivered);
  j.Key("failed_attempts").Int(log->failed_attempts);
  j.Key("gave_up").Int(log->gave_up);
  j.Key("pending").Int(log->pending);
  j.Key("last_status").Int(log->last_status);
  j.Key("last_error").String(log->last_error);
  j.Key("last_attempt_at").OptTimestamp(log->last_attempt_us);
  j.Key("last_success_at").OptTimestamp(log->last_success_us);
  j.Key("recent").BeginArray();
  for (const auto& r : log->recent) {
    j.BeginObject();
    j.Key("id").Int(r.id);
    j.Key("at").Timestamp(r.updated_us);
    j.Key("event").String(r.event);
    j.Key("run_id").String(r.run_id);
    j.Key("state").String(DeliveryStateName(r.state));
    j.Key("attempt").Int(r.attempts);
    j.Key("status").Int(r.last_status);
    j.Key("error").String(r.last_error);
    j.Key("next_attempt_at")
        .OptTimestamp(r.state == DeliveryState::kPending ? std::optional(r.next_attempt_us)
                                                         : std::nullopt);
    j.EndObject();
  }
  j.EndArray();
  j.EndObject();
  j.EndObject();
  return Status::Ok();
}

}  // namespace

ApiResponse Api::ListWebhooks(const std::string& project) {
  auto hooks = LoadHooks(store_, project);
  if (!hooks.ok()) return ErrorResponse(hooks.status());
  JsonOut j;
  j.BeginObject().Key("webhooks").BeginArray();
  for (const auto& h : *hooks)
    if (Status st = HookJson(store_, j, h); !st.ok()) return ErrorResponse(st);
  j.EndArray().EndObject();
  return JsonResponse(200, j.Take());
}

ApiResponse Api::AddWebhook(const std::string& project, ApiRequest& req) {
  auto hook = ParseWebhook(req.body);
  if (!hook.ok()) return ErrorResponse(hook.status());
  std::lock_guard lock(problem_settings_mu_);
  auto hooks = LoadHooks(store_, project);
  if (!hooks.ok()) return ErrorResponse(hooks.status());
  if (hooks->size() >= kMaxWebhooksPerProject)
    return ErrorResponse(
        Status(Code::kInvalidValue,
               "a project has at most " + std::to_string(kMaxWebhooksPerProject) + " webhooks"));
  hook->id = NewUuid().substr(0, 8) + NewUuid().substr(0, 4);
  hook->created_at_us = NowMicros();
  hooks->push_back(*hook);
  if (Status st = store_.PutProjectSetting(project, kWebhooksKey, WebhookListJson(*hooks));
      !st.ok())
    return ErrorResponse(st);
  JsonOut j;
  if (Status st = HookJson(store_, j, *hook); !st.ok()) return ErrorResponse(st);
  return JsonResponse(201, j.Take());
}

ApiResponse Api::DeleteWebhook(const std::string& project, const std::string& id) {
  std::lock_guard lock(problem_settings_mu_);
  auto hooks = LoadHooks(store_, project);
  if (!hooks.ok()) return ErrorResponse(hooks.status());
  auto it =
      std::find_if(hooks->begin(), hooks->end(), [&](const Webhook& h) { return h.id == id; });
  if (it == hooks->end())
    return ErrorResponse(
        Status(Code::kNotFound, "project '" + project + "' has no webhook " + id.substr(0, 64)));
  hooks->erase(it);
  if (Status st = store_.PutProjectSetting(project, kWebhooksKey, WebhookListJson(*hooks));
      !st.ok())
    return ErrorResponse(st);
  // Its pending deliveries are not posted (Alerts gives them up); its log goes with it.
  if (Status st = store_.ForgetWebhook(id); !st.ok()) return ErrorResponse(st);
  return NoContent();
}

}  // namespace wanllmdb
