// What a user of a local (disk or NAS) repository would notice: the layout and
// permissions on disk, leftovers of killed processes, the lock surviving nothing but its
// holder, and a full disk.
#include "objstore/local_store.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "objstore/fault_store.h"
#include "util/i18n.h"

namespace kura {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/kura-objstore-XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string Name(int i) {
  return fmt::format("{:064x}", i);
}
Bytes Data(const std::string& text) {
  return Bytes(text.begin(), text.end());
}

int Mode(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return -1;
  return static_cast<int>(st.st_mode & 07777);
}

std::vector<std::string> TemporaryFilesUnder(const std::string& root) {
  std::vector<std::string> out;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (entry.path().filename().string().starts_with(".tmp-")) out.push_back(entry.path().string());
  }
  return out;
}

void WriteRaw(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// A fixed "now" for file times, so no test depends on the real clock.
constexpr int64_t kNow = 1790000000;

void SetAge(const std::string& path, int seconds_ago) {
  struct timespec times[2];
  times[0].tv_sec = times[1].tv_sec = kNow - seconds_ago;
  times[0].tv_nsec = times[1].tv_nsec = 0;
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0) << path;
}

// Restores the message language when a test switches it.
class LanguageGuard {
 public:
  explicit LanguageGuard(Language lang) : saved_(CurrentLanguage()) { SetLanguage(lang); }
  ~LanguageGuard() { SetLanguage(saved_); }

 private:
  Language saved_;
};

class LocalStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = dir_.path() + "/repo";
    auto store = LocalStore::Open(root_, /*create=*/true);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
  }

  TempDir dir_;
  std::string root_;
  std::unique_ptr<LocalStore> store_;
};

TEST_F(LocalStoreTest, ObjectsLandWhereTheLayoutSays) {
  std::string pack = "ab" + Name(1).substr(2);
  ASSERT_TRUE(store_->Put(ObjectType::kConfig, "config", Data("c")).ok());
  ASSERT_TRUE(store_->Put(ObjectType::kKey, Name(2), Data("k")).ok());
  ASSERT_TRUE(store_->Put(ObjectType::kPack, pack, Data("p")).ok());
  ASSERT_TRUE(store_->Put(ObjectType::kSnapshot, Name(3), Data("s")).ok());
  EXPECT_TRUE(fs::is_regular_file(root_ + "/config"));
  EXPECT_TRUE(fs::is_regular_file(root_ + "/keys/" + Name(2)));
  EXPECT_TRUE(fs::is_regular_file(root_ + "/data/ab/" + pack));
  EXPECT_TRUE(fs::is_regular_file(root_ + "/snapshots/" + Name(3)));
  EXPECT_EQ(store_->ObjectPath(ObjectType::kPack, pack), root_ + "/data/ab/" + pack);
  EXPECT_TRUE(TemporaryFilesUnder(root_).empty());
}

TEST(LocalStorePermissionsTest, FilesAre0600AndDirectories0700WhateverTheUmask) {
  TempDir dir;
  mode_t saved = ::umask(0);  // the most permissive umask must not widen anything
  auto store = LocalStore::Open(dir.path() + "/repo", true);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  std::string pack = "cd" + Name(1).substr(2);
  Status put = (*store)->Put(ObjectType::kPack, pack, Data("p"));
  Status config = (*store)->Put(ObjectType::kConfig, "config", Data("c"));
  Status key = (*store)->Put(ObjectType::kKey, Name(2), Data("k"));
  auto lock = (*store)->Lock(LockMode::kExclusive, 0);
  ::umask(saved);
  ASSERT_TRUE(put.ok() && config.ok() && key.ok() && lock.ok());
  const std::string root = dir.path() + "/repo";
  for (const char* d : {"", "/keys", "/data", "/data/cd", "/snapshots"}) {
    EXPECT_EQ(Mode(root + d), 0700) << d;
  }
  for (const std::string& f :
       std::vector<std::string>{"/config", "/keys/" + Name(2), "/data/cd/" + pack, "/lock", "/lock.info"}) {
    EXPECT_EQ(Mode(root + f), 0600) << f;
  }
}

