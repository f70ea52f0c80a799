// A restore never writes outside its target and never harms what is already there (issue 6
// §2): random snapshot trees restored into random hostile targets, the planted-link and the
// link-then-directory cases, damaged files, --path, sparse files.
#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "objstore/local_store.h"
#include "objstore/memory_store.h"
#include "sources/files.h"
#include "support/hostile_tree.h"
#include "support/repo_engine.h"
#include "util/beneath.h"

namespace kura {
namespace {

using testing::Describe;
using testing::MemEntry;
using testing::ReportedProblem;
using testing::TempDir;
using testing::TreeNode;

std::string KindName(RestoreProblem::Kind k) {
  switch (k) {
    case RestoreProblem::Kind::kDamaged:
      return "damaged";
    case RestoreProblem::Kind::kConflict:
      return "conflict";
    case RestoreProblem::Kind::kFailed:
      return "failed";
  }
  return "?";
}

std::string Mode(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return "missing";
  return fmt::format("{:o}", st.st_mode & 07777);
}

class RestoreTargetTest : public testing::EngineTest {
 public:
  void SetUp() override {
    EngineTest::SetUp();
    repo_ = Init(&store_);
    ASSERT_NE(repo_, nullptr);
  }

  struct Backed {
    Snapshot snap;
    SnapshotMeta meta;
  };
  Backed BackupNodes(const std::vector<TreeNode>& nodes) {
    std::vector<MemEntry> entries;
    for (const TreeNode& n : nodes)
      entries.push_back(MemEntry{n.path, n.data, n.type, n.target, n.mode, n.mtime});
    auto r = Backup(*repo_, entries);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) return {};
    auto snap = repo_->FindSnapshot(r->snapshot_id);
    auto meta = repo_->LoadMeta(r->snapshot_id);
    EXPECT_TRUE(snap.ok() && meta.ok());
    return {*snap, *meta};
  }
  Result<RestoreResult> Restore(const Backed& b, const std::string& target, bool overwrite,
                                std::vector<std::string> include = {}) {
    verified_.clear();
    RestoreOptions o;
    o.on_verified = [this](const std::string& path) { verified_.push_back(path); };
    o.target_dir = target;
    o.overwrite = overwrite;
    o.include = std::move(include);
    return RestoreToDirectory(*repo_, b.snap, b.meta, o);
  }

  MemoryStore store_;
  std::unique_ptr<Repository> repo_;
  std::vector<std::string> verified_;  // of the last Restore
};

void RunHostileProperty(RestoreTargetTest& t, uint64_t first_seed, uint64_t seeds) {
  for (uint64_t seed = first_seed; seed < first_seed + seeds; ++seed) {
    TempDir root("kura-hostile");
    std::string sentinel = root.Sub("sentinel");
    testing::MakeSentinel(sentinel);
    std::vector<TreeNode> nodes = testing::RandomSnapshotTree(seed, sentinel);
    auto backed = t.BackupNodes(nodes);
    for (bool overwrite : {false, true}) {
      std::string target = root.Sub(overwrite ? "target-overwrite" : "target");
      testing::PlantHostileTarget(seed, nodes, target, sentinel);
      auto before = Describe(target);
      auto sentinel_before = Describe(sentinel);
      auto r = t.Restore(backed, target, overwrite);
      ASSERT_TRUE(r.ok()) << "seed " << seed << ": " << r.status().ToString();
      std::set<std::string> verified(t.verified_.begin(), t.verified_.end());
      std::vector<ReportedProblem> problems;
      for (const RestoreProblem& p : r->problems) problems.push_back({p.path, KindName(p.kind)});
      testing::CheckHostileRestore(fmt::format("seed {}", seed), nodes, before, Describe(target),
                                   sentinel_before, Describe(sentinel), verified, problems, overwrite);
      EXPECT_EQ(r->Outcome().ok(), problems.empty());
      if (!problems.empty()) {
        EXPECT_EQ(r->Outcome().code(), Code::kAlreadyExists);
      }
    }
    if (::testing::Test::HasFailure()) return;  // one seed's report is enough to debug
  }
}

TEST_F(RestoreTargetTest, RandomTreesIntoHostileTargetsNeverWriteOutsideNorHarmWhatIsThere) {
  RunHostileProperty(*this, 1, 80);
}

// The same property where the kernel has no openat2 (before Linux 5.6).
TEST_F(RestoreTargetTest, RandomTreesIntoHostileTargetsWithTheComponentWalkFallback) {
  UseComponentWalkForTesting(true);
  RunHostileProperty(*this, 1000, 30);
  UseComponentWalkForTesting(false);
}

// The report: target/tmp -> /somewhere in a world-writable target made /somewhere mode 1777
// and received the snapshot's files.
TEST_F(RestoreTargetTest, PlantedTmpLinkNeitherChmodsNorFillsTheOutsideDirectory) {
  TempDir root("kura-planted");
  ASSERT_EQ(::mkdir(root.Sub("somewhere").c_str(), 0755), 0);
  ASSERT_EQ(::mkdir(root.Sub("target").c_str(), 0777), 0);
  ASSERT_EQ(::chmod(root.Sub("target").c_str(), 01777), 0);
  ASSERT_EQ(::symlink(root.Sub("somewhere").c_str(), root.Sub("target/tmp").c_str()), 0);
  auto b = BackupNodes({{"tmp", EntryType::kDirectory, {}, "", 01777, 1700000000},
                        {"tmp/a", EntryType::kFile, testing::TextBytes(100), "", 0644, 1700000000}});
  auto r = Restore(b, root.Sub("target"), /*overwrite=*/false);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Mode(root.Sub("somewhere")), "755") << "the directory outside the target was chmodded";
  EXPECT_FALSE(testing::Exists(root.Sub("somewhere/a"))) << "a file was written outside the target";
  ASSERT_EQ(r->problems.size(), 1u);
  EXPECT_EQ(r->problems[0].path, "tmp");
  EXPECT_EQ(r->problems[0].kind, RestoreProblem::Kind::kConflict);
  EXPECT_EQ(r->problems[0].skipped_beneath, 1u);
  EXPECT_NE(r->problems[0].status.message().find("--overwrite"), std::string::npos)
      << r->problems[0].status.message();

