#include "vault_cli/exit_codes.h"

namespace kura::vault_cli {

int ExitCodeFor(const Status& status) {
  switch (status.code()) {
    case Code::kOk:
      return kExitOk;
    case Code::kInvalidArgument:
      return kExitUsage;
    case Code::kAlreadyExists:
      return kExitAlreadyExists;
    case Code::kNotFound:
      return kExitNotFound;
    case Code::kUnauthorized:
      return kExitUnauthorized;
    case Code::kIOError:
    case Code::kSourceFailed:
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
    case Code::kCancelled:
      return kExitRetryable;
    case Code::kInternal:
      return kExitInternal;
  }
  return kExitInternal;
}

}  // namespace kura::vault_cli
