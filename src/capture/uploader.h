// Uploader: numbers the lines of one writer, spools them, and delivers them in seq order.
//
// Delivery (DESIGN §2 "writer offsets", §6 "Flush policy", "Nothing lost"):
//  - Submit() gives every line the writer's next seq, encodes it once (batch_json.h) and appends
//    the lines as one record to the spool *before* anything is sent: the spool is a write-ahead
//    log, so lines survive this process being killed, and `wanllmdb sync` uploads them later.
//    A record holds at most kBatchMaxLines lines / kBatchMaxBytes bytes.
//  - One thread sends records from the head of an ordered queue, several joined into one batch
//    (up to kBatchMaxLines / kBatchMaxBytes), when the queue holds a full batch or its oldest line
//    is kBatchMaxAge old. One batch in flight at a time, over one keep-alive connection; the
//    server skips seqs it has already stored, so every retry is idempotent and nothing is skipped.
//  - 5xx, 429 and transport errors are retried forever with capped, jittered backoff (the queue
//    waits, already on disk), and never sooner than the reply's Retry-After (up to 60 s;
//    core/backoff.h); 404 re-creates the run; any other 4xx skips the batch (warned).
//  - Memory is bounded: past kMemoryLimit the queued records' text is dropped and read back from
//    the spool when their turn comes.
//  - acked.json is rewritten at most once a second and at Close(); it only saves work for sync
//    (the server's dedup is what makes delivery exactly once).
//  - Never reached: when every attempt so far failed without a reply (no server there), Close()
//    and Finish() do not wait: the spool already holds everything, `wanllmdb sync` uploads it.
//    The exit wait is only for uploads that were making progress.
//  - Heartbeat: after kHeartbeatUs without sending anything, an empty batch tells the server this
//    writer is alive (the server marks a run crashed when no writer is heard from; doc/api.md).
//  - Progress (a line being rewritten with '\r'): only the newest state per stream is kept and
//    posted to .../logs/progress at most once per kProgressIntervalUs, by the same thread, so it
//    never overtakes the batch holding the finished line; never spooled, never retried.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "capture/batch_json.h"
#include "capture/spool.h"
#include "client/http_client.h"
#include "core/log_line.h"
#include "core/status.h"

namespace wanllmdb {

// 5,000: one writer's batches go one at a time (the server numbers its lines in commit order),
// so in a flood the rate is one request per batch; against the server of the same machine,
// 5,000-line batches took 254-267k lines/s one at a time where 1,000-line ones took 164-212k.
// The server takes up to 10,000 (server/ingest.h); 1 MiB still caps a batch of long lines.
inline constexpr int64_t kBatchMaxLines = 5000;
inline constexpr size_t kBatchMaxBytes = 1024 * 1024;
// 150 ms: print-to-stored p99 must stay under 300 ms at 1 line/s (issue 9) with the HTTP round
// trip and a loaded machine's scheduling on top; 200 ms left too little (308 ms measured).
// Lower would mean more requests per slow writer: a 1,000-rank job's are the server's load.
inline constexpr int64_t kBatchMaxAgeUs = 150 * 1000;
inline constexpr size_t kMemoryLimit = 64 * 1024 * 1024;
// The server passes at most 4 progress states a second per stream; a little slower here, so none
// is dropped there.
inline constexpr int64_t kProgressIntervalUs = 300 * 1000;
inline constexpr int64_t kHeartbeatUs = 30 * 1000 * 1000;

struct UploaderOptions {
  ServerUrl server;
  std::string api_key;
  std::string run_id;
  std::string run_body;  // the POST /runs body (JSON), also the spool's run.json
  std::string writer = "main";
  // > 0: this writer is one rank of a run of world_size processes; Finish reports its end as the
  // rank's (the server ends the run when every rank has ended).
  int64_t world_size = 0;
  int64_t first_seq = 0;
  std::filesystem::path spool_root;
  std::string who = "wanllmdb";  // prefix of messages on stderr
};

// Thread-safety: Submit() and pending_lines() from any thread; Close() and Finish() from the owner.
class Uploader {
 public:
  // Opens the spool and starts the upload thread (which creates the run first).
  static Result<std::unique_ptr<Uploader>> Start(UploaderOptions options);
  ~Uploader();
  Uploader(const Uploader&) = delete;
  Uploader& operator=(const Uploader&) = delete;

