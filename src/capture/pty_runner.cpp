#include "capture/pty_runner.h"

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <memory>
#include <optional>

#include "capture/captured_stream.h"

namespace wanllmdb {
namespace {

constexpr int kForwarded[] = {SIGINT,  SIGTERM,  SIGHUP,  SIGQUIT, SIGUSR1,
                              SIGUSR2, SIGWINCH, SIGTSTP, SIGCONT, SIGCHLD};

sigset_t g_saved_mask;
bool g_blocked = false;

sigset_t ForwardedSet() {
  sigset_t set;
  sigemptyset(&set);
  for (int s : kForwarded) sigaddset(&set, s);
  return set;
}

// The window size of whichever of our descriptors is a terminal; else COLUMNS x LINES, else
// 80x24. A 0x0 window makes tqdm print nothing and rich wrap at nonsense widths.
winsize ChildWindowSize() {
  winsize ws{};
  for (int fd : {1, 2, 0}) {
    if (::isatty(fd) && ::ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 && ws.ws_row > 0) {
      return ws;
    }
  }
  auto env = [](const char* name, unsigned short fallback) -> unsigned short {
    const char* v = ::getenv(name);
    if (!v || !*v) return fallback;
    char* end = nullptr;
    long n = ::strtol(v, &end, 10);
    return (*end == '\0' && n > 0 && n <= 10000) ? static_cast<unsigned short>(n) : fallback;
  };
  ws = winsize{};
  ws.ws_col = env("COLUMNS", 80);
  ws.ws_row = env("LINES", 24);
  return ws;
}

// True when our stdout and stderr are the same file, pipe or terminal (`> log 2>&1`, a terminal):
// there the two streams interleave, and only one pty keeps the order in which they were written.
bool SameDestination() {
  struct stat a, b;
  if (::fstat(1, &a) != 0 || ::fstat(2, &b) != 0) return false;
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

Status OpenRawPty(int* master, int* slave) {
  if (::openpty(master, slave, nullptr, nullptr, nullptr) != 0) {
    return Status(Code::kInternal,
                  std::string("cannot open a pseudo-terminal: ") + strerror(errno));
  }
  termios t;
  if (::tcgetattr(*slave, &t) == 0) {
    t.c_oflag &= ~OPOST;  // bytes pass unchanged: no "\n" -> "\r\n"
    ::tcsetattr(*slave, TCSANOW, &t);
  }
  winsize ws = ChildWindowSize();
  ::ioctl(*slave, TIOCSWINSZ, &ws);
  ::fcntl(*master, F_SETFD, FD_CLOEXEC);
  ::fcntl(*slave, F_SETFD, FD_CLOEXEC);
  return Status::Ok();
}

void SendToGroup(pid_t pid, int sig) {
  if (::kill(-pid, sig) != 0) ::kill(pid, sig);
}

}  // namespace

void PtyRunner::BlockForwardedSignals() {
  sigset_t set = ForwardedSet();
  ::pthread_sigmask(SIG_BLOCK, &set, &g_saved_mask);
  g_blocked = true;
  ::signal(SIGPIPE, SIG_IGN);  // a closed terminal must not kill the capture
}

void PtyRunner::RestoreSignals() {
  if (g_blocked) ::pthread_sigmask(SIG_SETMASK, &g_saved_mask, nullptr);
  g_blocked = false;
}

Result<ChildFate> PtyRunner::Run(const std::vector<std::string>& argv, Uploader* uploader) {
  if (argv.empty()) return Status(Code::kBadRequest, "no command given");
  if (!g_blocked) BlockForwardedSignals();
  // One pty for both streams when they end up in the same place (a terminal, `> log 2>&1`):
  // the kernel then keeps the order in which the program wrote, byte for byte, in what the user
  // sees and in what is stored; the lines are attributed to stdout. Two ptys when stdout and
  // stderr go to different places: attribution kept, and no single order to preserve.
  const bool merged = SameDestination();
  int out_m, out_s, err_m = -1, err_s = -1;
  auto open_channel = [this](int* read_end, int* write_end) -> Status {
    if (!use_pipes_) return OpenRawPty(read_end, write_end);
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) {
      return Status(Code::kInternal, std::string("cannot open a pipe: ") + strerror(errno));
    }
    *read_end = p[0];
    *write_end = p[1];
    return Status::Ok();
  };
  Status s = open_channel(&out_m, &out_s);
  if (!s.ok()) return s;
  if (!merged) {
    s = open_channel(&err_m, &err_s);
    if (!s.ok()) return s;
  }
  sigset_t set = ForwardedSet();
  int sfd = ::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sfd < 0) return Status(Code::kInternal, std::string("signalfd: ") + strerror(errno));

  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) return Status(Code::kInternal, std::string("fork: ") + strerror(errno));
  if (pid == 0) {
    // The child: only async-signal-safe calls until exec.
    ::signal(SIGPIPE, SIG_DFL);
    ::pthread_sigmask(SIG_SETMASK, &g_saved_mask, nullptr);
    ::setsid();
    ::dup2(out_s, 1);
    ::dup2(merged ? out_s : err_s, 2);
    ::execvp(args[0], args.data());
    const char* msg = "wanllmdb run: cannot run ";
    ::write(2, msg, strlen(msg));
    ::write(2, args[0], strlen(args[0]));
    ::write(2, ": ", 2);
    const char* why = strerror(errno);
    ::write(2, why, strlen(why));
    ::write(2, "\n", 1);
    ::_exit(127);
  }
  ::close(out_s);
  if (err_s >= 0) ::close(err_s);

  const int rows = ChildWindowSize().ws_row;
  CapturedStream out(out_m, 1, Source::kStdout, uploader);
  out.SetScreenRows(rows);
  std::optional<CapturedStream> err_stream;
  if (!merged) {
    err_stream.emplace(err_m, 2, Source::kStderr, uploader);
    err_stream->SetScreenRows(rows);
  }
  auto err_open = [&] { return err_stream && err_stream->open(); };
  ChildFate fate;
  bool child_done = false;
  int64_t last_data_us = 0;
  while (true) {
    pollfd fds[3] = {
        {out.fd(), POLLIN, 0}, {err_stream ? err_stream->fd() : -1, POLLIN, 0}, {sfd, POLLIN, 0}};
    int timeout = child_done ? 50 : -1;
    // Wake up to settle a finished progress bar even while the program prints nothing.
    for (int t : {out.TickTimeoutMs(), err_stream ? err_stream->TickTimeoutMs() : -1}) {
      if (t >= 0) timeout = timeout < 0 ? t : std::min(timeout, t);
    }
    int n = ::poll(fds, 3, timeout);
    if (n < 0 && errno != EINTR) break;
    size_t got = 0;
    if (fds[0].revents || fds[1].revents) {
      // Both streams are read, back to back, whichever woke us (see agent.cpp: what reached
      // stdout before stderr is read must be stored before it).
      CapturedStream::CoalesceWait({&out, err_stream ? &*err_stream : nullptr});
      got += out.ReadAvailable();
      if (err_stream) got += err_stream->ReadAvailable();
    }
    if (got) last_data_us = MonotonicMicros();
    out.Tick();
    if (err_stream) err_stream->Tick();
    if (fds[2].revents & POLLIN) {
      signalfd_siginfo si;
      while (::read(sfd, &si, sizeof si) == sizeof si) {
        int sig = static_cast<int>(si.ssi_signo);
        if (sig == SIGCHLD) {
          int status = 0;
          if (!child_done && ::waitpid(pid, &status, WNOHANG) == pid) {
            child_done = true;
            last_data_us = MonotonicMicros();
            if (WIFSIGNALED(status)) {
              fate.signaled = true;
              fate.signal = WTERMSIG(status);
              fate.core_dumped = WCOREDUMP(status);
            } else {
              fate.exit_code = WEXITSTATUS(status);
            }
          }
        } else if (child_done) {
          continue;
        } else if (sig == SIGWINCH) {
          winsize ws = ChildWindowSize();
          if (!use_pipes_) {
            ::ioctl(out_m, TIOCSWINSZ, &ws);
            if (err_stream) ::ioctl(err_m, TIOCSWINSZ, &ws);
          }
          out.SetScreenRows(ws.ws_row);
          if (err_stream) err_stream->SetScreenRows(ws.ws_row);
          SendToGroup(pid, SIGWINCH);
        } else if (sig == SIGTSTP) {
          // Ctrl-Z: stop the child's group, then ourselves; SIGCONT resumes both.
          SendToGroup(pid, SIGSTOP);
          ::kill(::getpid(), SIGSTOP);
        } else {
          SendToGroup(pid, sig);
        }
      }
    }
    if (child_done) {
      if (!out.open() && !err_open()) break;
      if (MonotonicMicros() - last_data_us >= kLingerMs * 1000) {
        out.Drain();
        if (err_stream) err_stream->Drain();
        break;
      }
    }
  }
  out.Flush();
  if (err_stream) err_stream->Flush();
  ::close(sfd);
  return fate;
}

std::string DescribeSignalDeath(const ChildFate& fate) {
  std::string name;
  if (const char* abbrev = ::sigabbrev_np(fate.signal)) name = std::string("SIG") + abbrev;
  std::string text = "killed by signal " + std::to_string(fate.signal);
  if (!name.empty()) text += " (" + name + ": " + ::strsignal(fate.signal) + ")";
  if (fate.core_dumped) text += ", core dumped";
  return text;
}

}  // namespace wanllmdb
