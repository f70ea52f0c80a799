// Advisory locks on files (flock), held while an object lives. The OS releases them when
// the process dies, so a killed run never leaves a job locked. The descriptor is
// close-on-exec: dump tools started during a run do not inherit (and so cannot keep) it.
#pragma once

#include <memory>
#include <string>

#include "kura/status.h"

namespace kura {

class FileLock {
 public:
  ~FileLock();
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

  // Takes an exclusive lock on `path` (created if missing, with its directory), waiting up
  // to `timeout_ms` (0: do not wait). Errors: kLocked with `busy_message` when held.
  static Result<std::unique_ptr<FileLock>> Acquire(const std::string& path, int timeout_ms,
                                                   const std::string& busy_message);

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_;
};

// The lock that keeps one job from running twice at once (runs, sends, drills):
// <state_dir>/locks/<job>.lock. kLocked names the job when it is busy.
Result<std::unique_ptr<FileLock>> LockJob(const std::string& lock_dir, const std::string& job,
                                          int timeout_ms = 0);

}  // namespace kura
