// Scrub on a real catalog and objects directory with a fake clock (vault/scrub.h): a
// flipped byte, a missing file and a damaged key slot are found without a key, recorded
// with the snapshots they affect and audited; the rotating sample covers everything
// within the period.
#include "vault/scrub.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>

#include "vault/gc_fixture.h"

namespace kura::vault::testing {
namespace {

void FlipByte(const std::string& path, size_t at) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(at));
  char c = 0;
  f.read(&c, 1);
  c = static_cast<char>(c ^ 0x01);
  f.seekp(static_cast<std::streamoff>(at));
  f.write(&c, 1);
}

class ScrubTest : public GcFixture {
 protected:
  ScrubReport Scrub(ScrubOptions o = {}) {
    auto r = RunScrub(*catalog_, objects_, clock_, o, TestActor("scrub"));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : ScrubReport{};
  }
};

// G-INT-02, G-INT-01: one flipped byte of a stored pack is found by a full scrub, which
// names the tenant, the repository and every snapshot that refers to the pack (and not
// the one that does not); recorded once, audited "scrub.damage" and "scrub.run".
TEST_F(ScrubTest, FlippedByteOfAPackIsFoundWithTheSnapshotsItAffects) {
  std::vector<crypto::Hash> a, b;
  std::string bad = AddPack(3, &a);
  AddPack(2, &b);
  std::string s1 = AddSnapshot(a);
  std::vector<crypto::Hash> mixed = {a[0], b[0]};
  std::string s2 = AddSnapshot(mixed);
  AddSnapshot(b);

  ScrubOptions all;
  all.all = true;
  ScrubReport clean = Scrub(all);
  EXPECT_TRUE(clean.damage.empty());
  EXPECT_EQ(clean.objects_checked, clean.objects_total);
  EXPECT_EQ(clean.objects_total, 1u + 2u + 3u);  // config, packs, snapshots

  FlipByte(area_->ObjectPath(ObjectType::kPack, bad), 100);
  ScrubReport r = Scrub(all);
  ASSERT_EQ(r.damage.size(), 1u);
  const ScrubFinding& f = r.damage[0];
  EXPECT_EQ(f.kind, "pack");
  EXPECT_EQ(f.name, bad);
  EXPECT_EQ(f.tenant, "さくら診療所");
  EXPECT_EQ(f.detail, "sha256 mismatch");
  EXPECT_TRUE(f.new_damage);
  EXPECT_EQ(std::set<std::string>(f.affected_snapshots.begin(), f.affected_snapshots.end()),
            (std::set<std::string>{s1, s2}));
  EXPECT_FALSE(Scrub(all).damage[0].new_damage);  // known: recorded once
  auto rows = catalog_->ListScrubDamage();
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].affected_snapshots.size(), 2u);
  EXPECT_EQ(AuditCount("scrub.damage"), 1u);
  EXPECT_EQ(AuditCount("scrub.run"), 3u);
}

// G-INT-02: a pack on record as damaged holds nothing for the site: PackStored is false and
// its blobs are missing (so the agent sends them again, and a commit naming only them is
// refused); a blob also held by a whole pack is not missing. Put back whole, the next scrub
// clears the record (audited "scrub.repair") and the pack counts again.
TEST_F(ScrubTest, DamagedPackCountsAsMissingUntilAScrubFindsItWholeAgain) {
  std::vector<crypto::Hash> a, b;
  std::string bad = AddPack(3, &a);
  std::string good = AddPack(2, &b);
  AddSnapshot(a);
  const std::string path = area_->ObjectPath(ObjectType::kPack, bad);
  std::ifstream in(path, std::ios::binary);
  const std::string original((std::istreambuf_iterator<char>(in)), {});
  in.close();
  auto missing = [&](const std::vector<crypto::Hash>& ids) {
    Bytes raw;
    for (const crypto::Hash& h : ids) raw.insert(raw.end(), h.begin(), h.end());
    auto n = catalog_->CountMissingBlobs(repo_, raw, 0, nullptr);
    EXPECT_TRUE(n.ok());
    return n.ok() ? *n : 0;
  };
  ScrubOptions all;
  all.all = true;
  FlipByte(path, 100);
  ASSERT_EQ(Scrub(all).damage.size(), 1u);
  EXPECT_FALSE(catalog_->PackStored(repo_, bad).value());
  EXPECT_TRUE(catalog_->PackDamaged(repo_, bad).value());
  EXPECT_EQ(missing(a), 3u);
  EXPECT_EQ(missing(b), 0u);
  EXPECT_FALSE(catalog_->ClearScrubDamage(repo_, "pack", good, "re-uploaded", TestActor()).value());

  std::ofstream(path, std::ios::binary | std::ios::trunc) << original;  // put back whole
  ScrubReport r = Scrub(all);
  EXPECT_TRUE(r.damage.empty());
  ASSERT_EQ(r.repaired.size(), 1u);
  EXPECT_EQ(r.repaired[0].name, bad);
  EXPECT_TRUE(catalog_->PackStored(repo_, bad).value());
  EXPECT_FALSE(catalog_->PackDamaged(repo_, bad).value());
  EXPECT_EQ(missing(a), 0u);
  EXPECT_TRUE(catalog_->ListScrubDamage()->empty());
  EXPECT_EQ(AuditCount("scrub.repair"), 1u);
  EXPECT_TRUE(Scrub(all).repaired.empty());  // cleared once
}

