// The engine under I/O faults (FaultStore) and failing sources: every failure is reported
// with its own code, leaves no snapshot, leaves older snapshots restorable and verify
// clean, and the next backup works.
#include <gtest/gtest.h>
#include <signal.h>

#include <set>

#include "engine/prune.h"
#include "engine/verify.h"
#include "objstore/fault_store.h"
#include "objstore/memory_store.h"
#include "support/repo_engine.h"
#include "util/hex.h"
#include "util/signals.h"

namespace kura {
namespace {

using testing::File;
using testing::MemEntry;
using testing::SeededBytes;
using testing::TempDir;
using testing::TextBytes;

class EngineFaultTest : public testing::EngineTest {
 protected:
  void SetUp() override {
    EngineTest::SetUp();
    SetLanguage(Language::kEnglish);
    repo_ = Init(&faults_);
    ASSERT_NE(repo_, nullptr);
  }
  void TearDown() override { SetLanguage(Language::kJapanese); }

  std::vector<MemEntry> Set(uint64_t seed, size_t bytes) {
    return {File("data-" + std::to_string(seed), SeededBytes(seed, bytes)),
            File("note-" + std::to_string(seed), TextBytes(20000 + seed))};
  }
  void ExpectRestores(Repository& repo, const std::string& id, const std::vector<MemEntry>& entries) {
    auto back = ReadBack(repo, id);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_TRUE(*back == Expected(entries)) << "snapshot " << id.substr(0, 8) << " restored different bytes";
  }
  VerifyReport VerifyFresh(bool read_data) {
    auto repo = Reopen(&faults_);
    VerifyOptions o;
    o.read_data = read_data;
    auto report = Verify(*repo, o);
    EXPECT_TRUE(report.ok()) << report.status().ToString();
    return report.ok() ? *report : VerifyReport{};
  }
  std::set<std::string> DamagedSnapshots(const VerifyReport& r) {
    std::set<std::string> out;
    for (const SnapshotCheck& s : r.snapshots) {
      if (!s.ok) out.insert(s.id);
    }
    return out;
  }
  // The pack holding the first blob of snapshot `id`, and that blob's location.
  BlobLocation PackOf(const std::string& id) {
    auto snap = repo_->LoadSnapshot(id);
    EXPECT_TRUE(snap.ok());
    auto loc = (*repo_->Cache())->Find(snap->blobs.front()).value();
    EXPECT_TRUE(loc.has_value());
    return *loc;
  }

  std::vector<ObjectInfo> Packs() {
    Result<std::vector<ObjectInfo>> l = base_.List(ObjectType::kPack);
    return l.ok() ? std::move(l).value() : std::vector<ObjectInfo>{};
  }

