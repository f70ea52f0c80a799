// File helpers shared by LocalStore's object and lock code. Internal to src/objstore.
#pragma once

#include <string>
#include <string_view>

#include "kura/status.h"
#include "util/bytes.h"
#include "util/fs.h"

namespace kura {

// Every temporary file LocalStore writes starts with this, so List can skip it and
// RemoveStaleTemporaryFiles can find it.
inline constexpr std::string_view kTempFilePrefix = kAtomicTempPrefix;

// Files are 0600 and directories 0700 regardless of the umask.
inline constexpr int kFileMode = 0600;
inline constexpr int kDirMode = 0700;

// Closes a file descriptor when it goes out of scope.
class UniqueFd {
 public:
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { Reset(); }
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.Release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
      Reset();
      fd_ = other.Release();
    }
    return *this;
  }
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  void Reset();
  // Gives up ownership and returns the descriptor.
  int Release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_;
};

// ErrnoStatus (util/fs.h) plus advice on what to do for permission and I/O errors.
Status LocalFileError(int err, std::string_view what, const std::string& path);
// Adds the same advice to a Status from util/fs.h.
Status WithStoreAdvice(const Status& st);

// Writes `dir`/`name` so a reader sees either no file (or the old one) or the whole new
// one: a ".tmp-" file in `dir`, fsync, rename, fsync of `dir`. The temporary file is
// removed on failure. `dir` must exist.
Status WriteFileDurably(const std::string& dir, const std::string& name, ByteView data);

// mkdir `dir` (0700) if missing and fsync `parent` so the new entry survives a crash.
Status MakeDirDurably(const std::string& dir, const std::string& parent);

}  // namespace kura
