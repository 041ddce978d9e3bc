#include <cstdio>

#include "cli/commands.h"
#include "cli/flags.h"
#include "client/http_client.h"

namespace wanllmdb {
namespace {

struct ExportOptions {
  std::string run_id, server, api_key, format = "txt", output, level, search;
  std::string ca_file;
  bool raw = false;
};

int RunExport(const ExportOptions& o) {
  auto url = ParseServerUrl(o.server, o.ca_file);
  if (!url.ok()) {
    std::fprintf(stderr, "wanllmdb export: %s\n", url.status().message().c_str());
    return 2;
  }
  FILE* out = stdout;
  std::string tmp;
  if (!o.output.empty() && o.output != "-") {
    tmp = o.output + ".part";  // never leave a half-written file under the real name
    out = std::fopen(tmp.c_str(), "wb");
    if (!out) {
      std::perror(("wanllmdb export: " + tmp).c_str());
      return 1;
    }
  }
  std::string target =
      "/api/v1/runs/" + QueryEscape(o.run_id) + "/logs/download?format=" + o.format;
  if (!o.level.empty()) target += "&level=" + QueryEscape(o.level);
  if (!o.search.empty()) target += "&search=" + QueryEscape(o.search);
  if (o.raw) target += "&raw=1";
  size_t bytes = 0;
  HttpClient client(*url, o.api_key);
  Status s = client.Download(target, [&](std::string_view piece) {
    std::fwrite(piece.data(), 1, piece.size(), out);
    bytes += piece.size();
  });
  if (out != stdout) std::fclose(out);
  if (!s.ok()) {
    if (!tmp.empty()) std::remove(tmp.c_str());
    std::fprintf(stderr, "wanllmdb export: %s\n", s.message().c_str());
    return 1;
  }
  if (!tmp.empty()) {
    std::rename(tmp.c_str(), o.output.c_str());
    std::fprintf(stderr, "wrote %zu bytes to %s\n", bytes, o.output.c_str());
  }
  return 0;
}

}  // namespace

void AddExportCommand(flags::Command app, int* exit_code) {
  auto o = std::make_shared<ExportOptions>();
  o->server = DefaultServerUrl();
  if (const char* k = std::getenv("WANLLMDB_API_KEY")) o->api_key = k;
  auto cmd = app.add_subcommand("export", "Download a run's log as txt, json or csv.");
  cmd.add_option("run_id", o->run_id, "The run's id (or a unique prefix of >= 8 hex digits)")
      .required();
  cmd.add_flag("--raw", o->raw, "Keep escape codes (colours) in txt/csv (default: plain text)");
  cmd.add_option("--format", o->format, "txt, json or csv")
      .capture_default_str()
      .check(flags::IsMember({"txt", "json", "csv"}));
  cmd.add_option("-o,--output", o->output, "File to write (default: standard output)");
  cmd.add_option("--level", o->level, "Only these levels, e.g. WARNING,ERROR");
  cmd.add_option("--search", o->search, "Only lines containing this text");
  cmd.add_option("--server", o->server, "Server URL ($WANLLMDB_BASE_URL)").capture_default_str();
  AddCaFileOption(cmd, &o->ca_file);
  cmd.add_option("--api-key", o->api_key, "API key ($WANLLMDB_API_KEY)");
  cmd.callback([o, exit_code] { *exit_code = RunExport(*o); });
}

}  // namespace wanllmdb
