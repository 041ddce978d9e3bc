#include "store/pg_bus.h"

#include <libpq-fe.h>
#include <sys/select.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <thread>

#include "core/backoff.h"
#include "core/thread_name.h"
#include "store/pg_conn.h"

namespace wanllmdb {
namespace {

constexpr size_t kMaxProgressMessage = 7000;  // NOTIFY payloads end at 8000 bytes

std::string Cut(std::string_view s, size_t max) {
  if (s.size() <= max) return std::string(s);
  size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;  // UTF-8 boundary
  return std::string(s.substr(0, n));
}

// Splits off the next space-separated field.
bool Field(std::string_view* s, std::string_view* out) {
  size_t sp = s->find(' ');
  if (sp == std::string_view::npos) {
    if (s->empty()) return false;
    *out = *s;
    *s = {};
    return true;
  }
  *out = s->substr(0, sp);
  *s = s->substr(sp + 1);
  return true;
}

bool ToInt(std::string_view s, int64_t* v) {
  if (s.empty()) return false;
  bool neg = s[0] == '-';
  size_t i = neg ? 1 : 0;
  if (i == s.size()) return false;
  int64_t r = 0;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    r = r * 10 + (s[i] - '0');
  }
  *v = neg ? -r : r;
  return true;
}

// Parses a payload from another node; false for our own or a malformed one.
bool Parse(std::string_view p, const std::string& self, BusMessage* m) {
  std::string_view kind, node, run;
  if (!Field(&p, &kind) || !Field(&p, &node) || !Field(&p, &run)) return false;
  if (node == self) return false;
  m->run_id = std::string(run);
  std::string_view f;
  if (kind == "c") {
    m->kind = BusMessage::Kind::kCommit;
    return Field(&p, &f) && ToInt(f, &m->last_line);
  }
  if (kind == "s") {
    m->kind = BusMessage::Kind::kRunState;
    if (!Field(&p, &f)) return false;
    auto st = ParseRunState(f);
    if (!st) return false;
    m->state = *st;
    int64_t code;
    if (Field(&p, &f) && ToInt(f, &code)) m->exit_code = code;
    return true;
  }
  if (kind == "x") {
    m->kind = BusMessage::Kind::kCleared;
    if (Field(&p, &f) && !ToInt(f, &m->clears)) return false;
    return true;
  }
  if (kind == "p") {
    m->kind = BusMessage::Kind::kProgress;
    auto line = std::make_shared<LogLine>();
    int64_t ts, level, source, wlen;
    if (!Field(&p, &f) || !ToInt(f, &ts) || !Field(&p, &f) || !ToInt(f, &level) || !Field(&p, &f) ||
        !ToInt(f, &source) || !Field(&p, &f) || !ToInt(f, &wlen))
      return false;
    if (level < 0 || level >= kLevelCount || source < 0 || source >= kSourceCount || wlen < 0 ||
        static_cast<size_t>(wlen) > p.size())
      return false;
    line->timestamp_us = ts;
    line->level = static_cast<Level>(level);
    line->source = static_cast<Source>(source);
    line->writer = std::string(p.substr(0, wlen));
    p = p.substr(wlen);
    if (!p.empty() && p[0] == ' ') p = p.substr(1);
    line->message = std::string(p);
    m->partial = std::move(line);
    return true;
  }
  return false;
}

// Thread-safety: thread-safe; the sink is set before Start and then only read.
class PgBus final : public LiveBus {
 public:
  PgBus(std::string conninfo, std::string node)
      : conninfo_(std::move(conninfo)), node_(std::move(node)), notify_(conninfo_) {}
  ~PgBus() override { Close(); }

  void SetSink(BusSink sink) override {
    sink_ = std::move(sink);
    listener_ = std::thread([this] { ListenLoop(); });
    NameThread(listener_, "wl-pg-listen");
  }