  MemoryStore base_;
  FaultStore faults_{&base_};
  std::unique_ptr<Repository> repo_;
};

TEST_F(EngineFaultTest, DiskFullMidBackupLeavesNoSnapshotAndOlderOnesIntact) {
  auto old_set = Set(1, 300000);
  auto old = Backup(*repo_, old_set);
  ASSERT_TRUE(old.ok());
  faults_.SetPutByteBudget(400 << 10);  // room for a few packs of the next backup
  auto big = Set(2, 2 << 20);
  auto full = Backup(*repo_, big);
  ASSERT_EQ(full.status().code(), Code::kNoSpace) << full.status().ToString();
  EXPECT_GT(faults_.counters().failed_puts, 0u);
  EXPECT_EQ(Count(base_, ObjectType::kSnapshot), 1u) << "no snapshot of the failed backup";
  EXPECT_GT(Count(base_, ObjectType::kPack), old->stats.packs_written)
      << "packs stored before the disk filled remain";

  ExpectRestores(*repo_, old->snapshot_id, old_set);
  VerifyReport report = VerifyFresh(/*read_data=*/true);
  EXPECT_TRUE(report.ok()) << "leftover packs are not damage";
  EXPECT_GT(report.unreferenced_packs, 0u);

  // Space freed: the same backup now succeeds and reuses what was already stored.
  faults_.SetPutByteBudget(std::nullopt);
  auto retry = Backup(*repo_, big);
  ASSERT_TRUE(retry.ok()) << retry.status().ToString();
  EXPECT_LT(retry->stats.bytes_stored, 2u << 20) << "packs from the failed run are reused";
  ExpectRestores(*repo_, retry->snapshot_id, big);
}

TEST_F(EngineFaultTest, DiskFullWhenWritingTheSnapshotItself) {
  faults_.FailPutsOfType(ObjectType::kSnapshot, Status::NoSpace("disk full"));
  auto set = Set(3, 500000);
  auto r = Backup(*repo_, set);
  ASSERT_EQ(r.status().code(), Code::kNoSpace);
  EXPECT_EQ(Count(base_, ObjectType::kSnapshot), 0u);
  faults_.ClearFaults();
  auto again = Backup(*repo_, set);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->stats.bytes_stored, 0u) << "every pack was already stored";
  ExpectRestores(*repo_, again->snapshot_id, set);
}

TEST_F(EngineFaultTest, FailingNthPutIsReportedWithItsCode) {
  auto set = Set(4, 1 << 20);
  for (uint64_t n : {1, 3, 7}) {
    faults_.FailNthPut(n, Status::Retryable("NAS connection reset"));
    auto r = Backup(*repo_, set);
    ASSERT_EQ(r.status().code(), Code::kRetryable) << "put " << n;
    EXPECT_NE(r.status().message().find("NAS connection reset"), std::string::npos);
    EXPECT_EQ(Count(base_, ObjectType::kSnapshot), 0u);
  }
  auto ok = Backup(*repo_, set);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  ExpectRestores(*Reopen(&faults_), ok->snapshot_id, set);
}

TEST_F(EngineFaultTest, SourceFailingMidwayLeavesNoSnapshot) {
  std::vector<MemEntry> entries = Set(5, 300000);
  entries.push_back(File("later", TextBytes(100)));
  testing::MemorySource source(entries);
  source.FailAfterEntries(2);
  auto r = RunBackup(*repo_, source, BackupOptions{});
  ASSERT_EQ(r.status().code(), Code::kSourceFailed);
  EXPECT_EQ(Count(base_, ObjectType::kSnapshot), 0u);
}

// Issue 6 §7: a stop request (SIGINT/SIGTERM, util/signals.h) is checked by the pipeline:
// the backup returns kCancelled and commits no snapshot, however far it got; the next
// backup, once the request is gone, works and restores byte for byte.
TEST_F(EngineFaultTest, StopRequestCommitsNoSnapshotAndTheNextBackupWorks) {
  std::vector<MemEntry> entries = Set(9, 400000);
  for (int sig : {SIGINT, SIGTERM}) {
    RequestStopForTesting(sig);
    auto r = Backup(*repo_, entries);
    ClearStopForTesting();
    ASSERT_EQ(r.status().code(), Code::kCancelled) << r.status().ToString();
    EXPECT_NE(r.status().message().find(sig == SIGINT ? "SIGINT" : "SIGTERM"), std::string::npos)
        << r.status().message();
    EXPECT_NE(r.status().message().find("nothing was saved"), std::string::npos) << r.status().message();
    EXPECT_EQ(Count(base_, ObjectType::kSnapshot), 0u);
  }
  auto ok = Backup(*repo_, entries);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  ExpectRestores(*Reopen(&faults_), ok->snapshot_id, entries);
}

TEST_F(EngineFaultTest, UnreadablePathFailsUnlessSkipped) {
  std::vector<MemEntry> entries = Set(6, 100000);
  entries.push_back(File("locked.db", TextBytes(100)));
  testing::MemorySource source(entries);
  source.SetUnreadable({"locked.db"});
  auto strict = RunBackup(*repo_, source, BackupOptions{});
  ASSERT_EQ(strict.status().code(), Code::kSourceFailed);
  EXPECT_NE(strict.status().message().find("locked.db"), std::string::npos) << strict.status().message();
  EXPECT_NE(strict.status().message().find("--skip-unreadable"), std::string::npos);
  EXPECT_EQ(Count(base_, ObjectType::kSnapshot), 0u);

  BackupOptions skip;
  skip.skip_unreadable = true;
  auto lenient = RunBackup(*repo_, source, skip);
  ASSERT_TRUE(lenient.ok()) << lenient.status().ToString();
  ASSERT_EQ(lenient->warnings.size(), 1u);
  EXPECT_EQ(lenient->warnings[0].path, "locked.db");
  auto meta = repo_->LoadMeta(lenient->snapshot_id);
  ASSERT_TRUE(meta.ok());
  ASSERT_EQ(meta->warnings.size(), 1u) << "the warning is kept in the snapshot";
  entries.pop_back();
  ExpectRestores(*repo_, lenient->snapshot_id, entries);
}

// A torn pack (a crash on a filesystem without atomic rename) is not indexed, so nothing
// dedups against it; verify names it until prune removes it once nothing needs it.
TEST_F(EngineFaultTest, TornPackWriteIsNamedByVerifyAndTheNextBackupWorks) {
  auto old_set = Set(7, 200000);
  auto old = Backup(*repo_, old_set);
  ASSERT_TRUE(old.ok());
  std::set<std::string> before;
  for (const ObjectInfo& o : Packs()) before.insert(o.name);

  auto set = Set(8, 1 << 20);
  faults_.TearNextPut(100);
  auto torn = Backup(*repo_, set);
  ASSERT_FALSE(torn.ok());
  EXPECT_EQ(torn.status().code(), Code::kIOError);
  std::string torn_name;
  for (const ObjectInfo& o : Packs()) {
    if (!before.count(o.name) && o.size == 100) torn_name = o.name;
  }
  ASSERT_FALSE(torn_name.empty()) << "the torn object is left under its final name";

  // The same process backs up again: the torn pack was never indexed.
  auto same_process = Backup(*repo_, set);
  ASSERT_TRUE(same_process.ok()) << same_process.status().ToString();
  ExpectRestores(*Reopen(&faults_), same_process->snapshot_id, set);
  // A new process: Sync reports the torn pack and does not index it either.
  auto fresh = Reopen(&faults_);
  auto stats = fresh->Resync();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->damaged, std::vector<std::string>{torn_name});
  auto next = Backup(*fresh, set);
  ASSERT_TRUE(next.ok());
  ExpectRestores(*Reopen(&faults_), next->snapshot_id, set);

