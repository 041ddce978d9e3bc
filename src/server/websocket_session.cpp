#include "server/websocket_session.h"

#include <cstdio>

#include "server/api.h"
#include "server/http_util.h"
#include "server/json_out.h"
#include "server/metrics.h"
#include "store/query_engine.h"
#include "store/run_lookup.h"

namespace wanllmdb {
namespace {

constexpr size_t kMaxControlFrames = 64;
// A viewer only ever sends small control messages ({"type":"ping"}); a bigger message closes the
// connection (1009) instead of growing a buffer that would keep its size for the session.
constexpr size_t kMaxClientMessageBytes = 64 * 1024;

std::string LogsFrame(std::string_view joined_lines) {
  std::string f;
  f.reserve(joined_lines.size() + 32);
  f.append(R"({"type":"logs","logs":[)").append(joined_lines).append("]}");
  return f;
}

}  // namespace

WebSocketSession::WebSocketSession(FlexStream&& stream, ServerContext& ctx, std::string run_id,
                                   std::shared_ptr<ConnectionSlot> slot)
    : ws_(std::move(stream)),
      slot_(std::move(slot)),
      ctx_(ctx),
      run_id_(std::move(run_id)),
      timer_(ws_.get_executor()) {
  ctx_.metrics->WebSocketOpened();
}

WebSocketSession::~WebSocketSession() {
  ctx_.metrics->WebSocketClosed();
  if (subscribed_) ctx_.hub->Unsubscribe(run_id_, this);
}

void WebSocketSession::Run(http::request<http::string_body> req, std::shared_ptr<ApiRequest> meta) {
  // Validation reads the store: on the worker pool; the answer comes back to the strand.
  auto self = shared_from_this();
  auto shared_req = std::make_shared<http::request<http::string_body>>(std::move(req));
  net::post(*ctx_.workers, [self, meta, shared_req] {
    ApiRequest& areq = *meta;
    int retry_after_s = 0;
    // Authorization resolves a short id (unique prefix) to the full one in areq.params.
    Status status = self->ctx_.api->AuthorizeStream(areq, &retry_after_s);
    if (status.ok()) {
      self->run_id_ = areq.params[0];  // before the strand sees it (post below)
      status = self->ctx_.store->GetRun(self->run_id_).status();
    }
    std::string error_frame;
    if (status.ok()) {
      // Bad parameters are reported over the socket (browsers can't read a refused upgrade).
      Status param;
      auto filter = FilterFromQuery(areq.query);
      if (filter.ok()) {
        auto m = LineMatcher::Compile(*filter);
        if (m.ok()) {
          self->matcher_ = *m;
          self->filtered_ = !filter->matches_everything();
        } else {
          param = m.status();
        }
      } else {
        param = filter.status();
      }
      auto tail = IntParam(areq.query, "tail", 500, 0, 10000);
      if (tail.ok()) {
        self->tail_ = static_cast<int>(*tail);
      } else if (param.ok()) {
        param = tail.status();
      }
      auto after = LineParam(areq.query, "after_line");
      if (after.ok()) {
        self->after_line_ = *after;
      } else if (param.ok()) {
        param = after.status();
      }
      if (!param.ok()) {
        JsonOut j;
        j.BeginObject().Key("type").String("error").Key("error").BeginObject();
        j.Key("code").String(ErrorCodeName(param.code())).Key("message").String(param.message());
        j.EndObject().EndObject();
        error_frame = j.Take();
      }
    }
    net::dispatch(self->ws_.get_executor(), [self, status, shared_req, error_frame]() mutable {
      if (!status.ok()) {
        // Refuse the upgrade with a plain HTTP error.
        auto res = std::make_shared<http::response<http::string_body>>(
            static_cast<http::status>(HttpStatusOf(status.code())), shared_req->version());
        res->set(http::field::content_type, "application/json");
        res->body() = ErrorResponse(status).body;
        res->keep_alive(false);
        res->prepare_payload();
        http::async_write(self->ws_.next_layer(), *res, [self, res](beast::error_code, size_t) {
          beast::error_code ec;
          beast::get_lowest_layer(self->ws_).socket().shutdown(tcp::socket::shutdown_both, ec);
        });
        return;
      }
      self->error_frame_ = std::move(error_frame);
      self->Accept(std::move(*shared_req));
    });
  });
}

void WebSocketSession::Accept(http::request<http::string_body> req) {
  // Handshake 30 s, idle 300 s with keep-alive pings: half-open viewers are dropped.
  websocket::stream_base::timeout timeouts =
      websocket::stream_base::timeout::suggested(beast::role_type::server);
  // A silent viewer is pinged; one that does not answer within the idle time is dropped.
  timeouts.idle_timeout =
      std::max<std::chrono::seconds>(ctx_.idle_timeout, std::chrono::seconds(2));
  timeouts.keep_alive_pings = true;
  ws_.set_option(timeouts);
  // Whole frames in one write: Beast's default cuts messages into 4 KiB fragments.
  ws_.auto_fragment(false);
  ws_.read_message_max(kMaxClientMessageBytes);
  ws_.set_option(websocket::stream_base::decorator(
      [](websocket::response_type& res) { res.set(http::field::server, "wanllmdb"); }));
  ws_.async_accept(req, [self = shared_from_this()](beast::error_code ec) {
    if (ec) return self->Close();
    if (!self->error_frame_.empty()) {
      self->closed_ = true;  // nothing else will be sent
      self->out_ = std::move(self->error_frame_);
      self->ws_.text(true);
      self->ws_.async_write(net::buffer(self->out_), [self](beast::error_code, size_t) {
        self->ws_.async_close(websocket::close_code::policy_error, [self](beast::error_code) {});
      });
      return;
    }
    self->ctx_.hub->Subscribe(self->run_id_, self);
    self->subscribed_ = true;
    self->DoRead();
    self->LoadBacklog();
  });
}

void WebSocketSession::LoadBacklog() {
  loading_ = true;
  auto self = shared_from_this();
  net::post(*ctx_.readers, [self] {
    // Subscribed first, then read the store up to its last line L: everything after L arrives
    // through the hub, so nothing falls between the two.
    std::string frame;
    int64_t cursor = 0, last = 0;
    Status s;
    auto run = self->ctx_.store->GetRun(self->run_id_);
    if (!run.ok()) {
      s = run.status();
    } else {
      last = run->last_line;
      self->ctx_.hub->NoteClears(self->run_id_, run->clears);
      std::string joined;
      JsonOut j;
      auto add = [&](const LogLine& l) {
        if (!joined.empty()) joined.push_back(',');
        j.Clear();
        j.Line(self->run_id_, l);
        joined.append(j.data(), j.size());
      };
      if (self->after_line_) {
        cursor = *self->after_line_;
        int n = 0;
        bool full = false;
        s = self->ctx_.engine->Scan(self->run_id_, *self->matcher_, cursor + 1, last, false,
                                    [&](const LineView& v) {
                                      if (n == kMaxFrameLines) {
                                        full = true;
                                        return false;
                                      }
                                      add(ToLogLine(v));
                                      cursor = v.line_number;
                                      ++n;
                                      return true;
                                    });
        if (!full) cursor = std::max(cursor, last);
      } else {
        auto lines = self->ctx_.engine->Latest(self->run_id_, *self->matcher_, self->tail_, last);
        if (lines.ok()) {
          for (const auto& l : *lines) add(l);
        } else {
          s = lines.status();
        }
        cursor = last;
      }
      frame = LogsFrame(joined);
    }
    net::dispatch(
        self->ws_.get_executor(), [self, frame = std::move(frame), cursor, last, s]() mutable {
          self->loading_ = false;
          if (!s.ok()) {
            std::fprintf(stderr, "live tail %s: %s\n", self->run_id_.c_str(), s.message().c_str());
            return self->Close();
          }
          self->cursor_ = cursor;
          self->known_last_ = std::max(self->known_last_, last);
          self->backlog_sent_ = true;
          self->Write(std::move(frame));
        });
  });
}

void WebSocketSession::DoRead() {
  ws_.async_read(read_buffer_, [self = shared_from_this()](beast::error_code ec, size_t) {
    if (ec) return self->Close();
    std::string msg = beast::buffers_to_string(self->read_buffer_.data());
    self->read_buffer_.consume(self->read_buffer_.size());
    // The only message a client sends is {"type":"ping"}; anything else is ignored.
    if (msg.find("\"ping\"") != std::string::npos && self->control_.size() < kMaxControlFrames) {
      self->control_.push_back(R"({"type":"pong"})");
      self->MaybeSend();
    }
    self->DoRead();
  });
}

void WebSocketSession::OnLinesAvailable(int64_t last_line) {
  net::post(ws_.get_executor(), [self = shared_from_this(), last_line] {
    self->known_last_ = std::max(self->known_last_, last_line);
    self->MaybeSend();
  });
}

void WebSocketSession::OnRunState(RunState state, std::optional<int64_t> exit_code) {
  JsonOut j;
  j.BeginObject().Key("type").String("run").Key("state").String(RunStateName(state));
  j.Key("exit_code").OptInt(exit_code).EndObject();
  net::post(ws_.get_executor(), [self = shared_from_this(), frame = j.Take()]() mutable {
    if (self->control_.size() < kMaxControlFrames) self->control_.push_back(std::move(frame));
    self->MaybeSend();
  });
}

void WebSocketSession::OnCleared() {
  net::post(ws_.get_executor(), [self = shared_from_this()] {
    if (self->control_.size() < kMaxControlFrames)
      self->control_.push_back(R"({"type":"cleared"})");
    self->MaybeSend();
  });
}

void WebSocketSession::OnProgress(const std::shared_ptr<const LogLine>& partial) {
  net::post(ws_.get_executor(), [self = shared_from_this(), partial] {
    if (self->filtered_ && !self->matcher_->MatchLine(*partial)) return;
    std::string key = partial->writer + '\0' + std::string(SourceName(partial->source));
    if (self->progress_.size() >= 32 && !self->progress_.count(key)) return;
    JsonOut j;
    j.BeginObject().Key("type").String("progress");
    j.Key("writer").String(partial->writer);
    j.Key("source").String(SourceName(partial->source));
    j.Key("level").String(LevelName(partial->level));
    j.Key("timestamp").Timestamp(partial->timestamp_us);
    j.Key("message").String(partial->message);
    j.EndObject();
    self->progress_[key] = j.Take();
    self->MaybeSend();
  });
}

void WebSocketSession::MaybeSend() {
  lag_.store(std::max<int64_t>(0, known_last_ - cursor_), std::memory_order_relaxed);
  if (closed_ || writing_ || loading_ || !backlog_sent_) return;
  if (!control_.empty()) {
    std::string f = std::move(control_.front());
    control_.pop_front();
    return Write(std::move(f));
  }
  if (!progress_.empty()) {
    // Before new lines: a line that completes a progress bar then arrives after its last state.
    auto it = progress_.begin();
    std::string f = std::move(it->second);
    progress_.erase(it);
    return Write(std::move(f));
  }
  if (known_last_ <= cursor_) return;
  auto now = std::chrono::steady_clock::now();
  if (now - last_send_ < kMinFrameInterval) {
    if (!timer_armed_) {
      timer_armed_ = true;
      timer_.expires_at(last_send_ + kMinFrameInterval);
      timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
        self->timer_armed_ = false;
        if (!ec) self->MaybeSend();
      });
    }
    return;
  }
  PullAndSend();
}

