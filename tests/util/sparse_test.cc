// Sparse files: SparseFdWriter leaves holes wherever whole blocks are zero, whatever the sizes
// of the writes (the restore's blocks are chunks, which do not fall on block boundaries), and
// SparseFileReader gives back exactly the file's bytes.
#include "util/sparse.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <random>

#include "support/repo_testing.h"

namespace kura {
namespace {

using testing::TempDir;

// A mostly-zero file image: a few random runs of data at random offsets.
Bytes Image(std::mt19937_64& rng, size_t size) {
  Bytes b(size, 0);
  for (int i = 0; i < 4; ++i) {
    size_t at = rng() % size, len = std::min<size_t>(1 + rng() % 20000, size - at);
    for (size_t k = 0; k < len; ++k) b[at + k] = static_cast<uint8_t>(1 + rng() % 255);
  }
  return b;
}

TEST(SparseTest, WriterMakesHolesAtAnyWriteSizesAndReaderReadsTheSameBytes) {
  TempDir dir("kura-sparse");
  for (uint64_t seed = 1; seed <= 30; ++seed) {
    std::mt19937_64 rng(seed);
    const size_t size = (8 << 20) + rng() % 10000;
    Bytes image = Image(rng, size);
    std::string path = dir.Sub("f" + std::to_string(seed));
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
    ASSERT_GE(fd, 0);
    SparseFdWriter w(fd, path);
    for (size_t at = 0; at < size;) {
      size_t n = std::min<size_t>(size - at, rng() % 3 == 0 ? 1 + rng() % 100 : 1 + rng() % 70000);
      ASSERT_TRUE(w.Write(image.data() + at, n).ok());
      at += n;
    }
    ASSERT_TRUE(w.Finish().ok());
    struct stat st {};
    ASSERT_EQ(::fstat(fd, &st), 0);
    EXPECT_EQ(static_cast<size_t>(st.st_size), size);
    EXPECT_LT(st.st_blocks * 512, 1 << 20) << "seed " << seed << ": zero blocks were written, not skipped";
    // Read back through SEEK_DATA/SEEK_HOLE, in odd sizes.
    SparseFileReader r(fd, path);
    Bytes back;
    Bytes buf(1 + rng() % 100000);
    for (;;) {
      auto n = r.Read(buf.data(), buf.size());
      ASSERT_TRUE(n.ok());
      if (*n == 0) break;
      back.insert(back.end(), buf.begin(), buf.begin() + static_cast<long>(*n));
    }
    EXPECT_TRUE(back == image) << "seed " << seed << ": bytes differ";
    EXPECT_TRUE(
        FileHasHoles(::open(path.c_str(), O_RDONLY), static_cast<off_t>(size)));  // fd leak is fine in a test
  }
}

TEST(SparseTest, DenseFileHasNoHoles) {
  TempDir dir("kura-dense");
  testing::WriteFile(dir.Sub("d"), testing::SeededBytes(1, 100000));
  int fd = ::open(dir.Sub("d").c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  EXPECT_FALSE(FileHasHoles(fd, 100000));
  ::close(fd);
}

}  // namespace
}  // namespace kura