  void Publish(const BusMessage& m) override {
    if (sink_) sink_(m);
    std::string payload;
    switch (m.kind) {
      case BusMessage::Kind::kRunState:
        payload = "s " + node_ + " " + m.run_id + " " + std::string(RunStateName(m.state)) + " " +
                  (m.exit_code ? std::to_string(*m.exit_code) : "-");
        break;
      case BusMessage::Kind::kCleared:
        payload = "x " + node_ + " " + m.run_id + " " + std::to_string(m.clears);
        break;
      case BusMessage::Kind::kProgress:
        if (!m.partial) return;
        payload = "p " + node_ + " " + m.run_id + " " + std::to_string(m.partial->timestamp_us) +
                  " " + std::to_string(static_cast<int>(m.partial->level)) + " " +
                  std::to_string(static_cast<int>(m.partial->source)) + " " +
                  std::to_string(m.partial->writer.size()) + " " + m.partial->writer + " " +
                  Cut(m.partial->message, kMaxProgressMessage);
        break;
      case BusMessage::Kind::kCommit:
        payload = PgBusCommitPayload(node_, m.run_id, m.last_line);
        break;
      case BusMessage::Kind::kResync:
        return;
    }
    std::lock_guard lock(notify_mu_);
    Status s = notify_.Ensure();
    if (s.ok())
      s = notify_.Exec("SELECT pg_notify($1, $2)", PgParams().Text(kPgBusChannel).Text(payload));
    if (!s.ok()) {
      // Viewers on other nodes miss this frame; a state change or clear is still in the store
      // and reaches them on their next resync or reconnect.
      notify_.Close();
      std::fprintf(stderr, "wanllmdb: live bus notify failed: %s\n", s.message().c_str());
    }
  }

  void PublishLocalCommit(const CommitEvent& e) override {
    BusMessage m;
    m.kind = BusMessage::Kind::kCommit;
    m.run_id = e.run_id;
    m.first_line = e.first_line;
    m.last_line = e.last_line;
    m.lines = e.lines;
    if (sink_) sink_(m);  // the store notified the other nodes inside the commit
  }

  void Close() override {
    if (stopping_.exchange(true)) return;
    if (listener_.joinable()) listener_.join();
  }

 private:
  void ListenLoop() {
    PgConn conn(conninfo_);
    conn.SetSetup({"SET application_name = 'wanllmdb listen'"});
    bool ever_connected = false;
    Backoff backoff(0.1, 2.0);
    while (!stopping_) {
      Status s = conn.Ensure();
      if (s.ok()) s = conn.Exec(std::string("LISTEN ") + kPgBusChannel);
      if (!s.ok()) {
        conn.Close();
        SleepFor(std::chrono::duration_cast<std::chrono::milliseconds>(
            std::chrono::duration<double>(backoff.Next())));
        continue;
      }
      backoff.Reset();
      if (ever_connected && sink_) {
        BusMessage m;
        m.kind = BusMessage::Kind::kResync;  // anything may have been missed while away
        sink_(m);
      }
      ever_connected = true;
      while (!stopping_ && conn.connected()) {
        int fd = PQsocket(conn.handle());
        if (fd < 0) break;
        fd_set fds;
        FD_ZERO(&fds);
        FD_SET(fd, &fds);
        timeval tv{0, 200 * 1000};  // wake up to see stopping_
        int r = select(fd + 1, &fds, nullptr, nullptr, &tv);
        if (r < 0) break;
        if (r == 0) continue;
        if (!PQconsumeInput(conn.handle())) break;
        while (PGnotify* n = PQnotifies(conn.handle())) {
          BusMessage m;
          if (Parse(n->extra, node_, &m) && sink_) sink_(m);
          PQfreemem(n);
        }
      }
      conn.Close();
    }
  }

  void SleepFor(std::chrono::milliseconds d) {
    auto until = std::chrono::steady_clock::now() + d;
    while (!stopping_ && std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }

  const std::string conninfo_;
  const std::string node_;
  BusSink sink_;
  std::atomic<bool> stopping_{false};
  std::thread listener_;
  std::mutex notify_mu_;
  PgConn notify_;  // Guarded by notify_mu_
};

}  // namespace

std::string PgBusCommitPayload(const std::string& node, const std::string& run_id,
                               int64_t last_line) {
  return "c " + node + " " + run_id + " " + std::to_string(last_line);
}

std::unique_ptr<LiveBus> NewPgBus(const std::string& conninfo, const std::string& node_id) {
  return std::make_unique<PgBus>(conninfo, node_id);
}

}  // namespace wanllmdb
