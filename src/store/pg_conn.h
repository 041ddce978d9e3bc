// Thin RAII wrappers over libpq: a connection, its parameters and its results. Every query runs
// with binary parameters and binary results (BIGINT, TEXT, BYTEA and BOOLEAN only), so payloads
// travel without escaping and numbers without parsing text.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/status.h"

struct pg_conn;
struct pg_result;

namespace wanllmdb {

// Parameters of one query, $1, $2, … in the order added.
class PgParams {
 public:
  PgParams& Int(int64_t v);
  PgParams& Text(std::string_view v);
  PgParams& Bytes(std::string_view v);
  PgParams& Null();
  // BYTEA, or a BYTEA-typed NULL when `v` is empty.
  PgParams& BytesOrNull(std::string_view v);
  int size() const { return static_cast<int>(values_.size()); }

 private:
  friend class PgConn;
  std::vector<std::string> values_;
  std::vector<bool> null_;
  std::vector<unsigned> types_;
};

// A query's rows. Thread-safety: a value type.
class PgResult {
 public:
  PgResult() = default;
  explicit PgResult(pg_result* r);
  int rows() const;
  bool IsNull(int row, int col) const;
  int64_t Int(int row, int col) const;            // BIGINT, INTEGER, SMALLINT or BOOLEAN
  std::string_view Text(int row, int col) const;  // TEXT or BYTEA
  int64_t affected() const;

 private:
  struct Free {
    void operator()(pg_result* r) const;
  };
  std::shared_ptr<pg_result> r_;
};

// One connection. Thread-safety: one thread at a time.
class PgConn {
 public:
  explicit PgConn(std::string conninfo) : conninfo_(std::move(conninfo)) {}
  ~PgConn();
  PgConn(const PgConn&) = delete;
  PgConn& operator=(const PgConn&) = delete;

  // Connects when not connected (or the connection broke). kUnavailable when the server is not
  // reachable. `setup` statements run on every new connection.
  Status Ensure();
  void SetSetup(std::vector<std::string> setup) { setup_ = std::move(setup); }
  bool connected() const;
  void Close();

  // kUnavailable when not connected: callers Ensure() at the start of a unit of work only, so a
  // transaction's statements never land on a fresh session.
  Result<PgResult> Query(std::string_view sql, const PgParams& params = {});
  Status Exec(std::string_view sql, const PgParams& params = {});
  // Several statements without parameters (migrations, transaction control). The first that
  // fails stops the rest and is returned.
  Status ExecScript(const std::string& sql);
  // `text` as an SQL string literal, quoted for this connection (for ExecScript).
  Result<std::string> Literal(std::string_view text);
  pg_conn* handle() const { return conn_; }

 private:
  Status FailureOf(pg_result* r, std::string_view sql);

  // The name of `sql`'s prepared statement on this session, preparing it on first use; "" to
  // send it unprepared (the cache is full, or preparing is off). A failed prepare is returned.
  Result<std::string> Prepared(const std::string& sql, const PgParams& params);

  const std::string conninfo_;
  std::vector<std::string> setup_;
  pg_conn* conn_ = nullptr;
  // Statements prepared on this session, by SQL text and parameter types: each is parsed and
  // planned once per connection instead of once per call (an append runs five of them). Emptied
  // with the session. Bounded: SQL with inlined values must not grow it without end.
  std::unordered_map<std::string, std::string> prepared_;
  static constexpr size_t kMaxPrepared = 256;
  // Off for good once the server forgot a statement it prepared: a pooler in transaction mode
  // (PgBouncer before 1.21) hands each transaction another server session.
  bool prepare_ = true;
};

// kUnavailable for connection loss, server shutdown, deadlock or serialization failure (worth
// a retry), kConflict for unique violations, kInternal otherwise.
Code PgErrorCode(std::string_view sqlstate, bool connection_ok);

}  // namespace wanllmdb
