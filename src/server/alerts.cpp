#include "server/alerts.h"

#include <simdjson.h>

#include <algorithm>
#include <iterator>
#include <map>
#include <optional>

#include "client/http_client.h"
#include "core/backoff.h"
#include "core/problem_rules.h"
#include "core/thread_name.h"
#include "core/time_util.h"
#include "server/json_in.h"
#include "server/json_out.h"
#include "store/problem_events.h"

namespace wanllmdb {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

constexpr size_t kMaxQueuedEvents = 100000;
// One at a time: a claimed delivery is attempted at once, even when Stop comes meanwhile.
constexpr int kClaimBatch = 1;
// A claimed delivery is another node's again this long after its attempt's timeout (the
// claiming node died mid-attempt).
constexpr int64_t kLeaseUs = 30'000'000;
constexpr auto kPollInterval = std::chrono::seconds(1);
constexpr auto kPruneInterval = std::chrono::minutes(10);

// http(s)://host[:port][/path]: the host is letters, digits, '.', '-', or [IPv6]; no user info,
// no spaces or control characters anywhere.
Status ValidateUrl(const std::string& url) {
  if (url.empty() || url.size() > kMaxWebhookUrlBytes)
    return Status(Code::kInvalidValue,
                  "url: 1 to " + std::to_string(kMaxWebhookUrlBytes) + " bytes");
  for (unsigned char c : url)
    if (c <= 0x20 || c >= 0x7f)
      return Status(Code::kInvalidValue, "url: no spaces, control or non-ASCII characters");
  std::string_view rest = url;
  if (rest.rfind("https://", 0) == 0) {
    rest.remove_prefix(8);
  } else if (rest.rfind("http://", 0) == 0) {
    rest.remove_prefix(7);
  } else {
    return Status(Code::kInvalidValue, "url: the scheme must be http or https");
  }
  std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  if (authority.find('@') != std::string_view::npos)
    return Status(Code::kInvalidValue, "url: no user or password in the URL");
  std::string_view host = authority, port;
  if (!authority.empty() && authority[0] == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return Status(Code::kInvalidValue, "url: bad IPv6 host");
    host = authority.substr(0, close + 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return Status(Code::kInvalidValue, "url: bad host");
      port = authority.substr(close + 2);
    }
  } else if (size_t colon = authority.find(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
    for (char c : host)
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-'))
        return Status(Code::kInvalidValue, "url: bad host");
  }
  if (host.empty() || host.size() > 253)
    return Status(Code::kInvalidValue, "url: a host is required");
  if (authority.find(':') != std::string_view::npos || !port.empty()) {
    if (port.empty() || port.size() > 5 ||
        !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
        std::stoi(std::string(port)) < 1 || std::stoi(std::string(port)) > 65535)
      return Status(Code::kInvalidValue, "url: the port must be 1 to 65535");
  }
  return Status::Ok();
}

std::string KindLabel(std::string_view kind) {
  static const std::map<std::string_view, std::string_view> kLabels = {
      {"killed", "killed"},
      {"segfault", "a segfault"},
      {"cuda_oom", "CUDA out of memory"},
      {"nccl_timeout", "an NCCL timeout"},
      {"nccl_error", "an NCCL error"},
      {"disk_full", "a full disk"},
      {"signal", "a fatal signal"},
      {"assertion", "an assertion failure"},
      {"traceback", "a traceback"},
      {"nan_loss", "a NaN loss"},
      {"stalled", "no output (stalled)"},
      {"custom", "a project rule"}};
  auto it = kLabels.find(kind);
  return std::string(it == kLabels.end() ? kind : it->second);
}

std::string RunLabel(const RunInfo& r) {
  return r.name.empty() ? r.id.substr(0, 8) : r.name;
}

}  // namespace

Result<Webhook> ParseWebhook(std::string_view json) {
  simdjson::dom::parser parser;
  element root;
  if (parser.parse(json.data(), json.size()).get(root))
    return Status(Code::kMalformedJson, "the body is not JSON");
  if (root.type() != element_type::OBJECT)
    return Status(Code::kBadRequest, "the body must be a JSON object");
  Webhook h;
  auto url = OptStringField(root, "url", kMaxWebhookUrlBytes);
  if (!url.ok()) return url.status();
  if (url->empty()) return Status(Code::kBadRequest, "url: is required");
  if (Status st = ValidateUrl(*url); !st.ok()) return st;
  h.url = *url;
  auto format = OptStringField(root, "format", 16);
  if (!format.ok()) return format.status();
  if (!format->empty()) {
    if (*format != "json" && *format != "slack")
      return Status(Code::kInvalidValue, "format: json or slack");
    h.format = *format;
  }
  element v;
  if (!root.at_key("problem_kinds").get(v) && v.type() != element_type::NULL_VALUE) {
    if (v.type() != element_type::ARRAY)
      return Status(Code::kBadRequest, "problem_kinds: must be an array");
    simdjson::dom::array kinds = v.get_array().value_unsafe();
    for (element k : kinds) {
      if (k.type() != element_type::STRING)
        return Status(Code::kBadRequest, "problem_kinds: must be strings");
      std::string kind(k.get_string().value_unsafe());
      if (kind != "*" && !IsProblemKind(kind))
        return Status(Code::kInvalidValue,
                      "problem_kinds: unknown kind '" + kind.substr(0, 64) + "'");
      if (std::find(h.problem_kinds.begin(), h.problem_kinds.end(), kind) == h.problem_kinds.end())
        h.problem_kinds.push_back(kind);
      if (h.problem_kinds.size() > 32)
        return Status(Code::kInvalidValue, "problem_kinds: too many");
    }
  }
  for (auto [key, field] :
       {std::pair{"on_run_end", &h.on_run_end}, std::pair{"on_stall", &h.on_stall}}) {
    if (!root.at_key(key).get(v) && v.type() != element_type::NULL_VALUE) {
      if (v.type() != element_type::BOOL)
        return Status(Code::kBadRequest, std::string(key) + ": must be true or false");
      *field = v.get_bool().value_unsafe();
    }
  }
  return h;
}

std::vector<Webhook> ParseWebhookList(std::string_view json) {
  std::vector<Webhook> out;
  simdjson::dom::parser parser;
  element root;
  if (parser.parse(json.data(), json.size()).get(root) || root.type() != element_type::ARRAY)
    return out;
  simdjson::dom::array items = root.get_array().value_unsafe();
  for (element item : items) {
    std::string text = simdjson::minify(item);
    auto h = ParseWebhook(text);
    if (!h.ok()) continue;
    element v;
    if (!item.at_key("id").get(v) && v.type() == element_type::STRING)
      h->id = std::string(v.get_string().value_unsafe());
    if (!item.at_key("created_at_us").get(v) && v.type() == element_type::INT64)
      h->created_at_us = v.get_int64().value_unsafe();
    out.push_back(std::move(*h));
  }
  return out;
}

void AppendWebhookMembers(JsonOut& j, const Webhook& h) {
  j.Key("id").String(h.id);
  j.Key("url").String(h.url);
  j.Key("format").String(h.format);
  j.Key("problem_kinds").BeginArray();
  for (const auto& k : h.problem_kinds) j.String(k);
  j.EndArray();
  j.Key("on_run_end").Bool(h.on_run_end);
  j.Key("on_stall").Bool(h.on_stall);
}

std::string WebhookListJson(const std::vector<Webhook>& hooks) {
  JsonOut j;
  j.BeginArray();
  for (const auto& h : hooks) {
    j.BeginObject();
    AppendWebhookMembers(j, h);
    j.Key("created_at_us").Int(h.created_at_us);
    j.EndObject();
  }
  j.EndArray();
  return j.Take();
}

Alerts::Alerts(LogStore& store, AlertOptions options) : store_(store), options_(options) {}

Alerts::~Alerts() {
  Stop();
}

void Alerts::Start() {
  if (!thread_.joinable()) {
    thread_ = std::thread([this] { Loop(); });
    NameThread(thread_, "wl-alerts");
  }
}

void Alerts::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Alerts::ProblemsFound(const std::string& run_id, const std::vector<std::string>& kinds) {
  if (kinds.empty()) return;
  {
    std::lock_guard lock(mu_);
    for (const auto& k : kinds) {
      if (events_.size() >= kMaxQueuedEvents) break;
      events_.push_back({"problem", run_id, k});
    }
  }
  cv_.notify_all();
}

void Alerts::RunEnded(const std::string& run_id, RunState state) {
  if (state != RunState::kFailed && state != RunState::kCrashed) return;
  {
    std::lock_guard lock(mu_);
    if (events_.size() >= kMaxQueuedEvents) return;
    events_.push_back({"run_ended", run_id, ""});
  }
  cv_.notify_all();
}

void Alerts::Stalled(const std::string& run_id) {
  {
    std::lock_guard lock(mu_);
    if (events_.size() >= kMaxQueuedEvents) return;
    events_.push_back({"stalled", run_id, "stalled"});
  }
  cv_.notify_all();
}

void Alerts::Loop() {
  // The first pass delivers what a previous process (or a node that died) left pending.
  auto last_prune = std::chrono::steady_clock::time_point();
  std::deque<Event> retry;  // events whose enqueueing failed (the store was down)
  std::unique_lock lock(mu_);
  while (true) {
    std::deque<Event> events;
    events.swap(events_);
    const bool stopping = stopping_;
    lock.unlock();
    events.insert(events.begin(), std::make_move_iterator(retry.begin()),
                  std::make_move_iterator(retry.end()));
    retry.clear();
    for (Event& e : events) {
      if (!Resolve(e) && retry.size() < kMaxQueuedEvents) retry.push_back(std::move(e));
    }
    // Stopping: what was queued is in the outbox now, for the next process; no more posting.
    if (stopping) return;
    DeliverDue();
    const auto now = std::chrono::steady_clock::now();
    if (now - last_prune > kPruneInterval) {
      (void)store_.PruneDeliveries(kKeptDeliveries);  // tried again at the next interval
      last_prune = now;
    }
    // Wake for the next due delivery, to look for ones other nodes left (their leases ended),
    // or to enqueue the events the store refused.
    auto wake = now + kPollInterval;
    if (auto due = store_.NextDeliveryDue(); due.ok() && *due) {
      // At least 50 ms: one still due after DeliverDue is one whose claim failed; no spinning.
      const int64_t in_us = std::max<int64_t>(**due - NowMicros(), 50'000);
      wake = std::min(wake, now + std::chrono::microseconds(in_us));
    }
    lock.lock();
    cv_.wait_until(lock, wake, [&] { return stopping_ || !events_.empty(); });
  }
}

bool Alerts::Resolve(const Event& e) {
  auto run = store_.GetRun(e.run_id);
  if (!run.ok()) return run.status().code() == Code::kNotFound;  // deleted: nothing to tell
  auto stored = store_.GetProjectSetting(run->project, kWebhooksKey);
  if (!stored.ok()) return stored.status().code() == Code::kNotFound;
  if (!stored->has_value()) return true;
  auto hooks = ParseWebhookList(**stored);
  std::optional<ProblemEvent> problem;
  std::string key = e.kind;  // a run's first problem of a kind; a run ends badly once
  if (e.type == "problem" || e.type == "stalled") {
    auto rows = store_.ProblemsOfRuns({e.run_id});
    if (!rows.ok()) return false;
    for (auto& ev : FoldProblems(*rows)) {
      if (ev.kind == e.kind && (!problem || ev.first_line < problem->first_line)) problem = ev;
    }
    if (!problem) return true;
    if (e.type == "stalled") {
      // A silence is known by the run's last line before it (StallWatch): every node's sweep
      // of the same silence is one event; a new silence after more output is another.
      int64_t line = 0;
      for (const auto& w : problem->writers) line = std::max(line, w.last_seen_line);
      key = "stalled@" + std::to_string(line);
    }
  }
  bool ok = true;
  for (const Webhook& h : hooks) {
    bool wanted = false;
    if (e.type == "problem") {
      wanted =
          std::find(h.problem_kinds.begin(), h.problem_kinds.end(), e.kind) !=
              h.problem_kinds.end() ||
          std::find(h.problem_kinds.begin(), h.problem_kinds.end(), "*") != h.problem_kinds.end();
      if (e.kind == "stalled") wanted = false;  // stalls go by on_stall
    } else if (e.type == "stalled") {
      wanted = h.on_stall;
    } else {
      wanted = h.on_run_end;
    }
    if (!wanted) continue;
    std::string text;
    const std::string who = "run " + RunLabel(*run) + " (project " + run->project + ")";
    if (e.type == "run_ended") {
      text = who + " ended " + std::string(RunStateName(run->state)) +
             (run->exit_code ? " with exit code " + std::to_string(*run->exit_code) : "");
    } else {
      text =
          who + " hit " + KindLabel(problem->kind) + ": " + problem->title + " (line " +
          std::to_string(problem->first_line) +
          (problem->writers.size() > 1 ? ", × " + std::to_string(problem->writers.size()) + " ranks"
                                       : "") +
          ")";
    }
    const int64_t now = NowMicros();
    JsonOut j;
    j.BeginObject();
    if (h.format == "slack") {
      j.Key("text").String("wanLLMDB: " + text);
    } else {
      j.Key("event").String(e.type);
      // The same on every attempt and node: a receiver drops the rare repeat of at-least-once.
      j.Key("event_id").String(e.run_id + "/" + e.type + (key.empty() ? "" : "/" + key));
      j.Key("text").String(text);
      j.Key("project").String(run->project);
      j.Key("run");
      j.BeginObject();
      j.Key("id").String(run->id);
      j.Key("name").String(run->name);
      j.Key("state").String(RunStateName(run->state));
      j.Key("exit_code").OptInt(run->exit_code);
      j.EndObject();
      if (problem) {
        j.Key("problem");
        j.Problem(*problem, /*short_form=*/true);
      }
      j.Key("sent_at").Timestamp(now);  // when the event was queued: every attempt posts this
    }
    j.EndObject();
    WebhookDelivery d;
    d.project = run->project;
    d.webhook_id = h.id;
    d.event = e.type;
    d.run_id = e.run_id;
    d.key = key;
    d.body = j.Take();
    d.next_attempt_us = now;
    // Already there: another node (or an earlier process) queued this event for this hook.
    if (!store_.EnqueueDelivery(d).ok()) ok = false;
  }
  return ok;
}

void Alerts::DeliverDue() {
  while (true) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
    }
    auto claimed =
        store_.ClaimDeliveries(NowMicros(), kLeaseUs + options_.timeout_ms * 2000LL, kClaimBatch);
    if (!claimed.ok() || claimed->empty()) return;
    bool recorded = true;
    for (const WebhookDelivery& d : *claimed) recorded &= Attempt(d);
    if (!recorded) return;  // the store is failing: wait before claiming again
  }
}

