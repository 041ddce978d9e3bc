// Short run ids: any unique prefix of at least 8 hex digits names a run, everywhere a run id is
// accepted (API paths, the live stream, the CLI through them). Backend-neutral: one ListRuns.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"
#include "store/log_store.h"

namespace wanllmdb {

inline constexpr size_t kMinRunIdPrefix = 8;

// The full id for `id`: a full UUID is returned canonical without a lookup (an unknown one is
// the caller's 404); a prefix of >= 8 hex digits (dashes allowed where a UUID has them) is looked
// up: none → kNotFound, several → kConflict naming two of them. Anything else → kNotFound.
Result<std::string> ResolveRunId(LogStore& store, std::string_view id);

}  // namespace wanllmdb
