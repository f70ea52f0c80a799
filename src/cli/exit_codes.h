// kura's documented exit codes (docs/exit-codes.md); the ones kura-vault shares come from
// cli_common/exit_codes.h. Scripts and the host application rely
// on these numbers: never renumber, only add.
#pragma once

#include "cli_common/exit_codes.h"
#include "kura/status.h"

namespace kura::cli {

enum ExitCode : int {
  kExitOk = cli_common::kExitOk,
  kExitInternal = cli_common::kExitInternal,  // a bug or an unexpected failure
  kExitUsage = cli_common::kExitUsage,        // bad command line, config or argument
  kExitRepoNotFound =
      cli_common::kExitNotFound,  // no repository at that location / not a kura repository / no such snapshot
  kExitUnauthorized = cli_common::kExitUnauthorized,  // wrong password or key file
  kExitSourceFailed = 5,                    // the database dump, command or a path could not be read
  kExitIoError = cli_common::kExitIoError,  // reading or writing storage failed
  kExitNoSpace = cli_common::kExitNoSpace,  // the disk (or quota) is full
  kExitDamaged = cli_common::kExitDamaged,  // verify found damage, or data read back is corrupt
  kExitLocked = cli_common::kExitLocked,    // another kura process is using the repository or job
  kExitWarningActive = 10,                  // kura status: a warning is active
  kExitPartial = 11,                        // done, with warnings (e.g. files skipped by --skip-unreadable)
  kExitPermissionDenied = cli_common::kExitPermissionDenied,  // the OS refused access
  kExitUnsupported = cli_common::kExitUnsupported,  // a newer repository format than this kura reads
  kExitRetryable = cli_common::kExitRetryable,  // a temporary failure (network); retrying later may succeed
  kExitInterrupted = 130,                       // stopped by SIGINT (Ctrl-C); nothing was committed
  kExitTerminated = 143,                        // stopped by SIGTERM (systemd, kill); nothing was committed
};

int ExitCodeFor(const Status& status);

}  // namespace kura::cli