  // `level` empty: none (the server detects it).
  void Submit(const std::vector<std::string>& lines, Source source, int64_t timestamp_us,
              std::string_view level = {}, const LineExtrasJson* extras = nullptr);
  // The newest state of the line being rewritten on `source` (stdout/stderr); empty: none (the
  // line ended). Call it before Submit()ting the lines of the same read.
  void SetProgress(Source source, std::string text);
  // Waits (up to `timeout_s`) until every submitted line is acknowledged, then stops the thread.
  // False when lines were left in the spool.
  bool Close(double timeout_s);
  // After Close(): records the run's end. Writes final.json first (so a crash before the PATCH
  // still lets sync apply it); on success marks it applied, and with `remove_spool` deletes this
  // writer's spool when every line was acknowledged. Returns whether the PATCH succeeded.
  // `state` empty: no PATCH (the run's state is another process's to set).
  bool Finish(std::string_view state, std::optional<int64_t> exit_code, bool all_acked,
              bool remove_spool);

  int64_t pending_lines();
  std::filesystem::path spool_dir() const { return spool_->run_dir(); }

 private:
  struct Record {
    int64_t first_seq = 0;
    int64_t count = 0;
    size_t bytes = 0;
    std::string logs;  // the line fragments joined by ',' (empty when dropped from memory)
    bool in_memory = true;
    SpoolRef ref;
    int64_t created_us = 0;  // monotonic
  };

  explicit Uploader(UploaderOptions options);
  void SealLocked(Record* r);
  void Loop();
  // One attempt. 1: acknowledged or skipped for good; 0: retry later.
  int SendHead(HttpConnection& conn);
  bool CreateRun(HttpConnection& conn, bool* retry);
  // Posts a due progress state, if any (the lock is taken inside).
  void SendProgress(HttpConnection& conn);
  // When the next progress state is due (monotonic µs), or INT64_MAX.
  int64_t ProgressDueLocked() const;
  void WaitBackoff(double seconds);
  // Records whether a request reached the server (takes the lock).
  void NoteReply(bool replied);
  // Every attempt so far failed without a reply: nobody is there to wait for.
  bool NeverReachedLocked() const { return attempt_failed_ && !reached_; }
  void Warn(const std::string& message);

  const UploaderOptions options_;
  const std::string prefix_;  // {"writer":"W","logs":[
  std::thread thread_;

  std::mutex mu_;
  std::condition_variable cv_;
  // Guarded by mu_:
  std::unique_ptr<SpoolWriter> spool_;
  std::deque<Record> queue_;
  int64_t next_seq_;
  int64_t acked_seq_;
  int64_t queued_lines_ = 0;
  size_t queued_bytes_ = 0;
  size_t memory_bytes_ = 0;
  bool flushing_ = false;
  bool stopping_ = false;
  bool given_up_ = false;  // the server refused the run: everything stays in the spool
  bool outage_ = false;
  bool spool_failed_ = false;
  bool reached_ = false;         // some request got an HTTP reply
  bool attempt_failed_ = false;  // some request got no reply at all
  int64_t last_sent_us_ = 0;     // monotonic: the last request that reached the server
  int64_t acked_written_us_ = 0;
  int64_t acked_on_disk_ = -1;
  struct Progress {
    std::string text;
    bool dirty = false;
    int64_t timestamp_us = 0;
    int64_t sent_us = 0;  // monotonic
  };
  Progress progress_[2];  // stdout, stderr
  // Only the upload thread:
  bool run_created_ = false;
  std::optional<double> retry_after_s_;  // of the last refused request, until the next wait
};

int64_t MonotonicMicros();

}  // namespace wanllmdb
