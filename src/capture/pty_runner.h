// PtyRunner: runs a command with stdout and stderr on two separate pseudo-terminals and captures
// both (`wanllmdb run`).
//
// Why two ptys: the program sees a terminal on both (colours, line buffering, progress bars) and
// the streams stay apart. Output processing (OPOST) is off on both, so the bytes we read are the
// bytes written, and the tee to our own stdout/stderr passes them on unchanged.
//
// The child starts a new session but takes no controlling terminal. That is deliberate: when a
// session leader with a controlling tty exits, the kernel hangs the tty up and flushes the pty's
// buffer — the last lines before a crash would be lost. Without one, a terminal's Ctrl-C reaches
// only our process group; we forward it (and SIGTERM, SIGHUP, SIGQUIT, SIGUSR1/2, SIGWINCH) to
// the child's process group, so it arrives exactly once. Programs that open /dev/tty get ENXIO.
//
// End of capture: both ptys at EOF (every writer, grandchildren included, closed them), or the
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
};

// "killed by signal 11 (SIGSEGV: Segmentation fault), core dumped"
std::string DescribeSignalDeath(const ChildFate& fate);

}  // namespace wanllmdb
