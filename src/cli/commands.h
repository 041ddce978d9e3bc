// Each subcommand registers itself on the CLI11 app; its callback stores the exit code.
#pragma once

#include <string>

namespace CLI {
class App;
}

namespace wanllmdb {

void AddServerCommand(CLI::App& app, int* exit_code);
void AddTailCommand(CLI::App& app, int* exit_code);
void AddExportCommand(CLI::App& app, int* exit_code);
void AddRunCommand(CLI::App& app, int* exit_code);
void AddAgentCommand(CLI::App& app, int* exit_code);
void AddSyncCommand(CLI::App& app, int* exit_code);
void AddKeysCommand(CLI::App& app, int* exit_code);
void AddAdminCommand(CLI::App& app, int* exit_code);
// `admin export-run` / `import-run` (cmd_admin_transfer.cpp), on the `admin` subcommand.
void AddRunTransferCommands(CLI::App* admin, int* exit_code);
void AddRetentionCommands(CLI::App* admin, int* exit_code);  // admin retention show|set|sweep
void AddGrepCommand(CLI::App& app, int* exit_code);

// The server URL for client commands: --server, else $WANLLMDB_BASE_URL, else the default.
const char* DefaultServerUrl();

// --ca-file for the client commands (https servers with a private CA).
void AddCaFileOption(CLI::App* cmd, std::string* ca_file);

}  // namespace wanllmdb
