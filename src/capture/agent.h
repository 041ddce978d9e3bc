// Agent: the capture sidecar of the Python SDK (`wanllmdb agent`); protocol in doc/capture.md.
//
// The SDK hands it the read ends of the pipes (or pty masters) behind the script's fds 1 and 2,
// a control pipe (SDK → agent: newline-delimited JSON) and a status pipe (agent → SDK). The agent
// tees the output to its own fds 1 and 2 (the script's original terminal or files), captures it
// like `wanllmdb run`, and outlives the script: when the script dies by any means (EOF on the
// control pipe, or its parent pid changes) it drains every byte already written, uploads it and
// marks the run crashed — unless the SDK sent "finish" first. The SDK's own lines keep their place
// among the prints by sync markers (sync_marker.h).
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>

#include "client/http_client.h"

namespace wanllmdb {

struct AgentOptions {
  ServerUrl server;
  std::string api_key;
  std::string run_id;
  std::string run_body;  // the POST /runs body
  std::string writer = "main";
  int64_t first_seq = 0;
  std::filesystem::path spool_root;
  int stdout_fd = -1, stderr_fd = -1, control_fd = -1, status_fd = -1;
  pid_t parent_pid = 0;
  double exit_timeout_s = 30;
  bool keep_spool = false;
  // False for a process that joined the run (rank-N): it never ends the run, except that its
  // "failed" fails it (any rank failing fails the run).
  bool sets_state = true;
};

// Runs until the script finished the run or died; returns the process exit code.
int RunAgent(const AgentOptions& options);

}  // namespace wanllmdb