// A missing snapshot file, a damaged key slot and a damaged config are damage too; a key
// slot or the config takes every snapshot of the repository with it.
TEST_F(ScrubTest, MissingSnapshotAndDamagedKeyAndConfigAreFound) {
  std::vector<crypto::Hash> a;
  AddPack(1, &a);
  std::string s1 = AddSnapshot(a);
  Bytes slot = crypto::RandomBytes(300);
  std::string slot_name = HexOf(crypto::Sha256(slot));
  ASSERT_TRUE(area_->Put(ObjectType::kKey, slot_name, slot).ok());
  ASSERT_TRUE(catalog_->RecordKeySlot(repo_, {slot_name, "password", "", slot.size()}, TestActor()).ok());
  ASSERT_TRUE(area_->Delete(ObjectType::kSnapshot, s1).ok());
  FlipByte(area_->ObjectPath(ObjectType::kKey, slot_name), 5);
  FlipByte(area_->ObjectPath(ObjectType::kConfig, "config"), 2);
  ScrubOptions all;
  all.all = true;
  ScrubReport r = Scrub(all);
  ASSERT_EQ(r.damage.size(), 3u);
  std::map<std::string, ScrubFinding> by_kind;
  for (const ScrubFinding& f : r.damage) by_kind[f.kind] = f;
  EXPECT_EQ(by_kind["snapshot"].detail, "missing");
  EXPECT_EQ(by_kind["snapshot"].affected_snapshots, std::vector<std::string>{s1});
  EXPECT_EQ(by_kind["key"].affected_snapshots, std::vector<std::string>{s1});
  EXPECT_EQ(by_kind["config"].detail, "sha256 mismatch");
}

// A pack GC is deleting right now (intent written, file gone, rows not yet) is no damage.
TEST_F(ScrubTest, PackBeingDeletedByGcIsNoDamage) {
  std::string pack = AddPack(1);
  RawSql("UPDATE packs SET state = 'quarantined', quarantined_at_ms = 0 WHERE name = '" + pack + "'");
  auto intent = catalog_->BeginDeletion(repo_, "pack", pack, clock_.NowUnixMillis(), 60);
  ASSERT_TRUE(intent.ok() && intent->has_value());
  ASSERT_TRUE(area_->Delete(ObjectType::kPack, pack).ok());
  ScrubOptions all;
  all.all = true;
  EXPECT_TRUE(Scrub(all).damage.empty());
}

// The rotating sample: daily runs with a 10-day period check about a tenth each and
// cover every object within the period, going on where the last one stopped.
TEST_F(ScrubTest, DailyRunsCoverEverythingWithinThePeriod) {
  for (int i = 0; i < 40; ++i) AddPack(1);
  ScrubOptions o;
  o.period_days = 10;
  uint64_t total = 0;
  uint64_t checked = 0;
  for (int day = 0; day < 10; ++day) {
    ScrubReport r = Scrub(o);
    total = r.objects_total;
    checked += r.objects_checked;
    EXPECT_LT(r.objects_checked, r.objects_total);
    clock_.Advance(86400);
  }
  EXPECT_GE(checked, total);
  EXPECT_LE(checked, total + 10);
  // A pack damaged anywhere is found within one period by daily runs alone.
  std::string bad = AddPack(1);
  FlipByte(area_->ObjectPath(ObjectType::kPack, bad), 7);
  size_t found = 0;
  for (int day = 0; day < 10; ++day) {
    for (const ScrubFinding& f : Scrub(o).damage) found += f.new_damage ? 1 : 0;
    clock_.Advance(86400);
  }
  EXPECT_EQ(found, 1u);
}

// The time budget ends a run after the object in hand.
TEST_F(ScrubTest, BudgetEndsTheRun) {
  for (int i = 0; i < 5; ++i) AddPack(1);
  ScrubOptions o;
  o.budget_seconds = 0;
  o.period_days = 1;
  ScrubReport r = Scrub(o);
  EXPECT_TRUE(r.budget_exhausted);
  EXPECT_EQ(r.objects_checked, 0u);
}

}  // namespace
}  // namespace kura::vault::testing