  // --overwrite replaces the link itself by the snapshot's directory.
  auto again = Restore(b, root.Sub("target"), /*overwrite=*/true);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(again->problems.empty());
  EXPECT_EQ(Mode(root.Sub("somewhere")), "755");
  EXPECT_FALSE(testing::Exists(root.Sub("somewhere/a")));
  EXPECT_EQ(Mode(root.Sub("target/tmp")), "1777");
  EXPECT_EQ(testing::ReadFileString(root.Sub("target/tmp/a")),
            std::string(AsString(testing::TextBytes(100))));
}

// With no attacker: snapshot A has x as a link, snapshot B has x as a directory.
TEST_F(RestoreTargetTest, LinkFromOneSnapshotIsNotFollowedByTheNextSnapshotsDirectory) {
  TempDir root("kura-a-then-b");
  ASSERT_EQ(::mkdir(root.Sub("elsewhere").c_str(), 0700), 0);
  auto a = BackupNodes({{"x", EntryType::kSymlink, {}, root.Sub("elsewhere"), 0777, 1700000000}});
  auto b = BackupNodes({{"x", EntryType::kDirectory, {}, "", 0755, 1700000000},
                        {"x/f", EntryType::kFile, testing::TextBytes(10), "", 0600, 1700000000}});
  ASSERT_TRUE(Restore(a, root.Sub("t"), false).ok());
  auto r = Restore(b, root.Sub("t"), false);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->Outcome().code(), Code::kAlreadyExists);
  ASSERT_EQ(r->problems.size(), 1u);
  EXPECT_EQ(r->problems[0].path, "x");
  EXPECT_EQ(Mode(root.Sub("elsewhere")), "700");
  EXPECT_FALSE(testing::Exists(root.Sub("elsewhere/f")));
  auto ow = Restore(b, root.Sub("t"), true);
  ASSERT_TRUE(ow.ok());
  EXPECT_TRUE(ow->Outcome().ok()) << ow->Outcome().ToString();
  EXPECT_FALSE(testing::Exists(root.Sub("elsewhere/f")));
  EXPECT_EQ(Mode(root.Sub("t/x")), "755");
  EXPECT_EQ(testing::ReadFileString(root.Sub("t/x/f")), std::string(AsString(testing::TextBytes(10))));
}

TEST_F(RestoreTargetTest, UserFileNamedLikeTheTemporaryFileIsNeverTruncatedOrRenamed) {
  TempDir root("kura-tmpname");
  auto b = BackupNodes({{"f", EntryType::kFile, testing::SeededBytes(3, 5000), "", 0644, 1700000000}});
  testing::WriteFile(root.Sub("t/f.kura-restore"), "mine");
  for (bool overwrite : {false, true}) {
    auto r = Restore(b, root.Sub("t"), overwrite);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->files, 1u);
    EXPECT_EQ(testing::ReadFileString(root.Sub("t/f.kura-restore")), "mine");
    if (!overwrite) ::unlink(root.Sub("t/f").c_str());
  }
}

