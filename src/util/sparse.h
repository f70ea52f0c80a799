// Sparse files: holes are read as zeros without reading them (backup) and recreated by
// seeking over zero blocks (restore). docs/format.md, "Snapshots" (the "sparse" field).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "util/io.h"

namespace kura {

// True when the regular file open at `fd` (of size `size`) has at least one hole, by
// SEEK_HOLE. False when it has none or the file system cannot tell (SEEK_HOLE then reports
// the end of the file, as POSIX allows). The file offset is left unchanged.
bool FileHasHoles(int fd, off_t size);

// A ByteReader over a regular file that yields the holes as zeros without reading them
// (SEEK_DATA/SEEK_HOLE), so backing up a 100 GiB sparse image reads only its data. The fd is
// owned. Reads from the current offset, which must be 0 at construction.
class SparseFileReader : public ByteReader {
 public:
  SparseFileReader(int fd, std::string name);
  ~SparseFileReader() override;
  Result<size_t> Read(uint8_t* buf, size_t n) override;

 private:
  // Finds where the data run containing or following pos_ starts (data_) and ends (hole_).
  void Locate();

  int fd_;
  std::string name_;
  off_t pos_ = 0;
  off_t data_ = -1;  // start of the next data run at or after pos_; -1: not located yet
  off_t hole_ = -1;  // end of that data run
  bool seek_works_ = true;
};

// A ByteWriter that writes a file through pwrite but skips every block (aligned to
// `block` bytes of file offset) that is all zeros, leaving a hole; the sizes of the writes do
// not matter. Finish() writes the last partial block and sets the size, so a trailing hole
// exists too; without Finish() the file is incomplete. REQUIRES: `fd` is a new, empty
// regular file; not owned.
class SparseFdWriter : public ByteWriter {
 public:
  SparseFdWriter(int fd, std::string name, size_t block = 4096);
  Status Write(const uint8_t* buf, size_t n) override;
  // Sets the file's length to everything written (holes included).
  Status Finish();
  uint64_t size() const { return offset_; }

 private:
  Status WriteRun(const uint8_t* buf, size_t n, uint64_t at);

  int fd_;
  std::string name_;
  size_t block_;
  uint64_t offset_ = 0;           // bytes accepted so far, pending_ included
  std::vector<uint8_t> pending_;  // the start of the block at offset_ rounded down, when partial
};

}  // namespace kura
