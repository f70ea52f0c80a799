#include "objstore/local_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "objstore/local_file.h"
#include "objstore/local_lock.h"
#include "objstore/object_name.h"
#include "objstore/store_status.h"
#include "util/clock.h"
#include "util/fs.h"
#include "util/i18n.h"

namespace kura {

namespace {

bool IsImmutable(ObjectType type) {
  return type != ObjectType::kConfig;
}

bool IsLowerHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

// data/<first two hex digits of the pack name>
bool IsPackShard(std::string_view name) {
  return name.size() == 2 && IsLowerHex(name[0]) && IsLowerHex(name[1]);
}

// readdir is thread-safe when each DIR stream has a single user, as every stream here does.
struct dirent* NextEntry(DIR* d) {
  return ::readdir(d);  // NOLINT(concurrency-mt-unsafe)
}

std::string ParentDir(const std::string& path) {
  auto pos = path.find_last_of('/');
  if (pos == std::string::npos) return ".";
  if (pos == 0) return "/";
  return path.substr(0, pos);
}

Result<UniqueFd> OpenForRead(ObjectType type, const std::string& name, const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return ObjectNotFoundStatus(type, name, path);
    return LocalFileError(errno, L("読み込み", "read"), path);
  }
  return UniqueFd(fd);
}

}  // namespace

Result<std::unique_ptr<LocalStore>> LocalStore::Open(const std::string& root_arg, bool create) {
  std::string root = root_arg;
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  struct stat st {};
  if (::stat(root.c_str(), &st) != 0) {
    int err = errno;
    if (err != ENOENT) return LocalFileError(err, L("リポジトリを開く", "open repository"), root);
    if (!create) {
      return Status::NotFound(
                 Tr("リポジトリが見つかりません: {}。パスが正しいか、NAS や外付けディスクがマウント"
                    "されているかを確認してください",
                    "repository not found: {}. Check the path and that the NAS or external disk is "
                    "mounted",
                    root))
          .WithAdvice(Advice::kCreateRepository);
    }
    std::string parent = ParentDir(root);
    if (!PathExists(parent)) {
      return Status::NotFound(
          Tr("リポジトリ {} を作成できません: 親ディレクトリ {} がありません。パスが正しいか、"
             "NAS や外付けディスクがマウントされているかを確認してください",
             "cannot create repository {}: its parent directory {} does not exist. Check the "
             "path and that the NAS or external disk is mounted",
             root, parent));
    }
    KURA_RETURN_IF_ERROR(MakeDirDurably(root, parent));
  } else if (!S_ISDIR(st.st_mode)) {
    return Status::InvalidArgument(
        Tr("{} はディレクトリではないため、リポジトリとして使えません。"
           "リポジトリのディレクトリを指定してください",
           "{} is not a directory, so it cannot be a repository. Give the repository's "
           "directory",
           root));
  }
  std::unique_ptr<LocalStore> store(new LocalStore(root));
  if (create && S_ISDIR(st.st_mode)) {
    // An existing directory: kura init must neither mix a repository into someone's files
    // nor keep a mode that lets other local users delete the config.
    KURA_RETURN_IF_ERROR(store->CheckEmptyOrKura());
    if ((st.st_mode & 07777) != kDirMode && ::chmod(root.c_str(), kDirMode) != 0 && errno != ENOTSUP) {
      return LocalFileError(errno, L("アクセス権の設定", "chmod"), root);
    }
  }
  if (create) {
    for (ObjectType type : {ObjectType::kKey, ObjectType::kPack, ObjectType::kSnapshot}) {
      KURA_RETURN_IF_ERROR(MakeDirDurably(store->TypeDir(type), root));
    }
  }
  return store;
}

