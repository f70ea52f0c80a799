#include "cli/exit_codes.h"

#include <csignal>

#include "util/signals.h"

namespace kura::cli {

int ExitCodeFor(const Status& status) {
  switch (status.code()) {
    case Code::kAlreadyExists:
      return kExitUsage;
    case Code::kSourceFailed:
      return kExitSourceFailed;
    case Code::kCancelled:
      return StopSignal() == SIGTERM ? kExitTerminated : kExitInterrupted;
    default:
      return cli_common::SharedExitCodeFor(status.code());
  }
}

}  // namespace kura::cli
