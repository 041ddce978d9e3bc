#include "store/pg_conn.h"

#include <endian.h>
#include <libpq-fe.h>

#include <cstring>

namespace wanllmdb {
namespace {

// Type OIDs from pg_type.h (stable across releases).
constexpr unsigned kInt8Oid = 20, kTextOid = 25, kByteaOid = 17;

}  // namespace

PgParams& PgParams::Int(int64_t v) {
  uint64_t be = htobe64(static_cast<uint64_t>(v));
  values_.emplace_back(reinterpret_cast<const char*>(&be), sizeof be);
  null_.push_back(false);
  types_.push_back(kInt8Oid);
  return *this;
}
PgParams& PgParams::Text(std::string_view v) {
  values_.emplace_back(v);
  null_.push_back(false);
  types_.push_back(kTextOid);
  return *this;
}
PgParams& PgParams::Bytes(std::string_view v) {
  values_.emplace_back(v);
  null_.push_back(false);
  types_.push_back(kByteaOid);
  return *this;
}
PgParams& PgParams::BytesOrNull(std::string_view v) {
  values_.emplace_back(v);
  null_.push_back(v.empty());
  types_.push_back(kByteaOid);
  return *this;
}
PgParams& PgParams::Null() {
  values_.emplace_back();
  null_.push_back(true);
  types_.push_back(kInt8Oid);
  return *this;
}

void PgResult::Free::operator()(pg_result* r) const {
  PQclear(r);
}
PgResult::PgResult(pg_result* r) : r_(r, Free()) {}
int PgResult::rows() const {
  return r_ ? PQntuples(r_.get()) : 0;
}
bool PgResult::IsNull(int row, int col) const {
  return PQgetisnull(r_.get(), row, col);
}
int64_t PgResult::Int(int row, int col) const {
  if (PQgetisnull(r_.get(), row, col)) return 0;
  const char* v = PQgetvalue(r_.get(), row, col);
  switch (PQgetlength(r_.get(), row, col)) {
    case 8: {
      uint64_t x;
      std::memcpy(&x, v, 8);
      return static_cast<int64_t>(be64toh(x));
    }
    case 4: {
      uint32_t x;
      std::memcpy(&x, v, 4);
      return static_cast<int32_t>(be32toh(x));
    }
    case 2: {
      uint16_t x;
      std::memcpy(&x, v, 2);
      return static_cast<int16_t>(be16toh(x));
    }
    case 1:
      return static_cast<uint8_t>(v[0]);
  }
  return 0;
}
std::string_view PgResult::Text(int row, int col) const {
  return {PQgetvalue(r_.get(), row, col), static_cast<size_t>(PQgetlength(r_.get(), row, col))};
}
int64_t PgResult::affected() const {
  const char* n = r_ ? PQcmdTuples(r_.get()) : "";
  return *n ? std::strtoll(n, nullptr, 10) : 0;
}

Code PgErrorCode(std::string_view sqlstate, bool connection_ok) {
  if (!connection_ok) return Code::kUnavailable;
  if (sqlstate.rfind("08", 0) == 0 || sqlstate.rfind("57P", 0) == 0 || sqlstate == "40P01" ||
      sqlstate == "40001" || sqlstate == "53300")
    return Code::kUnavailable;
  if (sqlstate == "23505") return Code::kConflict;
  return Code::kInternal;
}

PgConn::~PgConn() {
  Close();
}

void PgConn::Close() {
  if (conn_) PQfinish(conn_);
  conn_ = nullptr;
  prepared_.clear();
}

bool PgConn::connected() const {
  return conn_ && PQstatus(conn_) == CONNECTION_OK;
}

Status PgConn::Ensure() {
  if (connected()) return Status::Ok();
  Close();
  conn_ = PQconnectdb(conninfo_.c_str());
  if (PQstatus(conn_) != CONNECTION_OK) {
    std::string msg = PQerrorMessage(conn_);
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    Close();
    return Status(Code::kUnavailable, "PostgreSQL unreachable: " + msg);
  }
  // NOTICEs ("relation already exists, skipping") are for people at a psql prompt.
  PQsetNoticeProcessor(
      conn_, [](void*, const char*) {}, nullptr);
  for (const auto& sql : setup_) {
    Status s = Exec(sql);
    if (!s.ok()) {
      Close();
      return s;
    }
  }
  return Status::Ok();
}

Status PgConn::FailureOf(pg_result* r, std::string_view sql) {
  const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  std::string msg = r ? PQresultErrorMessage(r) : "";
  if (msg.empty() && conn_) msg = PQerrorMessage(conn_);
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  bool ok = conn_ && PQstatus(conn_) == CONNECTION_OK;
  Code code = PgErrorCode(state ? state : "", ok);
  if (r) PQclear(r);
  if (code == Code::kUnavailable) return Status(code, "PostgreSQL: " + msg);
  return Status(code, "PostgreSQL: " + msg + " (in: " + std::string(sql.substr(0, 80)) + ")");
}

Result<PgResult> PgConn::Query(std::string_view sql, const PgParams& params) {
  // Never reconnects inside a transaction: a statement of one must not run on a fresh session.
  if (!connected()) return Status(Code::kUnavailable, "PostgreSQL connection lost");
  std::vector<const char*> values(params.values_.size());
  std::vector<int> lengths(params.values_.size()), formats(params.values_.size(), 1);
  for (size_t i = 0; i < values.size(); ++i) {
    values[i] = params.null_[i] ? nullptr : params.values_[i].data();
    lengths[i] = static_cast<int>(params.values_[i].size());
  }
  std::string q(sql);
  for (int attempt = 0;; ++attempt) {
    // Outside a transaction, a connection found dead (the server restarted while it sat idle
    // in a pool) is re-opened and the statement sent once more: it cannot have run.
    const bool idle = PQtransactionStatus(conn_) == PQTRANS_IDLE;
    auto name = Prepared(q, params);
    if (!name.ok() && !(attempt == 0 && idle && PQstatus(conn_) != CONNECTION_OK))
      return name.status();
    pg_result* r = nullptr;
    if (name.ok() && !name->empty()) {
      r = PQexecPrepared(conn_, name->c_str(), params.size(), values.data(), lengths.data(),
                         formats.data(), 1);
    } else if (name.ok()) {
      r = PQexecParams(conn_, q.c_str(), params.size(), params.types_.data(), values.data(),
                       lengths.data(), formats.data(), 1);
    }
    ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return PgResult(r);
    if (attempt == 0 && idle && PQstatus(conn_) != CONNECTION_OK) {
      if (r) PQclear(r);
      Status s = Ensure();
      if (!s.ok()) return s;
      continue;
    }
    const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
    if (state && std::strcmp(state, "26000") == 0 && prepare_) {
      // "prepared statement does not exist": the session is not ours from one statement to
      // the next (a transaction-mode pooler). Send statements unprepared from now on; this
      // one's unit of work fails (kUnavailable: the caller retries it).
      prepare_ = false;
      prepared_.clear();
      PQclear(r);
      return Status(Code::kUnavailable,
                    "PostgreSQL forgot a prepared statement (a pooler in transaction mode?): "
                    "statements are sent unprepared from now on");
    }
    return FailureOf(r, sql);
  }
}

Result<std::string> PgConn::Prepared(const std::string& sql, const PgParams& params) {
  if (!prepare_) return std::string();
  std::string key = sql;
  key.push_back('\0');
  key.append(reinterpret_cast<const char*>(params.types_.data()),
             params.types_.size() * sizeof(unsigned));
  if (auto it = prepared_.find(key); it != prepared_.end()) return it->second;
  if (prepared_.size() >= kMaxPrepared) return std::string();
  std::string name = "w" + std::to_string(prepared_.size());
  pg_result* r = PQprepare(conn_, name.c_str(), sql.c_str(), params.size(), params.types_.data());
  if (!r || PQresultStatus(r) != PGRES_COMMAND_OK) return FailureOf(r, sql);
  PQclear(r);
  prepared_.emplace(std::move(key), name);
  return name;
}

Status PgConn::ExecScript(const std::string& sql) {
  if (!connected()) return Status(Code::kUnavailable, "PostgreSQL connection lost");
  pg_result* r = PQexec(conn_, sql.c_str());
  ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) return FailureOf(r, sql);
  PQclear(r);
  return Status::Ok();
}

Result<std::string> PgConn::Literal(std::string_view text) {
  if (!connected()) return Status(Code::kUnavailable, "PostgreSQL connection lost");
  char* q = PQescapeLiteral(conn_, text.data(), text.size());
  if (!q) return Status(Code::kInvalidValue, "PostgreSQL: " + std::string(PQerrorMessage(conn_)));
  std::string out(q);
  PQfreemem(q);
  return out;
}

Status PgConn::Exec(std::string_view sql, const PgParams& params) {
  auto r = Query(sql, params);
  return r.ok() ? Status::Ok() : r.status();
}

}  // namespace wanllmdb
