#include "sources/files.h"

#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <set>

#include "util/fs.h"
#include "util/i18n.h"
#include "util/sparse.h"

namespace kura {

namespace {

// Lexically normalised absolute path ("/a//b/./c/" -> "/a/b/c"); "" when `path` is relative
// or has a ".." component (which could not be stored as a relative entry path).
std::string Normalise(const std::string& path) {
  if (path.empty() || path[0] != '/') return "";
  std::string out;
  size_t start = 1;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    std::string part = path.substr(start, end - start);
    if (part == "..") return "";
    if (!part.empty() && part != ".") out += "/" + part;
    start = end + 1;
  }
  return out.empty() ? "/" : out;
}

std::string Relative(const std::string& abs) {
  return abs == "/" ? "" : abs.substr(1);
}

std::string BaseName(const std::string& abs) {
  return abs.substr(abs.find_last_of('/') + 1);
}

EntryMeta MetaFrom(const std::string& rel, const struct stat& st) {
  EntryMeta m;
  m.path = rel;
  m.mode = st.st_mode & 07777;
  m.mtime = st.st_mtime;
  m.uid = st.st_uid;
  m.gid = st.st_gid;
  if (S_ISDIR(st.st_mode)) {
    m.type = EntryType::kDirectory;
  } else if (S_ISLNK(st.st_mode)) {
    m.type = EntryType::kSymlink;
  } else {
    m.type = EntryType::kFile;
  }
  return m;
}

// "/a/b/c" -> "/a/b"; "/a" -> "/".
std::string DirName(const std::string& abs) {
  size_t slash = abs.find_last_of('/');
  return slash == 0 ? "/" : abs.substr(0, slash);
}

std::string Join(const std::string& dir, const std::string& name) {
  return (dir == "/" ? "" : dir) + "/" + name;
}

// realpath(3) as a Result.
Result<std::string> RealPath(const std::string& path) {
  char* r = ::realpath(path.c_str(), nullptr);
  if (r == nullptr) return ErrnoStatus(errno, L("バックアップ対象の確認", "checking a backup path"), path);
  std::string out(r);
  std::free(r);
  return out;
}

// Where a path given by the user really is (docs/sources.md "Symbolic links"): every
// directory component is resolved, so "/dir/link/sub" is backed up where it lives; the last
// component is resolved only when the path ends with '/' ("/dir/link/" means the directory
// the link points to, "/dir/link" the link itself), as rsync and cp do.
Result<std::string> ResolveGiven(const std::string& given, const std::string& normalised) {
  bool follow_last =
      given.back() == '/' || (given.size() >= 2 && given.compare(given.size() - 2, 2, "/.") == 0);
  if (normalised == "/") return normalised;
  if (follow_last) return RealPath(normalised);
  KURA_ASSIGN_OR_RETURN(std::string dir, RealPath(DirName(normalised)));
  return Join(dir, BaseName(normalised));
}

bool Vanished(int err) {
  return err == ENOENT || err == ENOTDIR;
}

Status VanishedNote(const std::string& abs) {
  return Status::NotFound(Tr(
      "{} はバックアップ中に削除されたため保存していません (一時ファイルやロックファイルでは普通のことです)",
      "{} was deleted during the backup and is not stored (normal for temporary and lock files)", abs));
}

// Size, mtime, ctime (nanoseconds), inode and device: any write moves one of them.
bool SameState(const struct stat& a, const struct stat& b) {
  return a.st_size == b.st_size && a.st_mtim.tv_sec == b.st_mtim.tv_sec &&
         a.st_mtim.tv_nsec == b.st_mtim.tv_nsec && a.st_ctim.tv_sec == b.st_ctim.tv_sec &&
         a.st_ctim.tv_nsec == b.st_ctim.tv_nsec && a.st_ino == b.st_ino && a.st_dev == b.st_dev;
}

// Reads an open regular file as it was when opened: never more than the size fstat gave
// then (a growing log is not chased), and at the end compares fstat with the state at
// open. A file that changed while read makes the final Read fail with kRetryable when
// `strict` (the caller reads it again), else it ends the stream and changed() says so.
class StableFileReader : public ByteReader {
 public:
  // A file with holes (sparse) is read through SEEK_DATA/SEEK_HOLE: holes as zeros, not
  // read (util/sparse.h). The fd is owned either way.
  StableFileReader(int fd, const struct stat& at_open, std::string path, bool strict, bool sparse)
      : fd_(sparse ? std::unique_ptr<ByteReader>(std::make_unique<SparseFileReader>(fd, path))
                   : std::unique_ptr<ByteReader>(std::make_unique<FdReader>(fd, /*owns=*/true, path))),
        raw_fd_(fd),
        at_open_(at_open),
        left_(static_cast<uint64_t>(at_open.st_size)),
        path_(std::move(path)),
        strict_(strict) {}

