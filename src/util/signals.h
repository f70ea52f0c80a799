// Stopping kura safely when it is asked to: SIGINT (Ctrl-C) or SIGTERM (systemd, kill).
//
// While a StopOnSignals object lives, these signals do not end kura at once. The handler
// only records the signal (an atomic flag and one byte into a pipe: async-signal-safe); a
// watcher thread then asks every child kura started (from-command, dump tools, hooks) to
// stop — SIGTERM to its process group, SIGKILL to what still runs after a grace period —
// and the pipelines, which check StopRequested() at safe points, return StoppedStatus():
// nothing is committed, locks are released and temporary files removed as the stack
// unwinds normally. The CLI exits with 130 (SIGINT) or 143 (SIGTERM), docs/exit-codes.md.
//
// Outside a StopOnSignals scope the signals keep their previous (default) action, so a
// command that never checks the flag still ends on Ctrl-C.
#pragma once

#include "kura/status.h"

namespace kura {

class StopOnSignals {
 public:
  // REQUIRES: no other StopOnSignals is alive. Installs the handlers, starts the watcher.
  StopOnSignals();
  // Stops the watcher and restores the handlers that were there before.
  ~StopOnSignals();
  StopOnSignals(const StopOnSignals&) = delete;
  StopOnSignals& operator=(const StopOnSignals&) = delete;
};

// Default: how long the children get between SIGTERM and SIGKILL.
inline constexpr int kChildStopGraceMs = 3000;

// True once SIGINT or SIGTERM arrived (inside a StopOnSignals scope). Thread-safe.
bool StopRequested();
// The signal that asked kura to stop (SIGINT or SIGTERM), 0 when none did.
int StopSignal();
// kCancelled, saying which signal stopped kura and that nothing was committed.
Status StoppedStatus();
// Ok, or StoppedStatus() once a stop was requested: for the pipelines' safe points.
Status CheckStop();

// For tests: behave as if `signal` had arrived (flag only: no child is signalled), and
// forget it again.
void RequestStopForTesting(int signal);
void ClearStopForTesting();

}  // namespace kura
