#include "objstore/local_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <random>

#include "objstore/local_file.h"
#include "objstore/local_store.h"
#include "objstore/object_name.h"
#include "util/i18n.h"

namespace kura {

namespace {

std::string TempName(const std::string& dir) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string name = dir + "/" + std::string(kTempFilePrefix) + "put-" + std::to_string(::getpid()) + "-";
  uint64_t r = rng();
  for (int i = 0; i < 16; ++i, r >>= 4) name += kDigits[r & 0xf];
  return name;
}

}  // namespace

Result<std::unique_ptr<LocalObjectWriter>> LocalStore::BeginPut(ObjectType type) {
  if (type == ObjectType::kConfig) {
    return Status::InvalidArgument(
        Tr("設定オブジェクトは分割して書き込めません", "the config object cannot be written in pieces"));
  }
  const std::string dir = TypeDir(type);
  KURA_RETURN_IF_ERROR(MakeDirDurably(dir, root_));
  std::string temp = TempName(dir);
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, kFileMode);
  if (fd < 0) return LocalFileError(errno, L("書き込み", "write"), dir);
  if (::fchmod(fd, kFileMode) != 0) {
    int err = errno;
    ::close(fd);
    ::unlink(temp.c_str());
    return LocalFileError(err, L("書き込み", "write"), dir);
  }
  return std::unique_ptr<LocalObjectWriter>(new LocalObjectWriter(*this, type, fd, std::move(temp)));
}

LocalObjectWriter::LocalObjectWriter(const LocalStore& store, ObjectType type, int fd, std::string temp_path)
    : store_(store), type_(type), fd_(fd), temp_path_(std::move(temp_path)) {}

LocalObjectWriter::~LocalObjectWriter() {
  Abort();
}

void LocalObjectWriter::Abort() {
  if (done_) return;
  done_ = true;
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  ::unlink(temp_path_.c_str());
}

Status LocalObjectWriter::Write(ByteView data) {
  if (done_) {
    return Status::Internal(Tr("書き込みは終わっています", "the write has already ended"));
  }
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd_, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = n < 0 ? errno : EIO;
      Abort();
      return LocalFileError(err, L("書き込み", "write"), store_.TypeDir(type_));
    }
    off += static_cast<size_t>(n);
  }
  written_ += data.size();
  return Status::Ok();
}

Result<LocalObjectWriter::Committed> LocalObjectWriter::Commit(const std::string& name, Publish how) {
  if (done_) {
    return Status::Internal(Tr("書き込みは終わっています", "the write has already ended"));
  }
  Status name_ok = CheckObjectName(type_, name);
  if (!name_ok.ok()) {
    Abort();
    return name_ok;
  }
  const std::string path = store_.ObjectPath(type_, name);
  if (::fsync(fd_) != 0) {
    int err = errno;
    Abort();
    return LocalFileError(err, L("書き込み", "write"), path);
  }
  const std::string dir = store_.ObjectDir(type_, name);
  if (dir != store_.TypeDir(type_)) {
    Status made = MakeDirDurably(dir, store_.TypeDir(type_));
    if (!made.ok()) {
      Abort();
      return made;
    }
  }
  // link() publishes the whole, durable file or fails with EEXIST: a second upload of a
  // name never replaces the first, even when two run at once. rename() replaces a damaged
  // object in one step: a reader sees the old file or the new one, never a mix.
  int rc = how == Publish::kReplaceDamaged ? ::rename(temp_path_.c_str(), path.c_str())
                                           : ::link(temp_path_.c_str(), path.c_str());
  int err = errno;
  Abort();
  if (rc != 0) {
    if (err == EEXIST) return Committed::kAlreadyThere;
    return LocalFileError(err, L("書き込み", "write"), path);
  }
  KURA_RETURN_IF_ERROR(SyncDir(dir));
  return Committed::kStored;
}

}  // namespace kura
