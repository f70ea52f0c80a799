// Packs: the header written by PackBuilder parses back to the same entries, and a header
// that is truncated, foreign or lying about its counts is rejected before it is trusted.
#include "repo/pack.h"

#include <gtest/gtest.h>

#include "repo/format.h"
#include "support/repo_testing.h"

namespace kura {
namespace {

crypto::Hash Id(uint8_t b) {
  crypto::Hash h;
  h.fill(b);
  return h;
}

// A pack of three fake sealed blobs of different sizes.
Bytes ThreeBlobPack(std::vector<PackEntry>* entries) {
  PackBuilder b;
  b.Add(Id(1), format::kCompressionNone, 100, testing::SeededBytes(1, 100 + crypto::kSealOverhead));
  b.Add(Id(2), format::kCompressionZstd, 5000, testing::SeededBytes(2, 700 + crypto::kSealOverhead));
  b.Add(Id(3), format::kCompressionNone, 0, testing::SeededBytes(3, crypto::kSealOverhead));
  EXPECT_EQ(b.count(), 3u);
  Bytes pack = b.Finish(entries);
  EXPECT_TRUE(b.empty()) << "Finish must leave the builder empty for the next pack";
  return pack;
}

TEST(PackTest, BuildParseRoundTrip) {
  std::vector<PackEntry> built;
  Bytes pack = ThreeBlobPack(&built);
  auto header = ParsePackHeader(pack, "p");
  ASSERT_TRUE(header.ok()) << header.status().ToString();
  ASSERT_EQ(header->entries.size(), 3u);
  EXPECT_EQ(header->header_size, 16u + 3 * 48);
  EXPECT_EQ(header->total_size, pack.size()) << "the keyless truncation check relies on this";
  for (size_t i = 0; i < 3; ++i) {
    const PackEntry& e = header->entries[i];
    EXPECT_EQ(e.id, built[i].id);
    EXPECT_EQ(e.compression, built[i].compression);
    EXPECT_EQ(e.stored_length, built[i].stored_length);
    EXPECT_EQ(e.raw_length, built[i].raw_length);
    EXPECT_EQ(e.offset, built[i].offset);
  }
  // Each blob's bytes sit exactly where the header says.
  Bytes second(
      pack.begin() + static_cast<long>(header->entries[1].offset),
      pack.begin() + static_cast<long>(header->entries[1].offset + header->entries[1].stored_length));
  EXPECT_EQ(second, testing::SeededBytes(2, 700 + crypto::kSealOverhead));
  EXPECT_EQ(std::string(pack.begin(), pack.begin() + 8), "KURAPACK");
}

TEST(PackTest, EmptyPackHasOnlyThePrefix) {
  PackBuilder b;
  std::vector<PackEntry> entries;
  Bytes pack = b.Finish(&entries);
  EXPECT_EQ(pack.size(), 16u);
  auto header = ParsePackHeader(pack, "p");
  ASSERT_TRUE(header.ok());
  EXPECT_TRUE(header->entries.empty());
}

TEST(PackTest, EveryTruncationOfTheHeaderIsCorruption) {
  std::vector<PackEntry> built;
  Bytes pack = ThreeBlobPack(&built);
  for (size_t n = 0; n < 16 + 3 * 48; ++n) {
    auto header = ParsePackHeader(ByteView(pack.data(), n), "p");
    EXPECT_EQ(header.status().code(), Code::kCorruption) << "prefix of " << n << " bytes";
  }
}

TEST(PackTest, BadMagicIsCorruptionAndNamesThePack) {
  std::vector<PackEntry> built;
  Bytes pack = ThreeBlobPack(&built);
  pack[3] ^= 0x20;
  auto header = ParsePackHeader(pack, "0123abcd");
  ASSERT_EQ(header.status().code(), Code::kCorruption);
  EXPECT_NE(header.status().message().find("0123abcd"), std::string::npos) << header.status().message();
}

TEST(PackTest, VersionZeroIsCorruptionNewerIsUnsupported) {
  std::vector<PackEntry> built;
  Bytes pack = ThreeBlobPack(&built);
  pack[8] = 0;
  EXPECT_EQ(ParsePackHeader(pack, "p").status().code(), Code::kCorruption);
  pack[8] = 2;
  EXPECT_EQ(ParsePackHeader(pack, "p").status().code(), Code::kUnsupported);
}

TEST(PackTest, HugeEntryCountsAreRejectedWithoutTrustingThem) {
  std::vector<PackEntry> built;
  Bytes pack = ThreeBlobPack(&built);
  for (uint32_t count : {0xffffffffu, format::kMaxPackEntries + 1, format::kMaxPackEntries, 4u}) {
    Bytes p = pack;
    p[12] = static_cast<uint8_t>(count);
    p[13] = static_cast<uint8_t>(count >> 8);
    p[14] = static_cast<uint8_t>(count >> 16);
    p[15] = static_cast<uint8_t>(count >> 24);
    EXPECT_EQ(ParsePackHeader(p, "p").status().code(), Code::kCorruption) << count;
  }
}

TEST(PackTest, ImplausibleEntriesAreRejected) {
  std::vector<PackEntry> built;
  Bytes good = ThreeBlobPack(&built);
  const size_t e0 = 16;  // first entry
  auto with = [&](size_t off, uint8_t v) {
    Bytes p = good;
    p[off] = v;
    return p;
  };
  EXPECT_EQ(ParsePackHeader(with(e0 + 32, 1), "p").status().code(), Code::kCorruption) << "unknown blob type";
  EXPECT_EQ(ParsePackHeader(with(e0 + 33, 9), "p").status().code(), Code::kCorruption)
      << "unknown compression";
  Bytes tiny = good;
  for (int i = 0; i < 4; ++i) tiny[e0 + 36 + i] = i == 0 ? 3 : 0;  // stored length below the seal overhead
  EXPECT_EQ(ParsePackHeader(tiny, "p").status().code(), Code::kCorruption);
  Bytes huge = good;
  for (int i = 0; i < 4; ++i) huge[e0 + 40 + i] = 0xff;  // raw length 4 GiB
  EXPECT_EQ(ParsePackHeader(huge, "p").status().code(), Code::kCorruption);
}

}  // namespace
}  // namespace kura
