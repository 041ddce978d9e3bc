#include "capture/agent.h"

#include <poll.h>
#include <signal.h>
#include <simdjson.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <optional>
#include <vector>

#include "capture/captured_stream.h"
#include "capture/uploader.h"
#include "core/time_util.h"

namespace wanllmdb {
namespace {

constexpr int kLingerMs = 500;

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

// Handles one control message; returns a FinishRequest for "finish".
std::optional<FinishRequest> HandleControl(std::string_view line, Uploader* uploader,
                                           simdjson::dom::parser* parser) {
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
    uploader->Submit(lines, source, ts_us, level);
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
  CapturedStream out(o.stdout_fd, 1, Source::kStdout, up);
  CapturedStream err(o.stderr_fd, 2, Source::kStderr, up);
  WriteStatus(o.status_fd, "ready");

  simdjson::dom::parser parser;
  std::string control;
  int control_fd = o.control_fd;
  std::optional<FinishRequest> finish;
  bool script_gone = false;
  int64_t last_data_us = MonotonicMicros();
  char buf[65536];
  while (!finish) {
    pollfd fds[3] = {{out.fd(), POLLIN, 0}, {err.fd(), POLLIN, 0}, {control_fd, POLLIN, 0}};
    int n = ::poll(fds, 3, script_gone ? 50 : 100);
    if (n < 0 && errno != EINTR) break;
    // Control first: the SDK sends a message only once the output pipes are empty (everything
    // printed before it has been read and assembled); output read after it came after it.
    if (control_fd >= 0 && fds[2].revents) {
      ssize_t r = ::read(control_fd, buf, sizeof buf);
      if (r > 0) {
        control.append(buf, static_cast<size_t>(r));
        size_t lf;
        while (!finish && (lf = control.find('\n')) != std::string::npos) {
          finish = HandleControl(std::string_view(control).substr(0, lf), up, &parser);
          control.erase(0, lf + 1);
        }
      } else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
        ::close(control_fd);
        control_fd = -1;
      }
    }
    size_t got = 0;
    if (fds[0].revents) got += out.ReadAvailable();
    if (fds[1].revents) got += err.ReadAvailable();
    if (got) last_data_us = MonotonicMicros();
    if (!script_gone && (control_fd < 0 || ::getppid() != o.parent_pid)) {
      script_gone = true;
      last_data_us = MonotonicMicros();
    }
    if (script_gone) {
      if (!out.open() && !err.open()) break;
      if (MonotonicMicros() - last_data_us >= kLingerMs * 1000) break;
    }
  }
  out.Drain();
  err.Drain();
  out.Flush();
  err.Flush();
  if (!finish) {
    finish = FinishRequest{"crashed", std::nullopt};
    up->Submit({"the script ended without finishing the run (killed by a signal, or it crashed)"},
               Source::kSystem, NowMicros());
  }
  bool all = up->Close(o.exit_timeout_s);
  std::string state = o.sets_state ? finish->state : "";
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