Status LocalStore::CheckEmptyOrKura() const {
  DIR* d = ::opendir(root_.c_str());
  if (d == nullptr) return LocalFileError(errno, L("一覧の取得", "list"), root_);
  std::string foreign;
  while (struct dirent* entry = NextEntry(d)) {
    std::string_view n = entry->d_name;
    if (n == "." || n == ".." || n == "config" || n == "keys" || n == "data" || n == "snapshots" ||
        n == "damaged" || n == "lock" || n == "lock.info" || n == "lost+found" ||
        n.starts_with(kTempFilePrefix)) {
      continue;
    }
    foreign = n;
    break;
  }
  ::closedir(d);
  if (foreign.empty()) return Status::Ok();
  return Status::InvalidArgument(
      Tr("{} は空ではなく kura のリポジトリでもないため、リポジトリを作成しません ({} があります)。"
         "空のディレクトリか新しいパスを指定してください",
         "{} is not empty and is not a kura repository ({} is there), so no repository was created. "
         "Give an empty directory or a new path",
         root_, foreign));
}

std::string LocalStore::TypeDir(ObjectType type) const {
  switch (type) {
    case ObjectType::kConfig:
      return root_;
    case ObjectType::kKey:
      return root_ + "/keys";
    case ObjectType::kPack:
      return root_ + "/data";
    case ObjectType::kSnapshot:
      return root_ + "/snapshots";
  }
  return root_;
}

static const char* TypeDirName(ObjectType type) {
  switch (type) {
    case ObjectType::kConfig:
      return "config";
    case ObjectType::kKey:
      return "keys";
    case ObjectType::kPack:
      return "data";
    case ObjectType::kSnapshot:
      return "snapshots";
  }
  return "other";
}

std::string LocalStore::ObjectDir(ObjectType type, const std::string& name) const {
  // Packs are sharded by their first byte so no directory grows past a few thousand entries.
  if (type == ObjectType::kPack && name.size() >= 2) return TypeDir(type) + "/" + name.substr(0, 2);
  return TypeDir(type);
}

std::string LocalStore::ObjectPath(ObjectType type, const std::string& name) const {
  return ObjectDir(type, name) + "/" + name;
}

Status LocalStore::Put(ObjectType type, const std::string& name, ByteView data) {
  KURA_RETURN_IF_ERROR(CheckObjectName(type, name));
  const std::string dir = ObjectDir(type, name);
  if (IsImmutable(type)) {
    const std::string path = ObjectPath(type, name);
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0) return Status::Ok();
    if (errno != ENOENT && errno != ENOTDIR) return LocalFileError(errno, L("書き込み", "write"), path);
  }
  Status st = WriteFileDurably(dir, name, data);
  if (st.code() != Code::kNotFound) return st;
  // The object's directory is missing: a pack shard seen for the first time, or a
  // repository created by an older layout. Create it and try once more.
  KURA_RETURN_IF_ERROR(MakeDirDurably(TypeDir(type), root_));
  if (dir != TypeDir(type)) KURA_RETURN_IF_ERROR(MakeDirDurably(dir, TypeDir(type)));
  return WriteFileDurably(dir, name, data);
}

Result<Bytes> LocalStore::Get(ObjectType type, const std::string& name) {
  KURA_RETURN_IF_ERROR(CheckObjectName(type, name));
  const std::string path = ObjectPath(type, name);
  KURA_ASSIGN_OR_RETURN(UniqueFd fd, OpenForRead(type, name, path));
  Bytes out;
  struct stat st {};
  if (::fstat(fd.get(), &st) == 0 && st.st_size > 0) out.reserve(static_cast<size_t>(st.st_size));
  uint8_t buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return LocalFileError(errno, L("読み込み", "read"), path);
    }
    if (n == 0) break;
    out.insert(out.end(), buf, buf + n);
  }
  return out;
}

Result<Bytes> LocalStore::GetRange(ObjectType type, const std::string& name, uint64_t offset,
                                   uint64_t length) {
  KURA_RETURN_IF_ERROR(CheckObjectName(type, name));
  const std::string path = ObjectPath(type, name);
  KURA_RETURN_IF_ERROR(CheckRange(path, offset, length));
  KURA_ASSIGN_OR_RETURN(UniqueFd fd, OpenForRead(type, name, path));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return LocalFileError(errno, L("読み込み", "read"), path);
  auto truncated = [&](uint64_t size) {
    return TruncatedObjectStatus(type, name, path, size, offset + length);
  };
  if (static_cast<uint64_t>(st.st_size) < offset + length)
    return truncated(static_cast<uint64_t>(st.st_size));
  Bytes out(length);
  uint64_t done = 0;
  while (done < length) {
    ssize_t n = ::pread(fd.get(), out.data() + done, length - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return LocalFileError(errno, L("読み込み", "read"), path);
    }
    if (n == 0) return truncated(offset + done);  // shrank since fstat
    done += static_cast<uint64_t>(n);
  }
  return out;
}

