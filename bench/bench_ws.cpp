// Live-tail benchmark for `make bench` (issue 2): N WebSocket viewers of one run while a
// producer posts `rate` lines/s (in 100 ms batches, as an SDK flushing often would). Every line
// carries its send time; each viewer records now - send time on arrival. Prints delivery latency
// p50/p99/max and the server's RSS (from /proc, pid given). Asserts nothing.
// Usage: bench_ws HOST PORT RUN_ID SERVER_PID [viewers=1000] [rate=1000] [seconds=10]
#include <utility>  // Boost 1.74 asio uses std::exchange without including it

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;

namespace {

int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::mutex g_mu;
std::vector<int64_t> g_latencies;  // Guarded by g_mu
std::atomic<int64_t> g_lines{0};
std::atomic<int> g_open{0};
std::atomic<bool> g_measuring{false};

// One viewer: connect, handshake, read frames forever, pull "sent=<us>" out of each line.
class Viewer : public std::enable_shared_from_this<Viewer> {
 public:
  Viewer(net::io_context& ioc, std::string host, std::string port, std::string target)
      : ws_(net::make_strand(ioc)),
        host_(std::move(host)),
        port_(std::move(port)),
        target_(std::move(target)) {}

  void Start(const tcp::resolver::results_type& ep) {
    beast::get_lowest_layer(ws_).async_connect(
        ep, [self = shared_from_this()](beast::error_code ec, const tcp::endpoint&) {
          if (ec) return self->Fail("connect", ec);
          self->ws_.async_handshake(self->host_ + ":" + self->port_, self->target_,
                                    [self](beast::error_code ec2) {
                                      if (ec2) return self->Fail("handshake", ec2);
                                      g_open++;
                                      self->Read();
                                    });
        });
  }

 private:
  void Read() {
    ws_.async_read(buf_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return self->Fail("read", ec);
      int64_t now = NowUs();
      std::string_view s(static_cast<const char*>(self->buf_.data().data()), self->buf_.size());
      std::vector<int64_t> local;
      size_t pos = 0;
      while ((pos = s.find("sent=", pos)) != std::string_view::npos) {
        pos += 5;
        int64_t t = 0;
        while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') t = t * 10 + (s[pos++] - '0');
        local.push_back(now - t);
      }
      self->buf_.consume(self->buf_.size());
      g_lines += static_cast<int64_t>(local.size());
      if (g_measuring && !local.empty()) {
        std::lock_guard lock(g_mu);
        g_latencies.insert(g_latencies.end(), local.begin(), local.end());
      }
      self->Read();
    });
  }
  void Fail(const char* what, beast::error_code ec) {
    static std::atomic<int> reported{0};
    if (reported++ < 5) std::fprintf(stderr, "viewer %s: %s\n", what, ec.message().c_str());
  }

  websocket::stream<beast::tcp_stream> ws_;
  beast::flat_buffer buf_;
  std::string host_, port_, target_;
};

long RssKiB(const std::string& pid) {
  std::ifstream in("/proc/" + pid + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr,
                 "usage: bench_ws HOST PORT RUN_ID SERVER_PID [viewers] [rate] [seconds]\n");
    return 2;
  }
  std::string host = argv[1], port = argv[2], run = argv[3], pid = argv[4];
  int viewers = argc > 5 ? std::stoi(argv[5]) : 1000;
  int rate = argc > 6 ? std::stoi(argv[6]) : 1000;
  int seconds = argc > 7 ? std::stoi(argv[7]) : 10;

  net::io_context ioc;
  tcp::resolver resolver(ioc);
  auto ep = resolver.resolve(host, port);
  long rss_before = RssKiB(pid);
  for (int i = 0; i < viewers; ++i) {
    std::make_shared<Viewer>(ioc, host, port, "/api/v1/runs/" + run + "/logs/stream?tail=0")
        ->Start(ep);
  }
  std::thread io([&] { ioc.run(); });
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (g_open < viewers && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  std::printf("viewers connected: %d of %d\n", g_open.load(), viewers);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));

  // Producer: a batch every 100 ms on one keep-alive connection.
  net::io_context pioc;
  beast::tcp_stream prod(pioc);
  prod.connect(tcp::resolver(pioc).resolve(host, port));
  const int per_batch = std::max(1, rate / 10);
  long rss_peak = 0;
  int64_t produced = 0;
  g_measuring = true;
  auto start = std::chrono::steady_clock::now();
  for (int tick = 0; tick < seconds * 10; ++tick) {
    std::string body = "{\"logs\":[";
    for (int i = 0; i < per_batch; ++i) {
      if (i) body += ',';
      body += "{\"message\":\"epoch 1 step " + std::to_string(produced + i) +
              " loss=0.1234 acc=0.9 lr=1e-4 sent=" + std::to_string(NowUs()) + "\"}";
    }
    body += "]}";
    produced += per_batch;
    http::request<http::string_body> req{http::verb::post, "/api/v1/runs/" + run + "/logs/batch",
                                         11};
    req.set(http::field::host, host);
    req.set(http::field::content_type, "application/json");
    req.body() = std::move(body);
    req.prepare_payload();
    http::write(prod, req);
    beast::flat_buffer b;
    http::response<http::string_body> res;
    http::read(prod, b, res);
    rss_peak = std::max(rss_peak, RssKiB(pid));
    std::this_thread::sleep_until(start + std::chrono::milliseconds(100 * (tick + 1)));
  }
  std::this_thread::sleep_for(std::chrono::seconds(2));
  g_measuring = false;
  long rss_after = RssKiB(pid);
  ioc.stop();
  io.join();

  std::vector<int64_t> lat;
  {
    std::lock_guard lock(g_mu);
    lat = g_latencies;
  }
  std::sort(lat.begin(), lat.end());
  auto pct = [&](double p) {
    return lat.empty()
               ? 0.0
               : lat[std::min(lat.size() - 1, static_cast<size_t>(p * lat.size()))] / 1000.0;
  };
  int64_t expected = produced * viewers;
  std::printf("lines produced: %lld at %d lines/s; deliveries: %zu of %lld expected (%.2f%%)\n",
              static_cast<long long>(produced), rate, lat.size(), static_cast<long long>(expected),
              expected ? 100.0 * lat.size() / expected : 0.0);
  std::printf(
      "delivery latency (post sent -> viewer received): p50 %.1f ms, p99 %.1f ms, max %.1f "
      "ms (goal p99 <= 250)\n",
      pct(0.5), pct(0.99), lat.empty() ? 0.0 : lat.back() / 1000.0);
  std::printf("server RSS: %.1f MiB before viewers, %.1f MiB peak, %.1f MiB after (goal <= 300)\n",
              rss_before / 1024.0, rss_peak / 1024.0, rss_after / 1024.0);
  return 0;
}
