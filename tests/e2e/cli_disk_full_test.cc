// A real full disk: the repository on a 16 MiB tmpfs, a 40 MB backup. kura must exit 7
// with a message about the disk, leave no snapshot, keep the earlier one restorable, and
// work again once space is freed.
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/statvfs.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "support/e2e_kura.h"

namespace kura::testing {
namespace {

using nlohmann::json;

class CliDiskFullTest : public KuraE2ETest {
 protected:
  void SetUp() override {
    mount_ = dir_.Sub("small-disk");
    std::filesystem::create_directories(mount_);
    if (::mount("tmpfs", mount_.c_str(), "tmpfs", 0, "size=16m,mode=0700") != 0) {
      GTEST_SKIP() << "cannot mount a tmpfs here (" << std::strerror(errno)
                   << "); needs root or CAP_SYS_ADMIN";
    }
    mounted_ = true;
    repo_ = mount_ + "/repo";
    env_["KURA_REPOSITORY"] = repo_;
  }
  void TearDown() override {
    if (mounted_) ::umount2(mount_.c_str(), MNT_DETACH);
  }
  uint64_t FreeBytes() {
    struct statvfs s {};
    ::statvfs(mount_.c_str(), &s);
    return uint64_t{s.f_bavail} * s.f_frsize;
  }

