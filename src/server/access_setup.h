// AccessSetup: what RunServer decides about access control before it listens — open the key
// store, install a bootstrap admin key when asked, and refuse to serve an open API on a
// non-loopback address (DESIGN §7b "Exposure").
#pragma once

#include <memory>
#include <string>

#include "auth/key_store.h"
#include "core/status.h"
#include "server/server.h"

namespace wanllmdb {

// `loopback`: the listen address is 127.0.0.0/8 or ::1. Returns the key store (null when the
// store URL keeps no keys), having printed any bootstrap key once on stderr.
Result<std::unique_ptr<KeyStore>> SetUpAccess(const ServerOptions& options,
                                              const std::string& store_url, bool loopback);

}  // namespace wanllmdb
