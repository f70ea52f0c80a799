// Garbage collection on a real catalog and objects directory with a fake clock
// (vault/gc.h): mark and sweep by reference, quarantine then deletion after the grace,
// and what must never be collected: referenced packs, a repository with a live upload
// lease, one whose deletion is blocked (hold, frozen clock).
#include "vault/gc.h"

#include <gtest/gtest.h>

#include "vault/gc_fixture.h"

namespace kura::vault::testing {
namespace {

constexpr int64_t kDay = 86400;

class GcTest : public GcFixture {
 protected:
  GcReport Gc(const GcOptions& o = {}) {
    auto r = RunGc(*catalog_, objects_, clock_, o, TestActor("gc"));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : GcReport{};
  }
};

// G-DATA-07, G-INT-01: an unreferenced pack is quarantined (its blobs then count as
// missing), kept through the grace and deleted after it, audited; a referenced one stays.
TEST_F(GcTest, UnreferencedPackIsQuarantinedThenDeletedAfterGraceReferencedNever) {
  std::vector<crypto::Hash> kept_ids, orphan_ids;
  std::string kept = AddPack(3, &kept_ids);
  std::string orphan = AddPack(2, &orphan_ids);
  AddSnapshot(kept_ids);

  GcReport first = Gc();
  EXPECT_EQ(first.packs_quarantined, 1u);
  EXPECT_EQ(PackState(orphan), "quarantined");
  EXPECT_EQ(PackState(kept), "stored");
  Bytes ids;
  for (const crypto::Hash& h : orphan_ids) ids.insert(ids.end(), h.begin(), h.end());
  EXPECT_EQ(*catalog_->CountMissingBlobs(repo_, ids, 10, nullptr), 2u);
  ASSERT_EQ(first.pending.size(), 1u);
  EXPECT_EQ(first.pending[0].tenant, "さくら診療所");
  EXPECT_EQ(first.pending[0].pending_reclaim_bytes, 4096u);

  clock_.Advance(6 * kDay);
  GcReport early = Gc();
  EXPECT_EQ(early.packs_deleted, 0u);
  EXPECT_TRUE(PackFile(orphan));

  clock_.Advance(1 * kDay + 1);
  GcReport due = Gc();
  EXPECT_EQ(due.packs_deleted, 1u);
  EXPECT_EQ(due.bytes_reclaimed, 4096u);
  EXPECT_TRUE(due.pending.empty());
  EXPECT_EQ(PackState(orphan), "gone");
  EXPECT_FALSE(PackFile(orphan));
  EXPECT_EQ(RawColumn("SELECT COUNT(*) FROM gc_deletions")[0], "0");
  EXPECT_EQ(PackState(kept), "stored");
  EXPECT_TRUE(PackFile(kept));
  EXPECT_EQ(AuditCount("object.delete"), 1u);
  EXPECT_GE(AuditCount("gc.sweep"), 3u);

  clock_.Advance(365 * kDay);
  Gc();
  EXPECT_EQ(PackState(kept), "stored");  // referenced: never, however long
}

// G-DATA-07: a snapshot retention quarantined stops counting for the mark; after the
// grace it is deleted, and its packs follow one grace later.
TEST_F(GcTest, QuarantinedSnapshotIsDeletedAfterGraceAndItsPacksFollow) {
  std::vector<crypto::Hash> ids;
  std::string pack = AddPack(2, &ids);
  std::string snap = AddSnapshot(ids);
  QuarantineSnapshot(snap);
  GcReport r = Gc();
  EXPECT_EQ(r.packs_quarantined, 1u);
  EXPECT_TRUE(SnapshotFile(snap));
  clock_.Advance(7 * kDay + 1);
  r = Gc();
  EXPECT_EQ(r.snapshots_deleted, 1u);
  EXPECT_EQ(r.packs_deleted, 1u);
  EXPECT_FALSE(SnapshotFile(snap));
  EXPECT_FALSE(PackFile(pack));
  EXPECT_TRUE(RawColumn("SELECT name FROM snapshots").empty());
}

// A live upload lease (an upload or commit within the lease) keeps the whole repository
// out of collection; once it expires, collection goes on.
TEST_F(GcTest, LiveUploadLeaseProtectsTheRepository) {
  std::string orphan = AddPack(1);
  ASSERT_TRUE(catalog_->RenewUploadLease(repo_).ok());
  GcReport r = Gc();
  EXPECT_EQ(r.repositories_leased, 1u);
  EXPECT_EQ(PackState(orphan), "stored");
  clock_.Advance(21600 - 1);
  EXPECT_EQ(Gc().repositories_leased, 1u);
  clock_.Advance(2);
  EXPECT_EQ(Gc().packs_quarantined, 1u);
  // A lease taken while the pack sits in quarantine stops its deletion too.
  clock_.Advance(8 * kDay);
  ASSERT_TRUE(catalog_->RenewUploadLease(repo_).ok());
  EXPECT_EQ(Gc().packs_deleted, 0u);
  EXPECT_TRUE(PackFile(orphan));
  // And the lease is checked inside the transaction that acts, not only before it.
  EXPECT_EQ(catalog_->ApplyGcMarks(repo_, 21600, {}, {}, TestActor()).code(), Code::kRetryable);
  auto intent = catalog_->BeginDeletion(repo_, "pack", orphan, clock_.NowUnixMillis(), 21600);
  ASSERT_TRUE(intent.ok());
  EXPECT_FALSE(intent->has_value());
}

// Holds and the clock guard: deletion_blocked true means nothing of the repository is
// changed, neither quarantined nor deleted.
TEST_F(GcTest, DeletionBlockedProtectsTheRepository) {
  std::string orphan = AddPack(1);
  GcOptions o;
  o.deletion_blocked = [&](int64_t repo) { return repo == repo_; };
  GcReport r = Gc(o);
  EXPECT_EQ(r.repositories_blocked, 1u);
  EXPECT_EQ(PackState(orphan), "stored");
  Gc();  // unblocked: quarantined
  clock_.Advance(30 * kDay);
  r = Gc(o);
  EXPECT_EQ(r.packs_deleted, 0u);
  EXPECT_TRUE(PackFile(orphan));
  EXPECT_EQ(Gc().packs_deleted, 1u);
}

// A run killed between the intent row and the file's deletion (or between the file and
// the rows): the next run finishes it, and the object's upload answers retry_later
// meanwhile.
TEST_F(GcTest, KilledBetweenIntentAndDeleteFinishesOnTheNextRun) {
  std::string orphan = AddPack(1);
  std::string gone_file = AddPack(1);
  Gc();
  clock_.Advance(8 * kDay);
  for (const std::string& name : {orphan, gone_file}) {
    auto intent =
        catalog_->BeginDeletion(repo_, "pack", name, clock_.NowUnixMillis() - 7 * kDay * 1000, 21600);
    ASSERT_TRUE(intent.ok() && intent->has_value());
  }
  ASSERT_TRUE(area_->Delete(ObjectType::kPack, gone_file).ok());  // killed after the file
  EXPECT_TRUE(*catalog_->DeletionPending(repo_, "pack", orphan));
  auto revive = catalog_->RevivePack(repo_, orphan, TestActor());
  EXPECT_EQ(revive.status().code(), Code::kRetryable);

  GcReport r = Gc();
  EXPECT_EQ(r.interrupted_deletions_finished, 2u);
  EXPECT_EQ(r.packs_deleted, 2u);
  EXPECT_FALSE(PackFile(orphan));
  EXPECT_EQ(PackState(orphan), "gone");
  EXPECT_EQ(PackState(gone_file), "gone");
  EXPECT_FALSE(*catalog_->DeletionPending(repo_, "pack", orphan));
}

// An agent told (blobs/missing) that a quarantined pack's blobs are missing sends the pack
// again: it is stored again, and a snapshot may then refer to it.
TEST_F(GcTest, ReuploadRevivesAQuarantinedPack) {
  std::vector<crypto::Hash> ids;
  std::string pack = AddPack(2, &ids);
  Gc();
  ASSERT_EQ(PackState(pack), "quarantined");
  auto revived = catalog_->RevivePack(repo_, pack, TestActor());
  ASSERT_TRUE(revived.ok()) << revived.status().ToString();
  EXPECT_TRUE(*revived);
  EXPECT_EQ(PackState(pack), "stored");
  EXPECT_FALSE(*catalog_->RevivePack(repo_, pack, TestActor()));  // stored: nothing to do
  EXPECT_EQ(AuditCount("pack.revive"), 1u);
  AddSnapshot(ids);
  clock_.Advance(30 * kDay);
  Gc();
  EXPECT_EQ(PackState(pack), "stored");
}

// A commit that passed its blob check just before a sweep quarantined the pack (only
// possible once its lease ran out): the next mark finds the reference and revives it.
TEST_F(GcTest, QuarantinedPackReferencedByACommitIsRevivedByTheNextMark) {
  std::vector<crypto::Hash> ids;
  std::string pack = AddPack(2, &ids);
  Gc();
  ASSERT_EQ(PackState(pack), "quarantined");
  AddSnapshot(ids);
  GcReport r = Gc();
  EXPECT_EQ(r.packs_revived, 1u);
  EXPECT_EQ(PackState(pack), "stored");
}

// A live snapshot that cannot be read makes the mark incomplete: nothing is collected.
TEST_F(GcTest, UnreadableSnapshotStopsTheSweepOfItsRepository) {
  std::vector<crypto::Hash> ids;
  std::string pack = AddPack(2, &ids);
  std::string snap = AddSnapshot(ids);
  ASSERT_TRUE(area_->Delete(ObjectType::kSnapshot, snap).ok());
  GcReport r = Gc();
  EXPECT_EQ(r.repositories_unreadable, 1u);
  EXPECT_FALSE(r.problems.empty());
  EXPECT_EQ(PackState(pack), "stored");
}

TEST_F(GcTest, DryRunChangesNothing) {
  std::string orphan = AddPack(1);
  GcOptions o;
  o.dry_run = true;
  GcReport r = Gc(o);
  EXPECT_EQ(r.packs_quarantined, 1u);
  EXPECT_EQ(PackState(orphan), "stored");
  Gc();
  clock_.Advance(8 * kDay);
  r = Gc(o);
  EXPECT_EQ(r.packs_deleted, 1u);
  EXPECT_EQ(r.bytes_reclaimed, 4096u);
  EXPECT_TRUE(PackFile(orphan));
  EXPECT_EQ(PackState(orphan), "quarantined");
}

}  // namespace
}  // namespace kura::vault::testing
