#include "sources/files.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>

#include "support/db_servers.h"
#include "support/memory_snapshot.h"
#include "util/i18n.h"

namespace kura {
namespace {

using testing::MemorySnapshot;

class FilesSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SetLanguage(Language::kEnglish);
    dir_ = testing::MakeTempDir("kura-files-");
    ASSERT_FALSE(dir_.empty());
    rel_ = dir_.substr(1);
    ::mkdir((dir_ + "/data").c_str(), 0750);
    ::mkdir((dir_ + "/data/sub").c_str(), 0755);
    ::mkdir((dir_ + "/data/cache").c_str(), 0755);
    Write("data/a.txt", "患者データ");
    Write("data/sub/b.bin", std::string(100000, '\x01'));
    Write("data/sub/skip.tmp", "temporary");
    Write("data/cache/c.txt", "cached");
    ::chmod((dir_ + "/data/a.txt").c_str(), 0640);
    ASSERT_EQ(::symlink("a.txt", (dir_ + "/data/link").c_str()), 0);
    ASSERT_EQ(::symlink("/nonexistent/target", (dir_ + "/data/dangling").c_str()), 0);
  }
  void TearDown() override {
    testing::RemoveAll(dir_);
    SetLanguage(Language::kJapanese);
  }

  void Write(const std::string& rel, const std::string& content) {
    std::ofstream(dir_ + "/" + rel) << content;
  }

  Status Run(FilesSourceOptions o, MemorySnapshot& snap) {
    return NewFilesSource(std::move(o))->Backup(snap);
  }

  std::string dir_;
  std::string rel_;  // dir_ without the leading '/'
};

TEST_F(FilesSourceTest, WalksTreeRecordingTypesAndMetadata) {
  MemorySnapshot snap;
  ASSERT_TRUE(Run({{dir_ + "/data"}, {}, false}, snap).ok());
  auto paths = snap.Paths();
  // Ancestors of the listed path come first, so a restore can recreate them.
  EXPECT_EQ(paths[0], rel_.substr(0, rel_.find('/')));
  EXPECT_NE(std::find(paths.begin(), paths.end(), rel_), paths.end());

  const auto* a = snap.Find(rel_ + "/data/a.txt");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->meta.type, EntryType::kFile);
  EXPECT_EQ(a->content, "患者データ");
  EXPECT_EQ(a->meta.mode, 0640u);
  struct stat st {};
  ASSERT_EQ(::lstat((dir_ + "/data/a.txt").c_str(), &st), 0);
  EXPECT_EQ(a->meta.mtime, st.st_mtime);
  EXPECT_EQ(a->meta.uid, st.st_uid);
  EXPECT_EQ(a->meta.gid, st.st_gid);

  const auto* d = snap.Find(rel_ + "/data");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->meta.type, EntryType::kDirectory);
  EXPECT_EQ(d->meta.mode, 0750u);

  const auto* link = snap.Find(rel_ + "/data/link");
  ASSERT_NE(link, nullptr);
  EXPECT_EQ(link->meta.type, EntryType::kSymlink);
  EXPECT_EQ(link->meta.symlink_target, "a.txt");
  const auto* dangling = snap.Find(rel_ + "/data/dangling");
  ASSERT_NE(dangling, nullptr);
  EXPECT_EQ(dangling->meta.symlink_target, "/nonexistent/target");

  EXPECT_EQ(snap.Find(rel_ + "/data/sub/b.bin")->content.size(), 100000u);
  EXPECT_TRUE(snap.warnings().empty());
  for (const auto& p : paths) {
    EXPECT_NE(p[0], '/');
    EXPECT_EQ(p.find("//"), std::string::npos);
  }
}

TEST_F(FilesSourceTest, SymlinkedDirectoryIsNotFollowed) {
  ASSERT_EQ(::symlink(dir_.c_str(), (dir_ + "/data/loop").c_str()), 0);
  MemorySnapshot snap;
  ASSERT_TRUE(Run({{dir_ + "/data"}, {}, false}, snap).ok());
  const auto* loop = snap.Find(rel_ + "/data/loop");
  ASSERT_NE(loop, nullptr);
  EXPECT_EQ(loop->meta.type, EntryType::kSymlink);
  EXPECT_EQ(snap.Find(rel_ + "/data/loop/data"), nullptr);
}

