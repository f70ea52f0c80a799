// kura's documented exit codes (docs/exit-codes.md). Scripts and the host application rely
// on these numbers: never renumber, only add.
#pragma once

#include "kura/status.h"

namespace kura::cli {

enum ExitCode : int {
  kExitOk = 0,
  kExitInternal = 1,           // a bug or an unexpected failure
  kExitUsage = 2,              // bad command line, config or argument
  kExitRepoNotFound = 3,       // no repository at that location / not a kura repository / no such snapshot
  kExitUnauthorized = 4,       // wrong password or key file
  kExitSourceFailed = 5,       // the database dump, command or a path could not be read
  kExitIoError = 6,            // reading or writing storage failed
  kExitNoSpace = 7,            // the disk (or quota) is full
  kExitDamaged = 8,            // verify found damage, or data read back is corrupt
  kExitLocked = 9,             // another kura process is using the repository or job
  kExitWarningActive = 10,     // kura status: a warning is active
  kExitPartial = 11,           // done, with warnings (e.g. files skipped by --skip-unreadable)
  kExitPermissionDenied = 12,  // the OS refused access
  kExitUnsupported = 13,       // a newer repository format than this kura reads
  kExitRetryable = 14,         // a temporary failure (network); retrying later may succeed
  kExitInterrupted = 130,      // stopped by SIGINT (Ctrl-C); nothing was committed
  kExitTerminated = 143,       // stopped by SIGTERM (systemd, kill); nothing was committed
};

int ExitCodeFor(const Status& status);

}  // namespace kura::cli
