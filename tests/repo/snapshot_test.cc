// Snapshots: a keyless reader sees kind, time, sizes and blob IDs; everything else needs
// the key, any change is detected, and paths that could escape a restore target are refused.
#include "repo/snapshot.h"

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

class SnapshotTest : public ::testing::Test {
 protected:
  RepoKeys keys_ = RepoKeys::Derive(crypto::SecretKey::Random());
  SnapshotPlain plain_{
      "00112233445566778899aabbccddeeff", SnapshotKind::kMonthly, 1763700000, 1763700000123, 123456, 3, 999};
  std::vector<crypto::Hash> blobs_{Id(1), Id(2), Id(9)};

  SnapshotMeta Meta(const std::string& file_path = "srv/data/カルテ.db") {
    SnapshotMeta m;
    m.host = "reception-pc";
    m.kura_version = "0.1.0";
    m.source_kind = "files";
    m.source_name = "/srv/data";
    m.tags = {"月次締め"};
    SnapshotEntry dir;
    dir.meta.path = "srv";
    dir.meta.type = EntryType::kDirectory;
    dir.meta.mode = 0755;
    SnapshotEntry file;
    file.meta.path = file_path;
    file.meta.mode = 0600;
    file.meta.mtime = 1763600000;
    file.meta.uid = 1000;
    file.meta.gid = 1001;
    file.size = 123456;
    file.sha256 = std::string(64, 'a');
    file.blobs = {Id(9), Id(1), Id(1), Id(2)};
    SnapshotEntry link;
    link.meta.path = "srv/current";
    link.meta.type = EntryType::kSymlink;
    link.meta.symlink_target = "/etc/hosts";  // targets may be absolute; paths may not
    m.entries = {dir, file, link};
    m.warnings = {{"srv/locked", "permission denied"}};
    return m;
  }
  // The entry-holding versions 1 and 2, which every kura keeps reading (version 3 pages are
  // tested in entry_pages_test.cc).
  Bytes Encode(const SnapshotMeta& m) { return EncodeSnapshotV2(keys_, plain_, blobs_, m); }
  static std::string Name(const Bytes& b) { return "snap-" + std::to_string(b.size()); }
};

TEST_F(SnapshotTest, PlaintextPartIsReadableWithoutTheKey) {
  Bytes bytes = Encode(Meta());
  auto s = ParseSnapshot("abcdef0123", bytes);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->id, "abcdef0123");
  EXPECT_EQ(s->plain.repository, plain_.repository);
  EXPECT_EQ(s->plain.kind, SnapshotKind::kMonthly);
  EXPECT_EQ(s->plain.time, 1763700000);
  EXPECT_EQ(s->plain.time_ms, 1763700000123);
  EXPECT_EQ(s->plain.bytes, 123456u);
  EXPECT_EQ(s->plain.entries, 3u);
  EXPECT_EQ(s->plain.stored_new, 999u);
  EXPECT_EQ(s->blobs, blobs_);
  // Nothing of the metadata is visible in the clear.
  std::string raw(bytes.begin(), bytes.end());
  for (const char* secret : {"reception-pc", "srv/data", "/etc/hosts", "permission denied"}) {
    EXPECT_EQ(raw.find(secret), std::string::npos) << secret;
  }
}

TEST_F(SnapshotTest, MetadataRoundTrip) {
  SnapshotMeta in = Meta();
  auto m = OpenSnapshotMeta(keys_, "id", Encode(in));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->host, "reception-pc");
  EXPECT_EQ(m->source_kind, "files");
  EXPECT_EQ(m->source_name, "/srv/data");
  EXPECT_EQ(m->tags, in.tags);
  ASSERT_EQ(m->entries.size(), 3u);
  EXPECT_EQ(m->entries[0].meta.type, EntryType::kDirectory);
  EXPECT_EQ(m->entries[0].meta.mode, 0755u);
  const SnapshotEntry& f = m->entries[1];
  EXPECT_EQ(f.meta.path, "srv/data/カルテ.db");
  EXPECT_EQ(f.meta.mode, 0600u);
  EXPECT_EQ(f.meta.mtime, 1763600000);
  EXPECT_EQ(f.meta.uid, 1000u);
  EXPECT_EQ(f.meta.gid, 1001u);
  EXPECT_EQ(f.size, 123456u);
  EXPECT_EQ(f.sha256, std::string(64, 'a'));
  EXPECT_EQ(f.blobs, (std::vector<crypto::Hash>{Id(9), Id(1), Id(1), Id(2)}));
  EXPECT_EQ(m->entries[2].meta.symlink_target, "/etc/hosts");
  ASSERT_EQ(m->warnings.size(), 1u);
  EXPECT_EQ(m->warnings[0].path, "srv/locked");
}

