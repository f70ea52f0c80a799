#include "util/beneath.h"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <string>

#if __has_include(<linux/openat2.h>)
#include <linux/openat2.h>
#define KURA_HAVE_OPENAT2 1
#endif

namespace kura {

UniqueFd& UniqueFd::operator=(UniqueFd&& o) noexcept {
  if (this != &o) reset(o.release());
  return *this;
}

void UniqueFd::reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

int OpenChildDir(int dir, const std::string& name) {
  return ::openat(dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

namespace {

#ifdef KURA_HAVE_OPENAT2
// Whether openat2 exists (Linux 5.6+); cleared on the first ENOSYS.
std::atomic<bool> g_openat2{true};

int OpenAt2(int root, const std::string& rel) {
  struct open_how how {};
  how.flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  for (;;) {
    long fd = ::syscall(SYS_openat2, root, rel.c_str(), &how, sizeof how);
    if (fd >= 0) return static_cast<int>(fd);
    if (errno == EAGAIN || errno == EINTR) continue;  // a concurrent rename elsewhere: retry
    return -1;
  }
}
#endif

int WalkComponents(int root, std::string_view rel) {
  int fd = ::fcntl(root, F_DUPFD_CLOEXEC, 0);
  size_t start = 0;
  while (fd >= 0 && start < rel.size()) {
    size_t end = rel.find('/', start);
    if (end == std::string_view::npos) end = rel.size();
    std::string name(rel.substr(start, end - start));
    start = end + 1;
    if (name.empty() || name == "." || name == "..") {
      ::close(fd);
      errno = EINVAL;
      return -1;
    }
    int next = OpenChildDir(fd, name);
    int err = errno;
    ::close(fd);
    errno = err;
    fd = next;
  }
  return fd;
}

}  // namespace

namespace {
std::atomic<bool> g_walk_only{false};
}  // namespace

void UseComponentWalkForTesting(bool on) {
  g_walk_only.store(on);
}

int OpenDirBeneath(int root, std::string_view rel) {
  if (rel.empty()) return ::fcntl(root, F_DUPFD_CLOEXEC, 0);
#ifdef KURA_HAVE_OPENAT2
  if (g_openat2.load(std::memory_order_relaxed) && !g_walk_only.load(std::memory_order_relaxed)) {
    int fd = OpenAt2(root, std::string(rel));
    if (fd >= 0) return fd;
    if (errno != ENOSYS && errno != EPERM) {
      // Under RESOLVE_NO_SYMLINKS a link in the way is ELOOP, ".." escaping is EXDEV; both
      // mean "not beneath without links".
      if (errno == EXDEV) errno = ELOOP;
      return -1;
    }
    g_openat2.store(false, std::memory_order_relaxed);  // no openat2 (or a seccomp filter): walk
  }
#endif
  return WalkComponents(root, rel);
}

}  // namespace kura