void WebSocketSession::PullAndSend() {
  LiveHub::Pull pull = ctx_.hub->PullAfter(run_id_, cursor_);
  // The cache must hold the very next line; otherwise (fell behind, or lines committed before
  // this viewer subscribed) read from the store.
  if (!pull.complete || pull.batches.empty()) return CatchUpFromStore();
  if (!filtered_ && pull.batches.size() == 1 && pull.batches.front()->first_line() == cursor_ + 1) {
    // The common case for a live viewer: exactly the next batch. Send its shared frame. With
    // more batches waiting they go out together below: frames are paced (kMinFrameInterval),
    // so one batch a frame fell behind a run committing more than 20 small batches a second.
    const auto& b = pull.batches.front();
    cursor_ = b->last_line();
    return WriteShared(b->Frame());
  }
  std::string joined;
  int n = 0;
  int64_t cursor = cursor_;
  for (const auto& b : pull.batches) {
    if (n >= kMaxFrameLines) break;
    size_t start = static_cast<size_t>(std::max<int64_t>(0, cursor_ + 1 - b->first_line()));
    const auto& lines = b->lines();
    if (!filtered_ && static_cast<int>(lines.size() - start) + n <= kMaxFrameLines) {
      // Unfiltered: the batch's pre-rendered JSON, copied whole.
      if (start < lines.size()) {
        if (!joined.empty()) joined.push_back(',');
        joined.append(b->JsonFrom(start));
        n += static_cast<int>(lines.size() - start);
      }
      cursor = b->last_line();
      continue;
    }
    for (size_t i = start; i < lines.size() && n < kMaxFrameLines; ++i) {
      cursor = lines[i].line_number;
      if (filtered_ && !matcher_->MatchLine(lines[i])) continue;
      if (!joined.empty()) joined.push_back(',');
      joined.append(b->LineJson(i));
      ++n;
    }
  }
  cursor_ = std::max(cursor_, cursor);
  if (n == 0) return;  // everything new was filtered out
  Write(LogsFrame(joined));
}