  for (bool read_data : {false, true}) {
    VerifyReport report = VerifyFresh(read_data);
    ASSERT_EQ(report.damaged_packs.size(), 1u);
    EXPECT_EQ(report.damaged_packs[0].name, torn_name);
    EXPECT_TRUE(DamagedSnapshots(report).empty()) << "no snapshot uses the torn pack";
  }
  ExpectRestores(*fresh, old->snapshot_id, old_set);

  // Every referenced blob is held by an intact pack, so prune may remove the torn one.
  auto pruned = Prune(*Reopen(&faults_), /*dry_run=*/false);
  ASSERT_TRUE(pruned.ok()) << pruned.status().ToString();
  VerifyReport after = VerifyFresh(true);
  EXPECT_TRUE(after.ok()) << (after.damaged_packs.empty() ? "" : after.damaged_packs[0].problem);
  ExpectRestores(*Reopen(&faults_), next->snapshot_id, set);
}

// Regression: Sync trusted packs it had indexed before, so after a pack was truncated on
// the NAS the next backup deduplicated against it and its new snapshot was broken too.
TEST_F(EngineFaultTest, BackupDoesNotDedupAgainstAPackTruncatedAfterItWasIndexed) {
  auto set = Set(9, 1 << 20);
  auto first = Backup(*repo_, set);
  ASSERT_TRUE(first.ok());
  BlobLocation loc = PackOf(first->snapshot_id);
  Bytes pack = *base_.Get(ObjectType::kPack, loc.pack);
  pack.resize(pack.size() - 10);
  ASSERT_TRUE(base_.Delete(ObjectType::kPack, loc.pack).ok());
  ASSERT_TRUE(base_.Put(ObjectType::kPack, loc.pack, pack).ok());

  auto fresh = Reopen(&faults_);  // same cache directory: it knows the pack
  auto second = Backup(*fresh, set);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_GT(second->stats.bytes_stored, 0u) << "the truncated pack's blobs are stored again";
  ExpectRestores(*Reopen(&faults_), second->snapshot_id, set);

  // The blobs stored again serve the first snapshot too: it is whole again.
  VerifyReport report = VerifyFresh(false);
  EXPECT_TRUE(DamagedSnapshots(report).empty());
  ASSERT_EQ(report.damaged_packs.size(), 1u);
  EXPECT_EQ(report.damaged_packs[0].name, loc.pack);
  ExpectRestores(*Reopen(&faults_), first->snapshot_id, set);
}