TEST_F(LocalStoreTest, TruncatedFileIsCorruptionNamingTheObject) {
  ASSERT_TRUE(store_->Put(ObjectType::kPack, Name(5), Bytes(100, 0x5a)).ok());
  fs::resize_file(store_->ObjectPath(ObjectType::kPack, Name(5)), 50);
  EXPECT_TRUE(store_->GetRange(ObjectType::kPack, Name(5), 0, 50).ok());
  auto r = store_->GetRange(ObjectType::kPack, Name(5), 40, 20);
  EXPECT_EQ(r.status().code(), Code::kCorruption);
  EXPECT_NE(r.status().message().find(Name(5)), std::string::npos) << r.status().message();
}

TEST_F(LocalStoreTest, TemporaryFilesAndStrangersAreInvisibleToList) {
  std::string pack = "ab" + Name(1).substr(2);
  ASSERT_TRUE(store_->Put(ObjectType::kPack, pack, Data("p")).ok());
  ASSERT_TRUE(store_->Put(ObjectType::kKey, Name(2), Data("k")).ok());
  WriteRaw(root_ + "/data/ab/.tmp-123-0123456789abcdef", "half a pack");
  WriteRaw(root_ + "/keys/.tmp-123-0123456789abcdef", "half a key");
  WriteRaw(root_ + "/keys/README.txt", "notes someone left");
  WriteRaw(root_ + "/data/ab/" + Name(9), "a pack in the wrong shard");
  WriteRaw(root_ + "/data/ab/" + std::string(64, 'F'), "uppercase");
  fs::create_directories(root_ + "/data/zz");
  WriteRaw(root_ + "/data/zz/" + "zz" + Name(1).substr(2), "not a shard");
  fs::create_directories(root_ + "/snapshots/" + Name(3));  // a directory with an object's name

  auto packs = store_->List(ObjectType::kPack);
  ASSERT_TRUE(packs.ok());
  ASSERT_EQ(packs->size(), 1u);
  EXPECT_EQ((*packs)[0].name, pack);
  auto keys = store_->List(ObjectType::kKey);
  ASSERT_EQ(keys->size(), 1u);
  EXPECT_EQ((*keys)[0].name, Name(2));
  EXPECT_TRUE(store_->List(ObjectType::kSnapshot)->empty());
}

TEST_F(LocalStoreTest, RemoveStaleTemporaryFilesCleansOnlyOldOnes) {
  ASSERT_TRUE(store_->Put(ObjectType::kPack, "ab" + Name(1).substr(2), Data("p")).ok());
  const std::vector<std::string> stale = {root_ + "/.tmp-1-aaaa", root_ + "/keys/.tmp-1-bbbb",
                                          root_ + "/data/ab/.tmp-1-cccc", root_ + "/snapshots/.tmp-1-dddd"};
  for (const std::string& path : stale) {
    WriteRaw(path, "left by a killed process");
    SetAge(path, 2 * 3600);
  }
  const std::string fresh = root_ + "/data/ab/.tmp-2-eeee";  // a Put still in progress
  WriteRaw(fresh, "being written");
  SetAge(fresh, 60);

  ASSERT_TRUE(store_->RemoveStaleTemporaryFiles(kNow - 3600).ok());
  for (const std::string& path : stale) EXPECT_FALSE(fs::exists(path)) << path;
  EXPECT_TRUE(fs::exists(fresh));
  EXPECT_EQ(store_->List(ObjectType::kPack)->size(), 1u);  // objects untouched
}

TEST_F(LocalStoreTest, ListReportsEachObjectsMtime) {
  const std::string name = "ab" + Name(3).substr(2);
  ASSERT_TRUE(store_->Put(ObjectType::kPack, name, Data("p")).ok());
  SetAge(store_->ObjectPath(ObjectType::kPack, name), 7200);
  auto packs = store_->List(ObjectType::kPack);
  ASSERT_TRUE(packs.ok());
  ASSERT_EQ(packs->size(), 1u);
  EXPECT_EQ((*packs)[0].mtime, kNow - 7200) << "prune's grace period is measured against this";
}

// Two `kura init` racing on one directory both reported success: the config is created
// exclusively, so exactly one of many concurrent creators wins.
TEST_F(LocalStoreTest, PutIfAbsentLetsExactlyOneOfManyConcurrentCreatorsWin) {
  for (int round = 0; round < 20; ++round) {
    ::unlink((root_ + "/config").c_str());
    std::atomic<int> won{0}, lost{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        Status st = store_->PutIfAbsent(ObjectType::kConfig, "config", Data("creator " + std::to_string(t)));
        if (st.ok())
          ++won;
        else if (st.code() == Code::kAlreadyExists)
          ++lost;
      });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(won.load(), 1) << "round " << round;
    EXPECT_EQ(lost.load(), 3) << "round " << round;
  }
  for (const auto& e : fs::directory_iterator(root_)) {
    EXPECT_NE(e.path().filename().string().rfind(".tmp-", 0), 0u) << "left a temporary file: " << e.path();
  }
}

