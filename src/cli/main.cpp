// wanllmdb: one binary, subcommands (DESIGN §1).
#include <cstdlib>
#include <optional>

#include "cli/commands.h"
#include "cli/flags.h"

namespace wanllmdb {
const char* DefaultServerUrl() {
  const char* env = std::getenv("WANLLMDB_BASE_URL");
  return env && *env ? env : "http://127.0.0.1:8080";
}

void AddCaFileOption(flags::Command cmd, std::string* ca_file) {
  cmd.add_option("--ca-file", *ca_file,
                 "https: PEM file of the CAs to trust instead of the system's "
                 "($WANLLMDB_CA_FILE)");
}
}  // namespace wanllmdb

int main(int argc, char** argv) {
  wanllmdb::flags::CommandLine cli(
      "wanllmdb: the log system of the wanLLMDB experiment tracker.\n"
      "Captures what training runs print, stores it compactly, streams it live, and lets you\n"
      "filter, search and download it.");
  wanllmdb::flags::Command app = cli.root();
  app.require_subcommand(1);
  app.set_version_flag("--version", "wanllmdb 0.1.0");
  int exit_code = 0;
  wanllmdb::AddServerCommand(app, &exit_code);
  wanllmdb::AddTailCommand(app, &exit_code);
  wanllmdb::AddExportCommand(app, &exit_code);
  wanllmdb::AddGrepCommand(app, &exit_code);
  wanllmdb::AddRunCommand(app, &exit_code);
  wanllmdb::AddAgentCommand(app, &exit_code);
  wanllmdb::AddSyncCommand(app, &exit_code);
  wanllmdb::AddKeysCommand(app, &exit_code);
  wanllmdb::AddAdminCommand(app, &exit_code);
  // CLI11_PARSE: --help, --version and usage errors end here with their exit status.
  if (std::optional<int> ended = cli.parse(argc, argv)) return *ended;
  return exit_code;
}
