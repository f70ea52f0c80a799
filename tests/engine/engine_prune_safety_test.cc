// Issue 6 §4 and §9: nothing committed refers to data that is gone, even without a working
// lock; damage (a damaged snapshot object, a flipped byte, an unreadable pack, a failing
// cache) limits the failure to what needs the damaged part, and prune refuses to act on
// what it could not read.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <functional>
#include <random>
#include <set>
#include <thread>

#include "engine/prune.h"
#include "engine/verify.h"
#include "objstore/fault_store.h"
#include "objstore/memory_store.h"
#include "support/repo_engine.h"
#include "util/hex.h"

namespace kura {
namespace {

using testing::File;
using testing::MemEntry;
using testing::SeededBytes;
using testing::TextBytes;

// A lock that never excludes: the lock file removed by an admin "cleaning a stale lock",
// or an SMB share where flock() does not exclude across clients.
class NoLockStore : public testing::BorrowedStore {
 public:
  using BorrowedStore::BorrowedStore;
  Result<std::unique_ptr<StoreLock>> Lock(LockMode, int) override { return std::make_unique<StoreLock>(); }
};

// A clock several threads may read while one advances it.
class SharedClock : public Clock {
 public:
  explicit SharedClock(int64_t now) : now_(now) {}
  int64_t NowUnix() const override { return now_.load(); }
  std::chrono::steady_clock::time_point NowSteady() const override {
    return std::chrono::steady_clock::time_point(std::chrono::seconds(now_.load()));
  }
  void Advance(int64_t s) { now_ += s; }

 private:
  std::atomic<int64_t> now_;
};

// A source that runs `hook` after its first file: what another process does to the
// repository while this backup is running.
class HookSource : public Source {
 public:
  HookSource(std::vector<MemEntry> entries, std::function<void()> hook)
      : entries_(std::move(entries)), hook_(std::move(hook)) {}
  std::string Kind() const override { return "files"; }
  std::string Name() const override { return "memory"; }
  Status Backup(SnapshotWriter& out) override {
    for (size_t i = 0; i < entries_.size(); ++i) {
      testing::MemorySource one({entries_[i]});
      KURA_RETURN_IF_ERROR(one.Backup(out));
      if (i == 0 && hook_) hook_();
    }
    return Status::Ok();
  }

 private:
  std::vector<MemEntry> entries_;
  std::function<void()> hook_;
};

constexpr int64_t kT0 = 1790000000;  // 2026-09-21, any fixed time works

class PruneSafetyTest : public testing::EngineTest {
 protected:
  void SetUp() override {
    EngineTest::SetUp();
    SetLanguage(Language::kEnglish);
    base_.SetClock(&clock_);
    repo_ = Init(&faults_);
    ASSERT_NE(repo_, nullptr);
  }
  void TearDown() override { SetLanguage(Language::kJapanese); }

  PruneOptions Options(int64_t grace = 3600) {
    PruneOptions o;
    o.grace_seconds = grace;
    o.clock = &clock_;
    return o;
  }
  std::set<std::string> PackNames() {
    std::set<std::string> out;
    auto listed = base_.List(ObjectType::kPack);
    EXPECT_TRUE(listed.ok());
    if (listed.ok()) {
      for (const ObjectInfo& o : *listed) out.insert(o.name);
    }
    return out;
  }
  void ExpectRestores(Repository& repo, const std::string& id, const std::vector<MemEntry>& set) {
    auto back = ReadBack(repo, id);
    ASSERT_TRUE(back.ok()) << id.substr(0, 8) << ": " << back.status().ToString();
    EXPECT_TRUE(*back == Expected(set)) << "snapshot " << id.substr(0, 8) << " restored different bytes";
  }
  VerifyReport VerifyAll(Repository& repo, bool read_data = true) {
    VerifyOptions o;
    o.read_data = read_data;
    auto r = Verify(repo, o);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : VerifyReport{};
  }

