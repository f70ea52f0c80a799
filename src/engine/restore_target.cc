#include "engine/restore_target.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "crypto/crypto.h"
#include "util/fs.h"
#include "util/hex.h"
#include "util/i18n.h"

namespace kura {

std::string BaseNameOf(const std::string& rel) {
  auto pos = rel.find_last_of('/');
  return pos == std::string::npos ? rel : rel.substr(pos + 1);
}

std::string ParentOf(const std::string& rel) {
  auto pos = rel.find_last_of('/');
  return pos == std::string::npos ? "" : rel.substr(0, pos);
}

namespace {

// Temporary names: hidden, recognisably kura's, and random, so they cannot collide with a
// user's file (they are created with O_EXCL all the same, and a collision picks another).
std::string TempName() {
  Bytes r = crypto::RandomBytes(8);
  return ".kura-restore-" + ToHex(r);
}

Status InTheWay(const std::string& shown, bool is_dir, bool overwrite) {
  if (is_dir) {
    return Status::AlreadyExists(
        Tr("{} は復元先に既にディレクトリとして存在するため、置き換えませんでした。"
           "別の復元先を指定するか、このディレクトリを移動してから再実行してください",
           "{} already exists in the target as a directory and was not replaced; choose "
           "another target or move that directory away, then run again",
           shown));
  }
  (void)overwrite;
  return Status::AlreadyExists(
      Tr("{} は復元先に既に存在するため、置き換えませんでした。"
         "別の復元先を指定するか --overwrite を付けてください",
         "{} already exists in the target and was not replaced; choose another target "
         "or use --overwrite",
         shown));
}

struct timespec MtimeOf(const EntryMeta& meta) {
  struct timespec t {};
  t.tv_sec = static_cast<time_t>(meta.mtime);
  return t;
}

}  // namespace

Result<std::unique_ptr<RestoreTarget>> RestoreTarget::Open(const std::string& dir, bool overwrite) {
  KURA_RETURN_IF_ERROR(MakeDirs(dir, 0700));
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, L("復元先の確認", "opening the restore target"), dir);
  std::string shown = dir;
  while (shown.size() > 1 && shown.back() == '/') shown.pop_back();
  std::unique_ptr<RestoreTarget> t(new RestoreTarget(shown, UniqueFd(fd), overwrite));
  t->Remember(t->root_.get(), "");
  return t;
}

void RestoreTarget::Remember(int fd, const std::string& rel) {
  if (created_.count(rel) || kept_times_.count(rel)) return;
  struct stat st {};
  if (::fstat(fd, &st) != 0) return;
  kept_times_[rel] = {st.st_atim, st.st_mtim};
}

void RestoreTarget::RestoreKeptTimes(const std::set<std::string>& except) {
  for (const auto& [rel, times] : kept_times_) {
    if (except.count(rel)) continue;
    UniqueFd fd(OpenDirBeneath(root_.get(), rel));
    if (fd.valid()) (void)::futimens(fd.get(), times.data());
  }
}

Result<int> RestoreTarget::Dir(const std::string& rel, std::string* blocked) {
  if (cached_.valid() && rel == cached_rel_) return cached_.get();
  cached_.reset();
  int fast = OpenDirBeneath(root_.get(), rel);
  if (fast >= 0) {
    Remember(fast, rel);
    cached_.reset(fast);
    cached_rel_ = rel;
    return fast;
  }
  // Component by component: make what is missing, never follow what is not a directory.
  UniqueFd cur(::fcntl(root_.get(), F_DUPFD_CLOEXEC, 0));
  if (!cur.valid()) return ErrnoStatus(errno, L("復元先の確認", "opening the restore target"), path_);
  std::string prefix;
  size_t start = 0;
  while (start < rel.size()) {
    size_t end = rel.find('/', start);
    if (end == std::string::npos) end = rel.size();
    std::string name = rel.substr(start, end - start);
    start = end + 1;
    prefix += (prefix.empty() ? "" : "/") + name;
    int next = OpenChildDir(cur.get(), name);
    if (next < 0 && errno == ENOENT) {
      if (::mkdirat(cur.get(), name.c_str(), 0700) == 0)
        created_.insert(prefix);
      else if (errno != EEXIST)
        return ErrnoStatus(errno, L("ディレクトリの作成", "creating a directory"), Show(prefix));
      next = OpenChildDir(cur.get(), name);
    }
    if (next < 0 && (errno == ELOOP || errno == ENOTDIR)) {
      // A link or a file where the snapshot has a directory: never followed.
      if (!overwrite_) {
        *blocked = prefix;
        return Status::AlreadyExists(Tr(
            "{} は復元先ではディレクトリではありません (シンボリックリンクまたはファイル)。リンクはたどらず、"
            "この下は復元しませんでした。置き換えるには --overwrite を付けてください",
            "{} is not a directory in the target (a symbolic link or a file); the link was not followed and "
            "nothing beneath it was restored; use --overwrite to replace it",
            Show(prefix)));
      }
      if (::unlinkat(cur.get(), name.c_str(), 0) != 0 && errno != ENOENT) {
        return ErrnoStatus(errno, L("置き換えのための削除", "removing to replace"), Show(prefix));
      }
      if (::mkdirat(cur.get(), name.c_str(), 0700) == 0)
        created_.insert(prefix);
      else if (errno != EEXIST)
        return ErrnoStatus(errno, L("ディレクトリの作成", "creating a directory"), Show(prefix));
      next = OpenChildDir(cur.get(), name);
    }
    if (next < 0) {
      if (errno == ELOOP || errno == ENOTDIR) *blocked = prefix;
      return ErrnoStatus(errno, L("ディレクトリを開く", "opening a directory"), Show(prefix));
    }
    Remember(next, prefix);
    cur.reset(next);
  }
  cached_rel_ = rel;
  cached_ = std::move(cur);
  return cached_.get();
}