TEST_F(SnapshotTest, AnyChangedByteFailsTheKeyedOpen) {
  Bytes good = Encode(Meta());
  // Every byte of the plaintext part and blob list is covered by the AAD; the sealed part by
  // the tag. (Length fields make the keyless parse fail first, which is fine too.)
  for (size_t i = 0; i < good.size(); ++i) {
    Bytes bad = good;
    bad[i] ^= 0x04;
    auto m = OpenSnapshotMeta(keys_, "deadbeef", bad);
    ASSERT_FALSE(m.ok()) << "byte " << i << " of " << good.size() << " changed unnoticed";
    EXPECT_TRUE(m.status().code() == Code::kCorruption || m.status().code() == Code::kUnsupported)
        << m.status().ToString();
  }
}

TEST_F(SnapshotTest, AnotherKeyCannotOpenTheMetadata) {
  RepoKeys other = RepoKeys::Derive(crypto::SecretKey::Random());
  auto m = OpenSnapshotMeta(other, "deadbeef", Encode(Meta()));
  ASSERT_EQ(m.status().code(), Code::kCorruption);
  EXPECT_NE(m.status().message().find("deadbeef"), std::string::npos) << "the message names the snapshot";
}

TEST_F(SnapshotTest, UnsafeEntryPathsAreRefused) {
  for (std::string path : {"../x", "/etc/passwd", "a/../../b", "a//b", "./a", "a/.", "", "a/", ".."}) {
    auto m = OpenSnapshotMeta(keys_, "id", Encode(Meta(path)));
    EXPECT_EQ(m.status().code(), Code::kCorruption) << "path '" << path << "' was accepted";
  }
}

TEST_F(SnapshotTest, IsSafeRelativePath) {
  EXPECT_TRUE(IsSafeRelativePath("a"));
  EXPECT_TRUE(IsSafeRelativePath("a/b/c.txt"));
  EXPECT_TRUE(IsSafeRelativePath("a/..b/c"));
  EXPECT_TRUE(IsSafeRelativePath("患者/カルテ"));
  EXPECT_FALSE(IsSafeRelativePath("/a"));
  EXPECT_FALSE(IsSafeRelativePath("a/../b"));
  EXPECT_FALSE(IsSafeRelativePath("a/./b"));
  EXPECT_FALSE(IsSafeRelativePath("a//b"));
  EXPECT_FALSE(IsSafeRelativePath(""));
}

TEST_F(SnapshotTest, BlobIndexOutOfRangeIsRefused) {
  SnapshotMeta m = Meta();
  m.entries[1].blobs = {Id(1), Id(200)};  // not in the list: an index past its 3 blobs
  EXPECT_EQ(OpenSnapshotMeta(keys_, "id", Encode(m)).status().code(), Code::kCorruption);
}

TEST_F(SnapshotTest, NewerVersionIsUnsupportedForBothReaders) {
  Bytes bytes = Encode(Meta());
  bytes[8] = static_cast<uint8_t>(format::kSnapshotVersion + 1);
  EXPECT_EQ(ParseSnapshot("id", bytes).status().code(), Code::kUnsupported);
  EXPECT_EQ(OpenSnapshotMeta(keys_, "id", bytes).status().code(), Code::kUnsupported);
}

TEST_F(SnapshotTest, MalformedLayoutsAreCorruption) {
  Bytes good = Encode(Meta());
  for (size_t n : {size_t{0}, size_t{7}, size_t{15}, size_t{16}, size_t{40}, good.size() - 1}) {
    EXPECT_EQ(ParseSnapshot("id", ByteView(good.data(), n)).status().code(), Code::kCorruption) << n;
  }
  Bytes longer = good;
  longer.push_back(0);
  EXPECT_EQ(ParseSnapshot("id", longer).status().code(), Code::kCorruption);
  Bytes magic = good;
  magic[0] = 'X';
  EXPECT_EQ(ParseSnapshot("id", magic).status().code(), Code::kCorruption);
  // An unsorted blob list breaks the keyless reader's contract (binary search by the server).
  std::swap(blobs_[0], blobs_[2]);
  EXPECT_EQ(ParseSnapshot("id", Encode(Meta())).status().code(), Code::kCorruption);
}

// The plaintext part is JSON written by a client the server does not trust: wrong types
// must be errors, not exceptions.
TEST_F(SnapshotTest, PlaintextWithWrongTypesIsCorruptionNotACrash) {
  for (std::string pj :
       {std::string(R"({"kind": 5, "time": "2026-11-21T05:53:14Z"})"),
        std::string(R"({"kind": "daily", "time": 17})"),
        std::string(R"({"kind": "daily", "time": "2026-11-21T05:53:14Z", "size": 3})"),
        std::string(R"({"kind": "daily", "time": "2026-11-21T05:53:14Z", "time_ms": "x"})"),
        std::string(R"({"kind": "daily", "time": "2026-11-21T05:53:14Z", "repository": {}})")}) {
    Bytes b;
    Append(b, AsBytes("KURASNAP"));
    PutU32(b, 1);
    PutU32(b, static_cast<uint32_t>(pj.size()));
    Append(b, AsBytes(pj));
    PutU32(b, 0);
    PutU32(b, 0);
    Result<Snapshot> s = Status::Internal("not run");
    ASSERT_NO_THROW(s = ParseSnapshot("id", b)) << pj;
    EXPECT_EQ(s.status().code(), Code::kCorruption) << pj;
  }
}

}  // namespace
}  // namespace kura
