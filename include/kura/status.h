// kura's one error model: every operation that can fail for a reason outside the program
// (I/O, network, bad input, corrupt data, a wrong password) returns Status or Result<T>.
//
// A Status carries a Code that callers act on and a message a person can act on. The
// message is already in the user's language (see util/i18n.h) and must never contain a
// secret. Log an error once, where it is handled, not at every level it passes.
//
// Exceptions never cross a function boundary in kura's own code; third-party exceptions
// (nlohmann::json, toml11, CLI11) are caught at the call site and turned into a Status.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace kura {

enum class Code {
  kOk = 0,
  kInvalidArgument,   // bad input from the user or a caller (flags, config, request)
  kNotFound,          // a named thing does not exist (snapshot, object, repository)
  kAlreadyExists,     // refusing to overwrite
  kCorruption,        // stored bytes fail a hash, MAC or parse check
  kUnauthorized,      // wrong password, key file or credentials
  kPermissionDenied,  // the OS refused access (EACCES, EPERM)
  kIOError,           // other I/O failure
  kNoSpace,           // disk full or quota exceeded (ENOSPC, EDQUOT)
  kRetryable,         // transient: network cut, server busy; the same call may succeed later
  kSourceFailed,      // a database dump or source command failed or stopped early
  kLocked,            // another kura process holds the repository or job
  kCancelled,         // interrupted by a signal or the user
  kUnsupported,       // a format version or feature this build does not know
  kInternal,          // a bug in kura
};

// Short stable name of a code, for logs and --json output ("not_found", ...).
const char* CodeName(Code code);

// What a person can do next when it is one of the program's own commands. Layers below the
// command lines name the advice instead of writing a command into the message, so each
// program words it its own way (kura prints "kura verify --read-data …"; kura-vault, which
// answers sites over HTTP, does not tell them to run kura commands on its disk).
enum class Advice {
  kNone = 0,
  kCheckRepository,   // examine the repository: kura verify --read-data
  kCreateRepository,  // no repository here yet: kura init
  kListSnapshots,     // the snapshot was not found: kura snapshots
  kListPaths,         // the path was not found in the snapshot: kura ls
  kPrune,             // leftovers a prune removes: kura prune
};

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string m) { return {Code::kInvalidArgument, std::move(m)}; }
  static Status NotFound(std::string m) { return {Code::kNotFound, std::move(m)}; }
  static Status AlreadyExists(std::string m) { return {Code::kAlreadyExists, std::move(m)}; }
  static Status Corruption(std::string m) { return {Code::kCorruption, std::move(m)}; }
  static Status Unauthorized(std::string m) { return {Code::kUnauthorized, std::move(m)}; }
  static Status PermissionDenied(std::string m) { return {Code::kPermissionDenied, std::move(m)}; }
  static Status IOError(std::string m) { return {Code::kIOError, std::move(m)}; }
  static Status NoSpace(std::string m) { return {Code::kNoSpace, std::move(m)}; }
  static Status Retryable(std::string m) { return {Code::kRetryable, std::move(m)}; }
  static Status SourceFailed(std::string m) { return {Code::kSourceFailed, std::move(m)}; }
  static Status Locked(std::string m) { return {Code::kLocked, std::move(m)}; }
  static Status Cancelled(std::string m) { return {Code::kCancelled, std::move(m)}; }
  static Status Unsupported(std::string m) { return {Code::kUnsupported, std::move(m)}; }
  static Status Internal(std::string m) { return {Code::kInternal, std::move(m)}; }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }

  // Returns a copy whose message is "context: message"; the code and advice are kept.
  Status WithContext(const std::string& context) const;
  // Returns a copy that carries `advice` (ignored on OK).
  Status WithAdvice(Advice advice) const {
    Status s = *this;
    if (!ok()) s.advice_ = advice;
    return s;
  }
  Advice advice() const { return advice_; }

  // "code_name: message", for logs.
  std::string ToString() const;

 private:
  Code code_ = Code::kOk;
  std::string message_;
  Advice advice_ = Advice::kNone;
};

// Result<T> holds either a value or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT(google-explicit-constructor)
  Result(Status status) : v_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    assert(!std::get<Status>(v_).ok() && "Result constructed from an OK Status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  // REQUIRES: ok()
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace kura

#define KURA_CONCAT_INNER(a, b) a##b
#define KURA_CONCAT(a, b) KURA_CONCAT_INNER(a, b)

// Returns from the enclosing function if `expr` (a Status) is not OK.
#define KURA_RETURN_IF_ERROR(expr)               \
  do {                                           \
    ::kura::Status kura_status_ = (expr);        \
    if (!kura_status_.ok()) return kura_status_; \
  } while (0)

// KURA_ASSIGN_OR_RETURN(auto x, Compute()); declares x from a Result or returns its Status.
#define KURA_ASSIGN_OR_RETURN(lhs, expr) \
  KURA_ASSIGN_OR_RETURN_IMPL(KURA_CONCAT(kura_result_, __LINE__), lhs, expr)
// NOLINTBEGIN(bugprone-macro-parentheses): `tmp` and `lhs` are declarations, not expressions.
#define KURA_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                               \
  if (!tmp.ok()) return tmp.status();              \
  lhs = std::move(tmp).value()
// NOLINTEND(bugprone-macro-parentheses)
