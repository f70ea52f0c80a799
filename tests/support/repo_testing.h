// Helpers shared by the repository, engine and end-to-end tests: temporary directories,
// reproducible incompressible data, reading a directory tree back, and the environment a
// test needs (a cheap KDF, a private index cache). Depends on nothing above util/.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "util/bytes.h"

namespace kura::testing {

// A fresh directory under $TMPDIR (default /tmp), removed with everything in it when the
// object is destroyed. Anything mounted on or under it must be unmounted first.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "kura-test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string Sub(const std::string& rel) const { return path_ + "/" + rel; }

 private:
  std::string path_;
};

// `n` bytes from a seeded PRNG: reproducible and incompressible (zstd gains nothing).
Bytes SeededBytes(uint64_t seed, size_t n);
// `n` bytes of highly compressible text.
Bytes TextBytes(size_t n);

// Creates parent directories as needed. Aborts the test (ADD_FAILURE) on error.
void WriteFile(const std::string& path, ByteView data);
inline void WriteFile(const std::string& path, const std::string& text) {
  WriteFile(path, AsBytes(text));
}
// The whole file, or "" with ADD_FAILURE when it cannot be read.
std::string ReadFileString(const std::string& path);
bool Exists(const std::string& path);

// Every entry under `root` by relative path: regular files map to their content,
// directories to "<dir>", symlinks to "-> target". Does not follow symlinks.
std::map<std::string, std::string> ReadTree(const std::string& root);

// Flips (XOR 0xff) the byte at `offset` of the file. Returns false when it cannot.
bool FlipByte(const std::string& path, uint64_t offset);

// KURA_ARGON2_MEM_KIB=8192 KURA_ARGON2_OPS=1 for this process (and its children).
void UseCheapKdf();

}  // namespace kura::testing
