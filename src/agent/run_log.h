// The human-readable log of every run, send and drill: one line each, appended to a file
// rotated by size (kura.log, kura.log.1 … kura.log.<keep>), and echoed to stderr when
// stderr is a terminal or no file is configured (under systemd, stderr is the journal).
// Lines never contain secrets: they carry job and target names, sizes, snapshot IDs and
// Status messages (which never hold secrets, include/kura/status.h).
//
// Thread-safe; several processes may append to one file (writes are single O_APPEND
// writes; rotation happens under an flock on <file>.lock).
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "util/clock.h"

namespace kura {

class RunLog {
 public:
  // `path` empty: stderr only. Default: 1 MiB per file, 5 old files.
  RunLog(std::string path, uint64_t max_bytes, int keep, bool echo_to_stderr);

  // Writes "<local time> <event> key=value ..." (values with spaces are quoted).
  void Write(const Clock& clock, const std::string& event,
             const std::vector<std::pair<std::string, std::string>>& fields);
  // Appends one raw line (a newline is added).
  void WriteLine(const std::string& line);
  const std::string& path() const { return path_; }

 private:
  void RotateIfNeeded(size_t incoming);
  std::string path_;
  uint64_t max_bytes_;
  int keep_;
  bool echo_;
  std::mutex mu_;
};

// `value` quoted when it holds spaces, quotes or "=" (for the log's key=value form).
std::string LogValue(const std::string& value);

}  // namespace kura
