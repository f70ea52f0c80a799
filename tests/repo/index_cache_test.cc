// The index cache is disposable: deleting or trashing it costs only a rebuild, and it
// never vouches for a pack that is no longer there or no longer whole.
#include "repo/index_cache.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <atomic>
#include <thread>
#include <vector>

#include "objstore/fault_store.h"
#include "objstore/memory_store.h"
#include "repo/format.h"
#include "support/repo_testing.h"
#include "util/hex.h"

namespace kura {
namespace {

// A lookup that must not fail (the cache file is healthy in these tests).
std::optional<BlobLocation> Found(IndexCache& cache, const crypto::Hash& id) {
  auto r = cache.Find(id);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : std::nullopt;
}

using testing::TempDir;

crypto::Hash Id(uint8_t b) {
  crypto::Hash h;
  h.fill(b);
  return h;
}

class IndexCacheTest : public ::testing::Test {
 protected:
  // Stores a pack holding fake blobs with the given first bytes; returns its name.
  std::string PutPack(std::initializer_list<uint8_t> ids) {
    PackBuilder b;
    for (uint8_t id : ids) b.Add(Id(id), 0, 10, testing::SeededBytes(id, 10 + crypto::kSealOverhead));
    std::vector<PackEntry> entries;
    Bytes bytes = b.Finish(&entries);
    std::string name = ToHex(crypto::Sha256(bytes));
    EXPECT_TRUE(store_.Put(ObjectType::kPack, name, bytes).ok());
    return name;
  }
  // Replaces a stored pack by its first `keep` bytes, as a torn write or a NAS hiccup would.
  void Truncate(const std::string& name, size_t keep) {
    Bytes b = *store_.Get(ObjectType::kPack, name);
    b.resize(keep);
    ASSERT_TRUE(store_.Delete(ObjectType::kPack, name).ok());
    ASSERT_TRUE(store_.Put(ObjectType::kPack, name, b).ok());
  }
  std::unique_ptr<IndexCache> OpenCache() {
    auto c = IndexCache::Open(dir_.Sub("cache"));
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? std::move(*c) : nullptr;
  }

  TempDir dir_;
  MemoryStore store_;
};

TEST_F(IndexCacheTest, SyncIndexesEveryPackHeader) {
  std::string a = PutPack({1, 2});
  std::string b = PutPack({3});
  auto cache = OpenCache();
  auto stats = cache->Sync(store_);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->packs_added, 2u);
  EXPECT_EQ(stats->packs_damaged, 0u);
  auto loc = Found(*cache, Id(2));
  ASSERT_TRUE(loc.has_value());
  EXPECT_EQ(loc->pack, a);
  EXPECT_EQ(loc->entry.offset, 16u + 2 * 48 + 10 + crypto::kSealOverhead);
  EXPECT_EQ(loc->entry.stored_length, 10 + crypto::kSealOverhead);
  EXPECT_EQ(Found(*cache, Id(3))->pack, b);
  EXPECT_FALSE(Found(*cache, Id(4)).has_value());
  EXPECT_EQ(cache->PackEntries(a)->size(), 2u);
  // A second sync reads nothing new.
  EXPECT_EQ(cache->Sync(store_)->packs_added, 0u);
}

TEST_F(IndexCacheTest, RebuildsAfterTheFileIsDeleted) {
  PutPack({1});
  {
    auto cache = OpenCache();
    ASSERT_TRUE(cache->Sync(store_).ok());
  }
  for (const char* suffix : {"", "-wal", "-shm"})
    ::unlink(dir_.Sub(std::string("cache/index.db") + suffix).c_str());
  auto cache = OpenCache();
  EXPECT_FALSE(Found(*cache, Id(1)).has_value());
  EXPECT_EQ(cache->Sync(store_)->packs_added, 1u);
  EXPECT_TRUE(Found(*cache, Id(1)).has_value());
}

TEST_F(IndexCacheTest, RebuildsAfterTheFileIsOverwrittenWithGarbage) {
  PutPack({1});
  {
    auto cache = OpenCache();
    ASSERT_TRUE(cache->Sync(store_).ok());
  }
  for (const char* suffix : {"-wal", "-shm"})
    ::unlink(dir_.Sub(std::string("cache/index.db") + suffix).c_str());
  testing::WriteFile(dir_.Sub("cache/index.db"), testing::SeededBytes(5, 8192));
  auto cache = OpenCache();
  ASSERT_NE(cache, nullptr) << "a damaged cache must be replaced, not reported";
  auto stats = cache->Sync(store_);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_TRUE(Found(*cache, Id(1)).has_value());
}

TEST_F(IndexCacheTest, SyncForgetsPacksRemovedFromTheStore) {
  std::string a = PutPack({1});
  PutPack({2});
  auto cache = OpenCache();
  ASSERT_TRUE(cache->Sync(store_).ok());
  ASSERT_TRUE(store_.Delete(ObjectType::kPack, a).ok());  // pruned by another client
  auto stats = cache->Sync(store_);
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->packs_removed, 1u);
  EXPECT_FALSE(Found(*cache, Id(1)).has_value()) << "dedup against a deleted pack would lose data";
  EXPECT_TRUE(Found(*cache, Id(2)).has_value());
}

