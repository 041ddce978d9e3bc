#include "capture/uploader.h"

#include <chrono>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <random>

#include "capture/batch_json.h"
#include "core/backoff.h"
#include "core/thread_name.h"
#include "core/time_util.h"

namespace wanllmdb {

int64_t MonotonicMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

namespace {

// 5xx, 429 and 408 may succeed later; any other 4xx would be refused again. 401/403 are an
// outage too: a rotated or revoked key must not make the rest of a run vanish batch by batch —
// the spool keeps it, and `wanllmdb sync` with a good key uploads everything.
bool Retryable(int status) {
  return status >= 500 || status == 429 || status == 408 || status == 401 || status == 403;
}

bool AuthRefused(int status) {
  return status == 401 || status == 403;
}

}  // namespace

Uploader::Uploader(UploaderOptions options)
    : options_(std::move(options)),
      prefix_(BatchPrefix(options_.writer)),
      next_seq_(options_.first_seq),
      acked_seq_(options_.first_seq - 1) {}

Result<std::unique_ptr<Uploader>> Uploader::Start(UploaderOptions options) {
  std::unique_ptr<Uploader> u(new Uploader(std::move(options)));
  auto spool = SpoolWriter::Open(u->options_.spool_root, u->options_.run_id, u->options_.run_body,
                                 u->options_.writer);
  if (!spool.ok()) return spool.status();
  u->spool_ = std::move(*spool);
  u->thread_ = std::thread([p = u.get()] { p->Loop(); });
  NameThread(u->thread_, "wl-upload");
  return u;
}

Uploader::~Uploader() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Uploader::Warn(const std::string& message) {
  std::fprintf(stderr, "%s: %s\n", options_.who.c_str(), message.c_str());
}

void Uploader::Submit(const std::vector<std::string>& lines, Source source, int64_t timestamp_us,
                      std::string_view level, const LineExtrasJson* extras) {
  if (lines.empty()) return;
  std::unique_lock<std::mutex> lock(mu_);
  Record r;
  for (const std::string& line : lines) {
    if (r.count == 0) {
      r.first_seq = next_seq_;
    } else {
      r.logs.push_back(',');
    }
    AppendLineJson(next_seq_++, timestamp_us, source, level, line, &r.logs, extras);
    ++r.count;
    if (r.count >= kBatchMaxLines || r.logs.size() >= kBatchMaxBytes) {
      SealLocked(&r);
      r = Record();
    }
  }
  if (r.count) SealLocked(&r);
  lock.unlock();
  cv_.notify_all();
}

void Uploader::SealLocked(Record* r) {
  r->bytes = r->logs.size();
  r->created_us = MonotonicMicros();
  std::string text;
  text.reserve(prefix_.size() + r->logs.size() + kBatchSuffix.size());
  text.append(prefix_).append(r->logs).append(kBatchSuffix);
  auto ref = spool_->Append(text);
  if (ref.ok()) {
    r->ref = *ref;
  } else if (!spool_failed_) {
    spool_failed_ = true;
    Warn("cannot write the spool (" + ref.status().message() + "); keeping lines in memory only");
  }
  memory_bytes_ += r->bytes;
  queued_lines_ += r->count;
  queued_bytes_ += r->bytes;
  queue_.push_back(std::move(*r));
  if (memory_bytes_ > kMemoryLimit && !spool_failed_) {
    // Drop the text of the newest records (the head is needed soonest); the spool has them.
    for (auto it = queue_.rbegin(); it != queue_.rend() && memory_bytes_ > kMemoryLimit / 2; ++it) {
      if (!it->in_memory || it == std::prev(queue_.rend())) continue;
      memory_bytes_ -= it->bytes;
      std::string().swap(it->logs);
      it->in_memory = false;
    }
  }
}

void Uploader::SetProgress(Source source, std::string text) {
  if (source != Source::kStdout && source != Source::kStderr) return;
  std::lock_guard<std::mutex> lock(mu_);
  Progress& p = progress_[source == Source::kStdout ? 0 : 1];
  if (text.empty()) {
    p.dirty = false;  // the line ended: a stale state must not follow it
    p.text.clear();
    return;
  }
  if (text == p.text) return;
  p.text = std::move(text);
  p.dirty = true;
  p.timestamp_us = NowMicros();
  cv_.notify_all();
}

int64_t Uploader::ProgressDueLocked() const {
  int64_t due = INT64_MAX;
  if (outage_) return due;  // batches first; progress is only worth it live
  for (const Progress& p : progress_) {
    if (p.dirty) due = std::min(due, p.sent_us + kProgressIntervalUs);
  }
  return due;
}

void Uploader::SendProgress(HttpConnection& conn) {
  std::string body;
  {
    std::lock_guard<std::mutex> lock(mu_);
    int64_t now = MonotonicMicros();
    for (int i = 0; i < 2; ++i) {
      Progress& p = progress_[i];
      if (!p.dirty || now < p.sent_us + kProgressIntervalUs) continue;
      body = ProgressJson(options_.writer, i == 0 ? Source::kStdout : Source::kStderr,
                          p.timestamp_us, p.text);
      p.dirty = false;
      p.sent_us = now;
      break;
    }
  }
  // Best effort: a state that does not arrive is replaced by the next one or by the line.
  if (!body.empty())
    (void)conn.Request("POST", "/api/v1/runs/" + options_.run_id + "/logs/progress", body);
}

int64_t Uploader::pending_lines() {
  std::lock_guard<std::mutex> lock(mu_);
  return next_seq_ - 1 - acked_seq_;
}

void Uploader::NoteReply(bool replied) {
  std::lock_guard<std::mutex> lock(mu_);
  if (replied) {
    reached_ = true;
    last_sent_us_ = MonotonicMicros();
  } else {
    attempt_failed_ = true;
  }
  cv_.notify_all();  // Close() may be waiting for the first outcome
}

bool Uploader::CreateRun(HttpConnection& conn, bool* retry) {
  auto reply = conn.Request("POST", "/api/v1/runs", options_.run_body);
  NoteReply(reply.ok());
  if (!reply.ok() || Retryable(reply->status)) {
    if (reply.ok()) retry_after_s_ = reply->retry_after_s;
    *retry = true;
    return false;
  }
  if (reply->status / 100 == 2) return true;
  *retry = false;
  Warn("the server refused to create run " + options_.run_id + " (" +
       std::to_string(reply->status) + ": " + ErrorMessageOf(reply->body) + "); output stays in " +
       spool_->run_dir().string());
  return false;
}

int Uploader::SendHead(HttpConnection& conn) {
  // Join records from the head into one batch body.
  std::string body = prefix_;
  int64_t lines = 0, last_seq = 0;
  size_t n_records = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    size_t bytes = 0;
    for (const Record& r : queue_) {
      if (n_records && (lines + r.count > kBatchMaxLines || bytes + r.bytes > kBatchMaxBytes))
        break;
      if (n_records) body.push_back(',');
      if (r.in_memory) {
        body.append(r.logs);
      } else {
        auto text = spool_->Read(r.ref);
        if (!text.ok() || text->size() < prefix_.size() + kBatchSuffix.size()) {
          Warn("cannot read back the spool (" + text.status().message() + ")");
          return 0;
        }
        body.append(std::string_view(*text).substr(
            prefix_.size(), text->size() - prefix_.size() - kBatchSuffix.size()));
      }
      lines += r.count;
      bytes += r.bytes;
      last_seq = r.first_seq + r.count - 1;
      ++n_records;
    }
  }
  body.append(kBatchSuffix);
  std::string target = "/api/v1/runs/" + options_.run_id + "/logs/batch";
  auto reply = conn.Request("POST", target, body);
  NoteReply(reply.ok());
  if (reply.ok() && reply->status == 404) {
    run_created_ = false;  // the run vanished (or its creation was lost): create it again
    return 0;
  }
  if (!reply.ok() || Retryable(reply->status)) {
    if (reply.ok()) retry_after_s_ = reply->retry_after_s;  // 429/503/507: not before this
    std::lock_guard<std::mutex> lock(mu_);
    if (!outage_) {
      outage_ = true;
      if (reply.ok() && AuthRefused(reply->status)) {
        Warn("the server refused the API key (" + std::to_string(reply->status) + ": " +
             ErrorMessageOf(reply->body) + "); keeping output in " + spool_->run_dir().string() +
             " — upload it with a valid key: wanllmdb sync " + spool_->run_dir().string());
      } else {
        Warn("cannot reach the server (" +
             (reply.ok() ? std::to_string(reply->status) : reply.status().message()) +
             "); keeping output in " + spool_->run_dir().string() + " and retrying");
      }
    }
    return 0;
  }
  if (reply->status / 100 != 2) {
    Warn("the server refused a batch of " + std::to_string(lines) + " lines (" +
         std::to_string(reply->status) + ": " + ErrorMessageOf(reply->body) + "); skipped it");
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (outage_) {
    outage_ = false;
    Warn("server reachable again; uploading spooled lines");
  }
  for (size_t i = 0; i < n_records; ++i) {
    Record& r = queue_.front();
    if (r.in_memory) memory_bytes_ -= r.bytes;
    queued_lines_ -= r.count;
    queued_bytes_ -= r.bytes;
    queue_.pop_front();
  }
  acked_seq_ = last_seq;
  int64_t now = MonotonicMicros();
  if (now - acked_written_us_ >= 1000000) {
    acked_written_us_ = now;
    if (spool_->SetAcked(acked_seq_).ok()) acked_on_disk_ = acked_seq_;
  }
  cv_.notify_all();
  return 1;
}

void Uploader::WaitBackoff(double seconds) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, std::chrono::duration<double>(seconds), [&] { return stopping_; });
}

