#include "kura/status.h"

namespace kura {

const char* CodeName(Code code) {
  switch (code) {
    case Code::kOk:
      return "ok";
    case Code::kInvalidArgument:
      return "invalid_argument";
    case Code::kNotFound:
      return "not_found";
    case Code::kAlreadyExists:
      return "already_exists";
    case Code::kCorruption:
      return "corruption";
    case Code::kUnauthorized:
      return "unauthorized";
    case Code::kPermissionDenied:
      return "permission_denied";
    case Code::kIOError:
      return "io_error";
    case Code::kNoSpace:
      return "no_space";
    case Code::kRetryable:
      return "retryable";
    case Code::kSourceFailed:
      return "source_failed";
    case Code::kLocked:
      return "locked";
    case Code::kCancelled:
      return "cancelled";
    case Code::kUnsupported:
      return "unsupported";
    case Code::kInternal:
      return "internal";
  }
  return "unknown";
}

Status Status::WithContext(const std::string& context) const {
  if (ok()) return *this;
  return Status(code_, context + ": " + message_).WithAdvice(advice_);
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  return std::string(CodeName(code_)) + ": " + message_;
}

}  // namespace kura
