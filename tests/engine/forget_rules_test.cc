// Forgetting by rules over a real repository (issue 6 §3, §5, §10): sealed metadata decides
// the groups, verify's marks protect the last intact generation, a future clock never makes
// a snapshot the newest, and the job runner's retention touches only its own group.
#include "engine/forget_rules.h"

#include <gtest/gtest.h>

#include <set>

#include "engine/snapshot_copy.h"
#include "engine/verify.h"
#include "objstore/memory_store.h"
#include "repo/integrity_record.h"
#include "support/repo_engine.h"
#include "util/fs.h"

namespace kura {
namespace {

using testing::File;
using testing::MemEntry;
using testing::SeededBytes;

// 2026-12-01 03:00 JST.
constexpr int64_t kNight = 1764525600;
constexpr int64_t kDay = 86400;

class NamedSource : public testing::MemorySource {
 public:
  NamedSource(std::string kind, std::string name, std::vector<MemEntry> entries)
      : MemorySource(std::move(entries)), kind_(std::move(kind)), name_(std::move(name)) {}
  std::string Kind() const override { return kind_; }
  std::string Name() const override { return name_; }

 private:
  std::string kind_, name_;
};

class ForgetRulesTest : public testing::EngineTest {
 protected:
  void SetUp() override {
    EngineTest::SetUp();
    repo_ = Init(&store_);
    ASSERT_NE(repo_, nullptr);
  }
  std::string Make(const std::string& kind, const std::string& name, std::vector<MemEntry> entries,
                   int64_t when, SnapshotKind gen = SnapshotKind::kDaily,
                   std::vector<std::string> tags = {}) {
    NamedSource source(kind, name, std::move(entries));
    FakeClock clock(when);
    BackupOptions o;
    o.kind = gen;
    o.threads = 2;
    o.host = "clinic-pc";
    o.clock = &clock;
    o.tags = std::move(tags);
    auto r = RunBackup(*repo_, source, o);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->snapshot_id : "";
  }
  std::set<std::string> Ids() {
    std::set<std::string> out;
    auto all = repo_->ListSnapshots();
    EXPECT_TRUE(all.ok());
    for (const Snapshot& s : *all) out.insert(s.id);
    return out;
  }
  Result<std::unique_ptr<ForgetRulesReport>> Forget(const RetentionPolicy& p, int64_t now,
                                                    bool dry_run = false) {
    ForgetRulesOptions o;
    o.policy = p;
    o.clock = &clock_;
    clock_.Set(now);
    o.dry_run = dry_run;
    return ForgetByRules(*repo_, o);
  }

  MemoryStore store_;
  std::unique_ptr<Repository> repo_;
  FakeClock clock_{kNight};
};

TEST_F(ForgetRulesTest, FilesAndDumpGenerationsInOneRepositoryAreForgottenPerSource) {
  std::vector<std::string> files, dumps;
  for (int d = 0; d < 3; ++d) {
    files.push_back(Make("files", "/srv", {File("karte.txt", SeededBytes(10 + d, 5000))}, kNight + d * kDay));
    dumps.push_back(
        Make("stdin", "pg.dump", {File("pg.dump", SeededBytes(20 + d, 5000))}, kNight + d * kDay + 60));
  }
  RetentionPolicy p;
  p.daily.keep_last = 2;
  auto dry = Forget(p, kNight + 3 * kDay, /*dry_run=*/true);
  ASSERT_TRUE(dry.ok()) << dry.status().ToString();
  EXPECT_EQ((*dry)->plan.groups.size(), 2u);
  EXPECT_EQ(Ids().size(), 6u) << "dry run";
  auto r = Forget(p, kNight + 3 * kDay);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)->forgotten, 2u);
  EXPECT_EQ(Ids(), (std::set<std::string>{files[1], files[2], dumps[1], dumps[2]}));
  auto back = ReadBack(*repo_, files[2]);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->at("karte.txt"), SeededBytes(12, 5000));
}