TEST_F(IndexCacheTest, TruncatedUnknownPackIsReportedDamagedAndNotIndexed) {
  std::string a = PutPack({1, 2, 3});
  Truncate(a, 16 + 3 * 48 + 5);  // header whole, body cut short
  std::string b = PutPack({4});
  Truncate(b, 10);  // even the prefix is cut
  auto cache = OpenCache();
  auto stats = cache->Sync(store_);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->packs_damaged, 2u);
  EXPECT_EQ(stats->packs_added, 0u);
  EXPECT_FALSE(Found(*cache, Id(1)).has_value());
  EXPECT_FALSE(Found(*cache, Id(4)).has_value());
}

// Regression: Sync trusted every pack it had indexed before, so a pack truncated after it
// was indexed (a torn write on a NAS that reported success, a restore of a half-copied
// share) kept serving dedup lookups and new snapshots referenced blobs that were gone.
TEST_F(IndexCacheTest, SyncDropsAKnownPackThatWasTruncatedLater) {
  std::string a = PutPack({1, 2});
  auto cache = OpenCache();
  ASSERT_TRUE(cache->Sync(store_).ok());
  ASSERT_TRUE(Found(*cache, Id(2)).has_value());
  Truncate(a, 16 + 2 * 48 + 3);
  auto stats = cache->Sync(store_);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->packs_damaged, 1u);
  ASSERT_EQ(stats->damaged.size(), 1u);
  EXPECT_EQ(stats->damaged[0], a);
  EXPECT_FALSE(Found(*cache, Id(2)).has_value());
  EXPECT_TRUE(cache->PackEntries(a)->empty());
}

TEST_F(IndexCacheTest, ReadPackHeaderChecksTheObjectSize) {
  std::string a = PutPack({1, 2});
  uint64_t size = store_.Get(ObjectType::kPack, a)->size();
  EXPECT_TRUE(ReadPackHeader(store_, a, size).ok());
  EXPECT_EQ(ReadPackHeader(store_, a, size + 1).status().code(), Code::kCorruption);
  EXPECT_EQ(ReadPackHeader(store_, a, 20).status().code(), Code::kCorruption);
}

TEST_F(IndexCacheTest, DefaultCacheRootFollowsTheEnvironment) {
  ::setenv("KURA_CACHE_DIR", "/x/kura-cache", 1);
  EXPECT_EQ(DefaultCacheRoot(), "/x/kura-cache");
  ::unsetenv("KURA_CACHE_DIR");
  ::setenv("XDG_CACHE_HOME", "/y", 1);
  EXPECT_EQ(DefaultCacheRoot(), "/y/kura");
  ::unsetenv("XDG_CACHE_HOME");
}

