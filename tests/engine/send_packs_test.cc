// Sending a snapshot to a write-only sink whose repository shares the local keys
// (engine/send_packs.h, docs/adr/0006-vault-shares-local-keys.md), into a real second
// local repository (MirrorSink over a directory store): the mirror restores the same
// bytes with the same password, a second send uploads nothing, a send cut by a failed
// write completes when redone, and only one pack is held at a time.
#include "engine/send_packs.h"

#include <gtest/gtest.h>

#include "objstore/fault_store.h"
#include "objstore/local_store.h"
#include "objstore/memory_store.h"
#include "support/repo_engine.h"

namespace kura {
namespace {

using testing::File;
using testing::MemEntry;
using testing::SeededBytes;
using testing::TempDir;
using testing::TextBytes;

// Counts what goes through to the sink and, for each pack, how many source bytes were
// read since the previous pack was handed over (so a read-ahead would show).
class CountingSink : public BackupSink {
 public:
  CountingSink(BackupSink& base, FaultStore& source) : base_(base), source_(source) {}
  std::string Location() const override { return base_.Location(); }
  Status PutConfig(ByteView c) override { return base_.PutConfig(c); }
  Status PutKey(const std::string& id, ByteView s) override {
    ++keys;
    return base_.PutKey(id, s);
  }
  Result<std::vector<crypto::Hash>> MissingBlobs(const std::vector<crypto::Hash>& ids) override {
    ++missing_calls;
    max_batch = std::max(max_batch, ids.size());
    return base_.MissingBlobs(ids);
  }
  Status PutPack(const std::string& name, ByteView pack) override {
    // The first interval also holds the config, key slots, snapshot object and the index
    // sync; from the second pack on, exactly the pack handed over was read in between.
    uint64_t read = source_.counters().bytes_read;
    if (packs > 0)
      read_beyond_pack_max =
          std::max<int64_t>(read_beyond_pack_max, int64_t(read - last_read_) - int64_t(pack.size()));
    last_read_ = read;
    ++packs;
    Status s = base_.PutPack(name, pack);
    return s;
  }
  Result<CommitAnswer> CommitSnapshot(const std::string& id, ByteView snap) override {
    ++commits;
    last_read_ = source_.counters().bytes_read;
    return base_.CommitSnapshot(id, snap);
  }
  Status ReportRun(const RunReport& r) override { return base_.ReportRun(r); }
  void StartCounting() { last_read_ = source_.counters().bytes_read; }

  size_t keys = 0, missing_calls = 0, max_batch = 0, packs = 0, commits = 0;
  int64_t read_beyond_pack_max = 0;

 private:
  BackupSink& base_;
  FaultStore& source_;
  uint64_t last_read_ = 0;
};

class SendPacksTest : public testing::EngineTest {
 protected:
  void SetUp() override {
    EngineTest::SetUp();
    SetLanguage(Language::kEnglish);
    repo_ = Init(&source_);
    ASSERT_NE(repo_, nullptr);
    auto store = LocalStore::Open(mirror_dir_.path(), true);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    mirror_base_ = std::move(*store);
  }
  void TearDown() override { SetLanguage(Language::kJapanese); }

  std::unique_ptr<MirrorSink> Sink(ObjectStore* store) {
    return std::make_unique<MirrorSink>(std::make_unique<testing::BorrowedStore>(store),
                                        MirrorSink::DefaultCacheDir(store->Location()));
  }
  // The mirror opened as its own repository would be on another machine: with the
  // source's password, through its own index cache (the mirror has the same ID).
  std::unique_ptr<Repository> OpenMirror() {
    ::setenv("KURA_CACHE_DIR", mirror_cache_.path().c_str(), 1);
    auto repo =
        Repository::Open(std::make_unique<testing::BorrowedStore>(mirror_base_.get()), testing::Password());
    ::setenv("KURA_CACHE_DIR", cache_.path().c_str(), 1);
    EXPECT_TRUE(repo.ok()) << repo.status().ToString();
    return repo.ok() ? std::move(*repo) : nullptr;
  }

  std::vector<MemEntry> Files(uint64_t seed) {
    return {File("karte/patient-" + std::to_string(seed) + ".pdf", SeededBytes(seed, 700000)),
            File("karte/notes.txt", TextBytes(90000 + seed)), File("empty", {})};
  }

