// Backup then restore gives back exactly the bytes that were backed up, on the in-memory and
// the local-directory store alike; unchanged data is stored once.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "engine/verify.h"
#include "objstore/local_store.h"
#include "objstore/memory_store.h"
#include "sources/files.h"
#include "support/repo_engine.h"

namespace kura {
namespace {

using testing::Dir;
using testing::File;
using testing::MemEntry;
using testing::SeededBytes;
using testing::TempDir;
using testing::TextBytes;

enum class StoreKind { kMemory, kLocal };

class EngineRoundTripTest : public testing::EngineTest, public ::testing::WithParamInterface<StoreKind> {
 protected:
  void SetUp() override {
    EngineTest::SetUp();
    if (GetParam() == StoreKind::kMemory) {
      store_ = std::make_unique<MemoryStore>();
    } else {
      auto local = LocalStore::Open(root_.Sub("repo"), /*create=*/true);
      ASSERT_TRUE(local.ok()) << local.status().ToString();
      store_ = std::move(*local);
    }
  }
  // Backs up `entries`, reads the snapshot back and checks every byte.
  BackupResult RoundTrip(Repository& repo, const std::vector<MemEntry>& entries) {
    auto r = Backup(repo, entries);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) return {};
    auto back = ReadBack(repo, r->snapshot_id);
    EXPECT_TRUE(back.ok()) << back.status().ToString();
    if (back.ok()) {
      EXPECT_TRUE(*back == Expected(entries)) << "restored bytes differ from the backup";
    }
    return *r;
  }