void Uploader::Loop() {
  HttpConnection conn(options_.server, options_.api_key, 10000);
  Backoff pacing(0.1, 2.0);
  auto backoff = [&] {
    WaitBackoff(pacing.Next(retry_after_s_));
    retry_after_s_.reset();
  };
  while (true) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_ || given_up_) return;
    }
    // The run is created at once, not with the first batch: viewers can open it right away.
    if (!run_created_) {
      bool retry = true;
      run_created_ = CreateRun(conn, &retry);
      if (!run_created_) {
        if (!retry) {
          std::lock_guard<std::mutex> lock(mu_);
          given_up_ = true;
          cv_.notify_all();
          return;
        }
        {
          std::lock_guard<std::mutex> lock(mu_);
          if (!outage_) {
            outage_ = true;
            Warn("cannot reach the server; keeping output in " + spool_->run_dir().string() +
                 " and retrying");
          }
        }
        backoff();
        continue;
      }
    }
    {
      std::unique_lock<std::mutex> lock(mu_);
      bool progress_due = false, heartbeat_due = false;
      while (true) {
        if (stopping_ || given_up_) return;
        int64_t now = MonotonicMicros();
        int64_t progress_at = ProgressDueLocked();
        if (progress_at <= now) {
          progress_due = true;
          break;
        }
        int64_t due = progress_at;
        if (queue_.empty() && !outage_ && reached_) {
          int64_t beat_at = last_sent_us_ + kHeartbeatUs;
          if (beat_at <= now) {
            heartbeat_due = true;
            break;
          }
          due = std::min(due, beat_at);
        }
        if (!queue_.empty()) {
          int64_t batch_at = queue_.front().created_us + kBatchMaxAgeUs;
          if (flushing_ || queued_lines_ >= kBatchMaxLines || queued_bytes_ >= kBatchMaxBytes ||
              now >= batch_at) {
            break;
          }
          due = std::min(due, batch_at);
        }
        if (due == INT64_MAX) {
          cv_.wait(lock);
        } else {
          cv_.wait_for(lock, std::chrono::microseconds(due - now));
        }
      }
      if (progress_due) {
        lock.unlock();
        SendProgress(conn);
        continue;
      }
      if (heartbeat_due) {
        last_sent_us_ = MonotonicMicros();  // once per interval, answered or not
        lock.unlock();
        auto reply = conn.Request("POST", "/api/v1/runs/" + options_.run_id + "/logs/batch",
                                  prefix_ + std::string(kBatchSuffix));
        if (reply.ok()) NoteReply(true);
        continue;
      }
    }
    if (SendHead(conn)) {
      pacing.Reset();
    } else {
      backoff();
    }
  }
}

