// Windows implementation of util/sparse.h (docs/windows-port.md §3). The fds are the
// CRT's (util/io.h); the Win32 handle under one comes from _get_osfhandle. NTFS tells the
// data runs of a sparse file through FSCTL_QUERY_ALLOCATED_RANGES (SEEK_DATA/SEEK_HOLE's
// counterpart); a file that is not marked sparse reports one range covering all of it.
#include "util/sparse.h"

#include <io.h>
#include <windows.h>
#include <winioctl.h>

#include <algorithm>
#include <cstring>

#include "util/i18n.h"
#include "util/win/error.h"

namespace kura {

namespace {

bool AllZero(const uint8_t* p, size_t n) {
  // Comparing a buffer with itself shifted by one byte: all equal and the first is zero.
  return n == 0 || (p[0] == 0 && std::memcmp(p, p + 1, n - 1) == 0);
}

HANDLE HandleOf(int fd) {
  return reinterpret_cast<HANDLE>(::_get_osfhandle(fd));
}

// The first allocated range at or after `from` (up to `end`): true and [*start, *stop),
// or true with *start == *stop == end when there is no data left; false when the file
// system cannot tell.
bool NextDataRun(HANDLE h, int64_t from, int64_t end, int64_t* start, int64_t* stop) {
  FILE_ALLOCATED_RANGE_BUFFER query{};
  query.FileOffset.QuadPart = from;
  query.Length.QuadPart = end - from;
  FILE_ALLOCATED_RANGE_BUFFER out[1]{};
  DWORD bytes = 0;
  BOOL ok = ::DeviceIoControl(h, FSCTL_QUERY_ALLOCATED_RANGES, &query, sizeof query, out, sizeof out, &bytes,
                              nullptr);
  // ERROR_MORE_DATA: more ranges follow; the first one is all this needs.
  if (!ok && ::GetLastError() != ERROR_MORE_DATA) return false;
  if (bytes < sizeof out[0]) {
    *start = *stop = end;
    return true;
  }
  *start = std::max<int64_t>(out[0].FileOffset.QuadPart, from);
  *stop = std::min<int64_t>(out[0].FileOffset.QuadPart + out[0].Length.QuadPart, end);
  return true;
}

int64_t SizeOf(HANDLE h) {
  LARGE_INTEGER size{};
  return ::GetFileSizeEx(h, &size) ? size.QuadPart : -1;
}

}  // namespace

bool FileHasHoles(int fd, off_t size) {
  if (size <= 0) return false;
  HANDLE h = HandleOf(fd);
  BY_HANDLE_FILE_INFORMATION info{};
  if (!::GetFileInformationByHandle(h, &info) || !(info.dwFileAttributes & FILE_ATTRIBUTE_SPARSE_FILE)) {
    return false;
  }
  int64_t start = 0, stop = 0;
  return NextDataRun(h, 0, size, &start, &stop) && (start > 0 || stop < size);
}

SparseFileReader::SparseFileReader(int fd, std::string name) : fd_(fd), name_(std::move(name)) {}

SparseFileReader::~SparseFileReader() {
  if (fd_ >= 0) ::_close(fd_);
}

void SparseFileReader::Locate() {
  HANDLE h = HandleOf(fd_);
  int64_t end = SizeOf(h);
  int64_t start = 0, stop = 0;
  if (end < 0 || !NextDataRun(h, pos_, std::max<int64_t>(end, pos_), &start, &stop)) {
    seek_works_ = false;  // the file system cannot tell: read everything
    return;
  }
  data_ = static_cast<off_t>(start);
  hole_ = static_cast<off_t>(stop);
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
  OVERLAPPED at{};
  at.Offset = static_cast<DWORD>(static_cast<uint64_t>(pos_) & 0xffffffffu);
  at.OffsetHigh = static_cast<DWORD>(static_cast<uint64_t>(pos_) >> 32);
  DWORD got = 0;
  if (!::ReadFile(HandleOf(fd_), buf, static_cast<DWORD>(std::min<size_t>(want, 1u << 30)), &got, &at)) {
    DWORD err = ::GetLastError();
    if (err != ERROR_HANDLE_EOF) return win::LastErrorStatus(err, L("読み込み", "read"), name_);
    got = 0;
  }
  pos_ += static_cast<off_t>(got);
  // A file truncated while being read ends here; the caller's checks see the short size.
  if (got == 0) seek_works_ = false;
  return static_cast<size_t>(got);
}

SparseFdWriter::SparseFdWriter(int fd, std::string name, size_t block)
    : fd_(fd), name_(std::move(name)), block_(block == 0 ? 4096 : block) {
  // Mark the new file sparse so skipped blocks stay unallocated. Where that is refused
  // (FAT, some shares) the skipped blocks read back as zeros all the same, only allocated.
  DWORD bytes = 0;
  (void)::DeviceIoControl(HandleOf(fd_), FSCTL_SET_SPARSE, nullptr, 0, nullptr, 0, &bytes, nullptr);
}

Status SparseFdWriter::WriteRun(const uint8_t* buf, size_t n, uint64_t at) {
  while (n > 0) {
    OVERLAPPED where{};
    where.Offset = static_cast<DWORD>(at & 0xffffffffu);
    where.OffsetHigh = static_cast<DWORD>(at >> 32);
    DWORD w = 0;
    if (!::WriteFile(HandleOf(fd_), buf, static_cast<DWORD>(std::min<size_t>(n, 1u << 30)), &w, &where)) {
      return win::LastErrorStatus(::GetLastError(), L("書き込み", "write"), name_);
    }
    buf += w;
    n -= w;
    at += w;
  }
  return Status::Ok();
}

Status SparseFdWriter::Write(const uint8_t* buf, size_t n) {
  // Blocks are judged whole, at block boundaries of the file, whatever the sizes of the
  // writes: a partial block waits in pending_ until it is complete. Non-zero blocks in a row
  // go out in one write; zero blocks are skipped and stay holes.
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
  FILE_END_OF_FILE_INFO eof{};
  eof.EndOfFile.QuadPart = static_cast<LONGLONG>(offset_);
  if (!::SetFileInformationByHandle(HandleOf(fd_), FileEndOfFileInfo, &eof, sizeof eof)) {
    return win::LastErrorStatus(::GetLastError(), L("書き込み", "write"), name_);
  }
  return Status::Ok();
}

}  // namespace kura
