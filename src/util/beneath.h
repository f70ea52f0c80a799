// Opening directories beneath a root directory without ever following a symbolic link, so
// that a link planted inside a restore target cannot redirect a write outside it.
#pragma once

#include <string>
#include <string_view>

namespace kura {

// An owned file descriptor, closed on destruction. -1: none.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

// Opens the directory `rel` ("a/b/c", '/'-separated, no "." or ".." components; "" is `root`
// itself) beneath the directory open at `root`, following no symbolic link in any component:
// openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS) where the kernel has it, else one
// openat(O_NOFOLLOW | O_DIRECTORY) per component. Returns -1 with errno set on failure:
// ELOOP when a component is a symbolic link, ENOTDIR when it is not a directory, ENOENT
// when it does not exist.
int OpenDirBeneath(int root, std::string_view rel);

// Makes OpenDirBeneath use the component walk even where openat2 exists (for tests of the
// fallback taken on kernels before 5.6).
void UseComponentWalkForTesting(bool on);

// One openat(O_NOFOLLOW | O_DIRECTORY) of `name` in the directory `dir`; -1 with errno.
int OpenChildDir(int dir, const std::string& name);

}  // namespace kura
