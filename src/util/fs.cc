#include "util/fs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>

#include "util/i18n.h"

namespace kura {

Status ErrnoStatus(int err, std::string_view what, const std::string& path) {
  std::string detail = std::strerror(err);
  switch (err) {
    case ENOSPC:
    case EDQUOT:
      return Status::NoSpace(
          Tr("{}に失敗しました: {}: ディスクの空き容量が不足しています ({})。"
             "不要なファイルを削除するか、保存先の容量を増やしてから再実行してください",
             "{} failed: {}: the disk is full ({}). Free some space or enlarge the "
             "storage, then run again",
             what, path, detail));
    case EACCES:
    case EPERM:
    case EROFS:
      return Status::PermissionDenied(Tr("{}に失敗しました: {}: アクセス権がありません ({})",
                                         "{} failed: {}: permission denied ({})", what, path, detail));
    case ENOENT:
    case ENOTDIR:
      return Status::NotFound(Tr("{}に失敗しました: {}: 見つかりません ({})", "{} failed: {}: not found ({})",
                                 what, path, detail));
    case EEXIST:
      return Status::AlreadyExists(
          Tr("{}に失敗しました: {}: 既に存在します", "{} failed: {}: already exists", what, path));
    default:
      return Status::IOError(Tr("{}に失敗しました: {}: {}", "{} failed: {}: {}", what, path, detail));
  }
}

Result<Bytes> ReadFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, L("読み込み", "read"), path);
  Bytes out;
  struct stat st {};
  if (::fstat(fd, &st) == 0 && st.st_size > 0) out.reserve(static_cast<size_t>(st.st_size));
  uint8_t buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return ErrnoStatus(err, L("読み込み", "read"), path);
    }
    if (n == 0) break;
    out.insert(out.end(), buf, buf + n);
  }
  ::close(fd);
  return out;
}

Result<std::string> ReadTextFile(const std::string& path) {
  KURA_ASSIGN_OR_RETURN(Bytes b, ReadFile(path));
  return std::string(b.begin(), b.end());
}

static std::string DirName(const std::string& path) {
  auto pos = path.find_last_of('/');
  if (pos == std::string::npos) return ".";
  if (pos == 0) return "/";
  return path.substr(0, pos);
}

Status SyncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, L("ディレクトリの同期", "directory sync"), dir);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0 && err != EINVAL) return ErrnoStatus(err, L("ディレクトリの同期", "directory sync"), dir);
  return Status::Ok();
}

static std::string TempPathFor(const std::string& path) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string name = DirName(path) + "/" + std::string(kAtomicTempPrefix) + std::to_string(::getpid()) + "-";
  uint64_t r = rng();
  for (int i = 0; i < 16; ++i, r >>= 4) name += kDigits[r & 0xf];
  return name;
}

Status WriteFileAtomic(const std::string& path, ByteView data, int mode) {
  const std::string tmp = TempPathFor(path);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return ErrnoStatus(errno, L("書き込み", "write"), path);
  // Errors name the final path: the temporary name means nothing to the person reading.
  auto discard = [&](int err) {
    ::close(fd);
    ::unlink(tmp.c_str());
    return ErrnoStatus(err, L("書き込み", "write"), path);
  };
  if (::fchmod(fd, static_cast<mode_t>(mode)) != 0) return discard(errno);  // the umask must not change it
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return discard(errno);
    }
    off += static_cast<size_t>(n);
  }
  // fsync and close report delayed write errors (ENOSPC on NFS, EIO): they count as failures.
  if (::fsync(fd) != 0) return discard(errno);
  if (::close(fd) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return ErrnoStatus(err, L("書き込み", "write"), path);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return ErrnoStatus(err, L("書き込み", "write"), path);
  }
  return SyncDir(DirName(path));
}

Status MakeDirs(const std::string& path, int mode) {
  if (path.empty()) return Status::Ok();
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return Status::Ok();
    return ErrnoStatus(ENOTDIR, L("ディレクトリ作成", "mkdir"), path);
  }
  std::string parent = DirName(path);
  if (parent != path && parent != "." && parent != "/") KURA_RETURN_IF_ERROR(MakeDirs(parent, mode));
  if (::mkdir(path.c_str(), static_cast<mode_t>(mode)) != 0 && errno != EEXIST) {
    return ErrnoStatus(errno, L("ディレクトリ作成", "mkdir"), path);
  }
  return Status::Ok();
}

bool PathExists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

}  // namespace kura