TEST_F(EngineFaultTest, CorruptReadFailsOnlyThatFileNamingItAndLeavesNoFile) {
  std::vector<MemEntry> set{File("a.txt", TextBytes(1000)), File("dir/karte.db", SeededBytes(10, 400000)),
                            File("z.txt", SeededBytes(11, 3000))};
  auto r = Backup(*repo_, set);
  ASSERT_TRUE(r.ok());
  auto meta = repo_->LoadMeta(r->snapshot_id);
  auto snap = repo_->FindSnapshot(r->snapshot_id);
  ASSERT_TRUE(meta.ok() && snap.ok());
  const SnapshotEntry& karte = meta->entries[1];
  ASSERT_EQ(karte.meta.path, "dir/karte.db");
  auto loc = (*repo_->Cache())->Find(karte.blobs[1]).value();
  ASSERT_TRUE(loc.has_value());
  faults_.CorruptReads(ObjectType::kPack, loc->pack, loc->entry.offset + 40);

  TempDir target;
  RestoreOptions o;
  o.target_dir = target.Sub("out");
  std::vector<std::string> verified;
  o.on_verified = [&](const std::string& path) { verified.push_back(path); };
  auto restored = RestoreToDirectory(*repo_, *snap, *meta, o);
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  // The damaged file does not stop the others; the report names exactly it.
  ASSERT_EQ(restored->problems.size(), 1u);
  EXPECT_EQ(restored->problems[0].path, "dir/karte.db");
  EXPECT_EQ(restored->problems[0].kind, RestoreProblem::Kind::kDamaged);
  EXPECT_EQ(verified, (std::vector<std::string>{"a.txt", "z.txt"})) << "the file after it is restored too";
  Status outcome = restored->Outcome();
  ASSERT_EQ(outcome.code(), Code::kCorruption) << outcome.ToString();
  EXPECT_NE(outcome.message().find("dir/karte.db"), std::string::npos) << outcome.message();
  EXPECT_FALSE(testing::Exists(target.Sub("out/dir/karte.db"))) << "a file that failed its check is not left";
  EXPECT_TRUE(testing::ReadTree(target.Sub("out/dir")).empty()) << "no temporary file is left";
  EXPECT_EQ(testing::ReadFileString(target.Sub("out/a.txt")), std::string(AsString(set[0].data)));
  EXPECT_EQ(testing::ReadFileString(target.Sub("out/z.txt")), std::string(AsString(set[2].data)));

  // The stream reader used by database restores fails the same way.
  auto reader = MakeSnapshotReader(*repo_, *snap, *meta);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  auto stream = (*reader)->Open("dir/karte.db");
  ASSERT_TRUE(stream.ok());
  Bytes buf(1 << 16);
  Status st;
  for (;;) {
    auto n = (*stream)->Read(buf.data(), buf.size());
    if (!n.ok()) {
      st = n.status();
      break;
    }
    if (*n == 0) break;
  }
  EXPECT_EQ(st.code(), Code::kCorruption);
}

TEST_F(EngineFaultTest, MissingPackFailsTheRestoreAsDamageNotAsNotFound) {
  auto set = Set(11, 300000);
  auto r = Backup(*repo_, set);
  ASSERT_TRUE(r.ok());
  auto snap = repo_->FindSnapshot(r->snapshot_id);
  auto meta = repo_->LoadMeta(r->snapshot_id);
  ASSERT_TRUE(snap.ok() && meta.ok());
  ASSERT_EQ(meta->entries[0].meta.path, "data-11");
  // The pack holding the first blob of data-11 (the first file restored).
  auto loc = (*repo_->Cache())->Find(meta->entries[0].blobs[0]).value();
  ASSERT_TRUE(loc.has_value());
  ASSERT_TRUE(base_.Delete(ObjectType::kPack, loc->pack).ok());
  auto back = ReadBack(*Reopen(&faults_), r->snapshot_id);
  ASSERT_FALSE(back.ok());
  EXPECT_EQ(back.status().code(), Code::kCorruption) << back.status().ToString();
  EXPECT_NE(back.status().message().find("data-11"), std::string::npos) << back.status().message();
}