  TempDir root_{"kura-engine"};
  std::unique_ptr<ObjectStore> store_;
};

TEST_P(EngineRoundTripTest, EmptyFileAndTinyFiles) {
  auto repo = Init(store_.get());
  BackupResult r = RoundTrip(*repo, {File("empty", {}), File("one", Bytes{7}), File("two", Bytes{0, 0})});
  EXPECT_EQ(r.stats.files, 3u);
  EXPECT_EQ(r.plain.bytes, 3u);
  auto meta = repo->LoadMeta(r.snapshot_id);
  ASSERT_TRUE(meta.ok());
  EXPECT_TRUE(meta->entries[0].blobs.empty()) << "an empty file references no blob";
  EXPECT_EQ(meta->entries[0].sha256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST_P(EngineRoundTripTest, FilesAroundTheMaximumChunkSize) {
  auto repo = Init(store_.get(), /*small=*/false, /*pack_target=*/1u << 20);
  const size_t max = repo->config().chunker.max_size;
  RoundTrip(*repo, {File("exact", SeededBytes(1, max)), File("minus", SeededBytes(2, max - 1)),
                    File("plus", SeededBytes(3, max + 1)), File("zeros", Bytes(2 * max + 3, 0))});
}

TEST_P(EngineRoundTripTest, ManySmallFilesInDirectories) {
  auto repo = Init(store_.get());
  std::vector<MemEntry> entries{Dir("患者")};
  for (int i = 0; i < 400; ++i) {
    entries.push_back(
        File("患者/" + std::to_string(i) + ".txt", SeededBytes(100 + i, static_cast<size_t>(i * 37 % 3000))));
  }
  BackupResult r = RoundTrip(*repo, entries);
  EXPECT_EQ(r.stats.files, 400u);
  EXPECT_EQ(r.stats.other_entries, 1u);
}

TEST_P(EngineRoundTripTest, LargeRandomFileSpansManyPacks) {
  auto repo = Init(store_.get());
  BackupResult r = RoundTrip(*repo, {File("dump.sql", SeededBytes(9, 6 << 20))});
  EXPECT_GT(r.stats.packs_written, 20u) << "64 KiB packs";
  EXPECT_GE(r.stats.bytes_stored, 6u << 20) << "random data does not compress";
  EXPECT_EQ(Count(*store_, ObjectType::kPack), r.stats.packs_written);
}

TEST_P(EngineRoundTripTest, IdenticalFilesAreStoredOnce) {
  auto repo = Init(store_.get());
  Bytes same = SeededBytes(11, 1 << 20);
  BackupResult r =
      RoundTrip(*repo, {File("a", same), File("copy/of/a", same), File("b", SeededBytes(12, 1 << 20))});
  EXPECT_LT(r.stats.bytes_stored, 2u * (1 << 20) + (1 << 18)) << "a copy must not be stored twice";
  EXPECT_EQ(r.stats.bytes_new, 2u << 20);
  auto meta = repo->LoadMeta(r.snapshot_id);
  ASSERT_TRUE(meta.ok());
  EXPECT_EQ(meta->entries[0].blobs, meta->entries[1].blobs) << "both files reference the same blobs";
  EXPECT_EQ(r.stats.chunks - r.stats.chunks_new, meta->entries[1].blobs.size())
      << "only the copy's chunks deduped";
}

TEST_P(EngineRoundTripTest, SecondBackupOfUnchangedDataStoresNothingNew) {
  auto repo = Init(store_.get());
  std::vector<MemEntry> entries{File("a", SeededBytes(20, 3 << 20)), File("b", TextBytes(1 << 20))};
  BackupResult first = RoundTrip(*repo, entries);
  size_t packs = Count(*store_, ObjectType::kPack);
  BackupResult second = RoundTrip(*repo, entries);
  EXPECT_EQ(second.stats.chunks_new, 0u);
  EXPECT_EQ(second.stats.bytes_stored, 0u);
  EXPECT_EQ(second.plain.stored_new, 0u);
  EXPECT_EQ(Count(*store_, ObjectType::kPack), packs);
  EXPECT_NE(first.snapshot_id, second.snapshot_id);
  // A new process (fresh cache sync) dedups just as well.
  auto again = Reopen(store_.get());
  BackupResult third = RoundTrip(*again, entries);
  EXPECT_EQ(third.stats.bytes_stored, 0u);
  // A small edit in the middle of a big file stores about one chunk, not the file.
  entries[0].data[1 << 20] ^= 0xff;
  BackupResult edited = RoundTrip(*again, entries);
  EXPECT_GT(edited.stats.bytes_stored, 0u);
  EXPECT_LT(edited.stats.bytes_stored, 4u * 65536 + 4096);
}

TEST_P(EngineRoundTripTest, VerifyReadDataOfAHealthyRepository) {
  auto repo = Init(store_.get());
  RoundTrip(*repo, {File("a", SeededBytes(30, 1 << 20)), File("t", TextBytes(300000))});
  RoundTrip(*repo, {File("a", SeededBytes(31, 1 << 20))});
  for (bool read_data : {false, true}) {
    VerifyOptions o;
    o.read_data = read_data;
    auto report = Verify(*repo, o);
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    EXPECT_TRUE(report->ok());
    EXPECT_EQ(report->snapshots.size(), 2u);
    EXPECT_EQ(report->unreferenced_packs, 0u);
    EXPECT_EQ(report->packs, Count(*store_, ObjectType::kPack));
    if (read_data) {
      EXPECT_GT(report->blobs_checked, 30u);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Stores, EngineRoundTripTest,
                         ::testing::Values(StoreKind::kMemory, StoreKind::kLocal),
                         [](const auto& p) { return p.param == StoreKind::kMemory ? "Memory" : "Local"; });

// The files source and a directory restore together: content, modes, times and symlinks.
class EngineFilesTest : public testing::EngineTest {};

TEST_F(EngineFilesTest, FilesSourceToDirectoryRoundTrip) {
  TempDir src("kura-src"), dst("kura-dst"), root("kura-repo");
  testing::WriteFile(src.Sub("data/カルテ/1.txt"), TextBytes(70000));
  testing::WriteFile(src.Sub("data/big.bin"), SeededBytes(40, 700000));
  testing::WriteFile(src.Sub("data/empty"), "");
  ASSERT_EQ(::symlink("カルテ/1.txt", src.Sub("data/link").c_str()), 0);
  ASSERT_EQ(::chmod(src.Sub("data/big.bin").c_str(), 0640), 0);
  struct timespec times[2] = {{1700000000, 0}, {1700000000, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, src.Sub("data/big.bin").c_str(), times, 0), 0);

  auto local = LocalStore::Open(root.Sub("repo"), true);
  ASSERT_TRUE(local.ok());
  auto repo = Init(local->get());
  FilesSourceOptions fo;
  fo.paths = {src.Sub("data")};
  auto source = NewFilesSource(fo);
  BackupOptions bo;
  bo.threads = 2;
  auto r = RunBackup(*repo, *source, bo);
  ASSERT_TRUE(r.ok()) << r.status().ToString();

  auto snap = repo->FindSnapshot("latest");
  ASSERT_TRUE(snap.ok());
  auto meta = repo->LoadMeta(snap->id);
  ASSERT_TRUE(meta.ok());
  RestoreOptions ro;
  ro.target_dir = dst.Sub("out");
  auto restored = RestoreToDirectory(*repo, *snap, *meta, ro);
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_EQ(restored->files, 3u);
  std::string rel = src.Sub("data").substr(1);  // entry paths are absolute paths without '/'
  EXPECT_EQ(testing::ReadTree(dst.Sub("out/" + rel)), testing::ReadTree(src.Sub("data")));
  struct stat st {};
  ASSERT_EQ(::stat(dst.Sub("out/" + rel + "/big.bin").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  EXPECT_EQ(st.st_mtime, 1700000000);

  // Restoring again over the same target replaces nothing: every file is a conflict.
  auto twice = RestoreToDirectory(*repo, *snap, *meta, ro);
  ASSERT_TRUE(twice.ok()) << twice.status().ToString();
  EXPECT_EQ(twice->Outcome().code(), Code::kAlreadyExists);
  EXPECT_EQ(twice->files, 0u);
  EXPECT_EQ(twice->problems.size(), 4u) << "three files and the link";
}

}  // namespace
}  // namespace kura