  SharedClock clock_{kT0};
  MemoryStore base_;
  FaultStore faults_{&base_};
  std::unique_ptr<Repository> repo_;
};

TEST_F(PruneSafetyTest, PruneKeepsPacksYoungerThanTheGraceAndDeletesThemOnceOlder) {
  auto a = Backup(*repo_, {File("a.bin", SeededBytes(1, 300000))});
  auto b = Backup(*repo_, {File("b.bin", SeededBytes(2, 300000))});
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE(ForgetSnapshots(*repo_, {a->snapshot_id}, false).ok());
  const std::set<std::string> before = PackNames();

  clock_.Advance(1800);  // half an hour: a backup might still be writing these packs
  auto young = Prune(*repo_, Options());
  ASSERT_TRUE(young.ok()) << young.status().ToString();
  EXPECT_EQ(young->packs_deleted, 0u);
  EXPECT_GT(young->packs_young, 0u);
  EXPECT_EQ(PackNames(), before) << "a pack younger than the grace was deleted";

  clock_.Advance(3600);
  auto old = Prune(*repo_, Options());
  ASSERT_TRUE(old.ok()) << old.status().ToString();
  EXPECT_GT(old->packs_deleted, 0u);
  EXPECT_LT(PackNames().size(), before.size());
  ExpectRestores(*Reopen(&faults_), b->snapshot_id, {File("b.bin", SeededBytes(2, 300000))});
}

// The incident: prune deleted a running backup's packs and the backup committed a
// snapshot with missing blobs, exit 0. Now the backup checks before it commits.
TEST_F(PruneSafetyTest, BackupWhosePacksVanishedMidwayFailsAndCommitsNothing) {
  std::vector<MemEntry> set{File("first.bin", SeededBytes(3, 400000)),
                            File("second.bin", SeededBytes(4, 400000))};
  HookSource source(set, [&] {
    for (const std::string& p : PackNames()) ASSERT_TRUE(base_.Delete(ObjectType::kPack, p).ok());
  });
  BackupOptions o;
  o.threads = 2;
  auto r = RunBackup(*repo_, source, o);
  ASSERT_FALSE(r.ok()) << "committed a snapshot whose data a prune had deleted";
  EXPECT_EQ(r.status().code(), Code::kRetryable) << r.status().ToString();
  EXPECT_NE(r.status().message().find("vanished"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("no snapshot was made"), std::string::npos) << r.status().message();
  EXPECT_EQ(Count(base_, ObjectType::kSnapshot), 0u);
  // Run again, it stores the data anew.
  auto again = Backup(*repo_, set);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  ExpectRestores(*Reopen(&faults_), again->snapshot_id, set);
}

// A reused blob (dedup against an older pack) whose pack a prune deletes meanwhile.
TEST_F(PruneSafetyTest, BackupReusingAPackThatVanishedMidwayFailsAndCommitsNothing) {
  std::vector<MemEntry> set{File("karte.txt", TextBytes(30000)), File("scan.bin", SeededBytes(5, 300000))};
  auto first = Backup(*repo_, set);
  ASSERT_TRUE(first.ok());
  const std::set<std::string> old_packs = PackNames();
  HookSource source(set, [&] {
    ASSERT_TRUE(base_.Delete(ObjectType::kSnapshot, first->snapshot_id).ok());                    // forgotten
    for (const std::string& p : old_packs) ASSERT_TRUE(base_.Delete(ObjectType::kPack, p).ok());  // pruned
  });
  BackupOptions o;
  o.threads = 2;
  auto r = RunBackup(*repo_, source, o);
  ASSERT_FALSE(r.ok()) << "committed a snapshot referring to a deleted pack";
  EXPECT_EQ(r.status().code(), Code::kRetryable) << r.status().ToString();
  EXPECT_EQ(Count(base_, ObjectType::kSnapshot), 0u);
}

// Randomised: backups and prunes run at once on two threads with no working lock, the
// clock moving so that packs of running backups leave their grace; some backups are cut
// off by a failed write (as a killed one would be). Every snapshot that exists at the end
// verifies with --read-data and restores exactly what was backed up.
TEST_F(PruneSafetyTest, ConcurrentBackupAndPruneWithoutALockNeverLeaveASnapshotWithMissingData) {
  NoLockStore unlocked(&faults_);
  std::map<std::string, std::vector<MemEntry>> committed;
  std::mutex committed_mu;
  int failures_seen = 0;
  for (uint32_t round = 0; round < 6; ++round) {
    std::mt19937 rng(1000 + round);
    std::mt19937 prune_rng(2000 + round);
    std::atomic<bool> done{false};
    auto backup_repo = Reopen(&unlocked);
    auto prune_repo = Reopen(&unlocked);
    ASSERT_TRUE(backup_repo && prune_repo);
    std::vector<std::vector<MemEntry>> sets;
    for (int i = 0; i < 4; ++i) {
      // Shared segments (dedup against older packs) and new ones.
      std::vector<MemEntry> set;
      for (int f = 0; f < 3; ++f) {
        uint64_t seed = rng() % 12;  // a small pool: many blobs are reused
        set.push_back(File("f" + std::to_string(f) + ".bin", SeededBytes(seed, 60000 + 1000 * (rng() % 50))));
      }
      set.push_back(File("new.txt", TextBytes(1000 + round * 10 + i)));
      sets.push_back(std::move(set));
    }
    const int kill_at = static_cast<int>(rng() % 4);
    std::thread backups([&] {
      for (int i = 0; i < 4; ++i) {
        if (i == kill_at) faults_.FailNthPut(1 + rng() % 6, Status::IOError("killed (injected)"));
        auto r = Backup(*backup_repo, sets[i]);
        faults_.ClearFaults();
        if (r.ok()) {
          std::lock_guard lock(committed_mu);
          committed[r->snapshot_id] = sets[i];
        } else {
          EXPECT_TRUE(r.status().code() == Code::kRetryable || r.status().code() == Code::kIOError)
              << r.status().ToString();
          ++failures_seen;
        }
        clock_.Advance(1200);
      }
      done = true;
    });
    std::thread prunes([&] {
      while (!done.load()) {
        // Forget everything but the newest snapshot, then prune: sometimes with the
        // grace (the default), sometimes without it (only the backup's check protects).
        auto snaps = prune_repo->ListSnapshots();
        ASSERT_TRUE(snaps.ok());
        if (snaps->size() > 1) {
          std::vector<std::string> drop;
          for (size_t k = 0; k + 1 < snaps->size(); ++k) drop.push_back((*snaps)[k].id);
          // NotFound: a backup withdrew its snapshot meanwhile; nothing was forgotten.
          auto f = ForgetSnapshots(*prune_repo, drop, false);
          ASSERT_TRUE(f.ok() || f.status().code() == Code::kNotFound) << f.status().ToString();
          if (f.ok()) {
            std::lock_guard lock(committed_mu);
            for (const std::string& id : drop) committed.erase(id);
          }
        }
        auto p = Prune(*prune_repo, Options(prune_rng() % 2 ? 3600 : 0));
        // A prune's own write may hit the injected "kill" meant for the backup.
        ASSERT_TRUE(p.ok() || p.status().message().find("injected") != std::string::npos)
            << p.status().ToString();
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    });
    backups.join();
    prunes.join();
  }
  auto fresh = Reopen(&faults_);
  auto snaps = fresh->ListSnapshots();
  ASSERT_TRUE(snaps.ok());
  VerifyReport report = VerifyAll(*fresh);
  EXPECT_TRUE(report.ok()) << "damaged packs " << report.damaged_packs.size();
  for (const SnapshotCheck& c : report.snapshots) EXPECT_TRUE(c.ok) << c.id.substr(0, 8) << ": " << c.problem;
  for (const Snapshot& s : *snaps) {
    auto it = committed.find(s.id);
    ASSERT_NE(it, committed.end()) << "a snapshot no backup reported as committed: " << s.id;
    ExpectRestores(*fresh, s.id, it->second);
  }
  EXPECT_FALSE(snaps->empty());
  // Cleaning up afterwards: every pack a failed or killed backup left is reclaimed.
  clock_.Advance(7200);
  ASSERT_TRUE(Prune(*fresh, Options()).ok());
  EXPECT_EQ(VerifyAll(*fresh, false).unreferenced_packs, 0u);
}

// Two backups without a working lock store the same new data twice; prune reclaims the
// second copy and both snapshots stay restorable.
TEST_F(PruneSafetyTest, DuplicateBlobsOfTwoConcurrentBackupsAreReclaimed) {
  std::vector<MemEntry> set{File("same.bin", SeededBytes(7, 500000))};
  // Two machines (two caches), neither of which knows what the other is storing.
  auto one = Reopen(&faults_);
  ASSERT_TRUE(one->Cache().ok());
  testing::TempDir other_cache("kura-other-cache");
  ::setenv("KURA_CACHE_DIR", other_cache.path().c_str(), 1);
  auto two = Reopen(&faults_);
  ASSERT_TRUE(two->Cache().ok());
  ::setenv("KURA_CACHE_DIR", cache_.path().c_str(), 1);
  const uint64_t packs_at_start = Count(base_, ObjectType::kPack);
  auto a = Backup(*one, set);
  const uint64_t packs_of_a = Count(base_, ObjectType::kPack) - packs_at_start;
  auto b = Backup(*two, set);
  ASSERT_TRUE(a.ok() && b.ok());
  const uint64_t packs_of_b = Count(base_, ObjectType::kPack) - packs_at_start - packs_of_a;
  clock_.Advance(7200);
  auto r = Prune(*Reopen(&faults_), Options());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_GT(r->duplicate_blobs, 0u);
  // The workers split the blobs into packs differently in each backup (7 or 8 packs each),
  // so "one copy" is the smaller of the two, and a repack may add one pack.
  EXPECT_LE(Count(base_, ObjectType::kPack), packs_at_start + std::min(packs_of_a, packs_of_b) + 1)
      << "the second copy was not reclaimed (" << packs_of_a << " and " << packs_of_b << " packs)";
  auto fresh = Reopen(&faults_);
  ExpectRestores(*fresh, a->snapshot_id, set);
  ExpectRestores(*fresh, b->snapshot_id, set);
  EXPECT_TRUE(VerifyAll(*fresh).ok());
}

// The class of the test above: however the backups split the same data into packs (two or
// three machines walking the files in different orders, files of random sizes), and
// whatever the packs' random names, prune leaves about one copy of the data and every
// snapshot restores.
TEST_F(PruneSafetyTest, CopiesFromSeveralMachinesShrinkToAboutOneCopyWhateverThePacking) {
  std::mt19937 rng(20261202);
  for (int trial = 0; trial < 12; ++trial) {
    SCOPED_TRACE("trial " + std::to_string(trial));
    std::vector<MemEntry> set;
    const int files = 3 + static_cast<int>(rng() % 4);
    for (int f = 0; f < files; ++f) {
      set.push_back(File("t" + std::to_string(trial) + "/f" + std::to_string(f) + ".bin",
                         SeededBytes(static_cast<uint32_t>(rng()), 20000 + rng() % 400000)));
    }
    const size_t machines = 2 + trial % 2;
    const size_t packs_at_start = Count(base_, ObjectType::kPack);
    // Every machine reads the repository before any of them stores the new data.
    std::vector<std::unique_ptr<testing::TempDir>> caches;
    std::vector<std::unique_ptr<Repository>> repos;
    for (size_t m = 0; m < machines; ++m) {
      caches.push_back(std::make_unique<testing::TempDir>("kura-machine-cache"));
      ::setenv("KURA_CACHE_DIR", caches.back()->path().c_str(), 1);
      repos.push_back(Reopen(&faults_));
      ASSERT_TRUE(repos.back()->Cache().ok());
    }
    ::setenv("KURA_CACHE_DIR", cache_.path().c_str(), 1);
    std::vector<std::string> ids;
    size_t one_copy = SIZE_MAX;  // packs of the smallest copy
    for (size_t m = 0; m < machines; ++m) {
      // Each machine walks the files in another order, so its packs group the blobs differently.
      std::vector<MemEntry> walk = set;
      std::rotate(walk.begin(), walk.begin() + static_cast<std::ptrdiff_t>(m % walk.size()), walk.end());
      const size_t before = Count(base_, ObjectType::kPack);
      auto b = Backup(*repos[m], walk);
      ASSERT_TRUE(b.ok()) << b.status().ToString();
      ids.push_back(b->snapshot_id);
      one_copy = std::min(one_copy, Count(base_, ObjectType::kPack) - before);
    }
    clock_.Advance(7200);
    auto r = Prune(*Reopen(&faults_), Options());
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_GT(r->duplicate_blobs, 0u);
    // One copy of the data, plus the pack of each other machine's own directory trees
    // (their walk orders differ, so their trees do), plus one for a repack.
    EXPECT_LE(Count(base_, ObjectType::kPack), packs_at_start + one_copy + (machines - 1) + 1)
        << machines << " copies of " << one_copy << " packs each were not reduced to about one";
    auto fresh = Reopen(&faults_);
    for (const std::string& id : ids) ExpectRestores(*fresh, id, set);
  }
  EXPECT_TRUE(VerifyAll(*Reopen(&faults_)).ok());
}

TEST_F(PruneSafetyTest, DamagedSnapshotIsListedForgottenByIdIntoDamagedAndDoesNotStopPrune) {
  auto a = Backup(*repo_, {File("a.bin", SeededBytes(8, 200000))});
  std::vector<MemEntry> bset{File("b.bin", SeededBytes(9, 200000))};
  auto b = Backup(*repo_, bset);
  ASSERT_TRUE(a.ok() && b.ok());
  Bytes bytes = *base_.Get(ObjectType::kSnapshot, a->snapshot_id);
  bytes[bytes.size() / 2] ^= 1;
  ASSERT_TRUE(base_.Delete(ObjectType::kSnapshot, a->snapshot_id).ok());
  ASSERT_TRUE(base_.Put(ObjectType::kSnapshot, a->snapshot_id, bytes).ok());

  std::vector<std::string> damaged;
  ASSERT_TRUE(repo_->ListSnapshots(&damaged).ok());
  ASSERT_EQ(damaged, std::vector<std::string>{a->snapshot_id});
  clock_.Advance(7200);
  auto p = Prune(*Reopen(&faults_), Options());
  ASSERT_TRUE(p.ok()) << "one damaged snapshot stopped prune: " << p.status().ToString();
  EXPECT_EQ(p->damaged_snapshots, std::vector<std::string>{a->snapshot_id});

  auto f = ForgetSnapshots(*repo_, {ShortId(a->snapshot_id)}, false);
  ASSERT_TRUE(f.ok()) << "forget of a damaged snapshot: " << f.status().ToString();
  EXPECT_EQ(f->moved_aside, std::vector<std::string>{a->snapshot_id});
  EXPECT_EQ(base_.MovedAside(ObjectType::kSnapshot), std::vector<std::string>{a->snapshot_id})
      << "moved aside, not deleted";
  damaged.clear();
  ASSERT_TRUE(repo_->ListSnapshots(&damaged).ok());
  EXPECT_TRUE(damaged.empty());
  auto again = Prune(*Reopen(&faults_), Options());
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_GT(again->packs_deleted, 0u) << "a.bin's data is reclaimed once the damaged snapshot is aside";
  ExpectRestores(*Reopen(&faults_), b->snapshot_id, bset);
}

// verify --read-data with one flipped byte excluded the whole pack from the cache, so
// intact files in that pack could not be restored until the cache was deleted.
TEST_F(PruneSafetyTest, FlippedByteExcludesOnlyTheDamagedBlobAndIntactFilesOfThatPackStillRestore) {
  std::vector<MemEntry> set;
  for (int i = 0; i < 6; ++i)
    set.push_back(File("karte" + std::to_string(i) + ".txt", TextBytes(3000 + 97 * i)));
  auto r = Backup(*repo_, set);
  ASSERT_TRUE(r.ok());
  auto snap = repo_->FindSnapshot(r->snapshot_id);
  auto meta = repo_->LoadMeta(r->snapshot_id);
  ASSERT_TRUE(snap.ok() && meta.ok());
  // The pack holding karte0.txt holds the other small files too.
  const SnapshotEntry* k0 = nullptr;
  for (const SnapshotEntry& e : meta->entries) {
    if (e.meta.path == "karte0.txt") k0 = &e;
  }
  ASSERT_NE(k0, nullptr);
  auto loc = (*repo_->Cache())->Find(k0->blobs[0]).value();
  ASSERT_TRUE(loc.has_value());
  auto entries = (*repo_->Cache())->PackEntries(loc->pack);
  ASSERT_TRUE(entries.ok());
  ASSERT_GT(entries->size(), 1u) << "the test needs several files in one pack";
  Bytes pack = *base_.Get(ObjectType::kPack, loc->pack);
  pack[loc->entry.offset + loc->entry.stored_length / 2] ^= 0x01;  // rot, for real
  ASSERT_TRUE(base_.Delete(ObjectType::kPack, loc->pack).ok());
  ASSERT_TRUE(base_.Put(ObjectType::kPack, loc->pack, pack).ok());

  VerifyReport report = VerifyAll(*repo_);
  ASSERT_EQ(report.damaged_packs.size(), 1u);
  ASSERT_EQ(report.snapshots.size(), 1u);
  EXPECT_EQ(report.snapshots[0].missing_blobs, 1u) << "exactly the damaged blob is missing";
  // The same process and a new one (the cache on disk) restore every intact file.
  for (Repository* repo : {repo_.get(), Reopen(&faults_).release()}) {
    for (const SnapshotEntry& e : meta->entries) {
      class Sink : public ByteWriter {
       public:
        Status Write(const uint8_t* buf, size_t n) override {
          b.insert(b.end(), buf, buf + n);
          return Status::Ok();
        }
        Bytes b;
      } sink;
      Status st = RestoreEntry(*repo, e, sink);
      if (e.meta.path == "karte0.txt") {
        EXPECT_FALSE(st.ok()) << "the damaged file restored";
      } else {
        ASSERT_TRUE(st.ok()) << e.meta.path << " is intact but cannot be restored: " << st.ToString();
      }
    }
    if (repo != repo_.get()) delete repo;
  }
  // The next backup stores the damaged file anew and its snapshot is whole.
  auto again = Backup(*repo_, set);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  ExpectRestores(*repo_, again->snapshot_id, set);
}

// One pack the operating system refuses to read, with an empty cache (disaster recovery on
// a new PC). Tests run as root, which ignores mode bits, so the fault store's FailReads
// makes every read of that pack fail with the EACCES status the local store returns.
class UnreadablePackTest : public PruneSafetyTest {
 protected:
  void SetUp() override {
    PruneSafetyTest::SetUp();
    auto a = Backup(*repo_, aset_);
    ASSERT_TRUE(a.ok());
    a_ = a->snapshot_id;
    std::set<std::string> before = PackNames();
    auto b = Backup(*repo_, bset_);
    ASSERT_TRUE(b.ok());
    b_ = b->snapshot_id;
    ASSERT_FALSE(before.empty());
    bad_ = *before.begin();  // a pack of snapshot A only
    faults_.FailReads(ObjectType::kPack, bad_,
                      Status(Code::kPermissionDenied, "permission denied: " + base_.Location() + "/" + bad_));
    // A new PC: no cache at all.
    ::setenv("KURA_CACHE_DIR", empty_cache_.path().c_str(), 1);
  }
  std::vector<MemEntry> aset_{File("a.bin", SeededBytes(21, 300000))};
  std::vector<MemEntry> bset_{File("b.bin", SeededBytes(22, 300000))};
  std::string a_, b_, bad_;
  testing::TempDir empty_cache_{"kura-empty-cache"};
};

TEST_F(UnreadablePackTest, VerifyNamesThePackAndTheOtherSnapshotIsFine) {
  auto repo = Reopen(&faults_);
  VerifyReport report = VerifyAll(*repo, false);
  ASSERT_EQ(report.damaged_packs.size(), 1u);
  EXPECT_EQ(report.damaged_packs[0].name, bad_);
  EXPECT_NE(report.damaged_packs[0].problem.find("permission"), std::string::npos)
      << report.damaged_packs[0].problem;
  for (const SnapshotCheck& c : report.snapshots) EXPECT_EQ(c.ok, c.id == b_) << c.id.substr(0, 8);
}

TEST_F(UnreadablePackTest, RestoreOfASnapshotNotUsingThePackWorksWithAnEmptyCache) {
  ExpectRestores(*Reopen(&faults_), b_, bset_);
}

TEST_F(UnreadablePackTest, BackupWorksAndStoresTheUnreadableDataAnew) {
  auto repo = Reopen(&faults_);
  auto r = Backup(*repo, aset_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ExpectRestores(*Reopen(&faults_), r->snapshot_id, aset_);
}

TEST_F(UnreadablePackTest, PruneDoesNotDeleteWhatItCannotReadAndReportsIt) {
  ASSERT_TRUE(ForgetSnapshots(*repo_, {a_}, false).ok());  // the pack is now unused, as far as anyone knows
  clock_.Advance(7200);
  auto r = Prune(*Reopen(&faults_), Options());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->unreadable_packs.size(), 1u);
  EXPECT_EQ(r->unreadable_packs[0].first, bad_);
  EXPECT_TRUE(PackNames().count(bad_)) << "prune deleted a pack it could not read";
  ExpectRestores(*Reopen(&faults_), b_, bset_);
}

// §9: the index cache's reads fail (here: its blobs table is gone, as after a damaged or
// foreign write to the file while prune runs). Prune used to read that as "no blobs" and
// carry on; now it refuses and deletes nothing.
TEST_F(PruneSafetyTest, PruneRefusesAndDeletesNothingWhenTheCacheCannotBeRead) {
  auto a = Backup(*repo_, {File("a.bin", SeededBytes(31, 200000))});
  auto b = Backup(*repo_, {File("b.bin", SeededBytes(32, 200000))});
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE(ForgetSnapshots(*repo_, {a->snapshot_id}, false).ok());
  clock_.Advance(7200);
  auto repo = Reopen(&faults_);
  ASSERT_TRUE(repo->Cache().ok());  // opened and synced
  const std::set<std::string> before = PackNames();
  sqlite3* db = nullptr;
  const std::string path = cache_.path() + "/" + repo->id() + "/index.db";
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "DROP TABLE blobs", nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  sqlite3_close(db);
  auto r = Prune(*repo, Options());
  ASSERT_FALSE(r.ok()) << "prune acted on a failed cache read";
  EXPECT_NE(r.status().message().find("cache"), std::string::npos) << r.status().ToString();
  EXPECT_EQ(PackNames(), before) << "prune deleted packs after a failed cache read";
}

}  // namespace
}  // namespace kura
