// Child processes without a shell: argv is passed as-is (no quoting problems, no injection),
// secrets go through the environment or a pipe, never argv.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kura/status.h"
#include "util/io.h"

namespace kura {

struct ProcessOptions {
  std::vector<std::string> argv;  // argv[0] is looked up in PATH when it has no '/'
  // Added to (or replacing) the parent's environment. Use for PGPASSWORD-like secrets: a
  // secret given here reaches only this child.
  std::vector<std::pair<std::string, std::string>> env;
  // Removed from the child's environment. kura's own secrets (IsKuraSecretVariable) are
  // always removed from what the child inherits, whatever the caller asks.
  std::vector<std::string> unset_env;
  std::string cwd;                  // Default: the parent's
  bool pipe_stdin = false;          // else stdin is /dev/null
  bool pipe_stdout = true;          // else stdout goes to /dev/null
  size_t stderr_tail_bytes = 8192;  // how much of stderr to keep for error messages
};

// True for the variables that hold kura's own secrets: KURA_PASSWORD, KURA_DB_PASSWORD and
// any other KURA_* variable whose name says it holds a secret (…PASSWORD…, …SECRET…,
// …TOKEN…, …PASSPHRASE…), except the *_FILE ones, which name a file (a path, not a secret).
// No child kura starts inherits these (from-command, job commands, hooks, dump tools):
// BuildChildEnvironment drops them, so no caller can forget to.
bool IsKuraSecretVariable(std::string_view name);

// The environment a child gets: `parent` (NAME=VALUE entries) without kura's secrets, the
// unset_env names and the names in env, then env appended. Exposed for tests.
std::vector<std::string> BuildChildEnvironment(const ProcessOptions& options,
                                               const std::vector<std::string>& parent);

// A running child. Destroying a Process that was not waited for kills it (SIGKILL) and
// reaps it. Stdout() may be read from one thread while another waits; Kill() and Signal()
// may be called from any thread at any time, also while another thread is in Wait(): the
// child is reaped under a lock, and a child that has been reaped is never signalled, so a
// process group whose number the system has given to another program is never hit.
//
// The child leads its own process group, so Kill() also ends what it started (the
// commands of an `sh -c` pipeline); all signals are reset to their defaults in the child.
// Writing to Stdin() after the child exited fails with kIOError instead of raising
// SIGPIPE in kura. stderr is collected by a thread from the start, so a child that writes
// much to stderr never blocks on it.
class Process {
 public:
  // Fails with kNotFound (message names the program and says to install it) when argv[0]
  // cannot be executed.
  static Result<std::unique_ptr<Process>> Start(const ProcessOptions& options);
  virtual ~Process() = default;

  // REQUIRES: pipe_stdout. EOF when the child closes stdout.
  virtual ByteReader& Stdout() = 0;
  // REQUIRES: pipe_stdin.
  virtual ByteWriter& Stdin() = 0;
  virtual void CloseStdin() = 0;
  // Closes stdin, then waits for exit; returns the exit status (128+signal if killed by a
  // signal). Read Stdout() to EOF first (or from another thread): a child blocked on a full
  // stdout pipe never exits.
  virtual Result<int> Wait() = 0;
  // SIGKILL to the child's process group, unless the child has been reaped. Thread-safe.
  virtual void Kill() = 0;
  // `signal` to the child's process group, unless the child has been reaped. Thread-safe.
  virtual void Signal(int signal) = 0;
  virtual int pid() const = 0;
  // The last stderr_tail_bytes of the child's stderr (valid after Wait()).
  virtual std::string StderrTail() const = 0;
};

// Runs a command to completion, collecting stdout (up to max_stdout bytes).
struct ProcessOutput {
  int exit_code = -1;
  std::string out;
  std::string err;
};
Result<ProcessOutput> RunProcess(const ProcessOptions& options, size_t max_stdout = 1 << 20);

// Sends `signal` to the process group of every child not yet reaped whose start number
// (ChildStartCount() just after it started) is at most `started_up_to` — by default all of
// them. kura asks its children to stop this way when it is itself asked to stop
// (util/signals.h). Returns how many were signalled. Not async-signal-safe: call it from a
// normal thread. Thread-safe.
int SignalRunningChildren(int signal, uint64_t started_up_to = UINT64_MAX);
// How many children have been started so far.
uint64_t ChildStartCount();

// Finds an executable in PATH; empty when not found.
std::string FindInPath(const std::string& program);

}  // namespace kura
