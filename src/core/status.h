#pragma once
// Status and Result<T>: how every wharf module reports failure.
//
// A function that can fail returns Status (no value) or Result<T> (a value or
// a non-OK Status). Both are [[nodiscard]]. An OK Status holds no allocation,
// so returning it is cheap. Messages name the bad value and, where there is a
// closed set, the valid choices.

#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace wharf {

// The kinds of failure a caller may want to tell apart. The CLI maps them to
// exit codes and the HTTP surfaces to status codes, each in one place.
enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // bad input: a malformed file, a wrong flag, a bad value
  kNotFound,            // a named file, column or object does not exist
  kAlreadyExists,
  kFailedPrecondition,  // the operation does not apply to the current state
  kDataLoss,            // stored data is truncated or corrupted
  kUnimplemented,
  kInternal,            // a broken invariant or a library failure
  kIoError,             // the operating system refused a read or write
  kUnavailable,         // overloaded or not ready yet: retrying later may succeed
  kUnauthenticated,     // missing or wrong credentials (a bearer token)
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message);

  static Status Ok() { return Status(); }

  bool ok() const { return state_ == nullptr; }
  StatusCode code() const { return state_ ? state_->code : StatusCode::kOk; }
  const std::string& message() const;

  // "InvalidArgument: <message>", or "OK".
  std::string ToString() const;

  // Returns a copy whose message is "<prefix>: <message>"; OK stays OK.
  Status WithContext(std::string_view prefix) const;

 private:
  struct State {
    StatusCode code;
    std::string message;
  };
  std::shared_ptr<const State> state_;  // null means OK; shared so copies are cheap
};

inline Status InvalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
inline Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status AlreadyExists(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
inline Status FailedPrecondition(std::string m) { return {StatusCode::kFailedPrecondition, std::move(m)}; }
inline Status DataLoss(std::string m) { return {StatusCode::kDataLoss, std::move(m)}; }
inline Status Unimplemented(std::string m) { return {StatusCode::kUnimplemented, std::move(m)}; }
inline Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }
inline Status IoError(std::string m) { return {StatusCode::kIoError, std::move(m)}; }
inline Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
inline Status Unauthenticated(std::string m) { return {StatusCode::kUnauthenticated, std::move(m)}; }

// A value of type T, or the Status that explains why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {  // NOLINT: implicit by design
    if (status_.ok()) status_ = Internal("Result constructed from an OK Status without a value");
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }

  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }

 private:
  std::optional<T> value_;
  Status status_;
};

namespace internal {
inline const Status& AsStatus(const Status& s) { return s; }
template <typename T>
const Status& AsStatus(const Result<T>& r) { return r.status(); }
[[noreturn]] void CheckFailed(const char* expr, const char* file, int line, std::string_view msg);
}  // namespace internal

}  // namespace wharf

#define WHARF_CONCAT_INNER(a, b) a##b
#define WHARF_CONCAT(a, b) WHARF_CONCAT_INNER(a, b)

// Returns the Status of `expr` from the enclosing function if it is not OK.
#define WHARF_RETURN_IF_ERROR(expr)                                            \
  do {                                                                         \
    const ::wharf::Status _wharf_status = ::wharf::internal::AsStatus((expr)); \
    if (!_wharf_status.ok()) return _wharf_status;                             \
  } while (0)

// Evaluates `rexpr` (a Result<T>); on error returns its Status, otherwise
// moves the value into `lhs` (which may be a declaration: `auto x`).
#define WHARF_ASSIGN_OR_RETURN(lhs, rexpr) \
  WHARF_ASSIGN_OR_RETURN_IMPL(WHARF_CONCAT(_wharf_result_, __LINE__), lhs, rexpr)
#define WHARF_ASSIGN_OR_RETURN_IMPL(tmp, lhs, rexpr) \
  auto tmp = (rexpr);                                \
  if (!tmp.ok()) return tmp.status();                \
  lhs = std::move(tmp).value()

// Aborts with a message when an invariant does not hold. For bugs, never for
// bad input.
#define WHARF_CHECK(cond)                                                        \
  do {                                                                           \
    if (!(cond)) ::wharf::internal::CheckFailed(#cond, __FILE__, __LINE__, {}); \
  } while (0)
