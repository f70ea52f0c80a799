// forget + prune: every kept snapshot stays restorable, space is given back, and a prune
// interrupted at any Put or Delete (or whose Put tore) leaves everything restorable.
#include <gtest/gtest.h>

#include <atomic>

#include "engine/prune.h"
#include "engine/verify.h"
#include "objstore/fault_store.h"
#include "objstore/memory_store.h"
#include "support/repo_engine.h"

namespace kura {
namespace {

using testing::File;
using testing::MemEntry;
using testing::SeededBytes;
using testing::TextBytes;

// Fails the n-th Delete from now (FaultStore injects Put faults only).
class DeleteFaults : public testing::BorrowedStore {
 public:
  using BorrowedStore::BorrowedStore;
  void FailNthDelete(int n) { fail_at_ = n; }
  Status Delete(ObjectType t, const std::string& n) override {
    if (fail_at_ > 0 && --fail_at_ == 0) return Status::IOError("injected delete failure");
    return BorrowedStore::Delete(t, n);
  }

 private:
  std::atomic<int> fail_at_{0};
};

class EnginePruneTest : public testing::EngineTest {
 protected:
  void SetUp() override {
    EngineTest::SetUp();
    repo_ = Init(&deletes_);
    ASSERT_NE(repo_, nullptr);
    // Four generations; each keeps one file of the one before and adds a new one, so packs
    // mix blobs that stay referenced with blobs that do not.
    for (int g = 0; g < 4; ++g) {
      // Segments shared by every generation alternate with segments of this generation only.
      Bytes mixed;
      for (int i = 0; i < 8; ++i) {
        Append(mixed, SeededBytes(1000 + i, 100000));
        Append(mixed, SeededBytes(5000 + 100 * g + i, 40000));
      }
      std::vector<MemEntry> set{File("mixed", mixed), File("gen", SeededBytes(200 + g, 100000)),
                                File("text", TextBytes(50000 + g))};
      auto r = Backup(*repo_, set);
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      ids_.push_back(r->snapshot_id);
      sets_.push_back(set);
    }
  }
  // Forgets the two oldest generations.
  void ForgetOldest() {
    auto f = ForgetSnapshots(*repo_, {ids_[0], ids_[1]}, /*dry_run=*/false);
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    EXPECT_EQ(f->forgotten.size(), 2u);
  }
  void ExpectKeptRestore(bool expect_verify_ok = true) {
    auto fresh = Reopen(&deletes_);
    for (size_t g = 2; g < 4; ++g) {
      auto back = ReadBack(*fresh, ids_[g]);
      ASSERT_TRUE(back.ok()) << "generation " << g << ": " << back.status().ToString();
      EXPECT_TRUE(*back == Expected(sets_[g])) << "generation " << g;
    }
    VerifyOptions o;
    o.read_data = true;
    auto report = Verify(*fresh, o);
    ASSERT_TRUE(report.ok());
    for (const SnapshotCheck& c : report->snapshots) EXPECT_TRUE(c.ok) << c.id << ": " << c.problem;
    if (expect_verify_ok) {
      EXPECT_TRUE(report->ok());
    }
  }
  uint64_t StoredBytes() {
    uint64_t n = 0;
    auto l = base_.List(ObjectType::kPack);
    if (l.ok()) {
      for (const ObjectInfo& o : *l) n += o.size;
    }
    return n;
  }

  MemoryStore base_;
  FaultStore faults_{&base_};
  DeleteFaults deletes_{&faults_};
  std::unique_ptr<Repository> repo_;
  std::vector<std::string> ids_;
  std::vector<std::vector<MemEntry>> sets_;
};

TEST_F(EnginePruneTest, PruneFreesSpaceRepacksAndKeepsEveryKeptSnapshot) {
  ForgetOldest();
  uint64_t before = StoredBytes();
  auto dry = Prune(*repo_, /*dry_run=*/true);
  ASSERT_TRUE(dry.ok());
  EXPECT_EQ(StoredBytes(), before) << "a dry run changes nothing";
  auto r = Prune(*repo_, /*dry_run=*/false);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_GT(r->packs_deleted, 0u);
  EXPECT_GT(r->packs_repacked, 0u) << "packs mixing kept and dropped blobs are rewritten";
  EXPECT_EQ(r->packs_deleted, dry->packs_deleted);
  EXPECT_LT(StoredBytes(), before - 500000) << "two dropped generations held ~840 KB of their own";
  ExpectKeptRestore();
  auto again = Prune(*repo_, false);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->packs_deleted, 0u) << "a second prune finds nothing to do";
  auto report = Verify(*Reopen(&deletes_), VerifyOptions{});
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->unreferenced_packs, 0u);
}

