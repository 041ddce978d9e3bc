// `wanllmdb run [options] -- CMD ARGS...`: runs any program under two pseudo-terminals, tees and
// uploads its output (capture/pty_runner.h), and records its fate as the run's state.
#include <cstdio>
#include <cstdlib>

#include "capture/batch_json.h"
#include "capture/launcher_rank.h"
#include "capture/pty_runner.h"
#include "capture/uploader.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "core/time_util.h"
#include "core/uuid.h"

namespace wanllmdb {
namespace {

struct RunOptions {
  std::string project, name, server, api_key, spool, id;
  std::string ca_file;
  std::vector<std::string> tags, command;
  double exit_timeout = 30;
  bool keep_spool = false, quiet = false, pipe = false;
};

const char* EnvOr(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

int RunRun(const RunOptions& o) {
  auto url = ParseServerUrl(o.server, o.ca_file);
  if (!url.ok()) {
    std::fprintf(stderr, "wanllmdb run: %s\n", url.status().message().c_str());
    return 2;
  }
  if (!o.id.empty() && !IsUuid(o.id)) {
    std::fprintf(stderr, "wanllmdb run: --id must be a UUID\n");
    return 2;
  }
  // Before any thread exists: the forwarded signals must reach only the runner's signalfd.
  PtyRunner::BlockForwardedSignals();
  UploaderOptions uo;
  uo.server = *url;
  uo.api_key = o.api_key;
  uo.run_id = o.id.empty() ? NewUuid() : CanonicalUuid(o.id);
  uo.run_body = RunBodyJson(o.project, uo.run_id, o.name, o.tags);
  uo.spool_root = o.spool;
  uo.who = "wanllmdb run";
  // Under srun/mpirun/torchrun every process is a wrapper of its own: each writes as rank-N into
  // the one run (--id), and the server ends the run when all world_size ranks have ended.
  // Without a known size only rank 0 sets the run's state.
  std::optional<LauncherRank> rank = DetectLauncherRank();
  bool sets_state = true;
  if (rank) {
    uo.writer = "rank-" + std::to_string(rank->rank);
    uo.world_size = rank->world_size;
    sets_state = rank->world_size > 0 || rank->rank == 0;
  }
  auto uploader = Uploader::Start(uo);
  if (!uploader.ok()) {
    std::fprintf(stderr, "wanllmdb run: %s\n", uploader.status().message().c_str());
    return 2;
  }
  if (!o.quiet) {
    std::string base = o.server;
    while (!base.empty() && base.back() == '/') base.pop_back();
    std::fprintf(stderr, "wanllmdb: run %s: %s/runs/%s%s\n", uo.run_id.c_str(), base.c_str(),
                 uo.run_id.c_str(), rank ? (" as " + uo.writer).c_str() : "");
  }
  PtyRunner runner;
  runner.UsePipes(o.pipe);
  auto fate = runner.Run(o.command, uploader->get());
  if (!fate.ok()) {
    std::fprintf(stderr, "wanllmdb run: %s\n", fate.status().message().c_str());
    (*uploader)->Close(o.exit_timeout);
    (*uploader)->Finish(sets_state ? "failed" : "", std::nullopt, false, false);
    return 127;
  }
  std::string state;
  int exit_code;
  if (fate->signaled) {
    state = "crashed";
    exit_code = 128 + fate->signal;  // what a shell reports for a death by signal
    (*uploader)->Submit({DescribeSignalDeath(*fate)}, Source::kSystem, NowMicros());
  } else {
    exit_code = fate->exit_code;
    state = exit_code == 0 ? "finished" : "failed";
  }
  Uploader& up = **uploader;
  bool all = up.Close(o.exit_timeout);
  bool patched = up.Finish(sets_state ? state : "", exit_code, all, !o.keep_spool);
  if (!all || !patched) {
    std::fprintf(stderr,
                 "wanllmdb run: %lld lines (or the run's end) were not uploaded; they are kept in "
                 "%s; upload them with: wanllmdb sync %s\n",
                 static_cast<long long>(up.pending_lines()), up.spool_dir().c_str(),
                 up.spool_dir().c_str());
  }
  return exit_code;
}

}  // namespace

void AddRunCommand(flags::Command app, int* exit_code) {
  auto o = std::make_shared<RunOptions>();
  o->server = DefaultServerUrl();
  o->project = EnvOr("WANLLMDB_PROJECT", "uncategorized");
  o->spool = EnvOr("WANLLMDB_DIR", "./wanllmdb");
  o->api_key = EnvOr("WANLLMDB_API_KEY", "");
  o->exit_timeout = std::atof(EnvOr("WANLLMDB_EXIT_TIMEOUT", "30"));
  auto cmd = app.add_subcommand(
      "run",
      "Run a program and capture everything it prints (stdout and stderr on two pseudo-terminals), "
      "uploading it as a run; the run's state follows the program's fate. Usage: wanllmdb run "
      "[options] -- CMD ARGS...");
  cmd.add_option("--project", o->project, "Project ($WANLLMDB_PROJECT)").capture_default_str();
  cmd.add_option("--name", o->name, "Run name");
  cmd.add_option("--id", o->id, "Run id (a UUID; default: a new one)");
  cmd.add_option("--tags", o->tags, "Tags").expected(1, -1);
  cmd.add_option("--server", o->server, "Server URL ($WANLLMDB_BASE_URL)").capture_default_str();
  AddCaFileOption(cmd, &o->ca_file);
  cmd.add_option("--api-key", o->api_key, "API key ($WANLLMDB_API_KEY)");
  cmd.add_option("--spool", o->spool, "Spool directory ($WANLLMDB_DIR)").capture_default_str();
  cmd.add_flag("--keep-spool", o->keep_spool, "Keep the spool even when everything was uploaded");
  cmd.add_option("--exit-timeout", o->exit_timeout,
                 "Seconds to wait for uploads after the program ended ($WANLLMDB_EXIT_TIMEOUT)")
      .capture_default_str();
  cmd.add_flag("-q,--quiet", o->quiet, "Do not print the run's URL");
  cmd.add_flag("--pipe", o->pipe,
               "Give the program pipes, not terminals: what it has with its output to a file "
               "(block buffering: cheaper for floods of prints; unflushed output is lost on "
               "SIGKILL, as without capture)");
  cmd.add_option("command", o->command, "The program and its arguments (after --)").required();
  cmd.callback([o, exit_code] { *exit_code = RunRun(*o); });
}

}  // namespace wanllmdb
