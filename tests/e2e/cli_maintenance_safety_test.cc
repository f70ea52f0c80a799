// Issue 6 §4 through the real binary: init on a shared or careless directory, damaged
// snapshots that can be seen and moved aside, and backups racing prunes with the lock file
// removed (an admin "cleaning a stale lock") while some are killed midway.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <random>
#include <thread>

#include "support/e2e_kura.h"

namespace kura::testing {
namespace {

using nlohmann::json;

class CliMaintenanceSafetyTest : public KuraE2ETest {};

// Two `kura init` on one directory both reported success, with different IDs.
TEST_F(CliMaintenanceSafetyTest, TwoConcurrentInitsOnOneDirectoryExactlyOneSucceeds) {
  for (int round = 0; round < 8; ++round) {
    std::string repo = dir_.Sub("race" + std::to_string(round));
    if (round % 2 == 1) std::filesystem::create_directories(repo);  // an empty directory made beforehand
    Env env = env_;
    env["KURA_REPOSITORY"] = repo;
    pid_t a = StartKura({"init"}, env);
    pid_t b = StartKura({"init"}, env);
    int ca = WaitKura(a), cb = WaitKura(b);
    EXPECT_TRUE((ca == 0) != (cb == 0)) << "round " << round << ": exit codes " << ca << " and " << cb;
    // The winner's repository opens with the password, and holds only the winner's key.
    KuraRun list = RunKura({"--json", "snapshots"}, env);
    EXPECT_EQ(list.exit_code, 0) << list.err;
    size_t slots = 0;
    for (const auto& e : std::filesystem::directory_iterator(repo + "/keys")) {
      if (e.path().filename().string().rfind(".tmp-", 0) != 0) ++slots;
    }
    EXPECT_EQ(slots, 1u) << "round " << round << ": the loser's key slot was left behind";
  }
}

TEST_F(CliMaintenanceSafetyTest, InitLosingTheRaceSaysAnotherInitCreatedIt) {
  InitRepo();
  KuraRun again = Kura({"--lang", "en", "init"});
  EXPECT_NE(again.exit_code, 0);
  EXPECT_NE(again.err.find("already holds a repository"), std::string::npos) << again.err;
}

// init kept a pre-existing 0777 directory's mode; another local user then deleted config.
TEST_F(CliMaintenanceSafetyTest, InitSetsMode0700OnAPreexistingWorldWritableDirectory) {
  std::filesystem::create_directories(repo_);
  ASSERT_EQ(::chmod(repo_.c_str(), 0777), 0);
  InitRepo();
  struct stat st {};
  ASSERT_EQ(::stat(repo_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
}

TEST_F(CliMaintenanceSafetyTest, InitRefusesANonEmptyDirectoryThatIsNotARepository) {
  std::filesystem::create_directories(repo_);
  WriteFile(repo_ + "/患者一覧.csv", "山田,太郎\n");
  KuraRun ja = Kura({"init"});
  EXPECT_EQ(ja.exit_code, kExitUsage) << ja.err;
  EXPECT_NE(ja.err.find("空ではなく"), std::string::npos) << ja.err;
  KuraRun en = Kura({"--lang", "en", "init"});
  EXPECT_NE(en.err.find("is not empty and is not a kura repository"), std::string::npos) << en.err;
  EXPECT_NE(en.err.find(repo_), std::string::npos) << en.err;
  EXPECT_FALSE(std::filesystem::exists(repo_ + "/config"));
  EXPECT_EQ(ReadFileString(repo_ + "/患者一覧.csv"), "山田,太郎\n") << "the user's file was touched";
}

// Killed backups left .tmp-* files for ever: the cleanup existed but was never called.
TEST_F(CliMaintenanceSafetyTest, PruneRemovesTemporaryFilesOfKilledBackupsOnceOlderThanTheGrace) {
  InitRepo();
  std::filesystem::create_directories(repo_ + "/data/ab");
  const std::string stale = repo_ + "/data/ab/.tmp-4242-0123456789abcdef";
  const std::string fresh = repo_ + "/data/ab/.tmp-4243-fedcba9876543210";  // a Put in progress
  WriteFile(stale, SeededBytes(3, 100000));
  WriteFile(fresh, SeededBytes(4, 100000));
  struct timespec old_times[2] = {{1577836800, 0}, {1577836800, 0}};  // 2020-01-01: long past any grace
  ASSERT_EQ(::utimensat(AT_FDCWD, stale.c_str(), old_times, 0), 0);
  KuraRun r = Kura({"prune"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(std::filesystem::exists(stale)) << "a killed backup's temporary file was left";
  EXPECT_TRUE(std::filesystem::exists(fresh)) << "a temporary file younger than the grace was removed";
}

// One damaged snapshot object stopped prune for good and `forget ID` said "not found".
TEST_F(CliMaintenanceSafetyTest, DamagedSnapshotIsListedForgottenIntoDamagedAndPruneGoesOn) {
  InitRepo();
  WriteFile(dir_.Sub("a/a.bin"), SeededBytes(1, 200000));
  WriteFile(dir_.Sub("b/b.bin"), SeededBytes(2, 200000));
  std::string a = BackupPaths({dir_.Sub("a")});
  std::string b = BackupPaths({dir_.Sub("b")});
  ASSERT_FALSE(a.empty() || b.empty());
  {
    std::string path = repo_ + "/snapshots/" + a;
    std::string bytes = ReadFileString(path);
    bytes[bytes.size() / 2] ^= 1;
    WriteFile(path, bytes);
  }
  KuraRun list = Kura({"--lang", "en", "snapshots"});
  EXPECT_EQ(list.exit_code, kExitDamaged);
  EXPECT_NE(list.out.find(a.substr(0, 8) + "   DAMAGED"), std::string::npos) << list.out;
  EXPECT_NE(list.out.find(b.substr(0, 8)), std::string::npos) << list.out;
  json j = KuraJson({"snapshots"}, kExitDamaged);
  bool marked = false;
  for (const json& s : j) marked |= s.value("id", "") == a && s.value("damaged", false);
  EXPECT_TRUE(marked) << j.dump();

  KuraRun prune = Kura({"--lang", "en", "prune", "--grace", "0"});
  EXPECT_EQ(prune.exit_code, 0) << "one damaged snapshot stopped prune: " << prune.err;
  EXPECT_NE(prune.err.find(a.substr(0, 8)), std::string::npos) << "prune warns about it: " << prune.err;

  KuraRun forget = Kura({"--lang", "en", "forget", a.substr(0, 8)});
  ASSERT_EQ(forget.exit_code, 0) << forget.err;
  EXPECT_NE(forget.out.find("moved damaged snapshot"), std::string::npos) << forget.out;
  EXPECT_TRUE(std::filesystem::exists(repo_ + "/damaged/snapshots/" + a)) << "moved aside, not deleted";
  EXPECT_FALSE(std::filesystem::exists(repo_ + "/snapshots/" + a));
  EXPECT_EQ(Kura({"snapshots"}).exit_code, 0);
  EXPECT_GT(KuraJson({"prune", "--grace", "0"}).value("packs_deleted", 0), 0);
  KuraJson({"restore", b, "--target", dir_.Sub("out")});
  EXPECT_EQ(ReadTree(dir_.Sub("out") + dir_.Sub("b")), ReadTree(dir_.Sub("b")));
  EXPECT_TRUE(KuraJson({"verify", "--read-data"}).value("ok", false));
}

// Backups and prunes at once, the lock file removed under them, backups killed at random
// points: every snapshot is either absent or complete; verify --read-data is clean and
// each snapshot restores what was backed up. Seeded (the seed is printed).
TEST_F(CliMaintenanceSafetyTest, BackupsRacingPrunesWithTheLockRemovedLeaveOnlyCompleteSnapshots) {
  const uint32_t seed = ::testing::UnitTest::GetInstance()->random_seed() + 6004u;
  std::mt19937 rng(seed);
  SCOPED_TRACE("seed " + std::to_string(seed));
  InitRepo();
  struct Made {
    std::string src;
    std::map<std::string, std::string> tree;
  };
  std::map<std::string, Made> trees;  // snapshot -> what was backed up
  int backup_failed = 0;
  for (int round = 0; round < 6; ++round) {
    std::string src = dir_.Sub("src" + std::to_string(round % 2));
    // Some data shared with earlier rounds (dedup against packs a prune may delete), some new.
    WriteFile(src + "/shared.bin", SeededBytes(100 + rng() % 3, 3 << 20));
    WriteFile(src + "/new.bin", SeededBytes(200 + round, 4 << 20));
    std::map<std::string, std::string> tree = ReadTree(src);
    // Forget all but the newest snapshot, so a prune has old data to remove.
    json list = KuraJson({"snapshots"});
    std::vector<std::string> forget = {"forget"};
    for (size_t i = 0; i + 1 < list.size(); ++i) forget.push_back(list[i].value("id", ""));
    if (forget.size() > 1) {
      KuraJson(forget);
      for (size_t i = 1; i < forget.size(); ++i) trees.erase(forget[i]);
    }
    pid_t backup = StartKura({"--json", "backup", "--no-progress", src}, env_);
    std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 150));
    std::filesystem::remove(repo_ + "/lock");  // "cleaning a stale lock"
    KuraRun prune = Kura({"--json", "prune", "--grace", rng() % 2 ? "0" : "1h"});
    EXPECT_EQ(prune.exit_code, 0) << prune.err;
    if (rng() % 3 == 0) ::kill(backup, SIGKILL);
    int code = WaitKura(backup);
    EXPECT_TRUE(code == 0 || code == 14 || code == 128 + SIGKILL) << "backup exit " << code;
    if (code != 0) ++backup_failed;
    // What the backup made, if anything: a snapshot not seen before. A killed backup may
    // have written its snapshot just before the signal; that one must be complete too.
    for (const json& s : KuraJson({"snapshots"})) {
      std::string id = s.value("id", "");
      if (!trees.count(id)) trees[id] = Made{src, tree};
    }
  }
  KuraRun v = Kura({"--lang", "en", "verify", "--read-data"});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  int restored = 0;
  for (const json& s : KuraJson({"snapshots"})) {
    std::string id = s.value("id", "");
    auto it = trees.find(id);
    ASSERT_NE(it, trees.end()) << "snapshot " << id << " appeared without a backup";
    std::string out = dir_.Sub("out-" + id.substr(0, 8));
    KuraRun r = Kura({"restore", id, "--target", out});
    ASSERT_EQ(r.exit_code, 0) << id << ": " << r.err;
    EXPECT_TRUE(ReadTree(out + it->second.src) == it->second.tree)
        << "snapshot " << id.substr(0, 8) << " restored different bytes";
    ++restored;
  }
  EXPECT_GT(restored, 0);
}

}  // namespace
}  // namespace kura::testing