Result<std::vector<ObjectInfo>> LocalStore::ListDir(ObjectType type, const std::string& dir,
                                                    const std::string& required_prefix) {
  std::vector<ObjectInfo> out;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    if (errno == ENOENT) return out;  // nothing of this type written yet
    return LocalFileError(errno, L("一覧の取得", "list"), dir);
  }
  for (;;) {
    errno = 0;
    struct dirent* entry = NextEntry(d);
    if (entry == nullptr) break;
    std::string_view name = entry->d_name;
    // Temporary files, editor droppings and anything else a person left here are not objects.
    if (!IsValidObjectName(type, name) || !name.starts_with(required_prefix)) continue;
    struct stat st {};
    if (::fstatat(::dirfd(d), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) continue;  // deleted while we listed
      int err = errno;
      ::closedir(d);
      return LocalFileError(err, L("一覧の取得", "list"), dir + "/" + std::string(name));
    }
    if (!S_ISREG(st.st_mode)) continue;
    out.push_back({std::string(name), static_cast<uint64_t>(st.st_size), static_cast<int64_t>(st.st_mtime)});
  }
  int err = errno;
  ::closedir(d);
  if (err != 0) return LocalFileError(err, L("一覧の取得", "list"), dir);
  return out;
}

Result<std::vector<ObjectInfo>> LocalStore::List(ObjectType type) {
  if (type != ObjectType::kPack) return ListDir(type, TypeDir(type), "");
  std::vector<ObjectInfo> out;
  const std::string data = TypeDir(type);
  DIR* d = ::opendir(data.c_str());
  if (d == nullptr) {
    if (errno == ENOENT) return out;
    return LocalFileError(errno, L("一覧の取得", "list"), data);
  }
  std::vector<std::string> shards;
  while (struct dirent* entry = NextEntry(d)) {
    if (IsPackShard(entry->d_name)) shards.emplace_back(entry->d_name);
  }
  ::closedir(d);
  for (const std::string& shard : shards) {
    std::string dir = data;
    dir += '/';
    dir += shard;
    KURA_ASSIGN_OR_RETURN(std::vector<ObjectInfo> part, ListDir(type, dir, shard));
    out.insert(out.end(), part.begin(), part.end());
  }
  return out;
}

Status LocalStore::Delete(ObjectType type, const std::string& name) {
  KURA_RETURN_IF_ERROR(CheckObjectName(type, name));
  const std::string path = ObjectPath(type, name);
  if (::unlink(path.c_str()) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return Status::Ok();
    return LocalFileError(errno, L("削除", "delete"), path);
  }
  return SyncDir(ObjectDir(type, name));
}

