#include "util/sparse.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "util/fs.h"
#include "util/i18n.h"

namespace kura {

namespace {

bool AllZero(const uint8_t* p, size_t n) {
  // Comparing a buffer with itself shifted by one byte: all equal and the first is zero.
  return n == 0 || (p[0] == 0 && std::memcmp(p, p + 1, n - 1) == 0);
}

}  // namespace

bool FileHasHoles(int fd, off_t size) {
  if (size <= 0) return false;
  off_t saved = ::lseek(fd, 0, SEEK_CUR);
  off_t hole = ::lseek(fd, 0, SEEK_HOLE);
  if (saved >= 0) ::lseek(fd, saved, SEEK_SET);
  return hole >= 0 && hole < size;
}

SparseFileReader::SparseFileReader(int fd, std::string name) : fd_(fd), name_(std::move(name)) {}

SparseFileReader::~SparseFileReader() {
  if (fd_ >= 0) ::close(fd_);
}

void SparseFileReader::Locate() {
  data_ = ::lseek(fd_, pos_, SEEK_DATA);
  if (data_ < 0) {
    if (errno == ENXIO) {  // no data after pos_: the rest is a hole up to the end of the file
      struct stat st {};
      off_t end = ::fstat(fd_, &st) == 0 ? st.st_size : pos_;
      data_ = hole_ = std::max(end, pos_);
      return;
    }
    seek_works_ = false;  // the file system has no SEEK_DATA: read everything
    return;
  }
  hole_ = ::lseek(fd_, data_, SEEK_HOLE);
  if (hole_ < 0) seek_works_ = false;
}

Result<size_t> SparseFileReader::Read(uint8_t* buf, size_t n) {
  if (n == 0) return size_t{0};
  if (seek_works_ && (data_ < 0 || pos_ >= hole_)) Locate();
  if (seek_works_ && pos_ < data_) {
    // Inside a hole: zeros without a read. A hole that reaches the end of the file ends the
    // stream there (data_ == hole_ == the size).
    size_t k = static_cast<size_t>(std::min<off_t>(static_cast<off_t>(n), data_ - pos_));
    std::memset(buf, 0, k);
    pos_ += static_cast<off_t>(k);
    return k;
  }
  if (seek_works_ && pos_ >= hole_) return size_t{0};  // end of file after a trailing hole
  size_t want = n;
  if (seek_works_) want = static_cast<size_t>(std::min<off_t>(static_cast<off_t>(n), hole_ - pos_));
  for (;;) {
    ssize_t got = ::pread(fd_, buf, want, pos_);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return ErrnoStatus(errno, L("読み込み", "read"), name_);
    pos_ += got;
    // A file truncated while being read ends here; the caller's checks see the short size.
    if (got == 0) seek_works_ = false;
    return static_cast<size_t>(got);
  }
}

SparseFdWriter::SparseFdWriter(int fd, std::string name, size_t block)
    : fd_(fd), name_(std::move(name)), block_(block == 0 ? 4096 : block) {}

Status SparseFdWriter::WriteRun(const uint8_t* buf, size_t n, uint64_t at) {
  while (n > 0) {
    ssize_t w = ::pwrite(fd_, buf, n, static_cast<off_t>(at));
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return ErrnoStatus(errno, L("書き込み", "write"), name_);
    buf += w;
    n -= static_cast<size_t>(w);
    at += static_cast<uint64_t>(w);
  }
  return Status::Ok();
}

Status SparseFdWriter::Write(const uint8_t* buf, size_t n) {
  // Blocks are judged whole, at block boundaries of the file, whatever the sizes of the
  // writes: a partial block waits in pending_ until it is complete. Non-zero blocks in a row
  // go out in one pwrite; zero blocks are skipped and stay holes.
  size_t i = 0;
  if (!pending_.empty()) {
    size_t k = std::min(n, block_ - pending_.size());
    pending_.insert(pending_.end(), buf, buf + k);
    i = k;
    if (pending_.size() == block_) {
      uint64_t at = offset_ - (pending_.size() - k);
      if (!AllZero(pending_.data(), block_)) KURA_RETURN_IF_ERROR(WriteRun(pending_.data(), block_, at));
      pending_.clear();
    }
  }
  offset_ += i;
  size_t run_start = i, run_len = 0;
  while (n - i >= block_) {
    if (AllZero(buf + i, block_)) {
      if (run_len > 0) KURA_RETURN_IF_ERROR(WriteRun(buf + run_start, run_len, offset_ - (i - run_start)));
      run_len = 0;
    } else {
      if (run_len == 0) run_start = i;
      run_len += block_;
    }
    i += block_;
    offset_ += block_;
  }
  if (run_len > 0) KURA_RETURN_IF_ERROR(WriteRun(buf + run_start, run_len, offset_ - (i - run_start)));
  if (i < n) {
    pending_.insert(pending_.end(), buf + i, buf + n);
    offset_ += n - i;
  }
  return Status::Ok();
}

Status SparseFdWriter::Finish() {
  if (!pending_.empty() && !AllZero(pending_.data(), pending_.size())) {
    KURA_RETURN_IF_ERROR(WriteRun(pending_.data(), pending_.size(), offset_ - pending_.size()));
  }
  pending_.clear();
  if (::ftruncate(fd_, static_cast<off_t>(offset_)) != 0)
    return ErrnoStatus(errno, L("書き込み", "write"), name_);
  return Status::Ok();
}

}  // namespace kura
