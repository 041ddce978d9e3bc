// `wanllmdb admin export-run RUN FILE` / `import-run FILE`: move a run between servers
// losslessly (doc/operations.md, "Moving a run between servers"; the file: cli/run_file.h).
//   export-run  reads the run from a running server over the API (a key with the `read`
//               scope; any store behind it), so users can take a run out of a server they do
//               not administer. The run as of the moment export starts: lines appended later are
//               not in the file.
//   import-run  writes into a store directly (--data/--store, beside a running server too), in
//               one transaction: line numbers, timestamps, levels, sources, writers, state, exit
//               code, created/finished times and config as they were. No API can set all of
//               those, and a run must appear whole or not at all.
// Exit status: 0 done, 1 failed (nothing written: no FILE, no run).
#include <simdjson.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>

#include "cli/commands.h"
#include "cli/flags.h"
#include "cli/run_file.h"
#include "client/http_client.h"
#include "store/log_store.h"
#include "store/sqlite_admin.h"

namespace wanllmdb {
namespace {

struct TransferOptions {
  std::string run_id, path;
  std::string server, api_key, ca_file;        // export
  std::string data_dir = "./data", store_url;  // import
};

int Fail(const char* what, const Status& s) {
  std::fprintf(stderr, "wanllmdb admin %s: %s\n", what, s.message().c_str());
  return 1;
}

// One page of lines, the list API's (bounded) maximum.
constexpr int kPageLines = 10000;

Status Export(const TransferOptions& o, std::string* run_id, int64_t* lines) {
  auto url = ParseServerUrl(o.server, o.ca_file);
  if (!url.ok()) return url.status();
  HttpClient client(*url, o.api_key);
  auto run = client.Request("GET", "/api/v1/runs/" + o.run_id);
  if (!run.ok()) return run.status();
  if (run->status != 200)
    return Status(Code::kNotFound, "GET /api/v1/runs/" + o.run_id + ": " +
                                       std::to_string(run->status) + " " +
                                       ErrorMessageOf(run->body));
  simdjson::dom::parser parser;
  simdjson::dom::object r;
  std::string_view id;
  int64_t last_line = 0;
  if (parser.parse(run->body).get(r) || r["id"].get(id) || r["last_line"].get(last_line))
    return Status(Code::kInternal, "the server's run object has no id or last_line");
  *run_id = std::string(id);
  RunFileWriter file;
  if (Status s = file.Open(o.path); !s.ok()) return s;
  if (Status s = file.WriteHeader(simdjson::minify(r), url->Base()); !s.ok()) return s;
  // Up to the run's last line as of the header: lines appended meanwhile are not in the file,
  // so the header's last_line holds for every line in it.
  int64_t after = 0;
  while (after < last_line) {
    std::string target = "/api/v1/runs/" + *run_id + "/logs?limit=" + std::to_string(kPageLines) +
                         "&after_line=" + std::to_string(after) +
                         "&before_line=" + std::to_string(last_line + 1);
    auto page = client.Request("GET", target);
    if (!page.ok()) return page.status();
    if (page->status != 200)
      return Status(Code::kInternal, "GET " + target + ": " + std::to_string(page->status) + " " +
                                         ErrorMessageOf(page->body));
    simdjson::dom::object p;
    simdjson::dom::array logs;
    bool has_more = false;
    if (parser.parse(page->body).get(p) || p["logs"].get(logs) || p["has_more"].get(has_more))
      return Status(Code::kInternal, "GET " + target + ": not a page of lines");
    for (simdjson::dom::element e : logs) {
      simdjson::dom::object l;
      int64_t n = 0;
      std::string_view ts, level, source, writer, message;
      if (e.get(l) || l["line_number"].get(n) || l["timestamp"].get(ts) || l["level"].get(level) ||
          l["source"].get(source) || l["writer"].get(writer) || l["message"].get(message))
        return Status(Code::kInternal, "GET " + target + ": a line lacks a field");
      if (Status s = file.WriteLine(n, ts, level, source, writer, message); !s.ok()) return s;
      after = n;
    }
    if (!has_more) break;
  }
  *lines = file.lines();
  return file.Finish();
}

int ExportCmd(const TransferOptions& o) {
  std::string id;
  int64_t lines = 0;
  if (Status s = Export(o, &id, &lines); !s.ok()) return Fail("export-run", s);
  std::fprintf(stderr, "exported run %s (%lld lines) to %s\n", id.c_str(),
               static_cast<long long>(lines), o.path.c_str());
  return 0;
}

int ImportCmd(const TransferOptions& o) {
  // First a whole pass that only reads: a bad file is refused before the store is touched.
  RunImport im;
  int64_t lines = 0;
  {
    RunFileReader check;
    if (Status s = check.Open(o.path); !s.ok()) return Fail("import-run", s);
    auto header = check.Header();
    if (!header.ok()) return Fail("import-run", header.status());
    im = std::move(*header);
    while (true) {
      auto l = check.Next();
      if (!l.ok()) return Fail("import-run", l.status());
      if (!*l) break;
      if ((*l)->line_number >= im.next_line)
        return Fail("import-run", Status(Code::kInvalidValue,
                                         o.path + ": line " + std::to_string((*l)->line_number) +
                                             " is past the run's last line"));
      if ((*l)->line_number <= im.run.removed.to_line)
        return Fail("import-run", Status(Code::kInvalidValue,
                                         o.path + ": line " + std::to_string((*l)->line_number) +
                                             " is in the range the header says retention removed"));
      ++lines;
    }
  }
  const std::string url =
      !o.store_url.empty() ? o.store_url
                           : "sqlite:" + (std::filesystem::path(o.data_dir) / "logs.db").string();
  std::optional<SqliteUseLock> lock;  // never into a store that is being restored
  if (url.rfind("sqlite:", 0) == 0) {
    std::filesystem::path db(url.substr(7));
    std::error_code ec;
    if (db.has_parent_path()) std::filesystem::create_directories(db.parent_path(), ec);
    auto l = SqliteUseLock::Shared(db.string());
    if (!l.ok()) return Fail("import-run", l.status());
    lock.emplace(std::move(*l));
  }
  StoreOptions options;
  options.background_work = false;  // the imported chunks are packed already
  auto store = OpenStore(url, options);
  if (!store.ok()) return Fail("import-run", store.status());
  RunFileReader file;
  if (Status s = file.Open(o.path); !s.ok()) return Fail("import-run", s);
  if (auto h = file.Header(); !h.ok()) return Fail("import-run", h.status());
  LinePuller pull = [&]() -> Result<std::vector<LogLine>> {
    std::vector<LogLine> out;
    while (out.size() < 1000) {
      auto l = file.Next();
      if (!l.ok()) return l.status();
      if (!*l) break;
      out.push_back(std::move(**l));
    }
    return out;
  };
  Status s = (*store)->ImportRun(im, pull);
  (*store)->Close();
  if (!s.ok()) return Fail("import-run", s);
  std::fprintf(stderr, "imported run %s (project %s, %lld lines)\n", im.run.id.c_str(),
               im.run.project.c_str(), static_cast<long long>(lines));
  return 0;
}

}  // namespace

void AddRunTransferCommands(flags::Command admin, int* exit_code) {
  auto o = std::make_shared<TransferOptions>();
  o->server = DefaultServerUrl();
  if (const char* k = std::getenv("WANLLMDB_API_KEY")) o->api_key = k;
  auto ex = admin.add_subcommand(
      "export-run", "Write a run (lines and metadata) from a server to a file, for import-run");
  ex.add_option("run", o->run_id, "The run's id (or a unique prefix of >= 8 hex digits)")
      .required();
  ex.add_option("file", o->path, "The file to write (gzip'd JSON lines; must not exist)")
      .required();
  ex.add_option("--server", o->server, "Server URL ($WANLLMDB_BASE_URL)").capture_default_str();
  ex.add_option("--api-key", o->api_key, "API key with the read scope ($WANLLMDB_API_KEY)");
  AddCaFileOption(ex, &o->ca_file);
  ex.callback([o, exit_code] { *exit_code = ExportCmd(*o); });
  auto im = admin.add_subcommand(
      "import-run",
      "Store a run written by export-run, whole or not at all (refuses an id that exists)");
  im.add_option("file", o->path, "A file written by 'wanllmdb admin export-run'").required();
  im.add_option("--data", o->data_dir, "Data directory of the server").capture_default_str();
  im.add_option("--store", o->store_url, "Store URL instead of --data (sqlite:PATH or PostgreSQL)");
  im.callback([o, exit_code] { *exit_code = ImportCmd(*o); });
}

}  // namespace wanllmdb
