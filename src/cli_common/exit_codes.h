// The exit codes kura and kura-vault give the same meaning and number (docs/exit-codes.md,
// docs/vault-exit-codes.md). Each binary's own list (cli/exit_codes.h,
// vault_cli/exit_codes.h) starts from these and adds its own; never renumber, only add.
#pragma once

#include "kura/status.h"

namespace kura::cli_common {

enum SharedExitCode : int {
  kExitOk = 0,
  kExitInternal = 1,           // a bug or an unexpected failure
  kExitUsage = 2,              // bad command line, config or argument
  kExitNotFound = 3,           // the repository, vault, snapshot or tenant is not there
  kExitUnauthorized = 4,       // wrong password, key file, login, code or token
  kExitIoError = 6,            // reading or writing storage failed
  kExitNoSpace = 7,            // the disk (or quota) is full
  kExitDamaged = 8,            // damage or tampering found
  kExitLocked = 9,             // another process holds the repository, job or catalog
  kExitPermissionDenied = 12,  // the OS refused access
  kExitUnsupported = 13,       // written by a newer version than this one reads
  kExitRetryable = 14,         // a temporary failure (network, busy); retrying may succeed
};

// The shared number for `code`, or -1 for the codes whose number is each binary's own
// (kAlreadyExists, kSourceFailed, kCancelled).
int SharedExitCodeFor(Code code);

}  // namespace kura::cli_common