bool Uploader::Close(double timeout_s) {
  std::unique_lock<std::mutex> lock(mu_);
  flushing_ = true;
  cv_.notify_all();
  auto start = std::chrono::steady_clock::now();
  auto deadline = start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                              std::chrono::duration<double>(timeout_s));
  auto done = [&] { return queue_.empty() || given_up_ || NeverReachedLocked(); };
  // Say what the exit waits for once it takes noticeable time (the user sees a silent pause).
  if (!cv_.wait_until(lock, std::min(deadline, start + std::chrono::seconds(1)), done) &&
      std::chrono::steady_clock::now() < deadline) {
    Warn("waiting for " + std::to_string(queued_lines_) + " lines to reach the server (up to " +
         std::to_string(static_cast<int>(timeout_s)) + " s)");
  }
  cv_.wait_until(lock, deadline, done);
  bool all = queue_.empty() && !given_up_;
  stopping_ = true;
  cv_.notify_all();
  lock.unlock();
  if (thread_.joinable()) thread_.join();
  lock.lock();
  if (acked_on_disk_ != acked_seq_ && acked_seq_ >= options_.first_seq) {
    if (spool_->SetAcked(acked_seq_).ok()) acked_on_disk_ = acked_seq_;
  }
  spool_->Sync();
  return all;
}

