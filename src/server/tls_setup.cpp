#include "server/tls_setup.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <boost/asio/ssl.hpp>

namespace wanllmdb {
namespace {

namespace ssl = boost::asio::ssl;

// OpenSSL's reason for the failure ("no start line", "bad decrypt", ...): Asio puts the first
// queued error in `ec`.
std::string OpenSslError(const boost::system::error_code& ec) {
  ERR_clear_error();
  return ec.message();
}

bool IsKeyMismatch(unsigned long e) {
  return e != 0 && ERR_GET_REASON(e) == X509_R_KEY_VALUES_MISMATCH;
}

// OpenSSL's message for a missing file is vague; say which file and why.
Status CheckReadable(const std::string& file, const char* flag) {
  std::FILE* f = std::fopen(file.c_str(), "rb");
  if (!f) {
    return Status(Code::kInvalidValue,
                  std::string("cannot read ") + flag + " " + file + ": " + std::strerror(errno));
  }
  std::fclose(f);
  return Status::Ok();
}

}  // namespace

Result<std::shared_ptr<ssl::context>> MakeServerTlsContext(const std::string& cert_file,
                                                           const std::string& key_file) {
  if (cert_file.empty() || key_file.empty()) {
    return Status(Code::kInvalidValue, "--tls-cert and --tls-key go together: give both");
  }
  if (Status s = CheckReadable(cert_file, "--tls-cert"); !s.ok()) return s;
  if (Status s = CheckReadable(key_file, "--tls-key"); !s.ok()) return s;
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                   ssl::context::single_dh_use | SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  SSL_CTX* native = ctx->native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  // Mozilla's "intermediate" TLS 1.2 list: ECDHE/DHE key exchange, AES-GCM or ChaCha20.
  SSL_CTX_set_cipher_list(native,
                          "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                          "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
                          "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
                          "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384");
  // An encrypted key would make OpenSSL prompt on the terminal: refuse it instead.
  ctx->set_password_callback(
      [](std::size_t, ssl::context::password_purpose) { return std::string(); });
  boost::system::error_code ec;
  ctx->use_certificate_chain_file(cert_file, ec);
  if (ec) {
    return Status(Code::kInvalidValue, "cannot load the TLS certificate (--tls-cert) " + cert_file +
                                           ": " + OpenSslError(ec) +
                                           " (want a PEM file: the certificate, then any "
                                           "intermediates)");
  }
  ctx->use_private_key_file(key_file, ssl::context::pem, ec);
  // OpenSSL may check the pair here already (then the key is "mismatched") or only below.
  bool mismatch = ec && (IsKeyMismatch(static_cast<unsigned long>(ec.value())) ||
                         IsKeyMismatch(ERR_peek_last_error()));
  if (ec && !mismatch) {
    return Status(Code::kInvalidValue, "cannot load the TLS private key (--tls-key) " + key_file +
                                           ": " + OpenSslError(ec) +
                                           " (want an unencrypted PEM private key)");
  }
  if (mismatch || SSL_CTX_check_private_key(native) != 1) {
    ERR_clear_error();
    return Status(Code::kInvalidValue, "the TLS private key " + key_file +
                                           " does not belong to the certificate " + cert_file);
  }
  return ctx;
}

}  // namespace wanllmdb
