#include "agent/run_log.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

#include "util/fs.h"
#include "util/text.h"

namespace kura {

RunLog::RunLog(std::string path, uint64_t max_bytes, int keep, bool echo_to_stderr)
    : path_(std::move(path)),
      max_bytes_(max_bytes == 0 ? (1u << 20) : max_bytes),
      keep_(keep < 1 ? 1 : keep),
      echo_(echo_to_stderr || path_.empty()) {
  if (!path_.empty()) {
    auto slash = path_.find_last_of('/');
    if (slash != std::string::npos && slash > 0) (void)MakeDirs(path_.substr(0, slash), 0755);
  }
}

std::string LogValue(const std::string& raw) {
  // Values quote names and tool output: no control character may reach a terminal that
  // shows the log (util/text.h).
  std::string value = EscapeText(raw);
  bool quote = value.empty() || value.find_first_of(" \t\"=\n") != std::string::npos;
  if (!quote) return value;
  std::string out = "\"";
  for (char c : value) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out + "\"";
}

void RunLog::Write(const Clock& clock, const std::string& event,
                   const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string line = FormatLocal(clock.NowUnix()) + " " + event;
  for (const auto& [k, v] : fields) line += " " + k + "=" + LogValue(v);
  WriteLine(line);
}

void RunLog::RotateIfNeeded(size_t incoming) {
  struct stat st {};
  if (::stat(path_.c_str(), &st) != 0 || static_cast<uint64_t>(st.st_size) + incoming <= max_bytes_) return;
  // Under a lock so two processes do not both rotate (and lose a file).
  int lfd = ::open((path_ + ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lfd < 0) return;
  if (::flock(lfd, LOCK_EX) == 0) {
    if (::stat(path_.c_str(), &st) == 0 && static_cast<uint64_t>(st.st_size) + incoming > max_bytes_) {
      for (int i = keep_ - 1; i >= 1; --i) {
        ::rename((path_ + "." + std::to_string(i)).c_str(), (path_ + "." + std::to_string(i + 1)).c_str());
      }
      ::rename(path_.c_str(), (path_ + ".1").c_str());
    }
  }
  ::close(lfd);
}

void RunLog::WriteLine(const std::string& raw) {
  std::string line = raw;
  if (line.empty() || line.back() != '\n') line += '\n';
  std::lock_guard lock(mu_);
  if (echo_) std::fputs(line.c_str(), stderr);
  if (path_.empty()) return;
  RotateIfNeeded(line.size());
  int fd = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) {
    std::fprintf(stderr, "kura: cannot write log %s\n", path_.c_str());
    return;
  }
  ssize_t n = ::write(fd, line.data(), line.size());
  (void)n;  // a log line that cannot be written must not fail the backup
  ::close(fd);
}

}  // namespace kura