TEST_F(EngineFaultTest, VerifyReadDataReportsExactlyTheDamagedSnapshots) {
  auto set_a = Set(12, 400000), set_b = Set(13, 400000);
  auto a = Backup(*repo_, set_a);
  auto b = Backup(*repo_, set_b);
  std::vector<MemEntry> both = set_a;
  both.insert(both.end(), set_b.begin(), set_b.end());
  auto c = Backup(*repo_, both);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  BlobLocation loc = PackOf(a->snapshot_id);  // a pack written by A's backup: A's data only
  faults_.CorruptReads(ObjectType::kPack, loc.pack, loc.entry.offset + loc.entry.stored_length / 2);

  VerifyReport report = VerifyFresh(/*read_data=*/true);
  EXPECT_FALSE(report.ok());
  ASSERT_EQ(report.damaged_packs.size(), 1u);
  EXPECT_EQ(report.damaged_packs[0].name, loc.pack);
  EXPECT_EQ(DamagedSnapshots(report), (std::set<std::string>{a->snapshot_id, c->snapshot_id}));
  EXPECT_EQ(report.snapshots.size(), 3u) << "the intact snapshot is listed too";
  ExpectRestores(*Reopen(&faults_), b->snapshot_id, set_b);
  EXPECT_EQ(ReadBack(*Reopen(&faults_), a->snapshot_id).status().code(), Code::kCorruption);
}

TEST_F(EngineFaultTest, StructureVerifyCatchesADamagedPackHeader) {
  auto set_a = Set(14, 300000), set_b = Set(15, 300000);
  auto a = Backup(*repo_, set_a);
  auto b = Backup(*repo_, set_b);
  ASSERT_TRUE(a.ok() && b.ok());
  BlobLocation loc = PackOf(a->snapshot_id);
  faults_.CorruptReads(ObjectType::kPack, loc.pack, 16 + 5);  // inside the first entry's blob ID
  VerifyReport report = VerifyFresh(/*read_data=*/false);
  EXPECT_FALSE(report.ok());
  EXPECT_EQ(DamagedSnapshots(report), std::set<std::string>{a->snapshot_id});
  faults_.ClearFaults();
  faults_.CorruptReads(ObjectType::kPack, loc.pack, 0);  // the magic
  report = VerifyFresh(false);
  ASSERT_EQ(report.damaged_packs.size(), 1u);
  EXPECT_EQ(report.damaged_packs[0].name, loc.pack);
  EXPECT_EQ(DamagedSnapshots(report), std::set<std::string>{a->snapshot_id});
}

TEST_F(EngineFaultTest, DamagedSnapshotObjectIsNamedAndOthersAreFine) {
  auto a = Backup(*repo_, Set(16, 1000));
  auto b = Backup(*repo_, Set(17, 1000));
  ASSERT_TRUE(a.ok() && b.ok());
  Bytes bytes = *base_.Get(ObjectType::kSnapshot, a->snapshot_id);
  bytes[bytes.size() / 2] ^= 1;
  ASSERT_TRUE(base_.Delete(ObjectType::kSnapshot, a->snapshot_id).ok());
  ASSERT_TRUE(base_.Put(ObjectType::kSnapshot, a->snapshot_id, bytes).ok());
  VerifyReport report = VerifyFresh(false);
  ASSERT_EQ(report.damaged_snapshots.size(), 1u);
  EXPECT_EQ(report.damaged_snapshots[0].name, a->snapshot_id);
  ASSERT_EQ(report.snapshots.size(), 1u);
  EXPECT_EQ(report.snapshots[0].id, b->snapshot_id);
  EXPECT_TRUE(report.snapshots[0].ok);
  // One damaged snapshot no longer stops prune for good: it goes on and names it
  // (tests/agent/engine_prune_safety_test.cc covers forgetting it).
  auto pruned = Prune(*Reopen(&faults_), false);
  ASSERT_TRUE(pruned.ok()) << pruned.status().ToString();
  EXPECT_EQ(pruned->damaged_snapshots, std::vector<std::string>{a->snapshot_id});
  ExpectRestores(*Reopen(&faults_), b->snapshot_id, Set(17, 1000));
}

}  // namespace
}  // namespace kura
