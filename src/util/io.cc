#include "util/io.h"

#include <unistd.h>

#include <cerrno>

#include "util/fs.h"
#include "util/i18n.h"

namespace kura {

Result<size_t> ReadFull(ByteReader& r, uint8_t* buf, size_t n) {
  size_t got = 0;
  while (got < n) {
    KURA_ASSIGN_OR_RETURN(size_t k, r.Read(buf + got, n - got));
    if (k == 0) break;
    got += k;
  }
  return got;
}

FdReader::FdReader(int fd, bool owns, std::string name) : fd_(fd), owns_(owns), name_(std::move(name)) {}
FdReader::~FdReader() {
  if (owns_ && fd_ >= 0) ::close(fd_);
}

Result<size_t> FdReader::Read(uint8_t* buf, size_t n) {
  for (;;) {
    ssize_t k = ::read(fd_, buf, n);
    if (k >= 0) return static_cast<size_t>(k);
    if (errno == EINTR) continue;
    return ErrnoStatus(errno, L("読み込み", "read"), name_);
  }
}

FdWriter::FdWriter(int fd, bool owns, std::string name) : fd_(fd), owns_(owns), name_(std::move(name)) {}
FdWriter::~FdWriter() {
  if (owns_ && fd_ >= 0) ::close(fd_);
}

Status FdWriter::Write(const uint8_t* buf, size_t n) {
  size_t off = 0;
  while (off < n) {
    ssize_t k = ::write(fd_, buf + off, n - off);
    if (k < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, L("書き込み", "write"), name_);
    }
    off += static_cast<size_t>(k);
  }
  return Status::Ok();
}

}  // namespace kura
