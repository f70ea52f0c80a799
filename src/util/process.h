// Child processes without a shell: argv is passed as-is (no quoting problems, no injection),
// secrets go through the environment or a pipe, never argv.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "kura/status.h"
#include "util/io.h"

namespace kura {

struct ProcessOptions {
  std::vector<std::string> argv;  // argv[0] is looked up in PATH when it has no '/'
  // Added to (or replacing) the parent's environment. Use for PGPASSWORD-like secrets.
  std::vector<std::pair<std::string, std::string>> env;
  std::vector<std::string> unset_env;  // removed from the child's environment
  std::string cwd;                     // Default: the parent's
  bool pipe_stdin = false;             // else stdin is /dev/null
  bool pipe_stdout = true;             // else stdout goes to /dev/null
  size_t stderr_tail_bytes = 8192;     // how much of stderr to keep for error messages
};

// A running child. Destroying a Process that was not waited for kills it (SIGKILL) and
// reaps it. Not thread-safe; Stdout() may be read from one thread while another waits.
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
  virtual void Kill() = 0;
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

// Finds an executable in PATH; empty when not found.
std::string FindInPath(const std::string& program);

}  // namespace kura