  MemoryStore source_base_;
  FaultStore source_{&source_base_};
  std::unique_ptr<Repository> repo_;
  TempDir mirror_dir_{"kura-mirror"};
  TempDir mirror_cache_{"kura-mirror-cache"};
  std::unique_ptr<ObjectStore> mirror_base_;
};

// G-BAK-07, G-BAK-08: the copy elsewhere restores the same bytes, with the same password.
TEST_F(SendPacksTest, MirrorRestoresTheSameBytesWithTheSamePassword) {
  auto entries = Files(1);
  auto b = Backup(*repo_, entries);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  auto sink = Sink(mirror_base_.get());
  auto sent = SendSnapshot(*repo_, b->snapshot_id, *sink);
  ASSERT_TRUE(sent.ok()) << sent.status().ToString();
  EXPECT_TRUE(sent->commit.created);
  EXPECT_FALSE(sent->commit.clock_warning);
  EXPECT_GT(sent->packs_uploaded, 1u);
  EXPECT_EQ(sent->blobs_missing, sent->blobs);

  auto mirror = OpenMirror();
  ASSERT_NE(mirror, nullptr);
  EXPECT_EQ(mirror->id(), repo_->id());
  auto back = ReadBack(*mirror, b->snapshot_id);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(*back == Expected(entries));
  // Byte for byte: every object the mirror holds is the source's, unchanged.
  for (ObjectType t : {ObjectType::kPack, ObjectType::kSnapshot, ObjectType::kKey}) {
    auto objs = mirror_base_->List(t);
    ASSERT_TRUE(objs.ok());
    for (const ObjectInfo& o : *objs) {
      auto a = mirror_base_->Get(t, o.name);
      auto s = source_base_.Get(t, o.name);
      ASSERT_TRUE(a.ok() && s.ok()) << o.name;
      EXPECT_TRUE(*a == *s) << o.name;
    }
  }
}

TEST_F(SendPacksTest, SecondSendUploadsNothingAndANewSnapshotOnlyItsNewPacks) {
  auto b1 = Backup(*repo_, Files(1));
  ASSERT_TRUE(b1.ok());
  auto sink = Sink(mirror_base_.get());
  auto first = SendSnapshot(*repo_, b1->snapshot_id, *sink);
  ASSERT_TRUE(first.ok()) << first.status().ToString();

  // A new process: a fresh sink whose cache is rebuilt from the mirror.
  auto again_sink = Sink(mirror_base_.get());
  auto again = SendSnapshot(*repo_, b1->snapshot_id, *again_sink);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->packs_uploaded, 0u);
  EXPECT_EQ(again->blobs_missing, 0u);
  EXPECT_FALSE(again->commit.created);

  auto entries2 = Files(1);
  entries2.push_back(File("karte/new.pdf", SeededBytes(99, 200000)));
  auto b2 = Backup(*repo_, entries2);
  ASSERT_TRUE(b2.ok());
  auto second = SendSnapshot(*repo_, b2->snapshot_id, *again_sink);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_GT(second->packs_uploaded, 0u);
  EXPECT_LT(second->bytes_uploaded, first->bytes_uploaded);
  EXPECT_LT(second->blobs_missing, second->blobs);
  auto mirror = OpenMirror();
  ASSERT_NE(mirror, nullptr);
  auto back = ReadBack(*mirror, b2->snapshot_id);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(*back == Expected(entries2));
}

// A send cut in the middle (the mirror's disk refuses a write) commits nothing; done
// again it skips the packs that arrived and completes.
TEST_F(SendPacksTest, InterruptedSendRedoneCompletesAndSkipsWhatArrived) {
  auto entries = Files(2);
  auto b = Backup(*repo_, entries);
  ASSERT_TRUE(b.ok());
  FaultStore mirror_faults(mirror_base_.get());
  // The fourth write (config and key slot first, then packs) fails.
  mirror_faults.FailNthPut(4, Status::IOError("injected: write failed"));
  auto sink = Sink(&mirror_faults);
  auto cut = SendSnapshot(*repo_, b->snapshot_id, *sink);
  ASSERT_FALSE(cut.ok());
  EXPECT_EQ(cut.status().code(), Code::kIOError);
  EXPECT_EQ(Count(*mirror_base_, ObjectType::kSnapshot), 0u) << "nothing committed";
  const size_t arrived = Count(*mirror_base_, ObjectType::kPack);
  EXPECT_GE(arrived, 1u);

  auto redo_sink = Sink(&mirror_faults);
  auto redo = SendSnapshot(*repo_, b->snapshot_id, *redo_sink);
  ASSERT_TRUE(redo.ok()) << redo.status().ToString();
  EXPECT_EQ(redo->packs_uploaded + arrived, Count(source_base_, ObjectType::kPack));
  auto mirror = OpenMirror();
  ASSERT_NE(mirror, nullptr);
  auto back = ReadBack(*mirror, b->snapshot_id);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(*back == Expected(entries));
}

// Bounded memory: each pack is read from the source just before it is handed to the sink,
// never ahead, so one pack (8 MiB by default) is in memory at a time; the blob IDs are
// asked in batches of at most kMaxMissingBatch.
TEST_F(SendPacksTest, HoldsOnePackAtATime) {
  auto b = Backup(*repo_, Files(3));
  ASSERT_TRUE(b.ok());
  auto mirror = Sink(mirror_base_.get());
  CountingSink counting(*mirror, source_);
  counting.StartCounting();
  auto sent = SendSnapshot(*repo_, b->snapshot_id, counting);
  ASSERT_TRUE(sent.ok()) << sent.status().ToString();
  EXPECT_EQ(counting.packs, sent->packs_uploaded);
  EXPECT_EQ(counting.commits, 1u);
  EXPECT_LE(counting.max_batch, kMaxMissingBatch);
  EXPECT_GT(counting.packs, 2u);
  EXPECT_EQ(counting.read_beyond_pack_max, 0) << "a pack was read ahead of its upload";
  EXPECT_LE(sent->peak_pack_bytes, (1u << 16) + (64u << 10) + 4096u) << "larger than one pack";
}

TEST_F(SendPacksTest, MirrorRefusesASnapshotWhosePacksAreMissing) {
  auto b = Backup(*repo_, Files(4));
  ASSERT_TRUE(b.ok());
  auto sink = Sink(mirror_base_.get());
  auto object = source_base_.Get(ObjectType::kSnapshot, b->snapshot_id);
  ASSERT_TRUE(object.ok());
  auto commit = sink->CommitSnapshot(b->snapshot_id, *object);
  ASSERT_FALSE(commit.ok());
  EXPECT_EQ(commit.status().code(), Code::kNotFound);
  EXPECT_NE(commit.status().message().find("send it again"), std::string::npos) << commit.status().message();
  EXPECT_EQ(Count(*mirror_base_, ObjectType::kSnapshot), 0u);
}

}  // namespace
}  // namespace kura
