// HttpSession: one HTTP/1.1 connection (Beast's chat-multi shape). Reads a request, hands API
// work to the worker pool, writes the answer on its own strand, keeps the connection alive;
// hands WebSocket upgrades of /runs/{id}/logs/stream to a WebSocketSession. Plain or TLS alike
// (FlexStream): with --tls-cert the TLS handshake comes first, bounded by kHandshakeTimeout.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "net/flex_stream.h"
#include "server/api_types.h"
#include "server/connection_limits.h"
#include "server/net.h"
#include "server/server_context.h"

namespace wanllmdb {

// Thread-safety: all state is touched on the session's strand only.
class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  // `slot`: this connection's place under ConnectionLimits, passed on to a WebSocketSession.
  // TLS when ctx.tls is set.
  HttpSession(tcp::socket&& socket, ServerContext& ctx, std::shared_ptr<ConnectionSlot> slot);
  void Run();

  static constexpr std::chrono::seconds kHandshakeTimeout{10};

 private:
  void Handshake();
  void DoRead();
  void OnRead(beast::error_code ec, size_t bytes);
  void Dispatch(http::request<http::string_body> req);
  void Send(ApiResponse response);
  void SendStream(ApiResponse response);
  void StreamNext();
  void OnWritten(beast::error_code ec, size_t bytes, bool close);
  void Fail(beast::error_code ec, const char* what);
  void Close();
  // After refusing an oversized body: read and drop what the client still sends (up to a limit)
  // so it can read our 413 instead of seeing a reset connection.
  void Drain(size_t left);
  bool drain_after_write_ = false;
  std::vector<char> drain_buffer_;
  void Log(int status, size_t bytes);

  FlexStream stream_;
  std::shared_ptr<ConnectionSlot> slot_;
  beast::flat_buffer buffer_;
  bool sends_bodies_ = false;  // a request had a big body: read 64 KiB at a time (DoRead)
  ServerContext& ctx_;
  std::optional<http::request_parser<http::string_body>> parser_;
  // The request being answered.
  std::string method_, target_;
  unsigned version_ = 11;
  bool keep_alive_ = true;
  std::chrono::steady_clock::time_point started_;
  int route_ = -1;      // the route table row answering it (Metrics::Unmatched() until known)
  std::string client_;  // the peer's address
  // Kept alive across the async write.
  std::shared_ptr<void> response_;
  // Streaming state.
  BodyStream stream_body_;
  std::string piece_;
  size_t streamed_bytes_ = 0;
  int streamed_status_ = 200;
  std::unique_ptr<http::response<http::empty_body>> stream_header_;
  std::unique_ptr<http::response_serializer<http::empty_body>> stream_serializer_;
};

}  // namespace wanllmdb
