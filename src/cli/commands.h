// Each subcommand registers itself on the command line (cli/flags.h); its callback stores the
// exit code.
#pragma once

#include <string>

#include "cli/flags.h"

namespace wanllmdb {

void AddServerCommand(flags::Command app, int* exit_code);
void AddTailCommand(flags::Command app, int* exit_code);
void AddExportCommand(flags::Command app, int* exit_code);
void AddRunCommand(flags::Command app, int* exit_code);
void AddAgentCommand(flags::Command app, int* exit_code);
void AddSyncCommand(flags::Command app, int* exit_code);
void AddKeysCommand(flags::Command app, int* exit_code);
void AddAdminCommand(flags::Command app, int* exit_code);
// `admin export-run` / `import-run` (cmd_admin_transfer.cpp), on the `admin` subcommand.
void AddRunTransferCommands(flags::Command admin, int* exit_code);
void AddRetentionCommands(flags::Command admin, int* exit_code);  // admin retention show|set|sweep
void AddGrepCommand(flags::Command app, int* exit_code);

// The server URL for client commands: --server, else $WANLLMDB_BASE_URL, else the default.
const char* DefaultServerUrl();

// --ca-file for the client commands (https servers with a private CA).
void AddCaFileOption(flags::Command cmd, std::string* ca_file);

}  // namespace wanllmdb