  std::string mount_;
  bool mounted_ = false;
};

TEST_F(CliDiskFullTest, BackupLargerThanTheDiskExits7AndLeavesNoSnapshot) {
  InitRepo();
  WriteFile(dir_.Sub("small/karte.txt"), TextBytes(200000));
  WriteFile(dir_.Sub("small/scan.bin"), SeededBytes(1, 1 << 20));
  std::string first = BackupPaths({dir_.Sub("small")});
  ASSERT_FALSE(first.empty());

  for (int i = 0; i < 4; ++i)
    WriteFile(dir_.Sub("big/part" + std::to_string(i)), SeededBytes(10 + i, 10 << 20));
  KuraRun ja = Kura({"backup", dir_.Sub("big")});
  EXPECT_EQ(ja.exit_code, kExitNoSpace) << ja.err;
  EXPECT_NE(ja.err.find("スナップショットは作成していません"), std::string::npos) << ja.err;
  KuraRun en = Kura({"--lang", "en", "backup", dir_.Sub("big")});
  EXPECT_EQ(en.exit_code, kExitNoSpace) << en.err;
  EXPECT_NE(en.err.find("no snapshot was made"), std::string::npos) << en.err;
  EXPECT_TRUE(en.err.find("full") != std::string::npos || en.err.find("space") != std::string::npos)
      << "the message says the disk is full: " << en.err;
  for (const auto& e : std::filesystem::recursive_directory_iterator(repo_)) {
    EXPECT_EQ(e.path().filename().string().rfind(".tmp-", 0), std::string::npos)
        << "a failed Put leaves no temporary file: " << e.path();
  }

  json list = KuraJson({"snapshots"});
  ASSERT_EQ(list.size(), 1u) << "no snapshot of the failed backup";
  EXPECT_EQ(list[0].value("id", ""), first);
  KuraJson({"restore", first, "--target", dir_.Sub("out")});
  EXPECT_EQ(ReadTree(dir_.Sub("out") + dir_.Sub("small")), ReadTree(dir_.Sub("small")));
  json verify = KuraJson({"verify", "--read-data"});
  EXPECT_TRUE(verify.value("ok", false)) << "packs left by the failed backup are not damage";

  // Free the space (prune removes what the failed backup left), then back up again.
  uint64_t before = FreeBytes();
  json prune = KuraJson({"prune", "--grace", "0"});  // the failed backup ran just now
  EXPECT_GT(prune.value("packs_deleted", 0), 0);
  EXPECT_GT(FreeBytes(), before + (4u << 20));
  std::filesystem::remove(dir_.Sub("big/part1"));
  std::filesystem::remove(dir_.Sub("big/part2"));
  std::filesystem::remove(dir_.Sub("big/part3"));
  std::string next = BackupPaths({dir_.Sub("big")});
  ASSERT_FALSE(next.empty());
  KuraJson({"restore", next, "--target", dir_.Sub("out2")});
  EXPECT_EQ(ReadFileString(dir_.Sub("out2") + dir_.Sub("big/part0")), ReadFileString(dir_.Sub("big/part0")));
  EXPECT_TRUE(KuraJson({"verify", "--read-data"}).value("ok", false));
}

// Issue 6 §4: prune on a full disk freed nothing, because it repacked first and the write
// failed. Wholly unused packs are deleted first; the repack then has room.
TEST_F(CliDiskFullTest, PruneOnAFullDiskDeletesUnusedPacksFirstThenRepacks) {
  InitRepo();
  WriteFile(dir_.Sub("old/scan.bin"), SeededBytes(40, 5 << 20));  // pack 1: wholly unused later
  std::string old_snap = BackupPaths({dir_.Sub("old")});
  WriteFile(dir_.Sub("two/keep.bin"), SeededBytes(41, 3 << 20));  // pack 2: half used later
  WriteFile(dir_.Sub("two/drop.bin"), SeededBytes(42, 3 << 20));
  std::string two = BackupPaths({dir_.Sub("two")});
  std::filesystem::remove(dir_.Sub("two/drop.bin"));
  std::string kept = BackupPaths({dir_.Sub("two")});
  ASSERT_FALSE(old_snap.empty() || two.empty() || kept.empty());
  KuraJson({"forget", old_snap, two});
  // Fill the disk to the last byte.
  {
    FILE* f = std::fopen((mount_ + "/filler").c_str(), "wb");
    ASSERT_NE(f, nullptr);
    Bytes block(1 << 16, 0x5a);
    while (std::fwrite(block.data(), 1, block.size(), f) == block.size()) {
    }
    std::fclose(f);
  }
  ASSERT_LT(FreeBytes(), 1u << 16);
  KuraRun r = Kura({"--lang", "en", "--json", "prune", "--grace", "0"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  json j = r.Json();
  EXPECT_GE(j.value("packs_deleted", 0), 2) << j.dump();
  EXPECT_EQ(j.value("packs_repacked", 0), 1) << j.dump();
  EXPECT_GT(FreeBytes(), 7u << 20) << "prune on a full disk must give the space back";
  std::filesystem::remove(mount_ + "/filler");
  KuraJson({"restore", kept, "--target", dir_.Sub("out")});
  EXPECT_EQ(ReadTree(dir_.Sub("out") + dir_.Sub("two")), ReadTree(dir_.Sub("two")));
  EXPECT_TRUE(KuraJson({"verify", "--read-data"}).value("ok", false));
}

// When even the deleted packs leave no room, the repack fails for ENOSPC: exit 7, the
// message says what prune did, and the repository is intact.
TEST_F(CliDiskFullTest, RepackThatFailsForNoSpaceSaysWhatItDidAndLeavesTheRepositoryIntact) {
  InitRepo();
  WriteFile(dir_.Sub("two/keep.bin"), SeededBytes(43, 3 << 20));
  WriteFile(dir_.Sub("two/drop.bin"), SeededBytes(44, 3 << 20));
  std::string two = BackupPaths({dir_.Sub("two")});
  std::filesystem::remove(dir_.Sub("two/drop.bin"));
  std::string kept = BackupPaths({dir_.Sub("two")});
  KuraJson({"forget", two});
  {
    FILE* f = std::fopen((mount_ + "/filler").c_str(), "wb");
    ASSERT_NE(f, nullptr);
    Bytes block(1 << 16, 0x5a);
    while (std::fwrite(block.data(), 1, block.size(), f) == block.size()) {
    }
    std::fclose(f);
  }
  KuraRun r = Kura({"--lang", "en", "prune", "--grace", "0"});
  EXPECT_EQ(r.exit_code, kExitNoSpace) << r.out << r.err;
  EXPECT_NE(r.err.find("repacking stopped"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("the repository is intact"), std::string::npos) << r.err;
  std::filesystem::remove(mount_ + "/filler");
  KuraJson({"restore", kept, "--target", dir_.Sub("out")});
  EXPECT_EQ(ReadTree(dir_.Sub("out") + dir_.Sub("two")), ReadTree(dir_.Sub("two")));
  EXPECT_TRUE(KuraJson({"verify", "--read-data"}).value("ok", false));
  // With space again, the same prune finishes.
  EXPECT_EQ(Kura({"prune", "--grace", "0"}).exit_code, 0);
}

}  // namespace
}  // namespace kura::testing