  Result<size_t> Read(uint8_t* buf, size_t n) override {
    if (left_ > 0 && !changed_) {
      KURA_ASSIGN_OR_RETURN(size_t got, fd_->Read(buf, static_cast<size_t>(std::min<uint64_t>(n, left_))));
      if (got > 0) {
        left_ -= got;
        return got;
      }
      changed_ = true;  // EOF before the size seen at open: truncated
    }
    if (!checked_) {
      checked_ = true;
      struct stat now {};
      if (::fstat(raw_fd_, &now) != 0 || !SameState(now, at_open_)) changed_ = true;
    }
    if (changed_ && strict_) {
      return Status::Retryable(Tr("{} は読み込み中に変更されました", "{} changed while it was read", path_));
    }
    return size_t{0};
  }
  bool changed() const { return changed_; }

 private:
  std::unique_ptr<ByteReader> fd_;
  int raw_fd_;
  struct stat at_open_;
  uint64_t left_;
  std::string path_;
  bool strict_;
  bool changed_ = false;
  bool checked_ = false;
};

class FilesSource : public Source {
 public:
  explicit FilesSource(FilesSourceOptions o) : o_(std::move(o)) {}
  std::string Kind() const override { return "files"; }
  std::string Name() const override {
    std::string n;
    for (const auto& p : o_.paths) n += (n.empty() ? "" : ", ") + p;
    return n;
  }

  Status Backup(SnapshotWriter& out) override {
    if (o_.paths.empty()) {
      return Status::InvalidArgument(
          std::string(L("files ソースに paths がありません", "the files source has no paths")));
    }
    own_ = out.OwnDirectories();
    std::vector<std::string> roots;
    std::vector<std::string> routes;  // the given paths, lexically normalised
    for (const auto& p : o_.paths) {
      std::string n = Normalise(p);
      if (n.empty()) {
        return Status::InvalidArgument(Tr("パス {} は絶対パスで、.. を含まないものにしてください",
                                          "path {} must be absolute and must not contain ..", p));
      }
      // Check every top-level path before writing anything: a missing one is an error.
      KURA_ASSIGN_OR_RETURN(std::string real, ResolveGiven(p, n));
      struct stat st {};
      if (::lstat(real.c_str(), &st) != 0)
        return ErrnoStatus(errno, L("バックアップ対象の確認", "checking a backup path"), p);
      roots.push_back(real);
      routes.push_back(n);
    }
    std::sort(roots.begin(), roots.end());
    roots.erase(std::unique(roots.begin(), roots.end()), roots.end());
    for (const auto& root : roots) {
      if (Covered(root)) continue;
      walked_.push_back(root);
      KURA_RETURN_IF_ERROR(RecordAncestors(out, root));
      struct stat st {};
      if (::lstat(root.c_str(), &st) != 0) {
        if (Vanished(errno)) {
          KURA_RETURN_IF_ERROR(out.Note(Relative(root), VanishedNote(root)));
          continue;
        }
        return ErrnoStatus(errno, L("読み込み", "read"), root);
      }
      root_dev_ = st.st_dev;
      KURA_RETURN_IF_ERROR(Walk(out, root, st));
    }
    for (const auto& route : routes) KURA_RETURN_IF_ERROR(RecordRouteLinks(out, route));
    return Status::Ok();
  }

 private:
  // When "/a" was walked, "/a/b" was too ("/" covers everything).
  bool Covered(const std::string& path) const {
    return std::any_of(walked_.begin(), walked_.end(), [&](const std::string& w) {
      return w == "/" || path == w || path.compare(0, w.size() + 1, w + "/") == 0;
    });
  }

