// PtyRunner: runs a command with its stdout and stderr on pseudo-terminals and captures them
// (`wanllmdb run`).
//
// One pty or two: when our own stdout and stderr are the same file, pipe or terminal (the usual
// case: a terminal, `> log 2>&1`), the child gets one pty for both. Only then does what the user
// sees keep the exact order in which the program wrote (two ptys are two kernel buffers, and
// their order is lost once both hold data); what is stored has that order too, attributed to
// stdout. When they differ (`> out 2> err`), two ptys keep stdout and stderr apart.
// The program sees a terminal either way (colours, line buffering, progress bars), with output
// processing (OPOST) off, so the bytes we read are the bytes written and the tee to our own
// stdout/stderr passes them on unchanged. Window size: ours, else COLUMNS x LINES, else 80x24.
//
// The child starts a new session but takes no controlling terminal. That is deliberate: when a
// session leader with a controlling tty exits, the kernel hangs the tty up and flushes the pty's
// buffer — the last lines before a crash would be lost. Without one, a terminal's Ctrl-C reaches
// only our process group; we forward it (and SIGTERM, SIGHUP, SIGQUIT, SIGUSR1/2, SIGWINCH) to
// the child's process group, so it arrives exactly once. Programs that open /dev/tty get ENXIO.
//
// End of capture: the ptys at EOF (every writer, grandchildren included, closed them), or the
// child gone and no output for kLingerMs (a background grandchild may hold the pty forever).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "capture/uploader.h"
#include "core/status.h"

namespace wanllmdb {

struct ChildFate {
  bool signaled = false;
  int exit_code = 0;  // when !signaled
  int signal = 0;     // when signaled
  bool core_dumped = false;
};

// Thread-safety: one thread; Run() blocks the forwarded signals process-wide (call it before
// starting other threads, via BlockForwardedSignals()).
class PtyRunner {
 public:
  static constexpr int kLingerMs = 500;

  // Blocks the signals Run() handles in the calling thread; threads started afterwards inherit
  // the mask, so the signals reach only Run()'s signalfd.
  static void BlockForwardedSignals();
  // Restores the mask saved by BlockForwardedSignals().
  static void RestoreSignals();

  // Runs argv to its end, teeing to fds 1/2 and submitting lines to `uploader`.
  Result<ChildFate> Run(const std::vector<std::string>& argv, Uploader* uploader);
  // `wanllmdb run --pipe`: the program writes to pipes instead of ptys — what it would have with
  // its output to a file (no colours; block buffering, so a flood of prints is cheap, and on
  // SIGKILL it loses what it had not flushed, as it would without capture).
  void UsePipes(bool pipes) { use_pipes_ = pipes; }

 private:
  bool use_pipes_ = false;
};

// "killed by signal 11 (SIGSEGV: Segmentation fault), core dumped"
std::string DescribeSignalDeath(const ChildFate& fate);

}  // namespace wanllmdb
