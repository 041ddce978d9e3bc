#include "capture/captured_stream.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>

#include "core/time_util.h"

namespace wanllmdb {
namespace {

// One wakeup reads at most this much: big chunks mean few spool writes and uploads per line.
constexpr size_t kMaxChunk = 256 * 1024;
// A wakeup that finds less than this unread waits a millisecond for more. A program printing
// a flood of short lines otherwise wakes us per line, and every wakeup costs a tee write, a spool
// write and a submit: coalescing cuts that to one per millisecond for +1 ms of latency.
constexpr int kCoalesceBelow = 16 * 1024;
// While more keeps arriving, the wait goes on a millisecond at a time, up to this: a training
// loop printing once a millisecond or so (one print per step) was woken per line, since a single
// 1 ms wait caught about one more. Nothing new in a millisecond (a lone print, or a writer
// blocked on a full pty) ends the wait at once, so a quiet program's lines are not held back,
// and a flood is read as soon as the buffer is full.
constexpr int kMaxCoalesceMs = 4;

int Unread(std::initializer_list<const CapturedStream*> streams) {
  int unread = 0;
  for (const CapturedStream* s : streams) {
    int n = 0;
    if (s && s->fd() >= 0 && ::ioctl(s->fd(), FIONREAD, &n) == 0) unread += n;
  }
  return unread;
}

}  // namespace

CapturedStream::CapturedStream(int fd, int tee_fd, Source source, Uploader* uploader)
    : fd_(fd), tee_fd_(tee_fd), source_(source), uploader_(uploader), tee_ok_(tee_fd >= 0) {
  int flags = ::fcntl(fd_, F_GETFL);
  ::fcntl(fd_, F_SETFL, flags | O_NONBLOCK);
  // A bigger pipe lets a fast writer run on while we coalesce (ptys refuse: that's fine).
  ::fcntl(fd_, F_SETPIPE_SZ, 1 << 20);
  chunk_.resize(kMaxChunk);
}

CapturedStream::~CapturedStream() {
  if (fd_ >= 0) ::close(fd_);
}

void CapturedStream::Tee(const char* data, size_t n) {
  while (tee_ok_ && n) {
    ssize_t w = ::write(tee_fd_, data, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {  // a non-blocking terminal: wait until it takes more
        pollfd p{tee_fd_, POLLOUT, 0};
        ::poll(&p, 1, 100);
        continue;
      }
      tee_ok_ = false;  // the terminal went away: keep capturing
      return;
    }
    data += w;
    n -= static_cast<size_t>(w);
  }
}

size_t CapturedStream::ReadAvailable() {
  size_t got = ReadChunk();
  if (got) Process(std::string_view(chunk_.data(), got));
  return got;
}

void CapturedStream::CoalesceWait(std::initializer_list<const CapturedStream*> streams) {
  int unread = Unread(streams);
  for (int waited = 0; unread > 0 && unread < kCoalesceBelow && waited < kMaxCoalesceMs; ++waited) {
    ::usleep(1000);
    int now = Unread(streams);
    if (now == unread) break;
    unread = now;
  }
}

size_t CapturedStream::ReadRaw(std::string* out) {
  size_t got = ReadChunk();
  out->append(chunk_.data(), got);
  return got;
}

size_t CapturedStream::ReadChunk() {
  if (fd_ < 0) return 0;
  size_t got = 0;
  bool eof = false;
  while (got < kMaxChunk) {
    ssize_t n = ::read(fd_, chunk_.data() + got, kMaxChunk - got);
    if (n > 0) {
      got += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) break;
    eof = true;  // 0 (pipe) or EIO (pty: no writer left)
    break;
  }
  if (eof) {
    ::close(fd_);
    fd_ = -1;
  }
  return got;
}

void CapturedStream::Process(std::string_view data) {
  if (data.empty()) return;
  Tee(data.data(), data.size());
  last_read_us_ = MonotonicMicros();
  lines_.clear();
  assembler_.Feed(data, &lines_);
  SubmitAssembled();
}

void CapturedStream::SubmitAssembled() {
  // Before the lines: a stale progress state must never be posted after its finished line.
  if (assembler_.HasLive()) {
    uploader_->SetProgress(source_, assembler_.LiveText());
    showing_progress_ = true;
  } else if (showing_progress_) {
    uploader_->SetProgress(source_, "");
    showing_progress_ = false;
  }
  if (!lines_.empty()) uploader_->Submit(lines_, source_, NowMicros());
}

int CapturedStream::TickTimeoutMs() const {
  if (!assembler_.NeedsSettle()) return -1;
  int64_t left = LineAssembler::kSettleMs * 1000 - (MonotonicMicros() - last_read_us_);
  return left <= 0 ? 0 : static_cast<int>((left + 999) / 1000);
}

void CapturedStream::Tick() {
  if (TickTimeoutMs() != 0) return;
  lines_.clear();
  assembler_.Settle(&lines_);
  SubmitAssembled();
}

void CapturedStream::Drain() {
  while (fd_ >= 0 && ReadAvailable() > 0) {
  }
}

void CapturedStream::Flush() {
  if (showing_progress_) uploader_->SetProgress(source_, "");
  showing_progress_ = false;
  lines_.clear();
  assembler_.Flush(&lines_);
  uploader_->Submit(lines_, source_, NowMicros());
}

}  // namespace wanllmdb