TEST_F(RestoreTargetTest, ExistingDirectoryKeepsItsModeAndTimesWithoutOverwrite) {
  TempDir root("kura-keepdir");
  ASSERT_EQ(::mkdir(root.Sub("t").c_str(), 0755), 0);
  ASSERT_EQ(::mkdir(root.Sub("t/d").c_str(), 0750), 0);
  struct timespec old[2] = {{1400000000, 0}, {1400000000, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, root.Sub("t/d").c_str(), old, 0), 0);
  auto b = BackupNodes({{"d", EntryType::kDirectory, {}, "", 0777, 1700000000},
                        {"d/new", EntryType::kFile, testing::TextBytes(10), "", 0644, 1700000000}});
  auto r = Restore(b, root.Sub("t"), false);
  ASSERT_TRUE(r.ok() && r->Outcome().ok());
  struct stat st {};
  ASSERT_EQ(::stat(root.Sub("t/d").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0750u) << "the existing directory got the snapshot's mode";
  EXPECT_EQ(st.st_mtime, 1400000000) << "the existing directory's time changed";
  ASSERT_TRUE(Restore(b, root.Sub("t2"), false).ok());
  ASSERT_EQ(::stat(root.Sub("t2/d").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0777u) << "a directory the restore made gets the snapshot's mode";
  EXPECT_EQ(st.st_mtime, 1700000000);
}

TEST_F(RestoreTargetTest, PathThatMatchesNothingIsAnErrorAndWritesNothing) {
  TempDir root("kura-nomatch");
  auto b = BackupNodes({{"home", EntryType::kDirectory, {}, "", 0755, 1700000000},
                        {"home/a.txt", EntryType::kFile, testing::TextBytes(10), "", 0644, 1700000000}});
  auto r = Restore(b, root.Sub("t"), false, {"/home/b.txt"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kNotFound);
  EXPECT_NE(r.status().message().find("/home/b.txt"), std::string::npos) << r.status().message();
  EXPECT_FALSE(testing::Exists(root.Sub("t"))) << "nothing is written for a --path that matches nothing";
  // A prefix of a path is no match either ("hom" is not "home"), one good path does not excuse a bad one.
  EXPECT_EQ(Restore(b, root.Sub("t"), false, {"/hom"}).status().code(), Code::kNotFound);
  EXPECT_EQ(Restore(b, root.Sub("t"), false, {"/home/a.txt", "/nope"}).status().code(), Code::kNotFound);
  auto ok = Restore(b, root.Sub("t"), false, {"/home/a.txt/"});
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->files, 1u);
  auto dir = Restore(b, root.Sub("t3"), false, {"home"});
  ASSERT_TRUE(dir.ok());
  EXPECT_EQ(dir->files, 1u);
}

// Sparse files, through the real files source and a local repository.
TEST_F(RestoreTargetTest, SparseFileStaysSparseThroughBackupAndRestore) {
  TempDir src("kura-sparse-src"), dst("kura-sparse-dst"), repo_dir("kura-sparse-repo");
  const off_t size = 64 << 20;
  std::string path = src.Sub("disk.img");
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0640);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::ftruncate(fd, size), 0);
  Bytes a = testing::SeededBytes(1, 100000), c = testing::SeededBytes(2, 5000);
  ASSERT_EQ(::pwrite(fd, a.data(), a.size(), 1 << 20), static_cast<ssize_t>(a.size()));
  ASSERT_EQ(::pwrite(fd, c.data(), c.size(), 40 << 20), static_cast<ssize_t>(c.size()));
  ::close(fd);
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  if (st.st_blocks * 512 >= size) GTEST_SKIP() << "this file system does not make holes";
  testing::WriteFile(src.Sub("dense.bin"), testing::SeededBytes(3, 300000));

  auto local = LocalStore::Open(repo_dir.Sub("repo"), true);
  ASSERT_TRUE(local.ok());
  auto repo = Init(local->get());
  FilesSourceOptions fo;
  fo.paths = {src.path()};
  auto source = NewFilesSource(fo);
  BackupOptions bo;
  bo.threads = 2;
  ASSERT_TRUE(RunBackup(*repo, *source, bo).ok());
  auto snap = repo->FindSnapshot("latest");
  auto meta = repo->LoadMeta(snap->id);
  ASSERT_TRUE(meta.ok());
  std::string rel = src.path().substr(1);
  for (const SnapshotEntry& e : meta->entries) {
    if (e.meta.path == rel + "/disk.img") {
      EXPECT_TRUE(e.meta.sparse) << "holes not recorded";
    }
    if (e.meta.path == rel + "/dense.bin") {
      EXPECT_FALSE(e.meta.sparse);
    }
  }
  RestoreOptions ro;
  ro.target_dir = dst.Sub("out");
  auto r = RestoreToDirectory(*repo, *snap, *meta, ro);
  ASSERT_TRUE(r.ok() && r->Outcome().ok());
  std::string out = dst.Sub("out/" + rel + "/disk.img");
  ASSERT_EQ(::stat(out.c_str(), &st), 0);
  EXPECT_EQ(st.st_size, size);
  EXPECT_LT(st.st_blocks * 512, 4 << 20)
      << "the restored file is not sparse: " << st.st_blocks * 512 << " bytes allocated";
  EXPECT_EQ(testing::ReadFileString(out), testing::ReadFileString(path)) << "restored bytes differ";
  EXPECT_EQ(testing::ReadFileString(dst.Sub("out/" + rel + "/dense.bin")),
            testing::ReadFileString(src.Sub("dense.bin")));
}

}  // namespace
}  // namespace kura
