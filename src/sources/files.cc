#include "sources/files.h"

#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
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

std::string Relative(const std::string& abs) { return abs == "/" ? "" : abs.substr(1); }

std::string BaseName(const std::string& abs) { return abs.substr(abs.find_last_of('/') + 1); }

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
      return Status::InvalidArgument(std::string(L("files ソースに paths がありません", "the files source has no paths")));
    }
    std::vector<std::string> roots;
    for (const auto& p : o_.paths) {
      std::string n = Normalise(p);
      if (n.empty()) {
        return Status::InvalidArgument(Tr("パス {} は絶対パスで、.. を含まないものにしてください",
                                          "path {} must be absolute and must not contain ..", p));
      }
      roots.push_back(n);
    }
    std::sort(roots.begin(), roots.end());
    roots.erase(std::unique(roots.begin(), roots.end()), roots.end());
    // Check every top-level path before writing anything: a missing one is an error.
    for (const auto& r : roots) {
      struct stat st {};
      if (::lstat(r.c_str(), &st) != 0) return ErrnoStatus(errno, L("バックアップ対象の確認", "checking a backup path"), r);
    }
    std::set<std::string> recorded_dirs;
    std::vector<std::string> walked;
    for (const auto& root : roots) {
      // When "/a" was walked, "/a/b" was too ("/" covers everything).
      bool covered = std::any_of(walked.begin(), walked.end(), [&](const std::string& w) {
        return w == "/" || root.compare(0, w.size() + 1, w + "/") == 0;
      });
      if (covered) continue;
      walked.push_back(root);
      KURA_RETURN_IF_ERROR(RecordAncestors(out, root, recorded_dirs));
      struct stat st {};
      if (::lstat(root.c_str(), &st) != 0) return ErrnoStatus(errno, L("読み込み", "read"), root);
      root_dev_ = st.st_dev;
      KURA_RETURN_IF_ERROR(Walk(out, root, st));
    }
    return Status::Ok();
  }

 private:
  Status RecordAncestors(SnapshotWriter& out, const std::string& root, std::set<std::string>& recorded) {
    size_t pos = 1;
    while ((pos = root.find('/', pos)) != std::string::npos) {
      std::string dir = root.substr(0, pos);
      ++pos;
      if (!recorded.insert(dir).second) continue;
      struct stat st {};
      if (::lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) continue;
      KURA_RETURN_IF_ERROR(out.AddEntry(MetaFrom(Relative(dir), st)));
    }
    return Status::Ok();
  }

  Status Walk(SnapshotWriter& out, const std::string& abs, const struct stat& st) {
    if (IsExcluded(o_.exclude, abs, BaseName(abs))) return Status::Ok();
    std::string rel = Relative(abs);
    if (S_ISDIR(st.st_mode)) {
      if (!rel.empty()) KURA_RETURN_IF_ERROR(out.AddEntry(MetaFrom(rel, st)));
      if (o_.one_file_system && st.st_dev != root_dev_) return Status::Ok();
      return WalkDir(out, abs);
    }
    if (S_ISLNK(st.st_mode)) {
      std::string target(4096, '\0');
      ssize_t n = ::readlink(abs.c_str(), target.data(), target.size());
      if (n < 0) return out.Warn(rel, ErrnoStatus(errno, L("シンボリックリンクの読み込み", "readlink"), abs));
      target.resize(static_cast<size_t>(n));
      EntryMeta m = MetaFrom(rel, st);
      m.symlink_target = target;
      return out.AddEntry(m);
    }
    if (S_ISREG(st.st_mode)) return AddRegular(out, abs, rel);
    return out.Warn(rel, Status::Unsupported(Tr("{} は通常のファイルではない (FIFO・ソケット・デバイス) ため、保存しません",
                                                "{} is not a regular file (a FIFO, socket or device) and is skipped",
                                                abs)));
  }

  Status WalkDir(SnapshotWriter& out, const std::string& abs) {
    std::string rel = Relative(abs);
    int fd = ::open(abs.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    DIR* d = fd >= 0 ? ::fdopendir(fd) : nullptr;
    if (d == nullptr) {
      int err = errno;
      if (fd >= 0) ::close(fd);
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
      KURA_RETURN_IF_ERROR(out.Warn(rel, ErrnoStatus(read_err, L("ディレクトリの読み込み", "reading a directory"), abs)));
    }
    std::sort(names.begin(), names.end());  // deterministic snapshots
    for (const auto& name : names) {
      std::string child = (abs == "/" ? "" : abs) + "/" + name;
      struct stat st {};
      if (::lstat(child.c_str(), &st) != 0) {
        KURA_RETURN_IF_ERROR(out.Warn(Relative(child), ErrnoStatus(errno, L("読み込み", "read"), child)));
        continue;
      }
      KURA_RETURN_IF_ERROR(Walk(out, child, st));
    }
    return Status::Ok();
  }

  Status AddRegular(SnapshotWriter& out, const std::string& abs, const std::string& rel) {
    // O_NONBLOCK: should the path have been swapped for a FIFO since lstat, open must not hang.
    int fd = ::open(abs.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) return out.Warn(rel, ErrnoStatus(errno, L("読み込み", "read"), abs));
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      ::close(fd);
      return out.Warn(rel, Status::IOError(Tr("{} は読み込み中に別の種類のファイルに変わりました",
                                              "{} changed into another kind of file while being read", abs)));
    }
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    EntryMeta meta = MetaFrom(rel, st);
    // A file with holes is read through SEEK_DATA/SEEK_HOLE (holes as zeros, not read) and
    // marked, so a restore recreates the holes (util/sparse.h).
    meta.sparse = FileHasHoles(fd, st.st_size);
    std::unique_ptr<ByteReader> sparse_reader;
    if (meta.sparse) sparse_reader = std::make_unique<SparseFileReader>(fd, abs);
    FdReader dense_reader(meta.sparse ? -1 : fd, /*owns=*/!meta.sparse, abs);
    ByteReader& reader = meta.sparse ? *sparse_reader : static_cast<ByteReader&>(dense_reader);
    // Any change to the content moves size, mtime or ctime (ctime also covers a clock set
    // back); the inode and device catch a file replaced by another.
    meta.change_key = fmt::format("{}:{}.{}:{}.{}:{}:{}", st.st_size, st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
                                  st.st_ctim.tv_sec, st.st_ctim.tv_nsec, st.st_ino, st.st_dev);
    return out.AddFile(meta, reader);
  }

  FilesSourceOptions o_;
  dev_t root_dev_ = 0;
};

}  // namespace

bool IsExcluded(const std::vector<std::string>& patterns, const std::string& abs_path, const std::string& name) {
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