Status LocalStore::PutIfAbsent(ObjectType type, const std::string& name, ByteView data) {
  KURA_RETURN_IF_ERROR(CheckObjectName(type, name));
  const std::string dir = ObjectDir(type, name);
  const std::string path = ObjectPath(type, name);
  auto exists = [&] {
    return Status::AlreadyExists(Tr("{} は既にあります (別の kura が同時に作成しました)",
                                    "{} already exists (another kura created it at the same time)", path));
  };
  // A whole, durable file under a private name first; link() then publishes it or fails
  // with EEXIST, atomically with respect to every other process.
  std::string temp = std::string(kTempFilePrefix) + "new-" + std::to_string(::getpid()) + "-" + name;
  temp += "-" + std::to_string(reinterpret_cast<uintptr_t>(&temp) & 0xffffff);
  KURA_RETURN_IF_ERROR(WriteFileDurably(dir, temp, data));
  const std::string temp_path = dir + "/" + temp;
  int rc = ::link(temp_path.c_str(), path.c_str());
  int err = errno;
  ::unlink(temp_path.c_str());
  if (rc == 0) return SyncDir(dir);
  if (err == EEXIST) return exists();
  // EOPNOTSUPP is ENOTSUP on Linux; where they differ, both mean "no hard links here".
  bool no_links = err == EPERM || err == ENOTSUP || err == ENOSYS;
#if EOPNOTSUPP != ENOTSUP
  no_links = no_links || err == EOPNOTSUPP;
#endif
  if (!no_links) {
    return LocalFileError(err, L("書き込み", "write"), path);
  }
  // No hard links here: O_EXCL still makes the creation exclusive.
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, kFileMode);
  if (fd < 0) {
    if (errno == EEXIST) return exists();
    return LocalFileError(errno, L("書き込み", "write"), path);
  }
  UniqueFd file(fd);
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int werr = n < 0 ? errno : EIO;
      ::unlink(path.c_str());
      return LocalFileError(werr, L("書き込み", "write"), path);
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    int ferr = errno;
    ::unlink(path.c_str());
    return LocalFileError(ferr, L("書き込み", "write"), path);
  }
  return SyncDir(dir);
}

Status LocalStore::MoveAside(ObjectType type, const std::string& name) {
  KURA_RETURN_IF_ERROR(CheckObjectName(type, name));
  const std::string from = ObjectPath(type, name);
  const std::string damaged = root_ + "/damaged";
  const std::string dir = damaged + "/" + TypeDirName(type);
  KURA_RETURN_IF_ERROR(MakeDirDurably(damaged, root_));
  KURA_RETURN_IF_ERROR(MakeDirDurably(dir, damaged));
  const std::string to = dir + "/" + name;
  if (::rename(from.c_str(), to.c_str()) != 0) {
    if (errno == ENOENT) return ObjectNotFoundStatus(type, name, from);
    return LocalFileError(errno, L("退避", "move aside"), from);
  }
  KURA_RETURN_IF_ERROR(SyncDir(dir));
  return SyncDir(ObjectDir(type, name));
}

Result<std::unique_ptr<StoreLock>> LocalStore::Lock(LockMode mode, int timeout_ms) {
  return LockLocalDirectory(root_, mode, timeout_ms);
}

Status LocalStore::RemoveStaleTemporaryFiles(int64_t cutoff) {
  std::vector<std::string> dirs = {root_, TypeDir(ObjectType::kKey), TypeDir(ObjectType::kPack),
                                   TypeDir(ObjectType::kSnapshot)};
  if (DIR* d = ::opendir(TypeDir(ObjectType::kPack).c_str())) {
    while (struct dirent* entry = NextEntry(d)) {
      if (IsPackShard(entry->d_name)) dirs.push_back(TypeDir(ObjectType::kPack) + "/" + entry->d_name);
    }
    ::closedir(d);
  }
  Status first_error;
  for (const std::string& dir : dirs) {
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) {
      if (errno != ENOENT && first_error.ok())
        first_error = LocalFileError(errno, L("一覧の取得", "list"), dir);
      continue;
    }
    bool removed = false;
    while (struct dirent* entry = NextEntry(d)) {
      if (!std::string_view(entry->d_name).starts_with(kTempFilePrefix)) continue;
      struct stat st {};
      if (::fstatat(::dirfd(d), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
        continue;
      if (st.st_mtime >= cutoff) continue;
      if (::unlinkat(::dirfd(d), entry->d_name, 0) == 0) {
        removed = true;
      } else if (errno != ENOENT && first_error.ok()) {
        first_error = LocalFileError(errno, L("一時ファイルの削除", "remove temporary file"),
                                     dir + "/" + entry->d_name);
      }
    }
    ::closedir(d);
    if (removed) {
      if (Status st = SyncDir(dir); !st.ok() && first_error.ok()) first_error = st;
    }
  }
  return first_error;
}

}  // namespace kura
