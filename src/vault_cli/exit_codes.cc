#include "vault_cli/exit_codes.h"

namespace kura::vault_cli {

int ExitCodeFor(const Status& status) {
  switch (status.code()) {
    case Code::kAlreadyExists:
      return kExitAlreadyExists;
    case Code::kSourceFailed:
      return kExitIoError;
    case Code::kCancelled:
      return kExitRetryable;
    default:
      return cli_common::SharedExitCodeFor(status.code());
  }
}

}  // namespace kura::vault_cli
