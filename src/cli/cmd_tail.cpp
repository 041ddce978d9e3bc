#include <simdjson.h>
#include <unistd.h>

#include <cstdio>

#include "cli/commands.h"
#include "cli/flags.h"
#include "client/http_client.h"
#include "server/http_util.h"

namespace wanllmdb {
namespace {

struct TailOptions {
  std::string run_id, server, api_key, level, search, regex;
  std::string ca_file;
  int lines = 100;
  bool follow = false;
};

// Missing fields print as empty: a display helper, not a validator.
void Ignore(simdjson::error_code) {}

const char* LevelColour(std::string_view level) {
  if (level == "DEBUG") return "\x1b[90m";
  if (level == "WARNING") return "\x1b[33m";
  if (level == "ERROR") return "\x1b[31m";
  if (level == "CRITICAL") return "\x1b[1;31m";
  return "\x1b[32m";
}

// Prints the "logs" array of a response or frame like the txt download; returns the last line
// number printed (0 if none).
int64_t PrintLines(simdjson::dom::element doc, bool colour) {
  int64_t last = 0;
  simdjson::dom::array logs;
  if (doc["logs"].get(logs)) return 0;
  for (auto l : logs) {
    std::string_view ts, level, source, message;
    int64_t n = 0;
    Ignore(l["timestamp"].get(ts));
    Ignore(l["level"].get(level));
    Ignore(l["source"].get(source));
    Ignore(l["message"].get(message));
    Ignore(l["line_number"].get(n));
    last = n;
    if (colour) {
      std::printf("\x1b[90m%.*s\x1b[0m %s[%.*s]\x1b[0m \x1b[36m[%.*s]\x1b[0m %.*s\n",
                  static_cast<int>(ts.size()), ts.data(), LevelColour(level),
                  static_cast<int>(level.size()), level.data(), static_cast<int>(source.size()),
                  source.data(), static_cast<int>(message.size()), message.data());
    } else {
      std::printf("%.*s [%.*s] [%.*s] %.*s\n", static_cast<int>(ts.size()), ts.data(),
                  static_cast<int>(level.size()), level.data(), static_cast<int>(source.size()),
                  source.data(), static_cast<int>(message.size()), message.data());
    }
  }
  std::fflush(stdout);
  return last;
}

int RunTail(const TailOptions& o) {
  auto url = ParseServerUrl(o.server, o.ca_file);
  if (!url.ok()) {
    std::fprintf(stderr, "wanllmdb tail: %s\n", url.status().message().c_str());
    return 2;
  }
  HttpClient client(*url, o.api_key);
  std::string filters;
  if (!o.level.empty()) filters += "&level=" + QueryEscape(o.level);
  if (!o.search.empty()) filters += "&search=" + QueryEscape(o.search);
  if (!o.regex.empty()) filters += "&regex=" + QueryEscape(o.regex);
  bool colour = isatty(1);
  simdjson::dom::parser parser;
  std::string base = "/api/v1/runs/" + QueryEscape(o.run_id) + "/logs";
  if (!o.follow) {
    auto reply = client.Request("GET", base + "/latest?limit=" + std::to_string(o.lines) + filters);
    if (!reply.ok()) {
      std::fprintf(stderr, "wanllmdb tail: %s\n", reply.status().message().c_str());
      return 1;
    }
    if (reply->status != 200) {
      std::fprintf(stderr, "wanllmdb tail: %s\n", ErrorMessageOf(reply->body).c_str());
      return 1;
    }
    simdjson::dom::element doc;
    if (parser.parse(reply->body).get(doc)) return 1;
    PrintLines(doc, colour);
    return 0;
  }
  bool progress_shown = false;
  Status s = client.Stream(
      base + "/stream?tail=" + std::to_string(o.lines) + filters, [&](std::string_view frame) {
        simdjson::dom::element doc;
        if (parser.parse(frame.data(), frame.size()).get(doc)) return true;
        std::string_view type;
        Ignore(doc["type"].get(type));
        if (type == "logs") {
          // A progress line on screen is replaced by what follows it.
          if (progress_shown) std::fputs("\r\x1b[2K", stdout);
          progress_shown = false;
          PrintLines(doc, colour);
        }
        if (type == "progress" && colour) {
          // On a terminal, the line still being written is shown in place, dimmed.
          std::string_view m;
          Ignore(doc["message"].get(m));
          std::printf("\r\x1b[2K\x1b[2m%.*s\x1b[0m", static_cast<int>(m.size()), m.data());
          std::fflush(stdout);
          progress_shown = true;
        }
        if (type == "cleared") std::fprintf(stderr, "-- logs cleared --\n");
        if (type == "error") {
          std::string_view m;
          Ignore(doc.at_pointer("/error/message").get(m));
          std::fprintf(stderr, "wanllmdb tail: %.*s\n", static_cast<int>(m.size()), m.data());
          return false;
        }
        if (type == "run") {
          std::string_view state;
          Ignore(doc["state"].get(state));
          std::fprintf(stderr, "-- run %.*s --\n", static_cast<int>(state.size()), state.data());
        }
        return true;
      });
  if (!s.ok()) {
    std::fprintf(stderr, "wanllmdb tail: %s\n", s.message().c_str());
    return 1;
  }
  return 0;
}

}  // namespace

void AddTailCommand(flags::Command app, int* exit_code) {
  auto o = std::make_shared<TailOptions>();
  o->server = DefaultServerUrl();
  if (const char* k = std::getenv("WANLLMDB_API_KEY")) o->api_key = k;
  auto cmd = app.add_subcommand("tail", "Print a run's latest lines; --follow keeps streaming.");
  cmd.add_option("run_id", o->run_id, "The run's id (or a unique prefix of >= 8 hex digits)")
      .required();
  cmd.add_flag("-f,--follow", o->follow, "Keep printing new lines as they arrive (WebSocket)");
  cmd.add_option("-n,--lines", o->lines, "How many of the latest lines to show first")
      .capture_default_str()
      .check(flags::Range(0, 10000));
  cmd.add_option("--level", o->level, "Only these levels, e.g. ERROR or WARNING,ERROR");
  cmd.add_option("--search", o->search, "Only lines containing this text (any case)");
  cmd.add_option("--regex", o->regex, "Only lines matching this RE2 pattern");
  cmd.add_option("--server", o->server, "Server URL ($WANLLMDB_BASE_URL)").capture_default_str();
  AddCaFileOption(cmd, &o->ca_file);
  cmd.add_option("--api-key", o->api_key, "API key ($WANLLMDB_API_KEY)");
  cmd.callback([o, exit_code] { *exit_code = RunTail(*o); });
}

}  // namespace wanllmdb
