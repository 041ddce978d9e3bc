// The SQLite schema as an ordered list of migrations, applied at open (DESIGN §3).
#pragma once

#include "core/status.h"

namespace wanllmdb {

class SqliteDb;

// Applies every migration newer than the database's version, each in its own transaction.
Status MigrateSqlite(SqliteDb& db);

}  // namespace wanllmdb
