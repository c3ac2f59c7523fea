// caseloop/status.h — errors are returned, never thrown.
//
// A Status is either OK or carries one of a small fixed set of codes and a
// message that names what went wrong and where (the case, the stream, the
// versions, the position, the script line ...). Result<T> holds a value or a
// non-OK Status.
//
// Thread-safety: Status and Result are values; distinct objects may be used
// from different threads without synchronization.
#ifndef CASELOOP_STATUS_H_
#define CASELOOP_STATUS_H_

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace caseloop {

// The codes are part of the public contract (the CLI maps them to exit
// statuses, the Python bindings to exception classes). Do not renumber.
enum class StatusCode : int {
  kOk = 0,
  kInvalidArgument = 1,  // malformed input: a bad field, a missing field, a bad time
  kNotFound = 2,         // unknown case, unit, category, actor, stream
  kConflict = 3,         // expected version mismatch; duplicate id with other content
  kRejected = 4,         // not allowed in the current state, or not permitted for the actor
  kCorruption = 5,       // a stored record failed its checksum or cannot be decoded
  kIOError = 6,          // the storage failed (disk full, I/O error, lock held)
  kUnavailable = 7,      // the engine is closed or shutting down
};

// Stable lower-case name of a code: "ok", "invalid_argument", "not_found",
// "conflict", "rejected", "corruption", "io_error", "unavailable".
std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string msg) { return {StatusCode::kInvalidArgument, std::move(msg)}; }
  static Status NotFound(std::string msg) { return {StatusCode::kNotFound, std::move(msg)}; }
  static Status Conflict(std::string msg) { return {StatusCode::kConflict, std::move(msg)}; }
  static Status Rejected(std::string msg) { return {StatusCode::kRejected, std::move(msg)}; }
  static Status Corruption(std::string msg) { return {StatusCode::kCorruption, std::move(msg)}; }
  static Status IOError(std::string msg) { return {StatusCode::kIOError, std::move(msg)}; }
  static Status Unavailable(std::string msg) { return {StatusCode::kUnavailable, std::move(msg)}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  bool IsInvalidArgument() const { return code_ == StatusCode::kInvalidArgument; }
  bool IsNotFound() const { return code_ == StatusCode::kNotFound; }
  bool IsConflict() const { return code_ == StatusCode::kConflict; }
  bool IsRejected() const { return code_ == StatusCode::kRejected; }
  bool IsCorruption() const { return code_ == StatusCode::kCorruption; }
  bool IsIOError() const { return code_ == StatusCode::kIOError; }
  bool IsUnavailable() const { return code_ == StatusCode::kUnavailable; }

  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "ok" or "<code name>: <message>".
  std::string ToString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// A value or an error. REQUIRES: the Status given to the error constructor is
// not OK.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Status status) : v_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    assert(!std::get<Status>(v_).ok());
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return ok(); }

  // The error, or OK when a value is held.
  Status status() const { return ok() ? Status() : std::get<Status>(v_); }

  // REQUIRES: ok().
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace caseloop

// Returns the status from the enclosing function when it is not OK.
#define CASELOOP_RETURN_IF_ERROR(expr)               \
  do {                                               \
    ::caseloop::Status caseloop_status_ = (expr);    \
    if (!caseloop_status_.ok()) return caseloop_status_; \
  } while (0)

#endif  // CASELOOP_STATUS_H_