TEST_F(LocalStoreTest, MoveAsideKeepsTheBytesWhereNoListSeesThem) {
  ASSERT_TRUE(store_->Put(ObjectType::kSnapshot, Name(4), Data("damaged")).ok());
  ASSERT_TRUE(store_->MoveAside(ObjectType::kSnapshot, Name(4)).ok());
  EXPECT_TRUE(store_->List(ObjectType::kSnapshot)->empty());
  EXPECT_EQ(store_->Get(ObjectType::kSnapshot, Name(4)).status().code(), Code::kNotFound);
  EXPECT_TRUE(fs::exists(root_ + "/damaged/snapshots/" + Name(4)));
  EXPECT_EQ(store_->MoveAside(ObjectType::kSnapshot, Name(4)).code(), Code::kNotFound);
}

TEST(LocalStoreInitTest, CreateSetsAPreexistingDirectoryTo0700) {
  TempDir dir;
  const std::string root = dir.path() + "/repo";
  ASSERT_EQ(::mkdir(root.c_str(), 0777), 0);
  ASSERT_EQ(::chmod(root.c_str(), 0777), 0);
  ASSERT_TRUE(LocalStore::Open(root, true).ok());
  struct stat st {};
  ASSERT_EQ(::stat(root.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
}

TEST(LocalStoreInitTest, CreateRefusesANonEmptyDirectoryThatIsNotARepository) {
  TempDir dir;
  const std::string root = dir.path() + "/docs";
  ASSERT_EQ(::mkdir(root.c_str(), 0755), 0);
  WriteRaw(root + "/report.xlsx", "x");
  auto r = LocalStore::Open(root, true);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_NE(r.status().message().find("report.xlsx"), std::string::npos) << r.status().message();
  struct stat st {};
  ASSERT_EQ(::stat(root.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0755u) << "a refused directory is left as it was";
  // A directory kura itself left (an init interrupted after its subdirectories) is fine.
  TempDir dir2;
  const std::string half = dir2.path() + "/half";
  ASSERT_EQ(::mkdir(half.c_str(), 0700), 0);
  ASSERT_EQ(::mkdir((half + "/keys").c_str(), 0700), 0);
  ASSERT_EQ(::mkdir((half + "/lost+found").c_str(), 0700), 0);
  EXPECT_TRUE(LocalStore::Open(half, true).ok());
}

TEST(LocalStoreOpenTest, MissingRepositoryIsNotFoundNamingThePath) {
  TempDir dir;
  const std::string missing = dir.path() + "/no-such-repo";
  {
    LanguageGuard lang(Language::kJapanese);
    auto r = LocalStore::Open(missing, false);
    EXPECT_EQ(r.status().code(), Code::kNotFound);
    EXPECT_NE(r.status().message().find("リポジトリが見つかりません"), std::string::npos)
        << r.status().message();
    EXPECT_NE(r.status().message().find(missing), std::string::npos);
    EXPECT_EQ(r.status().advice(), Advice::kCreateRepository);  // kura words it "kura init"
  }
  {
    LanguageGuard lang(Language::kEnglish);
    auto r = OpenObjectStore("file://" + missing, false);
    EXPECT_EQ(r.status().code(), Code::kNotFound);
    EXPECT_NE(r.status().message().find("repository not found"), std::string::npos) << r.status().message();
    EXPECT_NE(r.status().message().find(missing), std::string::npos);
  }
  EXPECT_FALSE(fs::exists(missing));  // looking must not create it
}

TEST(LocalStoreOpenTest, CreateMakesTheDirectoryAndReopenSeesTheObjects) {
  TempDir dir;
  const std::string root = dir.path() + "/repo";
  {
    auto store = OpenObjectStore(root, true);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    ASSERT_TRUE((*store)->Put(ObjectType::kSnapshot, Name(1), Data("s")).ok());
    EXPECT_EQ((*store)->Location(), root);
  }
  auto again = OpenObjectStore("file://" + root + "/", false);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(*(*again)->Get(ObjectType::kSnapshot, Name(1)), Data("s"));
}

TEST(LocalStoreOpenTest, FileUrlMayBePercentEncoded) {
  TempDir dir;
  fs::create_directories(dir.path() + "/蔵 repo");
  auto store = OpenObjectStore("file://" + dir.path() + "/%E8%94%B5%20repo", false);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ((*store)->Location(), dir.path() + "/蔵 repo");
}

TEST(LocalStoreOpenTest, CreateNeedsAnExistingParent) {
  TempDir dir;
  auto r = LocalStore::Open(dir.path() + "/missing/repo", true);
  EXPECT_EQ(r.status().code(), Code::kNotFound);
  EXPECT_NE(r.status().message().find(dir.path() + "/missing"), std::string::npos) << r.status().message();
}

TEST(LocalStoreOpenTest, RefusesAFileAndUnknownSchemes) {
  TempDir dir;
  WriteRaw(dir.path() + "/file", "x");
  EXPECT_EQ(LocalStore::Open(dir.path() + "/file", false).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(OpenObjectStore("s3://bucket/prefix", false).status().code(), Code::kUnsupported);
  EXPECT_EQ(OpenObjectStore("file://otherhost/path", false).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(OpenObjectStore("", false).status().code(), Code::kInvalidArgument);
}

// Forks a child that opens `root`, takes `mode` and sleeps until killed. Returns its pid
// once it holds the lock.
pid_t ChildHoldingLock(const std::string& root, LockMode mode) {
  int fds[2];
  if (::pipe(fds) != 0) return -1;
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    auto store = LocalStore::Open(root, false);
    if (!store.ok()) ::_exit(2);
    auto lock = (*store)->Lock(mode, 0);
    if (!lock.ok()) ::_exit(3);
    char ok = 'y';
    if (::write(fds[1], &ok, 1) != 1) ::_exit(4);
    for (;;) ::pause();
  }
  ::close(fds[1]);
  char c = 0;
  ssize_t n = ::read(fds[0], &c, 1);
  ::close(fds[0]);
  if (n != 1) {
    ::waitpid(pid, nullptr, 0);
    return -1;
  }
  return pid;
}

TEST_F(LocalStoreTest, LockOfAProcessKilledWithSigkillIsReleased) {
  pid_t child = ChildHoldingLock(root_, LockMode::kExclusive);
  ASSERT_GT(child, 0);
  auto blocked = store_->Lock(LockMode::kShared, 200);
  EXPECT_EQ(blocked.status().code(), Code::kLocked);
  // lock.info lets the message say who holds the repository.
  EXPECT_NE(blocked.status().message().find(std::to_string(child)), std::string::npos)
      << blocked.status().message();

  ASSERT_EQ(::kill(child, SIGKILL), 0);
  ASSERT_EQ(::waitpid(child, nullptr, 0), child);
  EXPECT_TRUE(fs::exists(root_ + "/lock.info"));  // the killed holder could not clean up

  auto shared = store_->Lock(LockMode::kShared, 2000);
  ASSERT_TRUE(shared.ok()) << shared.status().ToString();
  EXPECT_FALSE(fs::exists(root_ + "/lock.info"));  // a stale record does not outlive its holder
  shared->reset();
  auto exclusive = store_->Lock(LockMode::kExclusive, 2000);
  EXPECT_TRUE(exclusive.ok()) << exclusive.status().ToString();
}

TEST_F(LocalStoreTest, LockedMessageIsBilingual) {
  pid_t child = ChildHoldingLock(root_, LockMode::kShared);
  ASSERT_GT(child, 0);
  {
    LanguageGuard lang(Language::kJapanese);
    auto r = store_->Lock(LockMode::kExclusive, 50);
    EXPECT_EQ(r.status().code(), Code::kLocked);
    EXPECT_NE(r.status().message().find("別の kura の処理がこのリポジトリを使用中です"), std::string::npos)
        << r.status().message();
  }
  {
    LanguageGuard lang(Language::kEnglish);
    auto r = store_->Lock(LockMode::kExclusive, 50);
    EXPECT_NE(r.status().message().find("another kura process is using this repository"), std::string::npos)
        << r.status().message();
    EXPECT_NE(r.status().message().find(root_), std::string::npos);
  }
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
}

TEST_F(LocalStoreTest, ExclusiveHolderRecordIsRemovedOnRelease) {
  auto lock = store_->Lock(LockMode::kExclusive, 0);
  ASSERT_TRUE(lock.ok());
  std::ifstream info(root_ + "/lock.info");
  std::string text((std::istreambuf_iterator<char>(info)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("pid=" + std::to_string(::getpid())), std::string::npos) << text;
  lock->reset();
  EXPECT_FALSE(fs::exists(root_ + "/lock.info"));
  EXPECT_TRUE(fs::exists(root_ + "/lock"));  // never removed: see local_lock.h
}

// A torn write through FaultStore leaves exactly what a crash on a filesystem without
// atomic rename would: a short file under the final name.
TEST_F(LocalStoreTest, TornWriteLeavesAShortObjectThatReadsAsCorruption) {
  FaultStore faulty(store_.get());
  faulty.TearNextPut(10);
  EXPECT_EQ(faulty.Put(ObjectType::kPack, Name(1), Bytes(100, 1)).code(), Code::kIOError);
  EXPECT_EQ(fs::file_size(store_->ObjectPath(ObjectType::kPack, Name(1))), 10u);
  EXPECT_EQ(store_->GetRange(ObjectType::kPack, Name(1), 0, 100).status().code(), Code::kCorruption);
  // Put does not repair an existing object (it is immutable); Delete first.
  ASSERT_TRUE(store_->Put(ObjectType::kPack, Name(1), Bytes(100, 1)).ok());
  EXPECT_EQ(fs::file_size(store_->ObjectPath(ObjectType::kPack, Name(1))), 10u);
  ASSERT_TRUE(store_->Delete(ObjectType::kPack, Name(1)).ok());
  ASSERT_TRUE(store_->Put(ObjectType::kPack, Name(1), Bytes(100, 1)).ok());
  EXPECT_EQ(*store_->Get(ObjectType::kPack, Name(1)), Bytes(100, 1));
}

// A real full disk: a 2 MiB tmpfs. Needs CAP_SYS_ADMIN (the test runs as root in CI).
class TmpfsMount {
 public:
  explicit TmpfsMount(const std::string& dir) : dir_(dir) {
    fs::create_directories(dir_);
    if (::mount("tmpfs", dir_.c_str(), "tmpfs", 0, "size=2m,mode=0755") == 0) {
      mounted_ = true;
    } else {
      error_ = std::strerror(errno);
    }
  }
  ~TmpfsMount() {
    if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }
  const std::string& error() const { return error_; }

 private:
  std::string dir_;
  bool mounted_ = false;
  std::string error_;
};

TEST(LocalStoreDiskFullTest, FullDiskIsNoSpaceAndLeavesNoPartialObject) {
  TempDir dir;
  TmpfsMount mount(dir.path() + "/small-disk");
  if (!mount.mounted()) GTEST_SKIP() << "cannot mount a tmpfs here (" << mount.error() << "); needs root";
  const std::string root = dir.path() + "/small-disk/repo";
  auto store = LocalStore::Open(root, true);
  ASSERT_TRUE(store.ok()) << store.status().ToString();

  const Bytes chunk(512 * 1024, 0x42);
  Status st;
  int i = 0;
  for (; i < 16; ++i) {
    st = (*store)->Put(ObjectType::kPack, Name(i), chunk);
    if (!st.ok()) break;
  }
  ASSERT_FALSE(st.ok()) << "2 MiB tmpfs never filled up";
  EXPECT_EQ(st.code(), Code::kNoSpace) << st.ToString();
  EXPECT_NE(st.message().find(Name(i)), std::string::npos) << st.message();  // names what failed
  EXPECT_FALSE(fs::exists((*store)->ObjectPath(ObjectType::kPack, Name(i))));
  EXPECT_TRUE(TemporaryFilesUnder(root).empty());
  auto listed = (*store)->List(ObjectType::kPack);
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->size(), static_cast<size_t>(i));
  for (int j = 0; j < i; ++j) EXPECT_EQ(*(*store)->Get(ObjectType::kPack, Name(j)), chunk);

  // Freeing space lets the next attempt through.
  ASSERT_TRUE((*store)->Delete(ObjectType::kPack, Name(0)).ok());
  EXPECT_TRUE((*store)->Put(ObjectType::kPack, Name(i), chunk).ok());
}

}  // namespace
}  // namespace kura
