#include "store/log_store.h"
#include "store/postgres_store.h"
#include "store/sqlite_store.h"

namespace wanllmdb {

Result<std::unique_ptr<LogStore>> OpenStore(const std::string& url, const StoreOptions& options) {
  constexpr std::string_view kSqlite = "sqlite:";
  if (url.rfind(kSqlite, 0) == 0) {
    SqliteStoreOptions o;
    o.sync = options.sync;
    return OpenSqliteStore(url.substr(kSqlite.size()), o);
  }
  if (IsPostgresUrl(url)) {
    PostgresStoreOptions o;
    o.sync = options.sync;
    return OpenPostgresStore(url, o);
  }
  if (url.find(':') == std::string::npos && url.find('=') == std::string::npos) {
    SqliteStoreOptions o;
    o.sync = options.sync;
    return OpenSqliteStore(url, o);
  }
  return Status(Code::kInvalidValue, "unknown store '" + url +
                                         "' (want sqlite:PATH, postgresql://... or a libpq "
                                         "conninfo such as 'host=... dbname=...')");
}

std::string RedactStoreUrl(const std::string& url) {
  std::string out = url;
  size_t scheme = out.find("://");
  if (scheme != std::string::npos) {
    // scheme://user:password@host…: the password ends at the last '@' of the authority.
    size_t start = scheme + 3;
    size_t end = out.find_first_of("/?", start);
    size_t at = out.rfind('@', end == std::string::npos ? std::string::npos : end);
    if (at != std::string::npos && at > start) {
      size_t colon = out.find(':', start);
      if (colon != std::string::npos && colon < at) out.replace(colon + 1, at - colon - 1, "***");
    }
  }
  for (size_t p = out.find("password="); p != std::string::npos;
       p = out.find("password=", p + 1)) {
    size_t v = p + 9;
    size_t end = v;
    if (end < out.size() && out[end] == '\'') {
      end = out.find('\'', end + 1);
      end = end == std::string::npos ? out.size() : end + 1;
    } else {
      while (end < out.size() && out[end] != ' ' && out[end] != '&') ++end;
    }
    out.replace(v, end - v, "***");
  }
  return out;
}

}  // namespace wanllmdb
