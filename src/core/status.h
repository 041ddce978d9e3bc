// Status and Result<T>: how expected failures travel (LevelDB style). Exceptions are kept for
// errors that end an operation for reasons outside the request (out of memory, a bug).
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace wanllmdb {

// The kinds map one to one onto the HTTP statuses of doc/api.md, so any layer can fail with the
// right one without knowing about HTTP.
enum class Code {
  kOk,
  kBadRequest,     // 400: wrong type, missing field
  kMalformedJson,  // 400: not JSON at all
  kUnauthorized,   // 401
  kForbidden,      // 403
  kNotFound,       // 404
  kConflict,       // 409
  kTooLarge,       // 413
  kInvalidValue,   // 422: a value out of range
  kUnavailable,    // 503: shutting down, database gone
  kInternal,       // 500
  kMethodNotAllowed,      // 405
  kUnsupportedMediaType,  // 415: a JSON route without Content-Type: application/json
  kTooManyRequests,       // 429: slow down (Retry-After says how long)
  kInsufficientStorage,   // 507: the disk is (nearly) full; clients keep their spool
};

// Thread-safety: a value type; distinct objects may be used from distinct threads.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}
  static Status Ok() { return {}; }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

// Either a value or a failing Status. Thread-safety: a value type.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit on purpose, like absl::StatusOr
  // An OK status has no value to go with it: such a Result says kInternal (as absl::StatusOr
  // does) instead of ok() with nothing inside, which a caller would dereference.
  Result(Status status)  // NOLINT
      : status_(status.ok() ? Status(Code::kInternal, "a Result was built from an OK status")
                            : std::move(status)) {}

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  T& value() { return *value_; }
  const T& value() const { return *value_; }
  T& operator*() { return *value_; }
  const T& operator*() const { return *value_; }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace wanllmdb