bool Alerts::Attempt(const WebhookDelivery& d) {
  // The webhook as it is now: a deleted one's deliveries are given up, not posted.
  std::optional<Webhook> hook;
  if (auto stored = store_.GetProjectSetting(d.project, kWebhooksKey);
      stored.ok() && stored->has_value()) {
    for (auto& h : ParseWebhookList(**stored))
      if (h.id == d.webhook_id) hook = std::move(h);
  }
  int status = 0;
  std::string error;
  if (!hook) {
    error = "the webhook was deleted";
  } else if (auto url = ParseServerUrl(hook->url); !url.ok()) {
    error = url.status().message();
  } else {
    std::string_view rest = hook->url;
    rest.remove_prefix(rest.find("//") + 2);
    size_t slash = rest.find_first_of("/?");
    std::string target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
    if (target[0] == '?') target = "/" + target;
    HttpConnection conn(*url, "", options_.timeout_ms);
    auto reply = conn.Request("POST", target, d.body);
    if (!reply.ok()) {
      error = reply.status().message();
    } else {
      status = reply->status;
      if (status < 200 || status >= 300)
        error = "HTTP " + std::to_string(status) + ": " + reply->body.substr(0, 200);
    }
  }
  DeliveryOutcome o;
  o.id = d.id;
  o.attempt = d.attempts;
  o.status = status;
  o.error = error.substr(0, 300);
  if (error.empty()) {
    o.state = DeliveryState::kDelivered;
  } else if (!hook || d.attempts >= options_.max_attempts) {
    o.state = DeliveryState::kGaveUp;
  } else {
    // The one backoff rule: capped exponential with jitter, the attempt-th delay.
    Backoff b(options_.retry_initial_s, options_.retry_max_s);
    double delay = 0;
    for (int i = 0; i < d.attempts; ++i) delay = b.Next();
    o.next_attempt_us = NowMicros() + static_cast<int64_t>(delay * 1e6);
  }
  // A failed record leaves the delivery as claimed: attempted again when it is due (PostgreSQL:
  // when the lease ends).
  return store_.RecordDeliveryAttempt(o).ok();
}

}  // namespace wanllmdb
