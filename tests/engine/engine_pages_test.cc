// Snapshot format version 3 through the engine: backups of many files write entry pages,
// restore, verify and copy read them back page by page; an unchanged second backup reuses
// every file through the parent read alongside the walk and stores no new page; damage to a
// page is found by verify and named by restore; version 2 snapshots stay readable.
#include <gtest/gtest.h>

#include <random>
#include <set>

#include "engine/backup.h"
#include "engine/prune.h"
#include "engine/restore.h"
#include "engine/verify.h"
#include "objstore/memory_store.h"
#include "repo/format.h"
#include "support/repo_engine.h"
#include "support/repo_testing.h"
#include "util/hex.h"

namespace kura {
namespace {

using testing::File;
using testing::MemEntry;
using testing::TempDir;

void PutU32At(Bytes& b, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) b[at + i] = static_cast<uint8_t>(v >> (8 * i));
}

// A tree in walk order: directories before their entries, names sorted.
std::vector<MemEntry> Tree(size_t dirs, size_t files_per_dir, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<MemEntry> out;
  for (size_t d = 0; d < dirs; ++d) {
    std::string dir = fmt::format("karte/{:04}", d);
    out.push_back(testing::Dir(dir));
    for (size_t f = 0; f < files_per_dir; ++f) {
      Bytes data(50 + rng() % 400);
      for (auto& b : data) b = static_cast<uint8_t>(rng());
      out.push_back(File(fmt::format("{}/{:04}.txt", dir, f), std::move(data)));
    }
  }
  return out;
}

class EnginePagesTest : public testing::EngineTest {
 protected:
  void SetUp() override {
    EngineTest::SetUp();
    repo_ = Init(&store_, /*small=*/true, /*pack_target=*/1u << 20);
    ASSERT_NE(repo_, nullptr);
  }
  Result<BackupResult> BackupKeyed(Repository& repo, const std::vector<MemEntry>& entries) {
    testing::MemorySource source(entries);
    source.SetChangeKeys(true);
    BackupOptions o;
    o.threads = 2;
    o.host = "test-host";
    return RunBackup(repo, source, o);
  }
  MemoryStore store_;
  std::unique_ptr<Repository> repo_;
};

TEST_F(EnginePagesTest, ManyFilesGoIntoSeveralPagesAndComeBackByteForByteInOrder) {
  std::vector<MemEntry> tree = Tree(24, 100, 1);  // 2,424 entries
  auto r = BackupKeyed(*repo_, tree);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto head = repo_->LoadHead(r->snapshot_id);
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  EXPECT_EQ(head->version, format::kSnapshotVersion);
  // About one line in 256 ends a page (the key is random here): 2,424 lines give ~9 pages.
  EXPECT_GE(head->pages.size(), 2u);
  EXPECT_EQ(head->entry_count, tree.size());
  EXPECT_EQ(r->plain.entries, tree.size());

  auto reopened = Reopen(&store_);
  auto entries = reopened->OpenEntries(r->snapshot_id);
  ASSERT_TRUE(entries.ok()) << entries.status().ToString();
  SnapshotEntry e;
  size_t i = 0;
  for (;; ++i) {
    auto more = (*entries)->Next(&e);
    ASSERT_TRUE(more.ok()) << more.status().ToString();
    if (!*more) break;
    ASSERT_LT(i, tree.size());
    EXPECT_EQ(e.meta.path, tree[i].path) << "the order of the walk is kept";
  }
  EXPECT_EQ(i, tree.size());
  auto back = ReadBack(*reopened, r->snapshot_id);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(*back == Expected(tree));

  TempDir target;
  RestoreOptions ro;
  ro.target_dir = target.Sub("out");
  size_t verified = 0;
  ro.on_verified = [&](const std::string&) { ++verified; };
  auto snap = reopened->FindSnapshot(r->snapshot_id);
  ASSERT_TRUE(snap.ok());
  auto restored = RestoreToDirectory(*reopened, *snap, *head, ro);
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_TRUE(restored->Outcome().ok()) << restored->Outcome().ToString();
  EXPECT_EQ(verified, 2400u);
  EXPECT_EQ(testing::ReadFileString(target.Sub("out/karte/0023/0099.txt")),
            std::string(AsString(tree.back().data)));

  VerifyOptions vo;
  vo.read_data = true;
  auto report = Verify(*reopened, vo);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok());
  EXPECT_EQ(report->unreferenced_packs, 0u) << "pages are referenced blobs";
}

