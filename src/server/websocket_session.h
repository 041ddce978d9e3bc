// WebSocketSession: one live-tail viewer of one run (DESIGN §4, doc/api.md "Live tail").
//
// Notify and pull: the hub only says "lines up to N exist"; the session pulls from its cursor
// when it is free to write (one write in flight, at most one log frame per ~50 ms), from the
// hub's cache or, when it fell behind the cache, from the store on the worker pool. It never
// queues log frames, so a stalled viewer costs a cursor, not memory.
#pragma once

#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <string>

#include "net/flex_stream.h"
#include "server/api_types.h"
#include "server/connection_limits.h"
#include "server/live_hub.h"
#include "server/net.h"
#include "server/server_context.h"
#include "store/log_query.h"

namespace wanllmdb {

// Thread-safety: hub callbacks may come from any thread and only post to the strand; all other
// state is strand-only.
class WebSocketSession : public LiveSubscriber,
                         public std::enable_shared_from_this<WebSocketSession> {
 public:
  WebSocketSession(FlexStream&& stream, ServerContext& ctx, std::string run_id,
                   std::shared_ptr<ConnectionSlot> slot);
  ~WebSocketSession() override;

  // Validates the run and filters, then accepts the upgrade (or answers 404).
  // `meta`: the upgrade request's headers, query and path as the router wants them.
  void Run(http::request<http::string_body> req, std::shared_ptr<ApiRequest> meta);

  void OnLinesAvailable(int64_t last_line) override;
  void OnRunState(RunState state, std::optional<int64_t> exit_code) override;
  void OnCleared() override;
  void OnProgress(const std::shared_ptr<const LogLine>& partial) override;

  static constexpr int kMaxFrameLines = 5000;
  static constexpr std::chrono::milliseconds kMinFrameInterval{50};

 private:
  void Accept(http::request<http::string_body> req);
  void LoadBacklog();
  void DoRead();
  void MaybeSend();
  void PullAndSend();
  void CatchUpFromStore();
  void Write(std::string frame);
  void WriteShared(std::shared_ptr<const std::string> frame);
  void Close();

  websocket::stream<FlexStream> ws_;
  std::shared_ptr<ConnectionSlot> slot_;  // the connection's place under ConnectionLimits
  ServerContext& ctx_;
  std::string run_id_;  // resolved to the full id in Run(), before the strand reads it
  std::shared_ptr<const LineMatcher> matcher_;
  bool filtered_ = false;
  int tail_ = 500;
  std::optional<int64_t> after_line_;
  std::string error_frame_;  // set when the parameters are bad: sent, then close

  beast::flat_buffer read_buffer_;
  net::steady_timer timer_;
  std::string out_;                                // the frame being written
  std::shared_ptr<const std::string> shared_out_;  // or a shared one
  std::deque<std::string> control_;                // pongs and run events; bounded
  // The newest partial line per writer/stream: a slow viewer gets the latest state, not a queue.
  std::map<std::string, std::string> progress_;
  int64_t cursor_ = 0;      // every line <= cursor_ was considered (sent or filtered out)
  int64_t known_last_ = 0;  // highest line the hub said exists
  bool subscribed_ = false, loading_ = false, writing_ = false, timer_armed_ = false;
  bool closed_ = false, backlog_sent_ = false;
  std::chrono::steady_clock::time_point last_send_{};
};

}  // namespace wanllmdb
