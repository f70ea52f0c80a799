// Blobs: what goes in comes out; any change to the stored bytes, the entry that describes
// them or the key is kCorruption; compression is used only when it pays.
#include "repo/blob.h"

#include <gtest/gtest.h>

#include "repo/format.h"
#include "support/repo_testing.h"

namespace kura {
namespace {

class BlobTest : public ::testing::Test {
 protected:
  RepoKeys keys_ = RepoKeys::Derive(crypto::SecretKey::Random());

  PackEntry EntryFor(const EncodedBlob& b) {
    PackEntry e;
    e.id = b.id;
    e.compression = b.compression;
    e.raw_length = b.raw_length;
    e.stored_length = static_cast<uint32_t>(b.sealed.size());
    return e;
  }
  EncodedBlob Encode(const Bytes& plain, int level = 3) {
    return EncodeBlob(keys_, ComputeBlobId(keys_, plain), plain, level);
  }
};

TEST_F(BlobTest, RoundTripOfCompressibleAndRandomData) {
  for (const Bytes& plain :
       {testing::TextBytes(200000), testing::SeededBytes(7, 200000), Bytes{}, Bytes{42}}) {
    EncodedBlob b = Encode(plain);
    auto back = DecodeBlob(keys_, EntryFor(b), b.sealed);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(*back, plain);
  }
}

TEST_F(BlobTest, CompressesTextButNotRandomData) {
  Bytes text = testing::TextBytes(200000);
  EncodedBlob t = Encode(text);
  EXPECT_EQ(t.compression, format::kCompressionZstd);
  EXPECT_LT(t.sealed.size(), text.size() / 10);

  Bytes random = testing::SeededBytes(8, 200000);
  EncodedBlob r = Encode(random);
  EXPECT_EQ(r.compression, format::kCompressionNone) << "zstd is skipped when it saves less than 2 %";
  EXPECT_EQ(r.sealed.size(), random.size() + crypto::kSealOverhead);

  EXPECT_EQ(Encode(text, /*level=*/0).compression, format::kCompressionNone)
      << "level 0 disables compression";
}

TEST_F(BlobTest, IdIsKeyedSoEqualDataInAnotherRepositoryHasAnotherId) {
  Bytes plain = testing::TextBytes(1000);
  RepoKeys other = RepoKeys::Derive(crypto::SecretKey::Random());
  EXPECT_EQ(ComputeBlobId(keys_, plain), ComputeBlobId(keys_, plain));
  EXPECT_NE(ComputeBlobId(keys_, plain), ComputeBlobId(other, plain));
}

TEST_F(BlobTest, AnyFlippedStoredByteIsCorruption) {
  EncodedBlob b = Encode(testing::TextBytes(5000));
  for (size_t i = 0; i < b.sealed.size(); i += std::max<size_t>(1, b.sealed.size() / 97)) {
    Bytes bad = b.sealed;
    bad[i] ^= 0x01;
    auto r = DecodeBlob(keys_, EntryFor(b), bad);
    EXPECT_EQ(r.status().code(), Code::kCorruption) << "byte " << i;
  }
}

TEST_F(BlobTest, LyingEntryIsCorruption) {
  EncodedBlob b = Encode(testing::TextBytes(5000));
  ASSERT_EQ(b.compression, format::kCompressionZstd);
  PackEntry wrong_id = EntryFor(b);
  wrong_id.id[0] ^= 1;  // a blob swapped in under another blob's ID
  EXPECT_EQ(DecodeBlob(keys_, wrong_id, b.sealed).status().code(), Code::kCorruption);
  PackEntry wrong_comp = EntryFor(b);
  wrong_comp.compression = format::kCompressionNone;  // the flag is bound by the AAD
  EXPECT_EQ(DecodeBlob(keys_, wrong_comp, b.sealed).status().code(), Code::kCorruption);
  PackEntry wrong_len = EntryFor(b);
  wrong_len.raw_length += 1;
  EXPECT_EQ(DecodeBlob(keys_, wrong_len, b.sealed).status().code(), Code::kCorruption);
  EXPECT_EQ(DecodeBlob(keys_, EntryFor(b), ByteView(b.sealed.data(), 10)).status().code(), Code::kCorruption);
}

TEST_F(BlobTest, AnotherRepositorysKeyCannotOpenIt) {
  EncodedBlob b = Encode(testing::SeededBytes(3, 1000));
  RepoKeys other = RepoKeys::Derive(crypto::SecretKey::Random());
  auto r = DecodeBlob(other, EntryFor(b), b.sealed);
  EXPECT_EQ(r.status().code(), Code::kCorruption);
}

TEST_F(BlobTest, SameDataTwiceSealsDifferently) {
  Bytes plain = testing::SeededBytes(4, 1000);
  EXPECT_NE(Encode(plain).sealed, Encode(plain).sealed) << "fresh nonce per seal";
}

}  // namespace
}  // namespace kura
