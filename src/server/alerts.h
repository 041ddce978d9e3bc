// Alerts (doc/alerts.md): per-project webhooks that fire on a run's first problem of a chosen
// kind, on a run ending failed or crashed, and on a stalled run. Never on the ingest path:
// events are queued in memory (a mutex and a push); the delivery thread resolves runs and
// webhooks, builds the payloads and enqueues them in the store's outbox (LogStore::
// EnqueueDelivery), then claims due deliveries from it and posts them, retrying with the one
// backoff rule (core/backoff.h) until a 2xx or the last attempt.
//
// Delivered at least once across restarts and nodes: the outbox is in the store, so a
// delivery pending when a process stops is claimed by the next one (or another node); the
// store decides a run's first problem of a kind in the append's transaction
// (IngestResult::new_problem_kinds), and the outbox's (webhook, event, run, key) is unique, so
// neither a restart nor a second node alerts an event twice. What is lost: events queued in
// memory but not yet enqueued when the process is killed (Stop enqueues them; SIGKILL does not).
//
// Webhooks are a project setting ("webhooks", JSON); their delivery log is read from the store.
//
// Thread-safety: thread-safe; one delivery thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "store/log_store.h"

namespace wanllmdb {

class JsonOut;  // server/json_out.h

struct Webhook {
  std::string id;
  std::string url;
  std::string format = "json";             // "json" (generic) or "slack" ({"text": ...})
  std::vector<std::string> problem_kinds;  // a run's first problem of these kinds; "*" = any
  bool on_run_end = true;                  // a run ending failed or crashed
  bool on_stall = true;                    // a stalled run (also when "stalled" is not a kind)
  int64_t created_at_us = 0;
};
inline constexpr size_t kMaxWebhooksPerProject = 20;
inline constexpr size_t kMaxWebhookUrlBytes = 2048;
inline constexpr const char* kWebhooksKey = "webhooks";

// Parses one webhook from a request body (a new id and time are set by the caller).
// kBadRequest / kInvalidValue: a URL that is not http(s)://host[:port][/path], too long, or with
// credentials, control characters or spaces; an unknown format or kind.
Result<Webhook> ParseWebhook(std::string_view json);
// The stored list (unreadable: empty).
std::vector<Webhook> ParseWebhookList(std::string_view json);
std::string WebhookListJson(const std::vector<Webhook>& hooks);
// Writes a webhook's settings (id, url, format, problem_kinds, on_run_end, on_stall) into an open
// object: the stored list and the API's answer share them (each adds its own time and state).
void AppendWebhookMembers(JsonOut& j, const Webhook& h);

inline constexpr int kRecentDeliveries = 20;  // the log's latest deliveries (API, UI)
inline constexpr int kKeptDeliveries = 100;   // finished deliveries kept per webhook

struct AlertOptions {
  double retry_initial_s = 1, retry_max_s = 60;  // Backoff between attempts of one delivery
  int max_attempts = 10;
  int timeout_ms = 5000;  // one attempt
};

class Alerts {
 public:
  Alerts(LogStore& store, AlertOptions options);
  ~Alerts();
  Alerts(const Alerts&) = delete;
  Alerts& operator=(const Alerts&) = delete;
  void Start();
  void Stop();

  // Events (cheap: queued). `kinds`: the problem kinds new to the run
  // (IngestResult::new_problem_kinds).
  void ProblemsFound(const std::string& run_id, const std::vector<std::string>& kinds);
  void RunEnded(const std::string& run_id, RunState state);
  void Stalled(const std::string& run_id);

 private:
  struct Event {
    std::string type, run_id, kind;  // kind: the problem kind (type "problem")
  };
  void Loop();
  // Enqueues the event's deliveries. False when the store failed (the event is tried again).
  bool Resolve(const Event& e);
  // Claims and attempts every due delivery; returns when none is due (or stopping).
  void DeliverDue();
  // One POST; records the outcome. False when the store did not take the record.
  bool Attempt(const WebhookDelivery& d);

  LogStore& store_;
  const AlertOptions options_;
  std::thread thread_;

  std::mutex mu_;
  std::condition_variable cv_;
  // Guarded by mu_:
  bool stopping_ = false;
  std::deque<Event> events_;
};

}  // namespace wanllmdb
