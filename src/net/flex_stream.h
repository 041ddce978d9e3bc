// FlexStream: a TCP stream that is plain or TLS, chosen per connection, so ONE implementation of
// each session (server) and of each client call serves http:// and https://, ws:// and wss://.
//
// It models Beast's sync and async read/write stream concepts; next_layer() is the tcp_stream in
// both cases, so beast::get_lowest_layer(s) reaches the timeouts and the socket; the teardown
// overloads below let websocket::stream<FlexStream> close either kind.
#pragma once

#include <optional>
#include <utility>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

namespace wanllmdb {

// Thread-safety: as the stream it holds — one strand (async) or one thread (sync) at a time.
class FlexStream {
 public:
  using tcp_stream = boost::beast::tcp_stream;
  using tls_stream = boost::beast::ssl_stream<tcp_stream>;
  using executor_type = tcp_stream::executor_type;

  // `arg` builds the tcp_stream (a connected socket, an io_context, an executor). `tls` null:
  // plain; otherwise TLS with that context, which must outlive the stream.
  template <class Arg>
  FlexStream(Arg&& arg, boost::asio::ssl::context* tls) {
    if (tls) {
      tls_.emplace(std::forward<Arg>(arg), *tls);
    } else {
      tcp_.emplace(std::forward<Arg>(arg));
    }
  }
  FlexStream(FlexStream&&) = default;
  FlexStream& operator=(FlexStream&&) = default;

  bool is_tls() const { return tls_.has_value(); }
  tls_stream& tls() { return *tls_; }  // only when is_tls()

  executor_type get_executor() noexcept { return next_layer().get_executor(); }
  tcp_stream& next_layer() noexcept { return tls_ ? tls_->next_layer() : *tcp_; }
  const tcp_stream& next_layer() const noexcept { return tls_ ? tls_->next_layer() : *tcp_; }

  template <class Buffers>
  std::size_t read_some(const Buffers& b, boost::beast::error_code& ec) {
    return tls_ ? tls_->read_some(b, ec) : tcp_->read_some(b, ec);
  }
  template <class Buffers>
  std::size_t read_some(const Buffers& b) {
    return tls_ ? tls_->read_some(b) : tcp_->read_some(b);
  }
  template <class Buffers>
  std::size_t write_some(const Buffers& b, boost::beast::error_code& ec) {
    return tls_ ? tls_->write_some(b, ec) : tcp_->write_some(b, ec);
  }
  template <class Buffers>
  std::size_t write_some(const Buffers& b) {
    return tls_ ? tls_->write_some(b) : tcp_->write_some(b);
  }
  // Completion handlers only (what Beast's composed operations pass), hence void.
  template <class Buffers, class Handler>
  void async_read_some(const Buffers& b, Handler&& h) {
    if (tls_) {
      tls_->async_read_some(b, std::forward<Handler>(h));
    } else {
      tcp_->async_read_some(b, std::forward<Handler>(h));
    }
  }
  template <class Buffers, class Handler>
  void async_write_some(const Buffers& b, Handler&& h) {
    if (tls_) {
      tls_->async_write_some(b, std::forward<Handler>(h));
    } else {
      tcp_->async_write_some(b, std::forward<Handler>(h));
    }
  }

 private:
  std::optional<tcp_stream> tcp_;  // exactly one of the two is set
  std::optional<tls_stream> tls_;
};

// Found by ADL from websocket::stream<FlexStream>: a WebSocket close ends the TLS session too.
inline void teardown(boost::beast::role_type role, FlexStream& s, boost::beast::error_code& ec) {
  using boost::beast::websocket::teardown;
  if (s.is_tls()) {
    teardown(role, s.tls(), ec);
  } else {
    teardown(role, s.next_layer(), ec);
  }
}

template <class Handler>
void async_teardown(boost::beast::role_type role, FlexStream& s, Handler&& h) {
  using boost::beast::websocket::async_teardown;
  if (s.is_tls()) {
    async_teardown(role, s.tls(), std::forward<Handler>(h));
  } else {
    async_teardown(role, s.next_layer(), std::forward<Handler>(h));
  }
}

}  // namespace wanllmdb
