#include "capture/agent.h"

#include <poll.h>
#include <signal.h>
#include <simdjson.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <deque>
#include <optional>
#include <vector>

#include "capture/captured_stream.h"
#include "capture/sync_marker.h"
#include "capture/uploader.h"
#include "core/time_util.h"

namespace wanllmdb {
namespace {

constexpr int kLingerMs = 500;
// How long an SDK message waits for its sync markers before it is stored anyway.
constexpr int64_t kMarkerWaitUs = 1000 * 1000;
// Past this much read but held back (behind a marker), a channel is not read: the writer waits.
constexpr size_t kMaxPending = 4 << 20;

// Optional fields keep their defaults when absent.
void Optional(simdjson::error_code) {}

void WriteStatus(int fd, const std::string& text) {
  if (fd < 0) return;
  std::string line = text + "\n";
  ssize_t ignored = ::write(fd, line.data(), line.size());
  (void)ignored;
}

struct FinishRequest {
  std::string state;
  std::optional<int64_t> exit_code;
};

// The server's limit on a line's fields (kMaxFieldsBytes): bigger ones are dropped here rather
// than have the server refuse the whole batch.
constexpr size_t kMaxAgentFieldsBytes = 16 * 1024;

// An SDK line message waiting for its sync markers (sync_marker.h).
struct HeldLines {
  int64_t sync = 0;
  bool marked[2] = {false, false};  // the SDK wrote the marker into fd 1 / fd 2
  int64_t received_us = 0;          // monotonic
  std::vector<std::string> lines;
  Source source = Source::kUser;
  int64_t ts_us = 0;
  std::string level;
  LineExtrasJson extras;
};

// One output channel with what was read but not yet passed on (it waits behind a marker whose
// message is not stored yet, or may be the start of a marker).
struct Channel {
  CapturedStream* stream;
  std::string pending;
  int64_t reached = 0;  // the highest marker read on this channel
  bool paused = false;  // stopped at marker `reached` until its message is stored
};

// Passes on pending bytes up to the next marker that must wait (or to a possible partial marker
// at the end). `released`: the highest sync id whose message is stored (its marker need not wait).
void Advance(Channel& c, int64_t released, bool final) {
  while (!c.pending.empty()) {
    if (c.paused) {
      if (c.reached > released) return;
      c.paused = false;
    }
    SyncMarker m = FindSyncMarker(c.pending);
    if (m.begin == SyncMarker::kNone) {
      size_t keep = final ? c.pending.size() : PartialSyncMarkerStart(c.pending);
      c.stream->Process(std::string_view(c.pending).substr(0, keep));
      c.pending.erase(0, keep);
      return;
    }
    c.stream->Process(std::string_view(c.pending).substr(0, m.begin));
    c.pending.erase(0, m.end);
    c.reached = std::max(c.reached, m.id);
    c.paused = !final;
  }
}

// Handles one control message: lines without "sync" are submitted at once, with it they are
// held; returns a FinishRequest for "finish".
std::optional<FinishRequest> HandleControl(std::string_view line, Uploader* uploader,
                                           simdjson::dom::parser* parser,
                                           std::deque<HeldLines>* held) {
  simdjson::dom::element doc;
  std::string_view type;
  if (parser->parse(line.data(), line.size()).get(doc) || doc["type"].get(type)) {
    std::fprintf(stderr, "wanllmdb agent: ignoring a malformed control message\n");
    return std::nullopt;
  }
  if (type == "lines") {
    std::string_view source_name = "user", level;
    double ts = 0;
    Optional(doc["source"].get(source_name));
    Optional(doc["level"].get(level));
    int64_t ts_us =
        doc["timestamp"].get(ts) ? NowMicros() : static_cast<int64_t>(std::llround(ts * 1e6));
    Source source = ParseSource(source_name).value_or(Source::kUser);
    simdjson::dom::array messages;
    if (doc["messages"].get(messages)) return std::nullopt;
    std::vector<std::string> lines;
    for (auto m : messages) {
      std::string_view text;
      if (!m.get(text)) lines.emplace_back(text);
    }
    // {"extra": {"level_name": "SUCCESS", "fields": {...}}}: the SDK's structured lines. Re-encoded
    // from the parsed value, so what reaches the batch is valid JSON whatever the SDK sent.
    LineExtrasJson extras;
    simdjson::dom::object extra;
    if (!doc["extra"].get(extra)) {
      std::string_view name;
      if (!extra["level_name"].get(name) && ParseAnyLevel(name))
        extras.level_name = std::string(name);
      simdjson::dom::object fields;
      if (!extra["fields"].get(fields)) {
        std::string compact = simdjson::minify(fields);
        if (compact.size() <= kMaxAgentFieldsBytes) extras.fields = std::move(compact);
      }
    }
    int64_t sync = 0;
    if (doc["sync"].get(sync) || sync <= 0) {
      uploader->Submit(lines, source, ts_us, level, &extras);
      return std::nullopt;
    }
    HeldLines h;
    h.sync = sync;
    simdjson::dom::array marked;
    if (!doc["marked"].get(marked)) {
      for (auto fd : marked) {
        int64_t v = 0;
        if (!fd.get(v) && (v == 1 || v == 2)) h.marked[v - 1] = true;
      }
    }
    h.received_us = MonotonicMicros();
    h.lines = std::move(lines);
    h.source = source;
    h.ts_us = ts_us;
    h.level = std::string(level);
    h.extras = std::move(extras);
    held->push_back(std::move(h));
    return std::nullopt;
  }
  if (type == "finish") {
    FinishRequest f;
    std::string_view state;  // null or absent: the run's state is not this process's to set
    Optional(doc["state"].get(state));
    f.state = std::string(state);
    int64_t code;
    if (!doc["exit_code"].get(code)) f.exit_code = code;
    return f;
  }
  return std::nullopt;
}

// Stores held messages whose markers have been read on every marked channel (or that waited
// kMarkerWaitUs: the marker went elsewhere, e.g. the script pointed fd 1 at a file), and lets the
// channels move on, in turns, so each message lands between the bytes before and after its
// markers. With `all` (the end) a message nothing else can get past is stored anyway.
void Release(std::deque<HeldLines>* held, Channel* channels, int64_t* released, Uploader* up,
             bool all) {
  while (true) {
    bool progress = false;
    for (int i = 0; i < 2; ++i) {
      Channel& c = channels[i];
      bool was_paused = c.paused;
      size_t before = c.pending.size();
      Advance(c, *released, false);
      if (was_paused != c.paused || before != c.pending.size()) progress = true;
    }
    if (!held->empty()) {
      HeldLines& h = held->front();
      bool ready = MonotonicMicros() - h.received_us >= kMarkerWaitUs;
      if (!ready) {
        ready = true;
        for (int i = 0; i < 2; ++i) {
          const Channel& c = channels[i];
          bool closed = !c.stream->open() && c.pending.empty();
          if (h.marked[i] && !closed && c.reached < h.sync) ready = false;
        }
      }
      if (!ready && all && !progress) ready = true;
      if (ready) {
        up->Submit(h.lines, h.source, h.ts_us, h.level, &h.extras);
        *released = std::max(*released, h.sync);
        held->pop_front();
        progress = true;
      }
    }
    if (!progress) return;
  }
}

}  // namespace

int RunAgent(const AgentOptions& o) {
  ::signal(SIGPIPE, SIG_IGN);
  // The script's Ctrl-C, or a terminal hangup, must not end the agent before it has drained.
  ::signal(SIGINT, SIG_IGN);
  ::signal(SIGHUP, SIG_IGN);
  UploaderOptions uo;
  uo.server = o.server;
  uo.api_key = o.api_key;
  uo.run_id = o.run_id;
  uo.run_body = o.run_body;
  uo.writer = o.writer;
  uo.first_seq = o.first_seq;
  uo.spool_root = o.spool_root;
  uo.who = "wanllmdb agent";
  auto uploader = Uploader::Start(uo);
  if (!uploader.ok()) {
    std::fprintf(stderr, "wanllmdb agent: %s\n", uploader.status().message().c_str());
    WriteStatus(o.status_fd, "error " + uploader.status().message());
    return 1;
  }
  Uploader* up = uploader->get();
  // Coalescing is safe here: SDK lines are ordered by sync markers, not by "the pipe is empty".
  CapturedStream out(o.stdout_fd, 1, Source::kStdout, up);
  CapturedStream err(o.stderr_fd, 2, Source::kStderr, up);
  Channel channels[2] = {{&out, {}, 0, false}, {&err, {}, 0, false}};
  std::deque<HeldLines> held;
  int64_t released = 0;
  WriteStatus(o.status_fd, "ready");

  simdjson::dom::parser parser;
  std::string control;
  int control_fd = o.control_fd;
  std::optional<FinishRequest> finish;
  bool script_gone = false;
  int64_t last_data_us = MonotonicMicros();
  char buf[65536];
  auto read_control = [&] {
    ssize_t r = ::read(control_fd, buf, sizeof buf);
    if (r > 0) {
      control.append(buf, static_cast<size_t>(r));
      size_t lf;
      while (!finish && (lf = control.find('\n')) != std::string::npos) {
        finish = HandleControl(std::string_view(control).substr(0, lf), up, &parser, &held);
        control.erase(0, lf + 1);
      }
    } else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
      ::close(control_fd);
      control_fd = -1;
    }
  };
  while (!finish) {
    pollfd fds[3] = {{out.fd(), POLLIN, 0}, {err.fd(), POLLIN, 0}, {control_fd, POLLIN, 0}};
    for (int i = 0; i < 2; ++i) {
      if (channels[i].pending.size() > kMaxPending) fds[i].fd = -1;  // poll ignores it
    }
    int timeout_ms = script_gone ? 50 : 100;
    if (!held.empty()) timeout_ms = 10;  // a marker that went elsewhere: release on time
    for (int t : {out.TickTimeoutMs(), err.TickTimeoutMs()}) {
      if (t >= 0) timeout_ms = std::min(timeout_ms, t);  // a finished bar settles on time
    }
    int n = ::poll(fds, 3, timeout_ms);
    if (n < 0 && errno != EINTR) break;
    // Control first: a marker is written after its message, so once a marker has been read
    // its message is already in the control pipe.
    if (control_fd >= 0 && fds[2].revents) read_control();
    size_t got = 0;
    if (fds[0].revents || fds[1].revents) {
      // Both channels are read, back to back, whichever woke us: bytes that reached stdout
      // after poll() returned but before stderr is read were written before what stderr gives,
      // and must not be left for the next turn (they would be stored after it).
      CapturedStream::CoalesceWait({&out, &err});
      for (int i = 0; i < 2; ++i) {
        if (fds[i].fd >= 0) got += channels[i].stream->ReadRaw(&channels[i].pending);
      }
    }
    if (got) last_data_us = MonotonicMicros();
    if (control_fd >= 0 && (channels[0].paused || channels[1].paused)) {
      pollfd c{control_fd, POLLIN, 0};
      if (::poll(&c, 1, 0) > 0) read_control();
    }
    Release(&held, channels, &released, up, false);
    // Rows of a finished progress bar are final once the stream was quiet kSettleMs: store
    // them now, not when the script next prints (it may be busy, or waiting, for hours).
    out.Tick();
    err.Tick();
    if (!script_gone && (control_fd < 0 || ::getppid() != o.parent_pid)) {
      script_gone = true;
      last_data_us = MonotonicMicros();
    }
    if (script_gone) {
      if (!out.open() && !err.open()) break;
      if (MonotonicMicros() - last_data_us >= kLingerMs * 1000) break;
    }
  }
  // The end: the SDK restored fds 1/2 before "finish" (or the script is gone): read what is
  // left, store every held message in order, pass everything on.
  for (Channel& c : channels) {
    while (c.stream->open() && c.stream->ReadRaw(&c.pending) > 0) {
    }
  }
  Release(&held, channels, &released, up, true);
  for (Channel& c : channels) Advance(c, INT64_MAX, true);
  out.Flush();
  err.Flush();
  if (!finish) {
    finish = FinishRequest{"crashed", std::nullopt};
    up->Submit({"the script ended without finishing the run (killed by a signal, or it crashed)"},
               Source::kSystem, NowMicros());
  }
  bool all = up->Close(o.exit_timeout_s);
  // A process that joined the run (--no-state) never ends it, but its failure fails it (DESIGN
  // §6: any rank failing fails the run; the server keeps the worse end, doc/api.md "merge").
  std::string state = o.sets_state || finish->state == "failed" ? finish->state : "";
  bool patched = up->Finish(state, finish->exit_code, all, !o.keep_spool);
  if (!all || !patched) {
    std::fprintf(stderr,
                 "wanllmdb agent: %lld lines were not uploaded; they are kept in %s; upload them "
                 "with: wanllmdb sync %s\n",
                 static_cast<long long>(up->pending_lines()), up->spool_dir().c_str(),
                 up->spool_dir().c_str());
  }
  WriteStatus(o.status_fd, all && patched ? "done ok" : "done spooled");
  return 0;
}

}  // namespace wanllmdb
