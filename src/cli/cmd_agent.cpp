// `wanllmdb agent`: the Python SDK's capture sidecar (capture/agent.h, doc/capture.md). Started by
// the SDK, not by people.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "capture/agent.h"
#include "capture/spool.h"
#include "cli/commands.h"
#include "cli/flags.h"

namespace wanllmdb {
namespace {

struct AgentCliOptions {
  AgentOptions agent;
  std::string server, spool;
  std::string ca_file;
  int64_t parent_pid = 0;  // int64_t: an option type flags.h has (pid_t may be narrower)
};

int RunAgentCommand(AgentCliOptions& o) {
  auto url = ParseServerUrl(o.server, o.ca_file);
  if (!url.ok()) {
    std::fprintf(stderr, "wanllmdb agent: %s\n", url.status().message().c_str());
    return 2;
  }
  o.agent.server = *url;
  o.agent.spool_root = o.spool;
  o.agent.parent_pid = o.parent_pid ? static_cast<pid_t>(o.parent_pid) : ::getppid();
  if (o.agent.run_body.empty()) {
    // The SDK leaves the run body in the spool's run.json (doc/capture.md).
    auto body = ReadWholeFile(std::filesystem::path(o.spool) / o.agent.run_id / "run.json");
    if (!body.ok()) {
      std::fprintf(stderr, "wanllmdb agent: no --run-body and %s\n",
                   body.status().message().c_str());
      return 2;
    }
    o.agent.run_body = std::move(*body);
  }
  return RunAgent(o.agent);
}

}  // namespace

void AddAgentCommand(flags::Command app, int* exit_code) {
  auto o = std::make_shared<AgentCliOptions>();
  o->server = DefaultServerUrl();
  if (const char* k = std::getenv("WANLLMDB_API_KEY")) o->agent.api_key = k;
  o->spool = "./wanllmdb";
  auto cmd = app.add_subcommand("agent",
                                "Capture sidecar of the Python SDK (started by the SDK; protocol "
                                "in doc/capture.md).");
  AgentOptions& a = o->agent;
  cmd.add_option("--run-id", a.run_id, "Run id").required();
  cmd.add_option("--run-body", a.run_body,
                 "The POST /runs body (JSON; default: <spool>/<run-id>/run.json)");
  cmd.add_option("--server", o->server, "Server URL").capture_default_str();
  AddCaFileOption(cmd, &o->ca_file);
  cmd.add_option("--spool", o->spool, "Spool directory").capture_default_str();
  cmd.add_option("--writer", a.writer, "Writer name").capture_default_str();
  cmd.add_option("--first-seq", a.first_seq, "First seq of this writer").capture_default_str();
  cmd.add_option("--stdout-fd", a.stdout_fd, "Read end behind the script's fd 1").required();
  cmd.add_option("--stderr-fd", a.stderr_fd, "Read end behind the script's fd 2").required();
  cmd.add_option("--control-fd", a.control_fd, "Control pipe (SDK -> agent)");
  cmd.add_option("--status-fd", a.status_fd, "Status pipe (agent -> SDK)");
  cmd.add_option("--parent-pid", o->parent_pid, "The script's pid (default: the parent)");
  cmd.add_option("--exit-timeout", a.exit_timeout_s, "Seconds to wait for uploads at the end")
      .capture_default_str();
  cmd.add_flag("--sets-state,!--no-state", a.sets_state,
               "A process that joined the run: set its state only when it failed");
  cmd.add_flag("--keep-spool", a.keep_spool, "Keep the spool even when everything was uploaded");
  cmd.callback([o, exit_code] { *exit_code = RunAgentCommand(*o); });
}

}  // namespace wanllmdb