  Status RecordAncestors(SnapshotWriter& out, const std::string& root) {
    size_t pos = 1;
    while ((pos = root.find('/', pos)) != std::string::npos) {
      std::string dir = root.substr(0, pos);
      ++pos;
      if (Covered(dir) || !recorded_.insert(dir).second) continue;
      struct stat st {};
      if (::lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) continue;
      KURA_RETURN_IF_ERROR(out.AddEntry(MetaFrom(Relative(dir), st)));
    }
    return Status::Ok();
  }

  // The symlinks a given path went through ("/dir/link" of "/dir/link/sub"), stored as links
  // at their real places, so the snapshot shows how the given path reached what was stored
  // and a restore recreates both.
  Status RecordRouteLinks(SnapshotWriter& out, const std::string& route) {
    size_t pos = 1;
    while (pos <= route.size()) {
      size_t end = route.find('/', pos);
      if (end == std::string::npos) end = route.size();
      std::string prefix = route.substr(0, end);
      pos = end + 1;
      auto dir = RealPath(DirName(prefix));
      if (!dir.ok()) break;
      std::string real = Join(*dir, BaseName(prefix));
      struct stat st {};
      if (::lstat(real.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) continue;
      if (Covered(real) || recorded_.count(real)) continue;
      KURA_RETURN_IF_ERROR(RecordAncestors(out, real));
      recorded_.insert(real);
      KURA_RETURN_IF_ERROR(AddSymlink(out, real, Relative(real), st));
    }
    return Status::Ok();
  }

  const OwnDirectory* OwnDir(const struct stat& st) const {
    for (const OwnDirectory& d : own_) {
      if (d.dev == static_cast<uint64_t>(st.st_dev) && d.ino == static_cast<uint64_t>(st.st_ino)) return &d;
    }
    return nullptr;
  }

  Status AddSymlink(SnapshotWriter& out, const std::string& abs, const std::string& rel,
                    const struct stat& st) {
    std::string target(4096, '\0');
    ssize_t n = ::readlink(abs.c_str(), target.data(), target.size());
    if (n < 0) {
      if (Vanished(errno)) return out.Note(rel, VanishedNote(abs));
      return out.Warn(rel, ErrnoStatus(errno, L("シンボリックリンクの読み込み", "readlink"), abs));
    }
    target.resize(static_cast<size_t>(n));
    EntryMeta m = MetaFrom(rel, st);
    m.symlink_target = target;
    return out.AddEntry(m);
  }

  Status Walk(SnapshotWriter& out, const std::string& abs, const struct stat& st) {
    if (IsExcluded(o_.exclude, abs, BaseName(abs))) return Status::Ok();
    std::string rel = Relative(abs);
    if (S_ISDIR(st.st_mode)) {
      if (const OwnDirectory* own = OwnDir(st)) {
        // Stored again every night it would only grow the repository; a note says so.
        std::string text =
            own->what == "repository"
                ? Tr("{} は kura のリポジトリなので、バックアップ対象から自動的に除外しました",
                     "{} is kura's repository and was left out of the backup automatically", abs)
                : Tr("{} は kura のキャッシュなので、バックアップ対象から自動的に除外しました",
                     "{} is kura's cache and was left out of the backup automatically", abs);
        return out.Note(rel, Status::AlreadyExists(text));
      }
      if (!rel.empty()) KURA_RETURN_IF_ERROR(out.AddEntry(MetaFrom(rel, st)));
      if (o_.one_file_system && st.st_dev != root_dev_) return Status::Ok();
      return WalkDir(out, abs);
    }
    if (S_ISLNK(st.st_mode)) return AddSymlink(out, abs, rel, st);
    if (S_ISREG(st.st_mode)) return AddRegular(out, abs, rel);
    return out.Note(
        rel, Status::Unsupported(
                 Tr("{} は FIFO・ソケット・デバイスのいずれかで、中身を保存できないため保存していません",
                    "{} is a FIFO, socket or device, which has no content to store; it is not stored", abs)));
  }

  Status WalkDir(SnapshotWriter& out, const std::string& abs) {
    std::string rel = Relative(abs);
    int fd = ::open(abs.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    DIR* d = fd >= 0 ? ::fdopendir(fd) : nullptr;
    if (d == nullptr) {
      int err = errno;
      if (fd >= 0) ::close(fd);
      if (Vanished(err)) return out.Note(rel, VanishedNote(abs));
      return out.Warn(rel, ErrnoStatus(err, L("ディレクトリの読み込み", "reading a directory"), abs));
    }
    std::vector<std::string> names;
    errno = 0;
    while (struct dirent* e = ::readdir(d)) {
      std::string name = e->d_name;
      if (name != "." && name != "..") names.push_back(std::move(name));
    }
    int read_err = errno;
    ::closedir(d);
    if (read_err != 0) {
      KURA_RETURN_IF_ERROR(
          out.Warn(rel, ErrnoStatus(read_err, L("ディレクトリの読み込み", "reading a directory"), abs)));
    }
    std::sort(names.begin(), names.end());  // deterministic snapshots
    for (const auto& name : names) {
      std::string child = Join(abs, name);
      struct stat st {};
      if (::lstat(child.c_str(), &st) != 0) {
        int err = errno;
        if (Vanished(err)) {
          KURA_RETURN_IF_ERROR(out.Note(Relative(child), VanishedNote(child)));
        } else {
          KURA_RETURN_IF_ERROR(out.Warn(Relative(child), ErrnoStatus(err, L("読み込み", "read"), child)));
        }
        continue;
      }
      KURA_RETURN_IF_ERROR(Walk(out, child, st));
    }
    return Status::Ok();
  }

  // A file that changes while it is read is read once more; if it changes again it is
  // stored as read (at most the size it had when opened) with a warning naming it.
  Status AddRegular(SnapshotWriter& out, const std::string& abs, const std::string& rel) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      bool last = attempt == 1;
      // O_NONBLOCK: should the path have been swapped for a FIFO since lstat, open must not hang.
      int fd = ::open(abs.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
      if (fd < 0) {
        if (Vanished(errno)) return out.Note(rel, VanishedNote(abs));
        return out.Warn(rel, ErrnoStatus(errno, L("読み込み", "read"), abs));
      }
      struct stat st {};
      if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        return out.Note(rel, Status::Unsupported(Tr(
                                 "{} は読み込み中に通常のファイルでなくなったため保存していません",
                                 "{} stopped being a regular file while being read and is not stored", abs)));
      }
      ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
      EntryMeta meta = MetaFrom(rel, st);
      // A file with holes is marked, so a restore recreates the holes.
      meta.sparse = FileHasHoles(fd, st.st_size);
      StableFileReader reader(fd, st, abs, /*strict=*/!last, meta.sparse);
      // Any change to the content moves size, mtime or ctime (ctime also covers a clock set
      // back); the inode and device catch a file replaced by another.
      // A file that changed while read no longer has the state of its key, so the next
      // backup reads it again.
      meta.change_key = fmt::format("{}:{}.{}:{}.{}:{}:{}", st.st_size, st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
                                    st.st_ctim.tv_sec, st.st_ctim.tv_nsec, st.st_ino, st.st_dev);
      Status added = out.AddFile(meta, reader);
      if (!added.ok() && reader.changed() && !last) continue;
      KURA_RETURN_IF_ERROR(added);
      if (reader.changed()) {
        return out.Note(
            rel, Status::Retryable(
                     Tr("{} は読み込み中に変更され続けたため、読めた内容 (開いた時点の {} バイトまで) "
                        "を保存しました。"
                        "書き込み中の内容と一致しない可能性があります。アプリケーションを止めた状態でのバック"
                        "アップを検討してください",
                        "{} kept changing while it was read; what was read (up to the {} bytes it had when "
                        "opened) is stored and may not match any state the file had. Consider "
                        "backing it up while the application that writes it is stopped",
                        abs, st.st_size)));
      }
      return Status::Ok();
    }
    return Status::Ok();
  }

  FilesSourceOptions o_;
  dev_t root_dev_ = 0;
  std::vector<OwnDirectory> own_;
  std::vector<std::string> walked_;
  std::set<std::string> recorded_;
};

}  // namespace

bool IsExcluded(const std::vector<std::string>& patterns, const std::string& abs_path,
                const std::string& name) {
  for (const auto& p : patterns) {
    const std::string& subject = p.find('/') != std::string::npos ? abs_path : name;
    if (::fnmatch(p.c_str(), subject.c_str(), 0) == 0) return true;
  }
  return false;
}

std::unique_ptr<Source> NewFilesSource(FilesSourceOptions options) {
  return std::make_unique<FilesSource>(std::move(options));
}

}  // namespace kura
