// The optional "sparse" field of a file entry (docs/format.md, "Snapshots"): kept when set,
// absent (and read as false) otherwise, so snapshots written before it still read the same.
#include <gtest/gtest.h>

#include "repo/snapshot.h"

namespace kura {
namespace {

SnapshotMeta OneFile(bool sparse, const crypto::Hash& id) {
  SnapshotMeta m;
  m.source_kind = "files";
  SnapshotEntry f;
  f.meta.path = "var/lib/images/disk.img";
  f.meta.sparse = sparse;
  f.size = 1 << 30;
  f.sha256 = std::string(64, 'b');
  f.blobs = {id};
  m.entries = {f};
  return m;
}

TEST(SnapshotSparseTest, SparseFlagRoundTripsAndIsFalseWhenAbsent) {
  RepoKeys keys = RepoKeys::Derive(crypto::SecretKey::Random());
  SnapshotPlain plain{
      "00112233445566778899aabbccddeeff", SnapshotKind::kDaily, 1763700000, 1763700000000, 1, 1, 1};
  crypto::Hash id{};
  id.fill(7);
  for (bool sparse : {true, false}) {
    SnapshotMeta meta = OneFile(sparse, id);
    Bytes bytes = EncodeSnapshotV2(keys, plain, {id}, meta);
    auto m = OpenSnapshotMeta(keys, "id", bytes);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    ASSERT_EQ(m->entries.size(), 1u);
    EXPECT_EQ(m->entries[0].meta.sparse, sparse);
    // The same in an entry page line (version 3).
    std::string line;
    AppendEntryLines(meta.entries[0], line);
    line.pop_back();
    SnapshotEntry back;
    bool more = true;
    ASSERT_TRUE(ParseEntryLine(line, &back, &more, "page").ok());
    EXPECT_FALSE(more);
    EXPECT_EQ(back.meta.sparse, sparse);
    EXPECT_EQ(back.blobs, meta.entries[0].blobs);
  }
}

}  // namespace
}  // namespace kura