TEST_F(FilesSourceTest, ExcludesByNameAndByPath) {
  MemorySnapshot snap;
  ASSERT_TRUE(Run({{dir_ + "/data"}, {"*.tmp", dir_ + "/data/cache"}, false}, snap).ok());
  EXPECT_EQ(snap.Find(rel_ + "/data/sub/skip.tmp"), nullptr);
  EXPECT_EQ(snap.Find(rel_ + "/data/cache"), nullptr);
  EXPECT_EQ(snap.Find(rel_ + "/data/cache/c.txt"), nullptr);
  EXPECT_NE(snap.Find(rel_ + "/data/sub/b.bin"), nullptr);

  EXPECT_TRUE(IsExcluded({"*.tmp"}, "/x/y.tmp", "y.tmp"));
  EXPECT_TRUE(IsExcluded({"/var/*/cache"}, "/var/app/cache", "cache"));
  EXPECT_FALSE(IsExcluded({"/var/*/cache"}, "/srv/app/cache", "cache"));
  EXPECT_FALSE(IsExcluded({"cache"}, "/x/cached", "cached"));
}

TEST_F(FilesSourceTest, MissingTopLevelPathIsAnError) {
  MemorySnapshot snap;
  Status s = Run({{dir_ + "/data", dir_ + "/missing"}, {}, false}, snap);
  EXPECT_EQ(s.code(), Code::kNotFound);
  EXPECT_NE(s.message().find(dir_ + "/missing"), std::string::npos);
  EXPECT_TRUE(snap.Entries().empty());  // checked before anything is written
}

TEST_F(FilesSourceTest, RelativePathIsRejected) {
  MemorySnapshot snap;
  EXPECT_EQ(Run({{"data"}, {}, false}, snap).code(), Code::kInvalidArgument);
  EXPECT_EQ(Run({{dir_ + "/../etc"}, {}, false}, snap).code(), Code::kInvalidArgument);
}

TEST_F(FilesSourceTest, FifoIsWarnedAndSkipped) {
  // chmod 000 does not stop root, so an unreadable entry is made with a FIFO instead.
  ASSERT_EQ(::mkfifo((dir_ + "/data/pipe").c_str(), 0600), 0);
  MemorySnapshot snap;
  ASSERT_TRUE(Run({{dir_ + "/data"}, {}, false}, snap).ok());
  EXPECT_EQ(snap.Find(rel_ + "/data/pipe"), nullptr);
  ASSERT_EQ(snap.warnings().size(), 1u);
  EXPECT_EQ(snap.warnings()[0].first, rel_ + "/data/pipe");
  EXPECT_NE(snap.warnings()[0].second.message().find("FIFO, socket or device"), std::string::npos);
  EXPECT_NE(snap.Find(rel_ + "/data/a.txt"), nullptr);  // the walk went on
}

TEST_F(FilesSourceTest, UnreadableFileIsWarnedWhenNotRoot) {
  ::chmod((dir_ + "/data/a.txt").c_str(), 0);
  MemorySnapshot snap;
  ASSERT_TRUE(Run({{dir_ + "/data"}, {}, false}, snap).ok());
  if (::geteuid() == 0) {
    // Root reads it anyway; the FIFO test covers the warning path.
    EXPECT_NE(snap.Find(rel_ + "/data/a.txt"), nullptr);
  } else {
    EXPECT_EQ(snap.Find(rel_ + "/data/a.txt"), nullptr);
    ASSERT_EQ(snap.warnings().size(), 1u);
    EXPECT_EQ(snap.warnings()[0].second.code(), Code::kPermissionDenied);
  }
}

TEST_F(FilesSourceTest, OverlappingPathsAreWalkedOnce) {
  MemorySnapshot snap;
  ASSERT_TRUE(Run({{dir_ + "/data/sub", dir_ + "/data", dir_ + "/data/"}, {}, false}, snap).ok());
  auto paths = snap.Paths();
  EXPECT_EQ(std::count(paths.begin(), paths.end(), rel_ + "/data/sub/b.bin"), 1);
}

TEST_F(FilesSourceTest, SingleFileAsTopLevelPath) {
  MemorySnapshot snap;
  ASSERT_TRUE(Run({{dir_ + "/data/a.txt"}, {}, false}, snap).ok());
  EXPECT_NE(snap.Find(rel_ + "/data/a.txt"), nullptr);
  EXPECT_NE(snap.Find(rel_ + "/data"), nullptr);  // ancestor
  EXPECT_EQ(snap.Find(rel_ + "/data/link"), nullptr);
}

}  // namespace
}  // namespace kura