void WebSocketSession::CatchUpFromStore() {
  // Fell behind the hub's cache (a slow viewer, or a resume from long ago): read from the store.
  loading_ = true;
  auto self = shared_from_this();
  int64_t from = cursor_ + 1, to = known_last_;
  net::post(*ctx_.readers, [self, from, to] {
    std::string joined;
    int64_t cursor = from - 1;
    int n = 0;
    bool full = false;
    JsonOut j;
    Status s = self->ctx_.engine->Scan(self->run_id_, *self->matcher_, from, to, false,
                                       [&](const LineView& v) {
                                         if (n == kMaxFrameLines) {
                                           full = true;
                                           return false;
                                         }
                                         if (!joined.empty()) joined.push_back(',');
                                         j.Clear();
                                         j.Line(self->run_id_, v);
                                         joined.append(j.data(), j.size());
                                         cursor = v.line_number;
                                         ++n;
                                         return true;
                                       });
    if (!full) cursor = to;
    net::dispatch(self->ws_.get_executor(),
                  [self, s, cursor, n, joined = std::move(joined)]() mutable {
                    self->loading_ = false;
                    if (!s.ok()) return self->Close();
                    self->cursor_ = std::max(self->cursor_, cursor);
                    if (n > 0) return self->Write(LogsFrame(joined));
                    self->MaybeSend();
                  });
  });
}

