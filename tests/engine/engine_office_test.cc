// The engine's side of what every office has: a file the source reads again after it
// changed is stored once with the bytes of the second read; kura's own repository and cache
// inside a backed-up tree are left out with a note; an empty stdin is not a backup.
#include <gtest/gtest.h>
#include <unistd.h>

#include "objstore/local_store.h"
#include "sources/files.h"
#include "support/repo_engine.h"

namespace kura {
namespace {

using testing::SeededBytes;
using testing::TempDir;

// Fails with kRetryable after `fail_after` bytes, as the files source's reader does when
// the file changed while it was read.
class FailingReader : public ByteReader {
 public:
  FailingReader(Bytes data, size_t fail_after) : data_(std::move(data)), fail_after_(fail_after) {}
  Result<size_t> Read(uint8_t* buf, size_t n) override {
    if (pos_ >= fail_after_) return Status::Retryable("changed while it was read");
    size_t k = std::min({n, data_.size() - pos_, fail_after_ - pos_});
    std::memcpy(buf, data_.data() + pos_, k);
    pos_ += k;
    return k;
  }

 private:
  Bytes data_;
  size_t fail_after_;
  size_t pos_ = 0;
};

class BytesSource : public ByteReader {
 public:
  explicit BytesSource(Bytes b) : b_(std::move(b)) {}
  Result<size_t> Read(uint8_t* buf, size_t n) override {
    size_t k = std::min(n, b_.size() - pos_);
    if (k) std::memcpy(buf, b_.data() + pos_, k);
    pos_ += k;
    return k;
  }

 private:
  Bytes b_;
  size_t pos_ = 0;
};

// a, then b read halfway and failed, then b again with other bytes, then c.
class RetryingSource : public Source {
 public:
  std::string Kind() const override { return "files"; }
  std::string Name() const override { return "retrying"; }
  Status Backup(SnapshotWriter& out) override {
    EntryMeta m;
    m.path = "a";
    BytesSource a(SeededBytes(1, 300000));
    KURA_RETURN_IF_ERROR(out.AddFile(m, a));
    m.path = "b";
    FailingReader first(SeededBytes(2, 500000), 250000);
    if (out.AddFile(m, first).ok()) return Status::Internal("the failing read must fail");
    BytesSource second(SeededBytes(3, 400000));
    KURA_RETURN_IF_ERROR(out.AddFile(m, second));
    m.path = "c";
    BytesSource c(SeededBytes(4, 100000));
    return out.AddFile(m, c);
  }
};

class EngineOfficeTest : public testing::EngineTest {};

TEST_F(EngineOfficeTest, FileReadAgainAfterAFailedReadIsStoredOnceWithTheSecondBytes) {
  TempDir root("kura-repo");
  auto local = LocalStore::Open(root.Sub("repo"), true);
  ASSERT_TRUE(local.ok());
  auto repo = Init(local->get());
  RetryingSource source;
  BackupOptions o;
  o.threads = 2;
  auto r = RunBackup(*repo, source, o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->plain.entries, 3u);
  auto back = ReadBack(*repo, r->snapshot_id);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  std::map<std::string, Bytes> want = {
      {"a", SeededBytes(1, 300000)}, {"b", SeededBytes(3, 400000)}, {"c", SeededBytes(4, 100000)}};
  EXPECT_TRUE(*back == want) << "the failed first read's chunks leaked into an entry";
}

TEST_F(EngineOfficeTest, RepositoryAndCacheInsideTheBackedUpTreeAreLeftOutWithANote) {
  TempDir tree("kura-tree");
  testing::WriteFile(tree.Sub("office/doc.txt"), "書類");
  std::string cache = tree.Sub("office/.cache/kura");
  ::setenv("KURA_CACHE_DIR", cache.c_str(), 1);
  auto local = LocalStore::Open(tree.Sub("office/backup-repo"), true);
  ASSERT_TRUE(local.ok());
  auto repo = Init(local->get());
  FilesSourceOptions fo;
  fo.paths = {tree.Sub("office")};
  auto source = NewFilesSource(fo);
  BackupOptions o;
  o.threads = 2;
  auto r = RunBackup(*repo, *source, o);  // skip_unreadable is false: the notes are not fatal
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto meta = repo->LoadMeta(r->snapshot_id);
  ASSERT_TRUE(meta.ok());
  bool doc = false;
  for (const SnapshotEntry& e : meta->entries) {
    EXPECT_EQ(e.meta.path.find("backup-repo"), std::string::npos) << e.meta.path;
    EXPECT_EQ(e.meta.path.find(".cache/kura"), std::string::npos) << e.meta.path;
    doc = doc || e.meta.path.ends_with("office/doc.txt");
  }
  EXPECT_TRUE(doc);
  ASSERT_EQ(meta->warnings.size(), 2u);
  std::string all = meta->warnings[0].message + meta->warnings[1].message;
  EXPECT_NE(all.find("リポジトリ"), std::string::npos) << all;
  EXPECT_NE(all.find("キャッシュ"), std::string::npos) << all;
  EXPECT_EQ(r->warnings.size(), 2u) << "the run reports them too";
}

TEST_F(EngineOfficeTest, EmptyStdinIsRefusedUnlessAllowedAndMakesNoSnapshot) {
  TempDir root("kura-repo");
  auto local = LocalStore::Open(root.Sub("repo"), true);
  ASSERT_TRUE(local.ok());
  auto repo = Init(local->get());
  for (bool allow : {false, true}) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    ::close(fds[1]);  // the writer (pg_dump) died without a byte
    auto source = MakeStreamSource(fds[0], "careapp.pgdump", "stdin", allow);
    BackupOptions o;
    auto r = RunBackup(*repo, *source, o);
    ::close(fds[0]);
    if (!allow) {
      ASSERT_FALSE(r.ok());
      EXPECT_EQ(r.status().code(), Code::kSourceFailed);
      EXPECT_NE(r.status().message().find("--allow-empty"), std::string::npos) << r.status().message();
      EXPECT_EQ(Count(**local, ObjectType::kSnapshot), 0u);
    } else {
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      EXPECT_EQ(Count(**local, ObjectType::kSnapshot), 1u);
    }
  }
}

}  // namespace
}  // namespace kura
