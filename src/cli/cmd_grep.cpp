// `wanllmdb grep PATTERN --project P`: which runs of a project printed PATTERN, and where — the
// project search (GET /projects/{p}/search) finds the runs, then each run's matching lines are
// read page by page (GET /runs/{id}/logs) and printed like `grep -n`, the run's name in front:
//
//   bert-base-lr3e-4:1234:RuntimeError: CUDA out of memory
//
// Exit status as grep's: 0 when something matched, 1 when nothing did, 2 on an error.
#include <simdjson.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <vector>

#include "cli/commands.h"
#include "cli/flags.h"
#include "client/http_client.h"
#include "core/time_util.h"
#include "server/http_util.h"

namespace wanllmdb {
namespace {

struct GrepOptions {
  std::string pattern, project, server, api_key, since, until, level, ca_file;
  bool regex = false, count = false, names_only = false;
  int max_runs = 0;  // 0: every run with a match
};

struct FoundRun {
  std::string id, name;
  int64_t matches = 0;
};

void Ignore(simdjson::error_code) {}

// "7d", "12h", "30m", "45s" (before now), or an ISO 8601 time, as the ISO time the API takes.
Result<std::string> TimeArg(const char* what, const std::string& text) {
  if (text.empty()) return std::string();
  if (ParseIsoMicros(text)) return text;
  int64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size() - 1, n);
  static constexpr std::pair<char, int64_t> kUnits[] = {
      {'s', 1'000'000}, {'m', 60'000'000}, {'h', 3'600'000'000}, {'d', 86'400'000'000}};
  for (auto [unit, us] : kUnits) {
    if (ec == std::errc() && end == text.data() + text.size() - 1 && text.back() == unit &&
        n >= 0 && n < 100'000) {
      return FormatIsoMicros(NowMicros() - n * us);
    }
  }
  return Status(Code::kInvalidValue, std::string(what) + ": want e.g. 7d, 12h, 30m or an ISO " +
                                         "8601 time, got '" + text + "'");
}

class Grep {
 public:
  Grep(const GrepOptions& o, HttpClient& client) : o_(o), client_(client) {}

  // Returns the exit status.
  int Run() {
    auto since = TimeArg("--since", o_.since);
    auto until = TimeArg("--until", o_.until);
    if (!since.ok() || !until.ok()) {
      Fail((!since.ok() ? since : until).status().message());
      return 2;
    }
    if (!since->empty()) filters_ += "&since=" + QueryEscape(*since);
    if (!until->empty()) filters_ += "&until=" + QueryEscape(*until);
    if (!o_.level.empty()) filters_ += "&level=" + QueryEscape(o_.level);
    colour_ = isatty(1);
    std::string cursor;
    bool any = false;
    do {
      std::vector<FoundRun> runs;
      if (!SearchPage(&cursor, &runs)) return 2;
      for (const FoundRun& r : runs) {
        any = true;
        if (o_.names_only) {
          std::printf("%s\n", Label(r).c_str());
        } else if (o_.count) {
          std::printf("%s:%lld\n", Label(r).c_str(), static_cast<long long>(r.matches));
        } else if (!PrintMatches(r)) {
          return 2;
        }
        std::fflush(stdout);
        if (o_.max_runs > 0 && ++runs_done_ >= o_.max_runs) return 0;
      }
    } while (!cursor.empty());
    return any ? 0 : 1;
  }

 private:
  std::string TextParam(const char* substring_key) const {
    return std::string(o_.regex ? "regex=" : substring_key) + QueryEscape(o_.pattern);
  }

  std::string Label(const FoundRun& r) const {
    const std::string& name = r.name.empty() ? r.id : r.name;
    return colour_ ? "\x1b[35m" + name + "\x1b[0m" : name;
  }

  void Fail(const std::string& message) const {
    std::fprintf(stderr, "wanllmdb grep: %s\n", message.c_str());
  }

