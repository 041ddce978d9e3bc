// Alerts (doc/alerts.md): per-project webhooks that fire on a run's first problem of a chosen
// kind, on a run ending failed or crashed, and on a stalled run. Delivered at least once while
// the server runs: each delivery is retried with the one backoff rule (core/backoff.h) until it
// gets a 2xx or runs out of attempts. Never on the ingest path: events are queued (a mutex and a
// push) and a delivery thread resolves runs and webhooks, builds payloads and posts them.
//
// Webhooks are a project setting ("webhooks", JSON). The delivery log (counts, last status, last
// error, the latest deliveries) is kept in this process's memory.
//
// Thread-safety: thread-safe; one delivery thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
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

struct DeliveryRecord {
  int64_t at_us = 0;
  std::string event;  // "problem", "run_ended", "stalled"
  std::string run_id;
  int attempt = 1;
  int status = 0;     // HTTP status; 0: no answer
  std::string error;  // empty on success
};

struct DeliveryLog {
  int64_t delivered = 0, failed_attempts = 0, gave_up = 0, pending = 0;
  int last_status = 0;
  std::string last_error;
  std::optional<int64_t> last_attempt_us, last_success_us;
  std::deque<DeliveryRecord> recent;  // newest first, at most kRecent
  static constexpr size_t kRecent = 20;
};

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

  // Events (cheap: queued). `kinds`: the problem kinds a batch of the run found.
  void ProblemsFound(const std::string& run_id, const std::vector<std::string>& kinds);
  void RunEnded(const std::string& run_id, RunState state);
  void Stalled(const std::string& run_id);

  DeliveryLog LogOf(const std::string& webhook_id);

 private:
  struct Event {
    std::string type, run_id, kind;  // kind: the problem kind (type "problem")
  };
  struct Delivery {
    Webhook hook;
    std::string event, run_id, body;
    int attempt = 0;
    std::chrono::steady_clock::time_point due;
    double next_backoff_s = 0;
  };
  void Loop();
  void Resolve(const Event& e);  // → deliveries
  void Attempt(Delivery& d);     // one POST; records the outcome
  void Record(const Delivery& d, int status, const std::string& error, bool done);

  LogStore& store_;
  const AlertOptions options_;
  const int64_t started_us_;
  std::thread thread_;

  std::mutex mu_;
  std::condition_variable cv_;
  // Guarded by mu_:
  bool stopping_ = false;
  std::deque<Event> events_;
  std::map<std::string, DeliveryLog> logs_;                // by webhook id
  std::set<std::pair<std::string, std::string>> alerted_;  // (run, kind) first problems sent

  // Delivery thread only.
  std::vector<Delivery> pending_;
};

}  // namespace wanllmdb
