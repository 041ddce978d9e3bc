// `wanllmdb sync DIR`: uploads spooled runs (doc/spool_format.md) — what `wanllmdb run` or the
// agent captured but could not upload (the server was away, or the capture was killed), and the
// Python SDK's offline runs. Exactly once however often it runs: acknowledged seqs are recorded
// in acked.json after each batch, and the server skips seqs it already has.
#include <simdjson.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <thread>

#include "capture/batch_json.h"
#include "capture/spool.h"
#include "capture/uploader.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "client/http_client.h"
#include "core/backoff.h"

namespace wanllmdb {
namespace {
namespace fs = std::filesystem;

struct SyncOptions {
  std::vector<std::string> paths;
  std::string server, api_key;
  std::string ca_file;
};

constexpr int kMaxAttempts = 8;

// Retries transport errors, 5xx and 429 a few times, never sooner than a Retry-After says;
// returns any other answer.
Result<HttpReply> Call(HttpConnection& conn, const std::string& method, const std::string& target,
                       const std::string& body) {
  Backoff pacing(0.25, 4.0);
  Status last;
  for (int i = 0; i < kMaxAttempts; ++i) {
    auto reply = conn.Request(method, target, body);
    if (reply.ok() && reply->status < 500 && reply->status != 429) return reply;
    last = reply.ok()
               ? Status(Code::kUnavailable, "server answered " + std::to_string(reply->status))
               : reply.status();
    std::optional<double> retry_after;
    if (reply.ok()) retry_after = reply->retry_after_s;
    std::this_thread::sleep_for(std::chrono::duration<double>(pacing.Next(retry_after)));
  }
  return Status(Code::kUnavailable, "server unreachable (" + last.message() + ")");
}

// Uploads one run directory; returns an error message or "".
std::string SyncRun(const fs::path& run_dir, HttpConnection& conn, int64_t* sent_total) {
  auto run_body = ReadWholeFile(run_dir / "run.json");
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  std::string_view id;
  if (!run_body.ok() || parser.parse(*run_body).get(doc) || doc["id"].get(id)) {
    return run_dir.string() + ": run.json is missing or invalid";
  }
  std::string run_id(id);
  auto created = Call(conn, "POST", "/api/v1/runs", *run_body);
  if (!created.ok()) return run_id + ": " + created.status().message();
  if (created->status / 100 != 2) {
    return run_id + ": the server refused the run (" + ErrorMessageOf(created->body) + ")";
  }
  std::string errors;
  std::error_code ec;
  std::vector<fs::path> writer_dirs;
  for (const auto& e : fs::directory_iterator(run_dir / "writers", ec)) {
    if (e.is_directory(ec) && ValidWriterName(e.path().filename().string())) {
      writer_dirs.push_back(e.path());
    }
  }
  std::sort(writer_dirs.begin(), writer_dirs.end());
  for (const fs::path& wdir : writer_dirs) {
    std::string writer = wdir.filename().string();
    int64_t acked = ReadAcked(wdir);
    auto lines = ReadWriterLines(wdir, acked);
    if (!lines.ok()) return run_id + "/" + writer + ": " + lines.status().message();
    const std::string prefix = BatchPrefix(writer);
    int64_t sent = 0;
    for (size_t i = 0; i < lines->size();) {
      std::string body = prefix;
      size_t j = i;
      for (; j < lines->size() && j - i < static_cast<size_t>(kBatchMaxLines) &&
             (j == i || body.size() + (*lines)[j].json.size() < kBatchMaxBytes);
           ++j) {
        if (j > i) body.push_back(',');
        body.append((*lines)[j].json);
      }
      body.append(kBatchSuffix);
      auto reply = Call(conn, "POST", "/api/v1/runs/" + run_id + "/logs/batch", body);
      if (!reply.ok()) return run_id + "/" + writer + ": " + reply.status().message();
      if (reply->status / 100 != 2) {
        errors += run_id + "/" + writer + ": batch of " + std::to_string(j - i) +
                  " lines refused (" + ErrorMessageOf(reply->body) + "); skipped\n";
      } else {
        sent += static_cast<int64_t>(j - i);
      }
      Status s = WriteFileAtomic(wdir / "acked.json", AckedJson((*lines)[j - 1].seq));
      if (!s.ok()) return s.message();
      i = j;
    }
    *sent_total += sent;
    std::printf("%s %s: %lld lines uploaded\n", run_id.c_str(), writer.c_str(),
                static_cast<long long>(sent));
  }
  auto final_text = ReadWholeFile(run_dir / "final.json");
  simdjson::dom::element final_doc;
  std::string_view state;
  bool applied = false;
  if (final_text.ok() && !parser.parse(*final_text).get(final_doc) &&
      !final_doc["state"].get(state) && (final_doc["applied"].get(applied) || !applied)) {
    std::string state_copy(state);
    int64_t code = 0;
    bool has_code = !final_doc["exit_code"].get(code);
    std::string body = RunStateJson(state_copy, has_code ? &code : nullptr);
    auto reply = Call(conn, "PATCH", "/api/v1/runs/" + run_id, body);
    if (!reply.ok()) return run_id + ": " + reply.status().message();
    if (reply->status / 100 == 2) {
      // Marks the state as applied so the next sync does not send it again (a repeat is
      // harmless: the server keeps the worse end).
      if (Status w = WriteFileAtomic(run_dir / "final.json",
                                     FinalJson(state_copy, has_code ? &code : nullptr, true));
          !w.ok())
        errors += run_id + ": " + w.message() + "\n";
    } else {
      errors += run_id + ": setting state " + state_copy + " refused (" +
                ErrorMessageOf(reply->body) + ")\n";
    }
  }
  if (!errors.empty()) errors.pop_back();
  return errors;
}

int RunSync(const SyncOptions& o) {
  auto url = ParseServerUrl(o.server, o.ca_file);
  if (!url.ok()) {
    std::fprintf(stderr, "wanllmdb sync: %s\n", url.status().message().c_str());
    return 2;
  }
  HttpConnection conn(*url, o.api_key);
  int runs = 0, failures = 0;
  int64_t sent = 0;
  for (const std::string& p : o.paths) {
    auto dirs = FindRunDirs(p);
    if (dirs.empty()) {
      std::fprintf(stderr, "wanllmdb sync: %s: no spooled runs found\n", p.c_str());
      ++failures;
    }
    for (const fs::path& d : dirs) {
      std::string error = SyncRun(d, conn, &sent);
      ++runs;
      if (!error.empty()) {
        std::fprintf(stderr, "wanllmdb sync: %s\n", error.c_str());
        ++failures;
      }
    }
  }
  std::printf("synced %d run(s), %lld lines uploaded%s\n", runs, static_cast<long long>(sent),
              failures ? ", with errors" : "");
  return failures ? 1 : 0;
}

}  // namespace

void AddSyncCommand(flags::Command app, int* exit_code) {
  auto o = std::make_shared<SyncOptions>();
  o->server = DefaultServerUrl();
  if (const char* k = std::getenv("WANLLMDB_API_KEY")) o->api_key = k;
  auto cmd = app.add_subcommand(
      "sync",
      "Upload spooled runs (left by `wanllmdb run`, the agent, or the Python SDK offline).");
  cmd.add_option("dirs", o->paths, "A spool directory or one run's directory").required();
  cmd.add_option("--server", o->server, "Server URL ($WANLLMDB_BASE_URL)").capture_default_str();
  AddCaFileOption(cmd, &o->ca_file);
  cmd.add_option("--api-key", o->api_key, "API key ($WANLLMDB_API_KEY)");
  cmd.callback([o, exit_code] { *exit_code = RunSync(*o); });
}

}  // namespace wanllmdb
