#include "vault_cli/export_sink.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "crypto/crypto.h"
#include "util/fs.h"
#include "util/hex.h"
#include "util/i18n.h"

namespace kura::vault_cli {

static constexpr size_t kFlushAt = 1 << 16;

Result<ExportSink> ExportSink::Open(const std::string& path) {
  ExportSink s;
  s.path_ = path;
  if (path.empty()) {
    s.fd_ = STDOUT_FILENO;
    return s;
  }
  size_t slash = path.find_last_of('/');
  std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
  s.tmp_ = dir + "/" + std::string(kAtomicTempPrefix) + std::to_string(::getpid()) + "-" +
           ToHex(crypto::RandomBytes(8));
  s.fd_ = ::open(s.tmp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (s.fd_ < 0) return ErrnoStatus(errno, L("書き出し", "write"), path);
  if (::fchmod(s.fd_, 0600) != 0) return s.Error(errno);  // whatever the umask
  return s;
}

ExportSink::ExportSink(ExportSink&& other) noexcept
    : path_(std::move(other.path_)),
      tmp_(std::move(other.tmp_)),
      fd_(other.fd_),
      buffer_(std::move(other.buffer_)) {
  other.fd_ = -1;
  other.tmp_.clear();
}

ExportSink::~ExportSink() {
  if (!tmp_.empty()) {
    if (fd_ >= 0) ::close(fd_);
    ::unlink(tmp_.c_str());
  }
}

Status ExportSink::Error(int err) const {
  return ErrnoStatus(err, L("書き出し", "write"), path_.empty() ? std::string("stdout") : path_);
}

Status ExportSink::Write(std::string_view text) {
  buffer_.append(text);
  if (buffer_.size() < kFlushAt) return Status::Ok();
  size_t off = 0;
  while (off < buffer_.size()) {
    ssize_t n = ::write(fd_, buffer_.data() + off, buffer_.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error(errno);
    }
    off += static_cast<size_t>(n);
  }
  buffer_.clear();
  return Status::Ok();
}

Status ExportSink::Finish() {
  size_t off = 0;
  while (off < buffer_.size()) {
    ssize_t n = ::write(fd_, buffer_.data() + off, buffer_.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error(errno);
    }
    off += static_cast<size_t>(n);
  }
  buffer_.clear();
  if (path_.empty()) return Status::Ok();
  // fsync and close report delayed write errors; they count.
  if (::fsync(fd_) != 0) return Error(errno);
  int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) return Error(errno);
  if (::rename(tmp_.c_str(), path_.c_str()) != 0) return Error(errno);
  tmp_.clear();
  size_t slash = path_.find_last_of('/');
  return SyncDir(slash == std::string::npos ? "." : path_.substr(0, slash));
}

}  // namespace kura::vault_cli
