// core/status: error values for the whole library.
//
// Every fallible library function returns Status or Result<T>; nothing in the
// library throws across its API, prints or exits. A Status carries a Code
// (what kind of failure, which decides the exit code) and a message that names
// the object and the cause, e.g. "open 'run3.h5': No such file or directory".
//
// Thread safety: Status and Result are values; distinct objects may be used
// from different threads freely.
#pragma once

#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace sciflow {

enum class Code {
  kOk = 0,
  kInvalidArgument,   // bad flag, bad value, bad config: a usage error (exit 2)
  kNotFound,          // file, dataset, key that does not exist
  kAlreadyExists,
  kPermissionDenied,
  kIoError,           // read/write/close failed
  kCorrupt,           // data failed a check: bad magic, checksum, truncation
  kUnsupported,       // valid but not handled: a format version, a dtype
  kTimeout,
  kCancelled,         // SIGINT/SIGTERM arrived; exit 128+N
  kUnavailable,       // a server or resource could not be reached
  kResourceExhausted, // disk full, memory, quota
  kInternal,          // a library we call failed in a way we did not expect
};

// Returns a short lower-case name for `code`, e.g. "not found".
std::string_view code_name(Code code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // ok
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {
    assert(code != Code::kOk);
  }

  static Status ok() { return Status(); }
  bool is_ok() const { return code_ == Code::kOk; }
  explicit operator bool() const { return is_ok(); }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }

  // Returns a copy whose message is "<context>: <message>".
  Status with_context(std::string_view context) const;

  // "ok" or the message.
  std::string to_string() const { return is_ok() ? "ok" : message_; }

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

// Builds "<what>: <strerror(err)>" with the Code that `err` implies
// (ENOENT -> kNotFound, EACCES -> kPermissionDenied, ENOSPC -> kResourceExhausted, ...).
// Example: errno_status("open 'a.h5'", ENOENT).
Status errno_status(std::string_view what, int err);

inline Status invalid_argument(std::string m) { return Status(Code::kInvalidArgument, std::move(m)); }
inline Status not_found(std::string m) { return Status(Code::kNotFound, std::move(m)); }
inline Status io_error(std::string m) { return Status(Code::kIoError, std::move(m)); }
inline Status corrupt(std::string m) { return Status(Code::kCorrupt, std::move(m)); }
inline Status unsupported(std::string m) { return Status(Code::kUnsupported, std::move(m)); }
inline Status internal_error(std::string m) { return Status(Code::kInternal, std::move(m)); }

// Result<T>: a T or a non-ok Status, shaped like std::expected<T, Status>.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}                // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {         // NOLINT: implicit by design
    assert(!std::get<Status>(v_).is_ok());
  }

  bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & { assert(has_value()); return std::get<T>(v_); }
  const T& value() const& { assert(has_value()); return std::get<T>(v_); }
  T&& value() && { assert(has_value()); return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  // The error; ok() when a value is held.
  Status status() const { return has_value() ? Status() : std::get<Status>(v_); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace sciflow

#define SCIFLOW_CONCAT_INNER_(a, b) a##b
#define SCIFLOW_CONCAT_(a, b) SCIFLOW_CONCAT_INNER_(a, b)

// Returns from the enclosing function if `expr` (a Status) is not ok.
#define RETURN_IF_ERROR(expr) SCIFLOW_RETURN_IF_ERROR_IMPL_(SCIFLOW_CONCAT_(sciflow_status_, __LINE__), expr)
#define SCIFLOW_RETURN_IF_ERROR_IMPL_(tmp, expr) \
  do {                                           \
    ::sciflow::Status tmp = (expr);              \
    if (!tmp.is_ok()) return tmp;                \
  } while (0)

// `ASSIGN_OR_RETURN(auto x, f());` evaluates a Result; on error returns its
// Status, else moves the value into the declaration.
#define ASSIGN_OR_RETURN(decl, expr) \
  SCIFLOW_ASSIGN_OR_RETURN_IMPL_(SCIFLOW_CONCAT_(sciflow_result_, __LINE__), decl, expr)
#define SCIFLOW_ASSIGN_OR_RETURN_IMPL_(tmp, decl, expr) \
  auto tmp = (expr);                                    \
  if (!tmp.has_value()) return tmp.status();            \
  decl = std::move(tmp).value()