// Disaster recovery on a new PC: one pack whose header the OS refuses to read made the
// whole rebuild fail, so nothing could be restored. Now only that pack is left out.
// (Root ignores mode bits; the fault store's FailReads gives the real EACCES status.)
TEST_F(IndexCacheTest, SyncSkipsAnUnreadablePackAndIndexesTheRest) {
  std::string a = PutPack({1});
  std::string b = PutPack({2});
  FaultStore faults(&store_);
  faults.FailReads(ObjectType::kPack, a, Status(Code::kPermissionDenied, "permission denied: " + a));
  auto cache = OpenCache();
  auto stats = cache->Sync(faults);
  ASSERT_TRUE(stats.ok()) << "one unreadable pack failed the whole sync: " << stats.status().ToString();
  ASSERT_EQ(stats->unreadable.size(), 1u);
  EXPECT_EQ(stats->unreadable[0].first, a);
  EXPECT_EQ(stats->unreadable[0].second.code(), Code::kPermissionDenied);
  EXPECT_FALSE(Found(*cache, Id(1)).has_value());
  EXPECT_EQ(Found(*cache, Id(2))->pack, b);
  // Readable again: the next sync indexes it.
  faults.ClearFaults();
  EXPECT_EQ(cache->Sync(faults)->packs_added, 1u);
  EXPECT_EQ(Found(*cache, Id(1))->pack, a);
}

// §9: reads answered "nothing" when SQLite failed, and prune acted on that answer.
TEST_F(IndexCacheTest, EveryReadReportsASqliteFailureInsteadOfAnEmptyAnswer) {
  std::string a = PutPack({1, 2});
  auto cache = OpenCache();
  ASSERT_TRUE(cache->Sync(store_).ok());
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(dir_.Sub("cache/index.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "DROP TABLE blobs; DROP TABLE packs;", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  EXPECT_FALSE(cache->Find(Id(1)).ok());
  EXPECT_FALSE(cache->PacksHolding(Id(1)).ok());
  EXPECT_FALSE(cache->PackEntries(a).ok());
  EXPECT_FALSE(cache->Packs().ok());
  EXPECT_FALSE(cache->PackSizes().ok());
  EXPECT_FALSE(cache->Sync(store_).ok());
}

TEST_F(IndexCacheTest, QuarantineBlobsForgetsOnlyThoseBlobsAndSurvivesASync) {
  std::string a = PutPack({1, 2, 3});
  auto cache = OpenCache();
  ASSERT_TRUE(cache->Sync(store_).ok());
  ASSERT_TRUE(cache->QuarantineBlobs(a, {Id(2)}).ok());
  EXPECT_FALSE(Found(*cache, Id(2)).has_value());
  EXPECT_EQ(Found(*cache, Id(1))->pack, a);
  EXPECT_EQ(Found(*cache, Id(3))->pack, a);
  ASSERT_TRUE(cache->Sync(store_).ok());
  EXPECT_FALSE(Found(*cache, Id(2)).has_value()) << "a sync brought the damaged blob back";
  EXPECT_EQ(cache->PacksHolding(Id(1))->size(), 1u);
}

// A cache another process (or another repository handle in this one) is opening or using
// at the same moment is busy, not damaged: opening it must never delete it under the
// other user, whose next statement would then fail with "disk I/O error" (seen as a
// flaky PruneSafetyTest with a backup and a prune opening one cache together). Each
// round starts from no file, where the first openers race to create the schema.
TEST_F(IndexCacheTest, CachesOpenedAtOnceByManyUsersAreNeverDeletedUnderEachOther) {
  PutPack({1, 2});
  PutPack({3});
  for (int round = 0; round < 40; ++round) {
    const std::string dir = dir_.Sub("race" + std::to_string(round));
    std::atomic<int> ready{0};
    std::atomic<int> failures{0};
    std::vector<std::string> errors(4);
    std::vector<std::thread> users;
    for (int t = 0; t < 4; ++t) {
      users.emplace_back([&, t] {
        ready.fetch_add(1);
        while (ready.load() < 4) std::this_thread::yield();
        auto c = IndexCache::Open(dir);
        Status st = c.ok() ? Status::Ok() : c.status();
        for (int k = 0; st.ok() && k < 5; ++k) {
          auto stats = (*c)->Sync(store_);
          if (!stats.ok()) st = stats.status();
          auto found = (*c)->Find(Id(3));
          if (st.ok() && !found.ok()) st = found.status();
        }
        if (!st.ok()) {
          failures.fetch_add(1);
          errors[t] = st.ToString();
        }
      });
    }
    for (std::thread& u : users) u.join();
    ASSERT_EQ(failures.load(), 0) << "round " << round << ": " << errors[0] << " | " << errors[1] << " | "
                                  << errors[2] << " | " << errors[3];
  }
}

}  // namespace
}  // namespace kura
