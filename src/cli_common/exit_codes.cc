#include "cli_common/exit_codes.h"

namespace kura::cli_common {

int SharedExitCodeFor(Code code) {
  switch (code) {
    case Code::kOk:
      return kExitOk;
    case Code::kInvalidArgument:
      return kExitUsage;
    case Code::kNotFound:
      return kExitNotFound;
    case Code::kUnauthorized:
      return kExitUnauthorized;
    case Code::kIOError:
      return kExitIoError;
    case Code::kNoSpace:
      return kExitNoSpace;
    case Code::kCorruption:
      return kExitDamaged;
    case Code::kLocked:
      return kExitLocked;
    case Code::kPermissionDenied:
      return kExitPermissionDenied;
    case Code::kUnsupported:
      return kExitUnsupported;
    case Code::kRetryable:
      return kExitRetryable;
    case Code::kInternal:
      return kExitInternal;
    case Code::kAlreadyExists:
    case Code::kSourceFailed:
    case Code::kCancelled:
      return -1;
  }
  return kExitInternal;
}

}  // namespace kura::cli_common
