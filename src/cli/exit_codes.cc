#include "cli/exit_codes.h"

#include <csignal>

#include "util/signals.h"

namespace kura::cli {

int ExitCodeFor(const Status& status) {
  switch (status.code()) {
    case Code::kOk:
      return kExitOk;
    case Code::kInvalidArgument:
    case Code::kAlreadyExists:
      return kExitUsage;
    case Code::kNotFound:
      return kExitRepoNotFound;
    case Code::kUnauthorized:
      return kExitUnauthorized;
    case Code::kSourceFailed:
      return kExitSourceFailed;
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
    case Code::kCancelled:
      return StopSignal() == SIGTERM ? kExitTerminated : kExitInterrupted;
    case Code::kInternal:
      return kExitInternal;
  }
  return kExitInternal;
}

}  // namespace kura::cli
