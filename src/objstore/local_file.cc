#include "objstore/local_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <random>

#include "util/fs.h"
#include "util/i18n.h"

namespace kura {

void UniqueFd::Reset() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

Status LocalFileError(int err, std::string_view what, const std::string& path) {
  Status st = ErrnoStatus(err, what, path);
  switch (st.code()) {
    case Code::kPermissionDenied:
      return Status(
          st.code(),
          st.message() + std::string(L("。リポジトリのディレクトリの所有者とアクセス権を確認してください "
                                       "(kura を実行するユーザーが読み書きできる必要があります)",
                                       ". Check the owner and permissions of the repository directory "
                                       "(the user running kura must be able to read and write it)")));
    case Code::kIOError:
      return Status(
          st.code(),
          st.message() + std::string(L("。ディスクまたは NAS の状態と接続を確認してから再実行してください",
                                       ". Check the disk or NAS and its connection, then run again")));
    default:
      return st;
  }
}

namespace {

std::string TempName() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string name(kTempFilePrefix);
  name += std::to_string(::getpid());
  name += '-';
  uint64_t r = rng();
  for (int i = 0; i < 16; ++i, r >>= 4) name += kDigits[r & 0xf];
  return name;
}

Status WriteAll(int fd, ByteView data, const std::string& path) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return LocalFileError(errno, L("書き込み", "write"), path);
    }
    off += static_cast<size_t>(n);
  }
  return Status::Ok();
}

}  // namespace

Status WriteFileDurably(const std::string& dir, const std::string& name, ByteView data) {
  const std::string path = dir + "/" + name;
  const std::string tmp = dir + "/" + TempName();
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, kFileMode);
  if (fd < 0) return LocalFileError(errno, L("書き込み", "write"), path);
  // Errors name the final path: the temporary name means nothing to the person reading.
  auto discard = [&](Status st) {
    ::close(fd);
    ::unlink(tmp.c_str());
    return st;
  };
  if (::fchmod(fd, kFileMode) != 0) return discard(LocalFileError(errno, L("書き込み", "write"), path));
  if (Status st = WriteAll(fd, data, path); !st.ok()) return discard(st);
  // fsync and close report delayed write errors (ENOSPC on NFS, EIO): they count as a failed Put.
  if (::fsync(fd) != 0) return discard(LocalFileError(errno, L("書き込み", "write"), path));
  if (::close(fd) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return LocalFileError(err, L("書き込み", "write"), path);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return LocalFileError(err, L("書き込み", "write"), path);
  }
  return SyncDir(dir);
}

Status MakeDirDurably(const std::string& dir, const std::string& parent) {
  if (::mkdir(dir.c_str(), kDirMode) != 0) {
    if (errno == EEXIST) return Status::Ok();
    return LocalFileError(errno, L("ディレクトリ作成", "mkdir"), dir);
  }
  // mkdir applies the umask; chmod makes the mode exactly kDirMode.
  if (::chmod(dir.c_str(), kDirMode) != 0) return LocalFileError(errno, L("ディレクトリ作成", "mkdir"), dir);
  return SyncDir(parent);
}

}  // namespace kura
