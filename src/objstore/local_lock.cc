#include "objstore/local_lock.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <optional>
#include <thread>

#include "objstore/local_file.h"
#include "util/clock.h"
#include "util/fs.h"
#include "util/i18n.h"

namespace kura {

namespace {

constexpr std::string_view kLockFile = "lock";
constexpr std::string_view kLockInfoFile = "lock.info";

class FlockLock : public StoreLock {
 public:
  FlockLock(int fd, std::string info_path, bool exclusive)
      : fd_(fd), info_path_(std::move(info_path)), exclusive_(exclusive) {}
  // Removing lock.info while still holding the lock means no later holder's record is lost.
  ~FlockLock() override {
    if (exclusive_) ::unlink(info_path_.c_str());
  }

 private:
  UniqueFd fd_;  // closing it releases the flock
  std::string info_path_;
  bool exclusive_;
};

struct Holder {
  long pid = 0;
  std::string host;
  int64_t since = 0;
};

std::string ThisHost() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "?";
  return buf;
}

std::string FormatHolder(const Holder& h) {
  return "pid=" + std::to_string(h.pid) + "\nhost=" + h.host + "\nsince=" + std::to_string(h.since) + "\n";
}

// The exclusive holder recorded in lock.info, unless the record is plainly stale (a
// process on this host that no longer exists: it was killed before it could clean up).
std::optional<Holder> ReadHolder(const std::string& info_path) {
  Result<std::string> text = ReadTextFile(info_path);
  if (!text.ok()) return std::nullopt;
  Holder h;
  size_t start = 0;
  while (start < text->size()) {
    size_t end = text->find('\n', start);
    if (end == std::string::npos) end = text->size();
    std::string_view line(text->data() + start, end - start);
    start = end + 1;
    auto eq = line.find('=');
    if (eq == std::string_view::npos) continue;
    std::string key(line.substr(0, eq));
    std::string value(line.substr(eq + 1));
    if (key == "pid") h.pid = std::strtol(value.c_str(), nullptr, 10);
    if (key == "host") h.host = value;
    if (key == "since") h.since = std::strtoll(value.c_str(), nullptr, 10);
  }
  if (h.pid <= 0 || h.host.empty()) return std::nullopt;
  if (h.host == ThisHost() && ::kill(static_cast<pid_t>(h.pid), 0) != 0 && errno == ESRCH)
    return std::nullopt;
  return h;
}

Status LockedStatus(const std::string& root, const std::string& info_path, int timeout_ms) {
  if (std::optional<Holder> h = ReadHolder(info_path)) {
    return Status::Locked(
        Tr("別の kura の処理がこのリポジトリを使用中です ({0})。ホスト {1} のプロセス {2} が {3} から"
           "排他的に使用しています。その処理が終わるのを待ってから再実行してください",
           "another kura process is using this repository ({0}): process {2} on host {1} has "
           "held it exclusively since {3}. Wait for it to finish, then run again",
           root, h->host, h->pid, FormatLocal(h->since)));
  }
  return Status::Locked(
      Tr("別の kura の処理がこのリポジトリを使用中です ({})。{} 秒待っても解放されませんでした。"
         "その処理 (バックアップ、リストア、整理など) が終わるのを待ってから再実行してください",
         "another kura process is using this repository ({}); it was not released within {} "
         "seconds. Wait for that process (a backup, restore, prune, ...) to finish, then run again",
         root, timeout_ms / 1000.0));
}

Result<int> OpenLockFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, kFileMode);
  if (fd >= 0) return fd;
  int err = errno;
  // A repository on a read-only mount can still be locked for reading (restore, verify)
  // when its lock file exists: flock needs no write access.
  if (err == EROFS || err == EACCES) {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0) return fd;
  }
  return LocalFileError(err, L("ロックファイルを開く", "open lock file"), path);
}

}  // namespace

Result<std::unique_ptr<StoreLock>> LockLocalDirectory(const std::string& root, LockMode mode,
                                                      int timeout_ms) {
  const std::string lock_path = root + "/" + std::string(kLockFile);
  const std::string info_path = root + "/" + std::string(kLockInfoFile);
  KURA_ASSIGN_OR_RETURN(int raw_fd, OpenLockFile(lock_path));
  UniqueFd fd(raw_fd);
  const bool exclusive = mode == LockMode::kExclusive;
  const int op = (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB;
  // Polling rather than a blocking flock() keeps the timeout exact without signals or threads.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(std::max(timeout_ms, 0));
  auto pause = std::chrono::milliseconds(5);
  while (::flock(fd.get(), op) != 0) {
    if (errno == EINTR) continue;
    if (errno != EWOULDBLOCK) return LocalFileError(errno, L("ロック", "lock"), lock_path);
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return LockedStatus(root, info_path, timeout_ms);
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(pause, deadline - now));
    pause = std::min(pause * 2, std::chrono::milliseconds(100));
  }
  if (exclusive) {
    Holder me{static_cast<long>(::getpid()), ThisHost(), SystemClock().NowUnix()};
    std::string info = FormatHolder(me);
    (void)WriteFileDurably(root, std::string(kLockInfoFile),
                           AsBytes(info));  // best effort: only for messages
  } else {
    // Holding a shared lock proves no exclusive holder exists, so any lock.info is left
    // over from one that was killed.
    ::unlink(info_path.c_str());
  }
  return std::unique_ptr<StoreLock>(new FlockLock(fd.Release(), info_path, exclusive));
}

}  // namespace kura
