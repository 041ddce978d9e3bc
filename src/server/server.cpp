#include "server/server.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <latch>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "auth/authenticator.h"
#include "core/text_filter.h"
#include "core/thread_name.h"
#include "core/thread_priority.h"
#include "server/access_setup.h"
#include "server/alerts.h"
#include "server/api.h"
#include "server/connection_limits.h"
#include "server/disk_guard.h"
#include "server/forwarded.h"
#include "server/listener.h"
#include "server/live_feed.h"
#include "server/live_hub.h"
#include "server/metrics.h"
#include "server/net.h"
#include "server/problem_settings.h"
#include "server/run_activity.h"
#include "server/stall_watch.h"
#include "server/static_files.h"
#include "server/tls_setup.h"
#include "store/live_bus.h"
#include "store/log_store.h"
#include "store/query_engine.h"
#include "store/retention_sweep.h"
#include "store/sqlite_admin.h"

namespace wanllmdb {
namespace {

// Sets `nice` (core/thread_priority.h says which pool gets what and why) and the name on each of
// the pool's threads. Each task waits until all are running, so each lands on its own thread.
template <size_t N>
void SetUpPool(net::thread_pool& pool, int workers, int nice, const char (&name)[N]) {
  // Shared: a task may still be inside arrive_and_wait when the wait below returns.
  auto all_there = std::make_shared<std::latch>(workers);
  for (int i = 0; i < workers; ++i) {
    net::post(pool, [all_there, nice, &name] {
      SetThisThreadNice(nice);
      SetThisThreadName(name);
      all_there->arrive_and_wait();
    });
  }
  all_there->wait();
}

// Ends the process once `timeout` has passed since Arm() unless Disarm() came first.
// Thread-safety: Arm and Disarm may be called from any thread, each once.
class ShutdownWatchdog {
 public:
  ShutdownWatchdog(std::chrono::seconds timeout, const std::atomic<int>* in_flight)
      : timeout_(timeout), in_flight_(in_flight) {}
  ~ShutdownWatchdog() {
    Disarm();
    if (thread_.joinable()) thread_.join();
  }
  void Arm() {
    thread_ = std::thread([this] {
      std::unique_lock lock(mu_);
      if (cv_.wait_for(lock, timeout_, [this] { return disarmed_; })) return;
      std::fprintf(stderr,
                   "wanllmdb: still %d request(s) running %llds after the stop signal; exiting "
                   "without waiting for them (acknowledged data is already stored)\n",
                   in_flight_->load(), static_cast<long long>(timeout_.count()));
      std::fflush(stderr);
      std::_Exit(1);
    });
    NameThread(thread_, "wl-shutdown");
  }
  void Disarm() {
    {
      std::lock_guard lock(mu_);
      disarmed_ = true;
    }
    cv_.notify_all();
  }

 private:
  const std::chrono::seconds timeout_;
  const std::atomic<int>* in_flight_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool disarmed_ = false;  // Guarded by mu_
};

// Stores created before incremental vacuum keep auto_vacuum=NONE (it can only be chosen before
// the first table, or by a full VACUUM): retention frees their pages for reuse, but the file
// never shrinks. Said once at start, with the command that converts the store.
void WarnIfNoIncrementalVacuum(const std::string& sqlite_path, AccessLog& log) {
  auto mode = SqliteAutoVacuum(sqlite_path);
  if (!mode.ok() || *mode != 0) return;
  const std::filesystem::path p(sqlite_path);
  const std::string where = p.filename() == "logs.db"
                                ? "--data " + (p.has_parent_path() ? p.parent_path().string() : ".")
                                : "--store sqlite:" + sqlite_path;
  log.Event("warning", "the store " + sqlite_path +
                           " has auto_vacuum=NONE (created before incremental vacuum): "
                           "retention frees its pages for new lines but never gives disk space "
                           "back; stop the server once and run `wanllmdb admin vacuum " +
                           where + "` to convert it (doc/operations.md)");
}

}  // namespace

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
  // Bad certificate or key files are found before anything is opened.
  std::shared_ptr<net::ssl::context> tls;
  if (!o.tls_cert.empty() || !o.tls_key.empty()) {
    auto made = MakeServerTlsContext(o.tls_cert, o.tls_key);
    if (!made.ok()) return made.status();
    tls = *made;
  }
  std::string sqlite_path = url.rfind("sqlite:", 0) == 0                   ? url.substr(7)
                            : url.find_first_of(":=") == std::string::npos ? url
                                                                           : std::string();
  // Held while the server runs: `wanllmdb admin restore` refuses to replace a store in use.
  std::optional<SqliteUseLock> use_lock;
  if (!sqlite_path.empty()) {
    auto lock = SqliteUseLock::Shared(sqlite_path);
    if (!lock.ok()) return lock.status();
    use_lock.emplace(std::move(*lock));
  }
  StoreOptions store_options;
  store_options.sync = o.sync;
  auto store = OpenStore(url, store_options);
  if (!store.ok()) return store.status();

  unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  int io_threads = o.io_threads > 0 ? o.io_threads : static_cast<int>(cores);
  int workers = o.worker_threads > 0 ? o.worker_threads : static_cast<int>(4 * cores);
  int readers = o.reader_threads > 0 ? o.reader_threads : static_cast<int>(std::max(2u, 2 * cores));

  beast::error_code addr_ec;
  auto address = net::ip::make_address(o.host, addr_ec);
  if (addr_ec) return Status(Code::kInvalidValue, "bad listen address '" + o.host + "'");
  SetTextFiltersEnabled(o.text_filters);
  auto proxies = TrustedProxies::Parse(o.trusted_proxies);
  if (!proxies.ok()) return proxies.status();
  auto keys = SetUpAccess(o, url, address.is_loopback());
  if (!keys.ok()) return keys.status();
  AuthOptions auth_options;
  auth_options.legacy_key = o.api_key;
  Authenticator auth(keys->get(), auth_options);

  // Commits, state changes, clears and progress reach this node's viewers through the bus
  // (in-process for SQLite; NOTIFY/LISTEN between the nodes of one PostgreSQL).
  LiveHub hub;
  auto bus = (*store)->OpenBus();
  if (!bus.ok()) return bus.status();
  LiveFeed feed(hub, **store);
  RunActivity activity(**store, **bus, o.crash_after_s);
  (*bus)->SetSink([&feed, &activity](const BusMessage& m) {
    // Lines or progress stored through any node mean the run's writers are alive.
    if (m.kind == BusMessage::Kind::kCommit || m.kind == BusMessage::Kind::kProgress)
      activity.Touch(m.run_id);
    feed.OnMessage(m);
  });
  (*store)->SetCommitListener([&bus](const CommitEvent& e) { (*bus)->PublishLocalCommit(e); });
  std::vector<std::pair<std::string, std::string>> route_labels;
  for (const Route& r : Api::Routes()) route_labels.emplace_back(r.method, r.pattern);
  ApiOptions api_options;
  Metrics metrics(std::move(route_labels), api_options.version);
  // Free disk is that of the SQLite store's directory; a PostgreSQL store keeps its own disk.
  DiskGuard disk(sqlite_path.empty()
                     ? std::string()
                     : std::filesystem::absolute(sqlite_path).parent_path().string(),
                 o.min_free_disk);
  api_options.disk = &disk;
  std::optional<IngestQuotas> quotas;
  if (o.quotas.any()) {
    quotas.emplace(o.quotas);
    api_options.quotas = &*quotas;
  }
  api_options.allowed_origins = o.allowed_origins;
  api_options.activity = &activity;
  ProblemSettingsCache problem_settings(**store);
  StallWatch stalls(**store, problem_settings,
                    std::chrono::milliseconds(static_cast<int64_t>(o.stall_sweep_s * 1000)));
  if (o.problem_detection) api_options.problems = &problem_settings;
  api_options.stalls = &stalls;
  AlertOptions alert_options;
  alert_options.retry_initial_s = o.webhook_retry_s;
  alert_options.max_attempts = o.webhook_attempts;
  Alerts alerts(**store, alert_options);
  api_options.alerts = &alerts;
  stalls.SetOnStalled([&alerts](const std::string& id) { alerts.Stalled(id); });
  activity.SetOnCrashed(
      [&alerts](const std::string& id) { alerts.RunEnded(id, RunState::kCrashed); });
  api_options.metrics = &metrics;
  api_options.public_metrics = o.public_metrics;
  api_options.parse_fields = o.parse_fields;
  api_options.retention_defaults = o.retention_defaults;
  Api api(**store, hub, **bus, auth, api_options);
  QueryEngine engine(**store);
  StaticFiles files(o.web_dir);
  if (!o.web_dir.empty() && !files.available()) {
    std::fprintf(stderr, "warning: no index.html in --web %s; '/' will say how to build the UI\n",
                 o.web_dir.c_str());
  }
  net::thread_pool pool(workers);
  SetUpPool(pool, workers, kWorkerNice, "wl-worker");
  net::thread_pool reader_pool(readers);
  SetUpPool(reader_pool, readers, kReaderNice, "wl-reader");
  AccessLog access_log(o.access_log, o.log_format);
  if (!sqlite_path.empty()) WarnIfNoIncrementalVacuum(sqlite_path, access_log);
  ServerContext ctx;
  ctx.api = &api;
  ctx.hub = &hub;
  ctx.store = store->get();
  ctx.engine = &engine;
  ctx.files = &files;
  ctx.workers = &pool;
  ctx.readers = &reader_pool;
  ctx.access_log = &access_log;
  ctx.idle_timeout = std::chrono::seconds(std::max(1, o.idle_timeout_s));
  ctx.query_timeout = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(o.query_timeout_s));
  ctx.hosts = HostPolicy(o.host, o.allowed_hosts);
  ctx.proxies = std::move(*proxies);
  ConnectionLimits connections(o.max_connections, o.max_connections_per_client);
  ctx.connections = &connections;
  ctx.tls = tls.get();
  ctx.metrics = &metrics;
  RetentionSweepOptions retention_options;
  retention_options.defaults = o.retention_defaults;
  retention_options.interval_s = o.retention_interval_s;
  retention_options.log = [&access_log](const std::string& m) { access_log.Event("info", m); };
  RetentionSweeper retention(**store, retention_options);
  LogStore* store_ptr = store->get();
  metrics.SetSampler([&connections, &hub, &disk, &retention, store_ptr] {
    MetricsSample m;
    m.open_connections = connections.open();
    m.live_viewers = static_cast<int64_t>(hub.subscriber_count());
    m.live_lag_max_lines = hub.MaxLagLines();
    const RetentionSweepStats removed = retention.totals();
    m.retention_lines = removed.lines;
    m.retention_bytes = removed.bytes;
    m.retention_runs = removed.runs_deleted;
    if (auto bytes = store_ptr->BytesOnDisk(); bytes.ok()) m.store_bytes = *bytes;
    if (auto space = disk.Space()) {
      m.disk_free_bytes = space->free_bytes;
      m.disk_total_bytes = space->total_bytes;
      m.disk_min_free_bytes = disk.MinFreeBytes();
    }
    return m;
  });

  net::io_context ioc(io_threads);
  auto listener = std::make_shared<Listener>(ioc, ctx);
  Status s = listener->Open({address, o.port});
  if (!s.ok()) return s;
  listener->Run();
  activity.Start();
  stalls.Start();
  alerts.Start();
  retention.Start();
  uint16_t port = listener->local_endpoint().port();
  access_log.Event("info", std::string("wanllmdb listening on ") + (tls ? "https" : "http") +
                               "://" + o.host + ":" + std::to_string(port) + " (store " +
                               RedactStoreUrl(url) + (files.available() ? ", web UI on)" : ")"));
  if (on_ready) on_ready(port);

  // Graceful stop: stop accepting, wait for in-flight requests, then stop — all within
  // shutdown_timeout_s. A watchdog ends the process when that passes, whatever still runs: a
  // handler stuck in the store must not keep a SIGTERMed server alive.
  ShutdownWatchdog watchdog(std::chrono::seconds(o.shutdown_timeout_s), &ctx.in_flight);
  net::signal_set signals(ioc, SIGINT, SIGTERM);
  net::steady_timer drain(ioc);
  std::function<void()> wait_drain = [&] {
    if (ctx.in_flight.load() == 0) {
      ioc.stop();
      return;
    }
    drain.expires_after(std::chrono::milliseconds(20));
    drain.async_wait([&](beast::error_code) { wait_drain(); });
  };
  signals.async_wait([&](beast::error_code, int sig) {
    access_log.Event("info", "wanllmdb: signal " + std::to_string(sig) + ", stopping");
    watchdog.Arm();
    listener->Stop();
    wait_drain();
  });

  std::vector<std::thread> threads;
  // The main thread is an io thread too, and keeps the program's name (core/thread_name.h).
  for (int i = 1; i < io_threads; ++i) {
    threads.emplace_back([&] { ioc.run(); });
    NameThread(threads.back(), "wl-io");
  }
  ioc.run();
  for (auto& t : threads) t.join();
  // Work queued but not started is dropped; running handlers are waited for.
  reader_pool.stop();
  pool.stop();
  reader_pool.join();
  pool.join();
  activity.Stop();
  stalls.Stop();
  alerts.Stop();
  retention.Stop();
  (*bus)->Close();
  (*store)->Close();
  watchdog.Disarm();
  access_log.Event("info", "wanllmdb: stopped");
  return Status::Ok();
}

}  // namespace wanllmdb
