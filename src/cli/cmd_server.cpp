#include <CLI/CLI.hpp>

#include <cstdio>

#include "cli/commands.h"
#include "server/server.h"

namespace wanllmdb {

void AddServerCommand(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand(
      "server", "Run the log server: REST + WebSocket API under /api/v1, and the web UI at /.");
  auto opts = std::make_shared<ServerOptions>();
  auto listen = std::make_shared<std::string>("127.0.0.1:8080");
  cmd->add_option("--listen", *listen, "HOST:PORT to listen on (port 0 picks a free one)")
      ->capture_default_str();
  cmd->add_option("--data", opts->data_dir, "Data directory (the SQLite store lives here)")
      ->capture_default_str();
  cmd->add_option("--store", opts->store_url,
                  "Store URL: sqlite:PATH (default: sqlite:DATA/logs.db)");
  cmd->add_option("--web", opts->web_dir, "Directory of the built web UI (web/dist)");
  cmd->add_option("--api-key", opts->api_key,
                  "Require 'Authorization: Bearer KEY' on the API (default: "
                  "$WANLLMDB_SERVER_API_KEY, else open; the SDK's $WANLLMDB_API_KEY is not read "
                  "here, so exporting it for a client never locks a server by surprise)")
      ->envname("WANLLMDB_SERVER_API_KEY");
  cmd->add_option("--io-threads", opts->io_threads, "Network threads (0: one per core)");
  cmd->add_option("--workers", opts->worker_threads,
                  "Worker threads for store work (0: 4 per core)");
  cmd->add_option("--idle-timeout", opts->idle_timeout_s,
                  "Seconds before an idle or half-open connection is closed")
      ->capture_default_str()
      ->check(CLI::Range(1, 86400));
  cmd->add_option("--shutdown-timeout", opts->shutdown_timeout_s,
                  "Seconds in-flight requests get after SIGINT/SIGTERM before the server exits "
                  "anyway (exit status 1 then)")
      ->capture_default_str()
      ->check(CLI::Range(1, 3600));
  cmd->add_flag("!--no-access-log", opts->access_log, "Do not print a line per HTTP request");
  cmd->callback([opts, listen, exit_code] {
    size_t colon = listen->rfind(':');
    if (colon == std::string::npos) {
      std::fprintf(stderr, "wanllmdb server: --listen wants HOST:PORT, got '%s'\n",
                   listen->c_str());
      *exit_code = 2;
      return;
    }
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
