#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <system_error>
#include <tuple>

#include "cli/commands.h"
#include "cli/flags.h"
#include "cli/retention_flags.h"
#include "server/disk_guard.h"
#include "server/server.h"

namespace wanllmdb {
namespace {

// The web UI shipped next to the binary (the pip wheel puts it in wanllmdb/_native/web beside
// wanllmdb/_native/wanllmdb), so `wanllmdb server` from pip serves the UI without --web.
// "" when there is none.
std::string BundledWebDir() {
  std::error_code ec;
  std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "";
  std::filesystem::path web = exe.parent_path() / "web";
  if (!std::filesystem::is_regular_file(web / "index.html", ec)) return "";
  return web.string();
}

}  // namespace

void AddServerCommand(flags::Command app, int* exit_code) {
  auto cmd = app.add_subcommand(
      "server", "Run the log server: REST + WebSocket API under /api/v1, and the web UI at /.");
  auto opts = std::make_shared<ServerOptions>();
  auto listen = std::make_shared<std::string>("127.0.0.1:8080");
  cmd.add_option("--listen", *listen, "HOST:PORT to listen on (port 0 picks a free one)")
      .capture_default_str();
  cmd.add_option("--data", opts->data_dir, "Data directory (the SQLite store lives here)")
      .capture_default_str();
  cmd.add_option("--store", opts->store_url,
                 "Store: sqlite:PATH (default: sqlite:DATA/logs.db), or PostgreSQL as "
                 "postgresql://USER@HOST:PORT/DB or 'host=... dbname=...' (password from the URL, "
                 "PGPASSWORD or ~/.pgpass); many server nodes may share one PostgreSQL");
  auto sync = std::make_shared<std::string>("normal");
  cmd.add_option("--sync", *sync,
                 "normal: a commit survives the process being killed; full: also a power cut "
                 "(SQLite synchronous=FULL; PostgreSQL synchronous_commit=on). See doc/deploy.md")
      .check(flags::IsMember({"normal", "full"}))
      .capture_default_str();
  cmd.add_option("--web", opts->web_dir,
                 "Directory of the built web UI (web/dist; default: the one bundled next to "
                 "the binary, as in the pip wheel)");
  auto api_key = cmd.add_option(
      "--api-key", opts->api_key,
      "Legacy: one admin key outside the key store (default: $WANLLMDB_SERVER_API_KEY; prefer "
      "'wanllmdb keys'). The SDK's $WANLLMDB_API_KEY is not read here, so exporting it for a "
      "client never locks a server by surprise");
  api_key.envname("WANLLMDB_SERVER_API_KEY");
  cmd.add_flag("--require-auth", opts->require_auth,
               "With no API key in the store yet, create an admin key and print it once");
  cmd.add_option("--bootstrap-key-file", opts->bootstrap_key_file,
                 "With no API key in the store yet, install the admin key in this file (make "
                 "one with 'wanllmdb keys generate')");
  cmd.add_flag("--allow-anonymous", opts->allow_anonymous,
               "Serve a non-loopback address without API keys (anyone who reaches it has "
               "every right)");
  cmd.add_option("--trust-proxy", opts->trusted_proxies,
                 "IP address of a reverse proxy in front of this server; its X-Forwarded-For "
                 "and X-Forwarded-Proto are believed (client address, https); repeatable")
      .take_all();
  cmd.add_option("--allowed-host", opts->allowed_hosts,
                 "A host name clients use to reach this server (Host header); repeatable. "
                 "Loopback names and the listen address are always allowed")
      .take_all();
  cmd.add_option("--allowed-origin", opts->allowed_origins,
                 "A browser origin besides this server's own that may write and open "
                 "WebSockets (e.g. https://wandb.example.com); repeatable")
      .take_all();
  cmd.add_option("--io-threads", opts->io_threads, "Network threads (0: one per core)");
  cmd.add_option("--workers", opts->worker_threads,
                 "Worker threads for store work (0: 4 per core)");
  cmd.add_option("--readers", opts->reader_threads,
                 "Threads for reads that scan logs: lists, searches, downloads (0: 2 per core)");
  cmd.add_option("--idle-timeout", opts->idle_timeout_s,
                 "Seconds before an idle or half-open connection is closed")
      .capture_default_str()
      .check(flags::Range(1, 86400));
  cmd.add_option("--shutdown-timeout", opts->shutdown_timeout_s,
                 "Seconds in-flight requests get after SIGINT/SIGTERM before the server exits "
                 "anyway (exit status 1 then)")
      .capture_default_str()
      .check(flags::Range(1, 3600));
  cmd.add_flag("!--no-text-filters", opts->text_filters,
               "Store new chunks without the text filters that let searches skip them (for "
               "comparisons; searches stay exact either way)");
  cmd.add_flag("!--no-field-parsing", opts->parse_fields,
               "Store JSON, Python-dict and logfmt lines as plain text, without parsing their "
               "fields (for comparisons; fields sent explicitly are stored either way)");
  cmd.add_option("--query-timeout", opts->query_timeout_s,
                 "Seconds one request's reads may run before it gets 503 (0: no limit); a "
                 "request whose client disconnects is cancelled at once")
      .capture_default_str()
      .check(flags::Range(0.0, 86400.0));
  cmd.add_option("--max-connections", opts->max_connections,
                 "Open connections (HTTP and WebSocket) in all; more get 503")
      .capture_default_str()
      .check(flags::Range(1, 1000000));
  cmd.add_option("--max-connections-per-client", opts->max_connections_per_client,
                 "Open connections from one client address; more get 503")
      .capture_default_str()
      .check(flags::Range(1, 1000000));
  cmd.add_option("--crash-after", opts->crash_after_s,
                 "Seconds without a word from any writer after which a running run is marked "
                 "crashed (live writers send a heartbeat every 30 s; 0: never)")
      .capture_default_str()
      .check(flags::Range(0.0, 1e7));
  cmd.add_flag("!--no-problem-detection", opts->problem_detection,
               "Do not detect problems at ingest (tracebacks, CUDA OOM, ...: doc/problems.md)");
  cmd.add_option("--stall-sweep-interval", opts->stall_sweep_s,
                 "Seconds between checks for stalled runs (no new line for the project's stall "
                 "time; 0: never)")
      .capture_default_str()
      .check(flags::Range(0.0, 3600.0));
  cmd.add_option("--webhook-retry", opts->webhook_retry_s,
                 "Seconds before a failed webhook delivery is retried (doubling up to 60 s)")
      .capture_default_str()
      .check(flags::Range(0.01, 3600.0));
  cmd.add_option("--webhook-attempts", opts->webhook_attempts,
                 "Attempts a webhook delivery gets before it is given up")
      .capture_default_str()
      .check(flags::Range(1, 1000));
  cmd.add_option("--tls-cert", opts->tls_cert,
                 "PEM certificate chain: serve HTTPS and WSS (with --tls-key)");
  cmd.add_option("--tls-key", opts->tls_key, "PEM private key of --tls-cert (unencrypted)");
  auto min_free = std::make_shared<std::string>("auto");
  cmd.add_option("--min-free-disk", *min_free,
                 "Refuse ingest (507) and fail GET /api/v1/ready below this much free space on "
                 "the SQLite store's file system: a size (512M, 2G), a share (5%), 0 (off) or "
                 "auto (the smaller of 1G and 5%)")
      .capture_default_str();
  cmd.add_option("--quota-run-lines-per-s", opts->quotas.run_lines_per_s,
                 "Ingest quota of one run in lines per second (burst: one second's worth); "
                 "over it ingest answers 429 with Retry-After (0: none)")
      .capture_default_str()
      .check(flags::Range(0.0, 1e12));
  cmd.add_option("--quota-run-bytes-per-s", opts->quotas.run_bytes_per_s,
                 "Ingest quota of one run in message bytes per second (0: none)")
      .capture_default_str()
      .check(flags::Range(0.0, 1e15));
  cmd.add_option("--quota-project-lines-per-s", opts->quotas.project_lines_per_s,
                 "Ingest quota of all runs of one project together, lines per second (0: none)")
      .capture_default_str()
      .check(flags::Range(0.0, 1e12));
  cmd.add_option("--quota-project-bytes-per-s", opts->quotas.project_bytes_per_s,
                 "Ingest quota of all runs of one project together, message bytes per second "
                 "(0: none)")
      .capture_default_str()
      .check(flags::Range(0.0, 1e15));
  cmd.add_flag("--public-metrics", opts->public_metrics,
               "Serve GET /metrics without an API key even when keys exist (it shows traffic "
               "figures, never log data); by default it needs a key with the read scope");
  auto log_format = std::make_shared<std::string>("text");
  cmd.add_option("--log-format", *log_format,
                 "Server log on stderr: text (for people) or json (one object per line: every "
                 "request with method, route, status, duration, bytes, client; never secrets)")
      .check(flags::IsMember({"text", "json"}))
      .capture_default_str();
  cmd.add_flag("!--no-access-log", opts->access_log, "Do not print a line per HTTP request");
  // Retention defaults (doc/operations.md "Retention and rotation"): what every project without
  // a policy of its own keeps. Unset: keep everything.
  auto retention = std::make_shared<RetentionDefaultFlags>();
  AddRetentionDefaultFlags(cmd, retention.get());
  cmd.add_option("--retention-interval", opts->retention_interval_s,
                 "Seconds between retention sweeps (each removes what is due in small steps)")
      .capture_default_str()
      .check(flags::Range(0.001, 1e7));
  cmd.callback([opts, listen, sync, exit_code, api_key, min_free, log_format, retention] {
    auto defaults = RetentionDefaultsOf(*retention);
    if (!defaults.ok()) {
      std::fprintf(stderr, "wanllmdb server: %s\n", defaults.status().message().c_str());
      *exit_code = 2;
      return;
    }
    opts->retention_defaults = *defaults;
    opts->log_format = *log_format == "json" ? LogFormat::kJson : LogFormat::kText;
    opts->sync = *sync == "full" ? SyncMode::kFull : SyncMode::kNormal;
    auto limit = ParseDiskLimit(*min_free);
    if (!limit.ok()) {
      std::fprintf(stderr, "wanllmdb server: %s\n", limit.status().message().c_str());
      *exit_code = 2;
      return;
    }
    opts->min_free_disk = *limit;
    // CLI11 fills the option from the environment too; only argv is visible in ps.
    opts->api_key_on_argv =
        api_key.count() > 0 && std::getenv("WANLLMDB_SERVER_API_KEY") == nullptr;
    size_t colon = listen->rfind(':');
    if (colon == std::string::npos) {
      std::fprintf(stderr, "wanllmdb server: --listen wants HOST:PORT, got '%s'\n",
                   listen->c_str());
      *exit_code = 2;
      return;
    }
    if (opts->web_dir.empty()) opts->web_dir = BundledWebDir();
    opts->host = listen->substr(0, colon);
    try {
      int port = std::stoi(listen->substr(colon + 1));
      if (port < 0 || port > 65535) throw std::out_of_range("port");
      opts->port = static_cast<uint16_t>(port);
    } catch (const std::exception&) {
      std::fprintf(stderr, "wanllmdb server: bad port in --listen '%s'\n", listen->c_str());
      *exit_code = 2;
      return;
    }
    Status s = RunServer(*opts, [](uint16_t port) {
      // A machine-readable line for scripts and tests that asked for port 0.
      std::printf("listening on port %u\n", port);
      std::fflush(stdout);
    });
    if (!s.ok()) {
      std::fprintf(stderr, "wanllmdb server: %s\n", s.message().c_str());
      *exit_code = 1;
    }
  });
}

}  // namespace wanllmdb
