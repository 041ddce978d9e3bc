// CapturedStream: one output stream of a watched program (a pty master or a pipe read end):
// every byte is copied unchanged to a tee descriptor (the user's terminal or file), assembled into
// lines (LineAssembler) and handed to the Uploader; rows still being redrawn (progress bars,
// spinners, live displays — possibly several rows) are handed over as live progress.
#pragma once

#include <initializer_list>
#include <string>
#include <vector>

#include "capture/line_assembler.h"
#include "capture/uploader.h"
#include "core/log_line.h"

namespace wanllmdb {

// Thread-safety: none; one capture loop owns it.
class CapturedStream {
 public:
  // Takes ownership of `fd` (made non-blocking); `tee_fd` < 0: no copy.
  CapturedStream(int fd, int tee_fd, Source source, Uploader* uploader);
  ~CapturedStream();
  CapturedStream(const CapturedStream&) = delete;
  CapturedStream& operator=(const CapturedStream&) = delete;

  // A wakeup of a capture loop that finds little unread on `streams` waits for more, 1 ms at a
  // time while more arrives, up to 4 ms (fewer tee/spool writes per line when lines come fast). One
  // wait for all of a loop's streams, before any is read: a wait between reading stdout and reading
  // stderr would let a line written to stdout during it be stored after a stderr line written later
  // (a child's output, then the parent's message to stderr). Null entries are skipped.
  static void CoalesceWait(std::initializer_list<const CapturedStream*> streams);
  // Reads what is available now (bounded, so another stream gets its turn), tees and assembles it.
  // Returns the number of bytes read; marks the stream closed at EOF (or EIO: a pty whose last
  // writer is gone).
  size_t ReadAvailable();
  // Like ReadAvailable(), but appends the bytes to *out unprocessed: the agent strips sync
  // markers (sync_marker.h) first and hands the rest to Process().
  size_t ReadRaw(std::string* out);
  // Tees, assembles and submits bytes of this stream (in the order they were written).
  void Process(std::string_view data);
  // Reads until nothing is left right now (or EOF).
  void Drain();
  // Emits the last unterminated line.
  void Flush();
  // The screen height of the terminal the program writes to (how far up it can redraw).
  void SetScreenRows(int rows) { assembler_.SetRows(rows); }
  // Milliseconds until Tick() has work (rows waiting to settle), or -1: a poll timeout.
  int TickTimeoutMs() const;
  // Settles rows of a finished progress bar once the stream was quiet long enough.
  void Tick();

  int fd() const { return fd_; }
  bool open() const { return fd_ >= 0; }

 private:
  void Tee(const char* data, size_t n);
  // Reads what is available now into chunk_ (bounded); closes at EOF.
  size_t ReadChunk();
  void SubmitAssembled();

  int fd_;
  const int tee_fd_;
  const Source source_;
  Uploader* const uploader_;
  bool tee_ok_;
  bool showing_progress_ = false;  // a progress state was handed to the uploader
  int64_t last_read_us_ = 0;       // monotonic time of the last bytes processed
  LineAssembler assembler_;
  std::string chunk_;
  std::vector<std::string> lines_;
};

}  // namespace wanllmdb
