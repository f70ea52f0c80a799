#include "objstore/local_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "util/fs.h"
#include "util/i18n.h"

namespace kura {

void UniqueFd::Reset() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

Status LocalFileError(int err, std::string_view what, const std::string& path) {
  return WithStoreAdvice(ErrnoStatus(err, what, path));
}

Status WithStoreAdvice(const Status& st) {
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

Status WriteFileDurably(const std::string& dir, const std::string& name, ByteView data) {
  Status st = WriteFileAtomic(dir + "/" + name, data, kFileMode);
  return st.ok() ? st : WithStoreAdvice(st);
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