// verify --read-data proved generation A; a pack only B uses then loses a byte, and the
// next verify marks B damaged. keep-last 1 must not forget A, the last one known good.
TEST_F(ForgetRulesTest, VerifyMarksKeepTheLastIntactGenerationWhileTheNewerOneIsDamaged) {
  std::string a = Make("files", "/srv", {File("a.bin", SeededBytes(1, 40000))}, kNight);
  VerifyOptions vo;
  vo.read_data = true;
  ASSERT_TRUE(Verify(*repo_, vo).ok());
  auto packs_before = store_.List(ObjectType::kPack);
  ASSERT_TRUE(packs_before.ok());
  std::string b =
      Make("files", "/srv", {File("a.bin", SeededBytes(1, 40000)), File("b.bin", SeededBytes(2, 40000))},
           kNight + kDay);
  auto packs_after = store_.List(ObjectType::kPack);
  ASSERT_TRUE(packs_after.ok());
  std::string new_pack;
  for (const ObjectInfo& o : *packs_after) {
    bool old = std::any_of(packs_before->begin(), packs_before->end(),
                           [&](const ObjectInfo& p) { return p.name == o.name; });
    if (!old) new_pack = o.name;
  }
  ASSERT_FALSE(new_pack.empty());
  auto bytes = store_.Get(ObjectType::kPack, new_pack);
  ASSERT_TRUE(bytes.ok());
  (*bytes)[bytes->size() / 3] ^= 0x40;
  ASSERT_TRUE(store_.Delete(ObjectType::kPack, new_pack).ok());
  ASSERT_TRUE(store_.Put(ObjectType::kPack, new_pack, *bytes).ok());
  auto report = Verify(*repo_, vo);
  ASSERT_TRUE(report.ok());
  ASSERT_FALSE(report->ok());

  auto marks = LoadIntegrityRecord(*repo_);
  ASSERT_TRUE(marks.ok()) << marks.status().ToString();
  EXPECT_EQ(marks->at(a).state, IntegrityState::kIntact);
  EXPECT_EQ(marks->at(b).state, IntegrityState::kDamaged);

  RetentionPolicy p;
  p.daily.keep_last = 1;
  auto r = Forget(p, kNight + 2 * kDay);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Ids(), (std::set<std::string>{a, b}));
  EXPECT_EQ((*r)->plan.reason.at(a), "newest intact");
  auto back = ReadBack(*repo_, a);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
}

TEST_F(ForgetRulesTest, ADamagedIntegrityRecordStopsForgetBeforeAnythingIsDeleted) {
  Make("files", "/srv", {File("a", SeededBytes(1, 100))}, kNight);
  Make("files", "/srv", {File("a", SeededBytes(2, 100))}, kNight + kDay);
  std::string path = IntegrityRecordPath(repo_->id());
  ASSERT_TRUE(MakeDirs(path.substr(0, path.rfind('/'))).ok());
  testing::WriteFile(path, "{\"version\": 1, \"snapshots\": [");
  RetentionPolicy p;
  p.daily.keep_last = 1;
  auto r = Forget(p, kNight + 2 * kDay);
  EXPECT_EQ(r.status().code(), Code::kCorruption);
  EXPECT_NE(r.status().message().find(path), std::string::npos) << r.status().message();
  EXPECT_EQ(Ids().size(), 2u);
}

// The clock said 2036 for one night. keep-last 1 used to keep only that snapshot.
TEST_F(ForgetRulesTest, ASnapshotFromAClockSetTo2036NeverPushesOutTheRealGenerations) {
  std::string d1 = Make("files", "/srv", {File("a", SeededBytes(1, 1000))}, kNight);
  std::string wrong = Make("files", "/srv", {File("a", SeededBytes(2, 1000))}, 2082758400);
  std::string d3 = Make("files", "/srv", {File("a", SeededBytes(3, 1000))}, kNight + kDay);
  FakeClock now(kNight + kDay + 3600);
  auto latest = repo_->FindSnapshot("latest", now);
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ(latest->id, d3);
  RetentionPolicy p;
  p.daily.keep_last = 1;
  auto r = Forget(p, kNight + kDay + 3600);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Ids(), (std::set<std::string>{wrong, d3}));
  ASSERT_NE((*r)->newest_future, nullptr);
  EXPECT_EQ((*r)->newest_future->id, wrong);
  (void)d1;
}

// The job runner's retention: only the job's snapshots, in its own source group; another
// job's and a person's snapshots in the same repository are never touched.
TEST_F(ForgetRulesTest, JobRetentionTouchesOnlyTheJobsOwnSnapshots) {
  std::vector<std::string> job;
  for (int d = 0; d < 3; ++d) {
    job.push_back(Make("postgresql", "karte", {File("karte.dump", SeededBytes(30 + d, 2000))},
                       kNight + d * kDay, SnapshotKind::kDaily, {JobTag("karte")}));
  }
  std::string other = Make("files", "/srv", {File("x", SeededBytes(40, 2000))}, kNight, SnapshotKind::kDaily,
                           {JobTag("files")});
  std::string person = Make("files", "/home", {File("y", SeededBytes(41, 2000))}, kNight);
  RetentionPolicy p;
  p.daily.keep_last = 1;
  FakeClock clock(kNight + 3 * kDay);
  auto n = RetainJobGenerations(*repo_, "karte", p, {job[0]}, clock);
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 1);
  EXPECT_EQ(Ids(), (std::set<std::string>{job[0], job[2], other, person})) << "job[0] is still to be sent";
}

}  // namespace
}  // namespace kura