TEST_F(EnginePagesTest, AnUnchangedSecondBackupReusesEveryFileAndStoresNoNewPage) {
  std::vector<MemEntry> tree = Tree(30, 100, 2);
  auto first = BackupKeyed(*repo_, tree);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto second = BackupKeyed(*Reopen(&store_), tree);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->parent_id, first->snapshot_id);
  EXPECT_EQ(second->stats.files_unchanged, 3000u) << "every file through the streamed parent";
  EXPECT_EQ(second->stats.packs_written, 0u) << "identical entries give identical pages: nothing new";

  // One file changed in the middle: that one is read, the pages around it are new.
  tree[1500].data.push_back('!');
  auto third = BackupKeyed(*Reopen(&store_), tree);
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(third->stats.files_unchanged, 2999u);
  auto h2 = repo_->LoadHead(second->snapshot_id);
  auto h3 = repo_->LoadHead(third->snapshot_id);
  ASSERT_TRUE(h2.ok() && h3.ok());
  std::set<crypto::Hash> old(h2->pages.begin(), h2->pages.end());
  size_t changed = 0;
  for (const crypto::Hash& p : h3->pages) changed += old.count(p) ? 0 : 1;
  EXPECT_LE(changed, 3u) << "of " << h3->pages.size();
  auto back = ReadBack(*Reopen(&store_), third->snapshot_id);
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(*back == Expected(tree));
}

// Several roots given in an order that is not the walk order: the parent cursor restarts,
// files are still reused where they can be, and the data is always right.
TEST_F(EnginePagesTest, EntriesOutOfWalkOrderStillBackUpCorrectly) {
  std::vector<MemEntry> tree = Tree(6, 50, 3);
  std::vector<MemEntry> shuffled = tree;
  std::mt19937_64 rng(9);
  std::shuffle(shuffled.begin(), shuffled.end(), rng);
  ASSERT_TRUE(BackupKeyed(*repo_, shuffled).ok());
  auto again = BackupKeyed(*Reopen(&store_), shuffled);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_GT(again->stats.files_unchanged, 0u);
  auto back = ReadBack(*Reopen(&store_), again->snapshot_id);
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(*back == Expected(tree));
}

TEST_F(EnginePagesTest, ADamagedPageIsFoundByVerifyAndNamedByRestore) {
  std::vector<MemEntry> tree = Tree(20, 100, 4);
  auto r = BackupKeyed(*repo_, tree);
  ASSERT_TRUE(r.ok());
  auto head = repo_->LoadHead(r->snapshot_id);
  ASSERT_TRUE(head.ok() && head->pages.size() > 2);
  auto loc = (*repo_->Cache())->Find(head->pages[1]).value();
  ASSERT_TRUE(loc.has_value());
  Bytes pack = *store_.Get(ObjectType::kPack, loc->pack);
  pack[loc->entry.offset + loc->entry.stored_length / 2] ^= 0x20;
  ASSERT_TRUE(store_.Delete(ObjectType::kPack, loc->pack).ok());
  ASSERT_TRUE(store_.Put(ObjectType::kPack, loc->pack, pack).ok());

  auto reopened = Reopen(&store_);
  auto snap = reopened->FindSnapshot(r->snapshot_id);
  ASSERT_TRUE(snap.ok());
  TempDir target;
  RestoreOptions ro;
  ro.target_dir = target.Sub("out");
  auto restored = RestoreToDirectory(*reopened, *snap, *head, ro);
  ASSERT_FALSE(restored.ok()) << "a restore cannot go on past a listing it cannot read";
  EXPECT_EQ(restored.status().code(), Code::kCorruption) << restored.status().ToString();
  EXPECT_NE(restored.status().message().find(r->snapshot_id.substr(0, 8)), std::string::npos)
      << restored.status().message();

  VerifyOptions vo;
  vo.read_data = true;
  auto report = Verify(*Reopen(&store_), vo);
  ASSERT_TRUE(report.ok());
  ASSERT_EQ(report->snapshots.size(), 1u);
  EXPECT_FALSE(report->snapshots[0].ok) << "the damaged listing makes the snapshot damaged";
}