TEST_F(EnginePruneTest, PruneInterruptedAtAnyPutLeavesEverythingRestorable) {
  ForgetOldest();
  for (uint64_t n = 1; n <= 3; ++n) {
    faults_.FailNthPut(n, Status::NoSpace("disk full"));
    auto r = Prune(*Reopen(&deletes_), false);
    faults_.ClearFaults();
    ExpectKeptRestore();
    if (r.ok()) break;  // fewer Puts than n: this prune finished
    EXPECT_EQ(r.status().code(), Code::kNoSpace);
  }
  ASSERT_TRUE(Prune(*Reopen(&deletes_), false).ok());
  ExpectKeptRestore();
}

TEST_F(EnginePruneTest, PruneInterruptedAtAnyDeleteLeavesEverythingRestorable) {
  ForgetOldest();
  for (int n = 1; n <= 6; ++n) {
    deletes_.FailNthDelete(n);
    auto r = Prune(*Reopen(&deletes_), false);
    deletes_.FailNthDelete(0);
    ExpectKeptRestore();
    if (r.ok()) break;
    EXPECT_EQ(r.status().code(), Code::kIOError) << r.status().ToString();
  }
  auto last = Prune(*Reopen(&deletes_), false);
  ASSERT_TRUE(last.ok()) << last.status().ToString();
  ExpectKeptRestore();
}

// Regression: repacking is deterministic, so a prune run again after one whose Put tore
// built the same pack under the same name; Put of an existing name is a no-op, so the torn
// copy was kept, indexed as whole, and the old packs (the only good copies) were deleted.
TEST_F(EnginePruneTest, PruneAfterATornRepackDoesNotTrustTheTornCopy) {
  ForgetOldest();
  faults_.TearNextPut(200);
  auto torn = Prune(*Reopen(&deletes_), false);
  ASSERT_FALSE(torn.ok());
  faults_.ClearFaults();
  ExpectKeptRestore(/*expect_verify_ok=*/false);  // verify names the torn pack
  auto r = Prune(*Reopen(&deletes_), false);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ExpectKeptRestore();
}

// Regression: prune counted a pack's header as waste, so a small pack whose blobs were all
// in use (the last pack of a backup holding one small chunk) was "repacked" into a pack
// with the very same bytes and name, whose Put was a no-op, and then deleted as an old pack.
TEST_F(EnginePruneTest, PruneNeverDeletesASmallPackWhoseBlobsAreAllInUse) {
  std::vector<MemEntry> tiny{File("tiny.txt", TextBytes(100))};
  auto r = Backup(*repo_, tiny);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->stats.packs_written, 1u);
  ASSERT_LT(r->stats.bytes_stored, 700u)
      << "two small blobs (the file, its entry page) behind a 112-byte header";
  auto pruned = Prune(*Reopen(&deletes_), false);
  ASSERT_TRUE(pruned.ok()) << pruned.status().ToString();
  EXPECT_EQ(pruned->packs_deleted, 0u) << "nothing was forgotten";
  auto back = ReadBack(*Reopen(&deletes_), r->snapshot_id);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(*back == Expected(tiny));
  ExpectKeptRestore();
}

TEST_F(EnginePruneTest, ForgetByPolicyNeverTouchesOtherKinds) {
  auto daily = Backup(*repo_, {File("d", TextBytes(100))}, SnapshotKind::kDaily);
  ASSERT_TRUE(daily.ok());
  auto f = Forget(*repo_, RetentionPolicy::LocalDefaults(), /*dry_run=*/false);
  ASSERT_TRUE(f.ok());
  // manual: last 1 kept (the newest manual generation); the daily one stays.
  EXPECT_EQ(f->forgotten.size(), 3u);
  auto list = repo_->ListSnapshots();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].id, ids_[3]);
  EXPECT_EQ((*list)[1].id, daily->snapshot_id);
  ASSERT_TRUE(Prune(*repo_, false).ok());
  auto back = ReadBack(*Reopen(&deletes_), ids_[3]);
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(*back == Expected(sets_[3]));
}

}  // namespace
}  // namespace kura