  // One page of the project search: the runs with matches, and where the next page starts.
  bool SearchPage(std::string* cursor, std::vector<FoundRun>* runs) {
    std::string target = "/api/v1/projects/" + QueryEscape(o_.project) + "/search?" +
                         TextParam("q=") + "&preview=0&limit=200" + filters_;
    if (!cursor->empty()) target += "&cursor=" + QueryEscape(*cursor);
    cursor->clear();
    std::string pending;
    bool ended = false;
    Status bad;
    Status s = client_.Download(target, [&](std::string_view piece) {
      pending.append(piece);
      size_t lf;
      while ((lf = pending.find('\n')) != std::string::npos) {
        simdjson::dom::element doc;
        if (parser_.parse(pending.data(), lf).get(doc)) {
          bad = Status(Code::kBadRequest, "the server sent a line that is not JSON");
        } else {
          std::string_view type;
          Ignore(doc["type"].get(type));
          if (type == "run") {
            FoundRun r;
            std::string_view id, name;
            Ignore(doc.at_pointer("/run/id").get(id));
            Ignore(doc.at_pointer("/run/name").get(name));
            Ignore(doc["matches"].get(r.matches));
            r.id = std::string(id);
            r.name = std::string(name);
            runs->push_back(std::move(r));
          } else if (type == "end") {
            ended = true;
            std::string_view next;
            if (!doc["next_cursor"].get(next)) *cursor = std::string(next);
          }
        }
        pending.erase(0, lf + 1);
      }
    });
    if (s.ok() && !bad.ok()) s = bad;
    if (s.ok() && !ended)
      s = Status(Code::kUnavailable, "the search ended early (server timeout?)");
    if (!s.ok()) Fail(s.message());
    return s.ok();
  }

  // Every matching line of one run, page by page.
  bool PrintMatches(const FoundRun& r) {
    const std::string label = Label(r);
    int64_t after = 0;
    while (true) {
      std::string target = "/api/v1/runs/" + r.id + "/logs?" + TextParam("search=") +
                           "&limit=10000&after_line=" + std::to_string(after) + filters_;
      auto reply = client_.Request("GET", target);
      if (!reply.ok()) {
        Fail(reply.status().message());
        return false;
      }
      if (reply->status == 404) return true;  // deleted meanwhile
      if (reply->status != 200) {
        Fail(ErrorMessageOf(reply->body));
        return false;
      }
      simdjson::dom::element doc;
      simdjson::dom::array logs;
      if (parser_.parse(reply->body).get(doc) || doc["logs"].get(logs)) {
        Fail("the server's reply is not a page of lines");
        return false;
      }
      for (auto l : logs) {
        std::string_view message;
        Ignore(l["line_number"].get(after));
        Ignore(l["message"].get(message));
        if (colour_) {
          std::printf("%s\x1b[36m:\x1b[32m%lld\x1b[36m:\x1b[0m%.*s\n", label.c_str(),
                      static_cast<long long>(after), static_cast<int>(message.size()),
                      message.data());
        } else {
          std::printf("%s:%lld:%.*s\n", label.c_str(), static_cast<long long>(after),
                      static_cast<int>(message.size()), message.data());
        }
      }
      bool more = false;
      Ignore(doc["has_more"].get(more));
      if (!more) return true;
    }
  }

  const GrepOptions& o_;
  HttpClient& client_;
  simdjson::dom::parser parser_;
  std::string filters_;
  bool colour_ = false;
  int runs_done_ = 0;
};

}  // namespace

void AddGrepCommand(flags::Command app, int* exit_code) {
  auto o = std::make_shared<GrepOptions>();
  o->server = DefaultServerUrl();
  if (const char* k = std::getenv("WANLLMDB_API_KEY")) o->api_key = k;
  auto cmd = app.add_subcommand(
      "grep", "Search every run of a project; prints RUN:LINE:MESSAGE like grep -n.");
  cmd.add_option("pattern", o->pattern, "Text to find (any case), or an RE2 pattern with --regex")
      .required();
  cmd.add_option("-p,--project", o->project, "The project to search").required();
  cmd.add_flag("-E,--regex", o->regex, "PATTERN is an RE2 regular expression");
  cmd.add_option("--since", o->since, "Only lines since then: 7d, 12h, 30m or an ISO time");
  cmd.add_option("--until", o->until, "Only lines until then: 7d, 12h, 30m or an ISO time");
  cmd.add_option("--level", o->level, "Only these levels, e.g. ERROR or WARNING,ERROR");
  cmd.add_flag("-c,--count", o->count, "Print each matching run with its number of matches");
  cmd.add_flag("-l,--runs-with-matches", o->names_only, "Print only the names of matching runs");
  cmd.add_option("-m,--max-runs", o->max_runs, "Stop after this many matching runs")
      .check(flags::Range(1, 1000000));
  cmd.add_option("--server", o->server, "Server URL ($WANLLMDB_BASE_URL)").capture_default_str();
  AddCaFileOption(cmd, &o->ca_file);
  cmd.add_option("--api-key", o->api_key, "API key ($WANLLMDB_API_KEY)");
  cmd.callback([o, exit_code] {
    auto url = ParseServerUrl(o->server, o->ca_file);
    if (!url.ok()) {
      std::fprintf(stderr, "wanllmdb grep: %s\n", url.status().message().c_str());
      *exit_code = 2;
      return;
    }
    HttpClient client(*url, o->api_key);
    *exit_code = Grep(*o, client).Run();
  });
}

}  // namespace wanllmdb
