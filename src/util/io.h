// Streaming byte input. Implemented by file readers, child-process stdout, restored streams.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "kura/status.h"

namespace kura {

class ByteReader {
 public:
  virtual ~ByteReader() = default;
  // Reads up to `n` bytes into `buf`. Returns 0 only at end of stream; an error Status if
  // the stream failed (the bytes read so far must then not be trusted as complete).
  virtual Result<size_t> Read(uint8_t* buf, size_t n) = 0;
};

// Reads until `n` bytes or EOF; returns the count read (less than n only at EOF).
Result<size_t> ReadFull(ByteReader& r, uint8_t* buf, size_t n);

class ByteWriter {
 public:
  virtual ~ByteWriter() = default;
  virtual Status Write(const uint8_t* buf, size_t n) = 0;
};

// A ByteReader over an open file descriptor (not owned unless `owns` is true).
class FdReader : public ByteReader {
 public:
  FdReader(int fd, bool owns, std::string name);
  ~FdReader() override;
  Result<size_t> Read(uint8_t* buf, size_t n) override;

 private:
  int fd_;
  bool owns_;
  std::string name_;
};

// A ByteWriter to an open file descriptor (not owned unless `owns` is true).
class FdWriter : public ByteWriter {
 public:
  FdWriter(int fd, bool owns, std::string name);
  ~FdWriter() override;
  Status Write(const uint8_t* buf, size_t n) override;

 private:
  int fd_;
  bool owns_;
  std::string name_;
};

}  // namespace kura
