#include "agent/job_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <thread>

#include "util/fs.h"
#include "util/i18n.h"

namespace kura {

FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the flock
}

Result<std::unique_ptr<FileLock>> FileLock::Acquire(const std::string& path, int timeout_ms,
                                                    const std::string& busy_message) {
  auto slash = path.find_last_of('/');
  if (slash != std::string::npos && slash > 0) KURA_RETURN_IF_ERROR(MakeDirs(path.substr(0, slash), 0755));
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus(errno, L("ロックファイルを開く", "opening lock file"), path);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) return std::unique_ptr<FileLock>(new FileLock(fd));
    if (errno != EWOULDBLOCK && errno != EINTR) {
      int err = errno;
      ::close(fd);
      return ErrnoStatus(err, L("ロック", "lock"), path);
    }
    if (std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ::close(fd);
  return Status::Locked(busy_message);
}

Result<std::unique_ptr<FileLock>> LockJob(const std::string& lock_dir, const std::string& job,
                                          int timeout_ms) {
  return FileLock::Acquire(lock_dir + "/" + job + ".lock", timeout_ms,
                           Tr("ジョブ {} は実行中です。終わってから実行してください",
                              "job {} is already running; try again when it has finished", job));
}

}  // namespace kura
