// The server's TLS context from --tls-cert / --tls-key (DESIGN §9: the one place TLS server
// settings are chosen). TLS 1.2 is the minimum; TLS 1.2 gets forward-secret AEAD suites only,
// TLS 1.3 keeps OpenSSL's defaults.
#pragma once

#include <memory>
#include <string>

#include "core/status.h"

namespace boost::asio::ssl {
class context;
}

namespace wanllmdb {

// A missing or unreadable file, a key that does not match the certificate: a clear error naming
// the file, for the server to print before it listens.
Result<std::shared_ptr<boost::asio::ssl::context>> MakeServerTlsContext(
    const std::string& cert_file, const std::string& key_file);

}  // namespace wanllmdb