// Version 2 (entries inside the sealed metadata, blob indexes) is what kura wrote before:
// such a snapshot next to version 3 ones restores, verifies and serves as a parent.
TEST_F(EnginePagesTest, AVersion2SnapshotStaysReadableAndServesAsParent) {
  std::vector<MemEntry> tree = Tree(5, 40, 5);
  auto r = BackupKeyed(*repo_, tree);
  ASSERT_TRUE(r.ok());
  auto v3 = repo_->LoadSnapshot(r->snapshot_id);
  auto meta = repo_->LoadMeta(r->snapshot_id);
  ASSERT_TRUE(v3.ok() && meta.ok());
  ASSERT_EQ(meta->entries.size(), tree.size());
  SnapshotPlain plain = v3->plain;
  plain.time_ms += 1000;
  plain.time += 1;
  Bytes old = EncodeSnapshotV2(repo_->keys(), plain, v3->blobs, *meta);
  std::string old_id = ToHex(crypto::Sha256(old));
  ASSERT_TRUE(store_.Put(ObjectType::kSnapshot, old_id, old).ok());
  ASSERT_TRUE(store_.Delete(ObjectType::kSnapshot, r->snapshot_id).ok());

  auto reopened = Reopen(&store_);
  auto head = reopened->LoadHead(old_id);
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->version, format::kSnapshotVersionText);
  auto back = ReadBack(*reopened, old_id);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(*back == Expected(tree));
  auto next = BackupKeyed(*reopened, tree);
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->parent_id, old_id);
  EXPECT_EQ(next->stats.files_unchanged, 200u);
  auto report = Verify(*Reopen(&store_), VerifyOptions{});
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok());
}

// A snapshot of a format newer than this kura knows is not damage: prune cannot read its
// blob list, so it must not delete anything (it used to count such a snapshot as damaged
// and leave its data unprotected).
TEST_F(EnginePagesTest, PruneRefusesToDeleteAnythingBesideASnapshotOfANewerFormat) {
  auto kept = BackupKeyed(*repo_, Tree(2, 20, 6));
  auto gone = BackupKeyed(*repo_, Tree(2, 20, 7));
  ASSERT_TRUE(kept.ok() && gone.ok());
  Bytes newer = *store_.Get(ObjectType::kSnapshot, kept->snapshot_id);
  PutU32At(newer, 8, format::kSnapshotVersion + 1);
  std::string newer_id = ToHex(crypto::Sha256(newer));
  ASSERT_TRUE(store_.Put(ObjectType::kSnapshot, newer_id, newer).ok());
  ASSERT_TRUE(store_.Delete(ObjectType::kSnapshot, kept->snapshot_id).ok());
  ASSERT_TRUE(store_.Delete(ObjectType::kSnapshot, gone->snapshot_id).ok());  // its packs are garbage
  size_t packs = Count(store_, ObjectType::kPack);
  PruneOptions po;
  po.grace_seconds = 0;
  auto pruned = Prune(*Reopen(&store_), po);
  ASSERT_FALSE(pruned.ok());
  EXPECT_EQ(pruned.status().code(), Code::kUnsupported) << pruned.status().ToString();
  EXPECT_NE(pruned.status().message().find("kura を更新"), std::string::npos) << pruned.status().message();
  EXPECT_EQ(Count(store_, ObjectType::kPack), packs) << "nothing deleted";
}

}  // namespace
}  // namespace kura
