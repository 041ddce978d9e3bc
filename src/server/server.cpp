#include "server/server.h"

#include <cstdio>
#include <filesystem>
#include <thread>
#include <vector>

#include "server/api.h"
#include "server/listener.h"
#include "server/live_feed.h"
#include "server/live_hub.h"
#include "server/net.h"
#include "server/static_files.h"
#include "store/live_bus.h"
#include "store/log_store.h"
#include "store/query_engine.h"

namespace wanllmdb {

Status RunServer(const ServerOptions& o, const std::function<void(uint16_t)>& on_ready) {
  std::string url = o.store_url;
  if (url.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(o.data_dir, ec);
    if (ec)
      return Status(Code::kUnavailable,
                    "cannot create data directory " + o.data_dir + ": " + ec.message());
    url = "sqlite:" + (std::filesystem::path(o.data_dir) / "logs.db").string();
  }
  StoreOptions store_options;
  store_options.sync = o.sync;
  auto store = OpenStore(url, store_options);
  if (!store.ok()) return store.status();

  unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  int io_threads = o.io_threads > 0 ? o.io_threads : static_cast<int>(cores);
  int workers = o.worker_threads > 0 ? o.worker_threads : static_cast<int>(4 * cores);

  // Commits, state changes, clears and progress reach this node's viewers through the bus
  // (in-process for SQLite; NOTIFY/LISTEN between the nodes of one PostgreSQL).
  LiveHub hub;
  auto bus = (*store)->OpenBus();
  if (!bus.ok()) return bus.status();
  LiveFeed feed(hub, **store);
  (*bus)->SetSink([&feed](const BusMessage& m) { feed.OnMessage(m); });
  (*store)->SetCommitListener([&bus](const CommitEvent& e) { (*bus)->PublishLocalCommit(e); });
  ApiOptions api_options;
  api_options.api_key = o.api_key;
  Api api(**store, hub, **bus, api_options);
  QueryEngine engine(**store);
  StaticFiles files(o.web_dir);
  if (!o.web_dir.empty() && !files.available()) {
    std::fprintf(stderr, "warning: no index.html in --web %s; '/' will say how to build the UI\n",
                 o.web_dir.c_str());
  }
  net::thread_pool pool(workers);
  AccessLog access_log(o.access_log);
  ServerContext ctx;
  ctx.api = &api;
  ctx.hub = &hub;
  ctx.store = store->get();
  ctx.engine = &engine;
  ctx.files = &files;
  ctx.workers = &pool;
  ctx.access_log = &access_log;
  ctx.idle_timeout = std::chrono::seconds(std::max(1, o.idle_timeout_s));

  net::io_context ioc(io_threads);
  beast::error_code ec;
  auto address = net::ip::make_address(o.host, ec);
  if (ec) return Status(Code::kInvalidValue, "bad listen address '" + o.host + "'");
  auto listener = std::make_shared<Listener>(ioc, ctx);
  Status s = listener->Open({address, o.port});
  if (!s.ok()) return s;
  listener->Run();
  uint16_t port = listener->local_endpoint().port();
  std::fprintf(stderr, "wanllmdb listening on http://%s:%u (store %s%s)\n", o.host.c_str(), port,
               RedactStoreUrl(url).c_str(), files.available() ? ", web UI on" : "");
  if (on_ready) on_ready(port);

  // Graceful stop: stop accepting, wait (up to 10 s) for in-flight requests, then stop.
  net::signal_set signals(ioc, SIGINT, SIGTERM);
  net::steady_timer drain(ioc);
  std::function<void(int)> wait_drain = [&](int tries) {
    if (ctx.in_flight.load() == 0 || tries == 0) {
      ioc.stop();
      return;
    }
    drain.expires_after(std::chrono::milliseconds(50));
    drain.async_wait([&, tries](beast::error_code) { wait_drain(tries - 1); });
  };
  signals.async_wait([&](beast::error_code, int sig) {
    std::fprintf(stderr, "wanllmdb: signal %d, stopping\n", sig);
    listener->Stop();
    wait_drain(200);
  });

  std::vector<std::thread> threads;
  for (int i = 1; i < io_threads; ++i) threads.emplace_back([&] { ioc.run(); });
  ioc.run();
  for (auto& t : threads) t.join();
  pool.join();
  (*bus)->Close();
  (*store)->Close();
  std::fprintf(stderr, "wanllmdb: stopped\n");
  return Status::Ok();
}

}  // namespace wanllmdb