void WebSocketSession::Write(std::string frame) {
  if (closed_) return;
  writing_ = true;
  out_ = std::move(frame);
  ws_.text(true);
  ws_.async_write(net::buffer(out_), [self = shared_from_this()](beast::error_code ec, size_t) {
    self->writing_ = false;
    self->last_send_ = std::chrono::steady_clock::now();
    if (ec) return self->Close();
    self->out_.clear();
    self->out_.shrink_to_fit();  // an idle viewer holds no frame memory
    self->MaybeSend();
  });
}

void WebSocketSession::WriteShared(std::shared_ptr<const std::string> frame) {
  if (closed_) return;
  writing_ = true;
  shared_out_ = std::move(frame);
  ws_.text(true);
  ws_.async_write(net::buffer(*shared_out_),
                  [self = shared_from_this()](beast::error_code ec, size_t) {
                    self->writing_ = false;
                    self->last_send_ = std::chrono::steady_clock::now();
                    self->shared_out_.reset();
                    if (ec) return self->Close();
                    self->MaybeSend();
                  });
}

void WebSocketSession::Close() {
  if (closed_) return;
  closed_ = true;
  timer_.cancel();
  if (subscribed_) {
    ctx_.hub->Unsubscribe(run_id_, this);
    subscribed_ = false;
  }
  beast::error_code ec;
  beast::get_lowest_layer(ws_).socket().shutdown(tcp::socket::shutdown_both, ec);
  beast::get_lowest_layer(ws_).close();
}

}  // namespace wanllmdb