bool Uploader::Finish(std::string_view state, std::optional<int64_t> exit_code, bool all_acked,
                      bool remove_spool) {
  {
    // Not held across the requests below: CreateRun's NoteReply takes mu_ (holding it there
    // deadlocked the agent, and with it the program's pipes, whenever the run was refused).
    std::lock_guard<std::mutex> lock(mu_);
    if (state.empty()) {  // not ours to set: only the spool is tidied
      if (all_acked && remove_spool) spool_->Remove();
      return true;
    }
    if (Status w = spool_->WriteFinal(state, exit_code, false); !w.ok())
      Warn("cannot record the run's end in the spool (" + w.message() + ")");
    if (NeverReachedLocked()) return false;        // final.json waits for `wanllmdb sync`
    if (given_up_ && !run_created_) return false;  // the run was refused (said once already)
  }
  HttpConnection conn(options_.server, options_.api_key, 10000);
  bool patched = false;
  const int64_t* code = exit_code ? &*exit_code : nullptr;
  std::string body = options_.world_size > 0
                         ? RankStateJson(state, code, options_.writer, options_.world_size)
                         : RunStateJson(state, code);
  // Three tries within about one request timeout: a server that stopped answering must not hold
  // the program's exit for three timeouts.
  auto give_up_at = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (int attempt = 0; attempt < 3 && !patched; ++attempt) {
    if (attempt && std::chrono::steady_clock::now() >= give_up_at) break;
    if (attempt) std::this_thread::sleep_for(std::chrono::milliseconds(200 * attempt));
    if (!run_created_) {
      bool retry = true;
      run_created_ = CreateRun(conn, &retry);
      if (!run_created_) {
        if (!retry) break;
        continue;
      }
    }
    auto reply = conn.Request("PATCH", "/api/v1/runs/" + options_.run_id, body);
    if (reply.ok() && reply->status / 100 == 2) patched = true;
    if (reply.ok() && !Retryable(reply->status) && !patched) break;
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (patched) {
    if (all_acked && remove_spool) {
      spool_->Remove();
    } else if (Status w = spool_->WriteFinal(state, exit_code, true); !w.ok()) {
      Warn("cannot record the run's end in the spool (" + w.message() + ")");
    }
  }
  return patched;
}

}  // namespace wanllmdb
