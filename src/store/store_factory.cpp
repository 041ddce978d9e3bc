#include "store/log_store.h"
#include "store/sqlite_store.h"

namespace wanllmdb {

Result<std::unique_ptr<LogStore>> OpenStore(const std::string& url) {
  constexpr std::string_view kSqlite = "sqlite:";
  if (url.rfind(kSqlite, 0) == 0) return OpenSqliteStore(url.substr(kSqlite.size()));
  if (url.rfind("postgres", 0) == 0) {
    return Status(Code::kInvalidValue,
                  "the PostgreSQL store is not built yet; use sqlite:PATH (the default)");
  }
  if (url.find(':') == std::string::npos) return OpenSqliteStore(url);
  return Status(Code::kInvalidValue, "unknown store URL '" + url + "' (want sqlite:PATH)");
}

}  // namespace wanllmdb
