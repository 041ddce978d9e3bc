// Schema migrations of the PostgreSQL store (the twin of sqlite_schema.h).
#pragma once

#include "core/status.h"

namespace wanllmdb {

class PgConn;

// Applies missing migrations in order, each in its own transaction, under a session advisory
// lock so nodes starting together don't race (the second waits, then finds nothing to do).
// kUnavailable when the database is newer than this binary.
Status MigratePostgres(PgConn& conn);

}  // namespace wanllmdb