Status RestoreTarget::ApplyDirMeta(const std::string& rel, const EntryMeta& meta) {
  UniqueFd fd(OpenDirBeneath(root_.get(), rel));
  if (!fd.valid()) return ErrnoStatus(errno, L("ディレクトリを開く", "opening a directory"), Show(rel));
  return SetFileMeta(fd.get(), meta, rel);
}

Status RestoreTarget::SetFileMeta(int fd, const EntryMeta& meta, const std::string& rel) const {
  // Owner first: chown clears set-user-ID bits that chmod then sets. Only root can give
  // files away; for anyone else the restored files are theirs.
  if (::geteuid() == 0 && ::fchown(fd, meta.uid, meta.gid) != 0) { /* best effort (NFS root squash) */
  }
  if (::fchmod(fd, meta.mode & 07777) != 0)
    return ErrnoStatus(errno, L("権限の設定", "setting permissions"), Show(rel));
  struct timespec times[2] = {MtimeOf(meta), MtimeOf(meta)};
  if (::futimens(fd, times) != 0) return ErrnoStatus(errno, L("時刻の設定", "setting times"), Show(rel));
  return Status::Ok();
}

Status RestoreTarget::CheckReplaceable(int dir, const std::string& name, const std::string& rel) const {
  struct stat st {};
  if (::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return Status::Ok();
    return ErrnoStatus(errno, L("復元先の確認", "checking the restore target"), Show(rel));
  }
  if (S_ISDIR(st.st_mode) || !overwrite_) return InTheWay(Show(rel), S_ISDIR(st.st_mode), overwrite_);
  return Status::Ok();
}

Result<int> RestoreTarget::CreateTemp(int dir, const std::string& rel, std::string* tmp) const {
  for (int attempt = 0;; ++attempt) {
    *tmp = TempName();
    int fd = ::openat(dir, tmp->c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd >= 0) return fd;
    if (errno != EEXIST || attempt == 16) {
      return ErrnoStatus(errno, L("復元先の作成", "creating restore target"), Show(rel));
    }
  }
}

Status RestoreTarget::Rename(int dir, const std::string& tmp, const std::string& name,
                             const std::string& rel) const {
  // A rename replaces the name itself: a link there is replaced, never followed.
  if (overwrite_) {
    if (::renameat(dir, tmp.c_str(), dir, name.c_str()) == 0) return Status::Ok();
    if (errno == EISDIR || errno == ENOTEMPTY || errno == EEXIST) return InTheWay(Show(rel), true, true);
    return ErrnoStatus(errno, L("書き込み", "write"), Show(rel));
  }
  // Without overwrite, a name that appeared since the check is not replaced either.
  if (::renameat2(dir, tmp.c_str(), dir, name.c_str(), RENAME_NOREPLACE) == 0) return Status::Ok();
  if (errno == EEXIST) return InTheWay(Show(rel), false, false);
  if (errno != EINVAL && errno != ENOSYS) return ErrnoStatus(errno, L("書き込み", "write"), Show(rel));
  // No RENAME_NOREPLACE on this file system: link(2) refuses an existing name too.
  if (::linkat(dir, tmp.c_str(), dir, name.c_str(), 0) == 0) {
    ::unlinkat(dir, tmp.c_str(), 0);
    return Status::Ok();
  }
  if (errno == EEXIST) return InTheWay(Show(rel), false, false);
  return ErrnoStatus(errno, L("書き込み", "write"), Show(rel));
}

Status RestoreTarget::PlaceSymlink(int dir, const std::string& rel, const EntryMeta& meta) {
  const std::string name = BaseNameOf(rel);
  KURA_RETURN_IF_ERROR(CheckReplaceable(dir, name, rel));
  std::string tmp;
  for (int attempt = 0;; ++attempt) {
    tmp = TempName();
    if (::symlinkat(meta.symlink_target.c_str(), dir, tmp.c_str()) == 0) break;
    if (errno != EEXIST || attempt == 16) {
      return ErrnoStatus(errno, L("シンボリックリンクの作成", "creating symlink"), Show(rel));
    }
  }
  if (::geteuid() == 0) (void)::fchownat(dir, tmp.c_str(), meta.uid, meta.gid, AT_SYMLINK_NOFOLLOW);
  struct timespec times[2] = {MtimeOf(meta), MtimeOf(meta)};
  (void)::utimensat(dir, tmp.c_str(), times, AT_SYMLINK_NOFOLLOW);  // a link's mode has no meaning on Linux
  Status st = Rename(dir, tmp, name, rel);
  if (!st.ok()) ::unlinkat(dir, tmp.c_str(), 0);
  return st;
}

}  // namespace kura
