// The everyday flows through the real binary: init, backup, snapshots, ls, restore, verify,
// forget, prune and key management, with --json parsed as a script would.
#include <gtest/gtest.h>
#include <unistd.h>

#include "support/e2e_kura.h"

namespace kura::testing {
namespace {

using nlohmann::json;

class CliFlowTest : public KuraE2ETest {};

TEST_F(CliFlowTest, BackupListRestoreVerifyForgetPrune) {
  json init = KuraJson({"init"});
  ASSERT_TRUE(init.value("ok", false));
  EXPECT_EQ(init.value("id", "").size(), 32u);

  std::string src = dir_.Sub("src");
  WriteFile(src + "/カルテ/患者1.txt", TextBytes(100000));
  WriteFile(src + "/images/xray.bin", SeededBytes(1, 3 << 20));
  WriteFile(src + "/empty", "");
  std::string first = BackupPaths({src}, {"--kind", "daily", "--tag", "night"});
  ASSERT_EQ(first.size(), 64u);

  WriteFile(src + "/カルテ/患者2.txt", TextBytes(5000));
  json second = KuraJson({"backup", src});
  EXPECT_EQ(second.value("files", 0), 4);
  EXPECT_LT(second.value("bytes_stored", uint64_t{1} << 40), 200000u)
      << "unchanged files are not stored again";

  json list = KuraJson({"snapshots"});
  ASSERT_TRUE(list.is_array());
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].value("id", ""), first);
  EXPECT_EQ(list[0].value("kind", ""), "daily");
  EXPECT_EQ(list[1].value("kind", ""), "manual");

  json ls = KuraJson({"ls", first.substr(0, 8)});
  EXPECT_EQ(ls.value("tags", json::array()), json::array({"night"}));
  bool saw = false;
  for (const json& e : ls["entries"]) {
    if (e.value("path", "").ends_with("images/xray.bin")) {
      saw = true;
      EXPECT_EQ(e.value("size", 0), 3 << 20);
    }
  }
  EXPECT_TRUE(saw) << ls.dump();

  json restored = KuraJson({"restore", "latest", "--target", dir_.Sub("out")});
  EXPECT_EQ(restored.value("files", 0), 4);
  EXPECT_EQ(ReadTree(dir_.Sub("out") + src), ReadTree(src)) << "restored tree differs";

  json verify = KuraJson({"verify", "--read-data"});
  EXPECT_TRUE(verify.value("ok", false));
  EXPECT_EQ(verify["snapshots"].size(), 2u);

  // A newer generation without 患者2.txt: the one with it is then no longer the source's
  // newest non-empty generation, which rules never remove.
  ::unlink((src + "/カルテ/患者2.txt").c_str());
  BackupPaths({src});
  json forget = KuraJson({"forget", "--keep-last", "manual=0"});
  EXPECT_EQ(forget["forgotten"].size(), 1u);
  EXPECT_EQ(forget["kept"].size(), 2u) << "the daily snapshot is under its own rule; the newest is kept";
  json prune = KuraJson({"prune", "--grace", "0"});  // the snapshots are seconds old
  EXPECT_TRUE(prune.value("ok", false));
  EXPECT_GT(prune.value("packs_deleted", 0), 0) << "患者2.txt was only in the forgotten snapshot";
  json after = KuraJson({"verify", "--read-data"});
  EXPECT_TRUE(after.value("ok", false));
  EXPECT_EQ(after.value("unreferenced_packs", 1), 0);
  KuraJson({"restore", first, "--target", dir_.Sub("out2")});
  EXPECT_EQ(ReadFileString(dir_.Sub("out2") + src + "/images/xray.bin"),
            ReadFileString(src + "/images/xray.bin"));
}

TEST_F(CliFlowTest, StdinBackupRestoresByteIdenticalToStdout) {
  InitRepo();
  Bytes dump = SeededBytes(7, 2 << 20);
  Append(dump, TextBytes(500000));
  std::string data(dump.begin(), dump.end());
  KuraRun b = Kura({"--json", "backup", "--stdin", "--stdin-name", "pg_dump.sql"}, {}, data);
  ASSERT_EQ(b.exit_code, 0) << b.err;
  KuraRun r = Kura({"restore", "latest", "--stdout"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.out == data) << "restored " << r.out.size() << " bytes of " << data.size();
}

TEST_F(CliFlowTest, MessagesAreJapaneseByDefaultAndEnglishOnRequest) {
  KuraRun ja = Kura({"init"});
  ASSERT_EQ(ja.exit_code, 0) << ja.err;
  EXPECT_NE(ja.out.find("リポジトリを作成しました"), std::string::npos) << ja.out;
  KuraRun en = Kura({"--lang", "en", "snapshots"});
  EXPECT_NE(en.out.find("No snapshots yet."), std::string::npos) << en.out;
  KuraRun env_en = Kura({"snapshots"}, {{"LANG", "en_US.UTF-8"}});
  EXPECT_NE(env_en.out.find("No snapshots yet."), std::string::npos) << env_en.out;
  KuraRun flag_wins = Kura({"--lang", "ja", "snapshots"}, {{"LANG", "en_US.UTF-8"}});
  EXPECT_NE(flag_wins.out.find("スナップショットはまだありません"), std::string::npos) << flag_wins.out;
}

TEST_F(CliFlowTest, KeyAddListRemove) {
  InitRepo();
  WriteFile(dir_.Sub("pw2"), "second password\n");
  json added = KuraJson({"key", "add", "--new-password-file", dir_.Sub("pw2"), "--label", "受付"});
  std::string id = added.value("id", "");
  ASSERT_EQ(id.size(), 64u);
  json keyfile = KuraJson({"key", "add", "--new-key-file", dir_.Sub("site.key")});
  ASSERT_TRUE(Exists(dir_.Sub("site.key")));

  json list = KuraJson({"key", "list"});
  ASSERT_EQ(list.size(), 3u);
  int current = 0;
  for (const json& k : list) current += k.value("current", false) ? 1 : 0;
  EXPECT_EQ(current, 1);

  // The new password and the key file open the repository on their own.
  EXPECT_EQ(Kura({"snapshots"}, {{"KURA_PASSWORD", "second password"}}).exit_code, kExitOk);
  Env key_only = env_;
  key_only.erase("KURA_PASSWORD");
  key_only["KURA_KEY_FILE"] = dir_.Sub("site.key");
  EXPECT_EQ(RunKura({"snapshots"}, key_only).exit_code, kExitOk);

  std::string original;
  for (const json& k : list) {
    if (k.value("current", false)) original = k.value("id", "");
  }
  KuraJson({"key", "remove", original.substr(0, 8)});
  KuraRun old = Kura({"--lang", "en", "snapshots"});
  EXPECT_EQ(old.exit_code, kExitUnauthorized) << "a removed password must stop working";
  KuraJson({"key", "remove", keyfile.value("id", "").substr(0, 8)}, 0,
           {{"KURA_PASSWORD", "second password"}});
  // Only one password slot left: it cannot be removed.
  KuraRun last =
      Kura({"--lang", "en", "key", "remove", id.substr(0, 8)}, {{"KURA_PASSWORD", "second password"}});
  EXPECT_EQ(last.exit_code, kExitUsage);
  EXPECT_NE(last.err.find("last password or key file"), std::string::npos) << last.err;
}

TEST_F(CliFlowTest, RecoveryKeyOpensARepositoryWithoutThePassword) {
  InitRepo();
  WriteFile(dir_.Sub("src/a.txt"), "受付の記録\n");
  BackupPaths({dir_.Sub("src")});
  KuraJson({"key", "generate-recovery", "--secret-key-file", dir_.Sub("vendor.sk"), "--public-key-file",
            dir_.Sub("vendor.pk")});
  KuraJson({"key", "add-recovery", "--public-key-file", dir_.Sub("vendor.pk")});
  Env vendor = env_;
  vendor.erase("KURA_PASSWORD");
  vendor["KURA_RECOVERY_KEY_FILE"] = dir_.Sub("vendor.sk");
  KuraRun r = RunKura({"restore", "latest", "--target", dir_.Sub("out")}, vendor);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFileString(dir_.Sub("out") + dir_.Sub("src/a.txt")), "受付の記録\n");
}

// Regression: --tag and --exclude took every following argument, so
// `kura backup --tag night /srv/data` used "/srv/data" as a second tag and failed with
// "give exactly one thing to back up".
TEST_F(CliFlowTest, TagAndExcludeTakeOneValueEach) {
  InitRepo();
  WriteFile(dir_.Sub("src/keep.txt"), "keep");
  WriteFile(dir_.Sub("src/scratch.tmp"), "drop");
  KuraRun r =
      Kura({"--json", "backup", "--tag", "night", "--exclude", "*.tmp", "--tag", "月次", dir_.Sub("src")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json ls = KuraJson({"ls", "latest"});
  EXPECT_EQ(ls["tags"], json::array({"night", "月次"}));
  std::string paths;
  for (const json& e : ls["entries"]) paths += e.value("path", "") + "\n";
  EXPECT_NE(paths.find("src/keep.txt"), std::string::npos) << paths;
  EXPECT_EQ(paths.find("scratch.tmp"), std::string::npos) << paths;
  KuraRun restore =
      Kura({"restore", "--path", dir_.Sub("src/keep.txt"), "latest", "--target", dir_.Sub("out")});
  EXPECT_EQ(restore.exit_code, 0) << restore.err;
  EXPECT_EQ(ReadFileString(dir_.Sub("out") + dir_.Sub("src/keep.txt")), "keep");
}

// Secrets never go on the command line, where `ps` shows them: there is no flag for one.
TEST_F(CliFlowTest, ThereIsNoPasswordFlag) {
  InitRepo();
  for (const char* flag : {"--password", "--password=x"}) {
    KuraRun r = Kura({"backup", flag, "x", dir_.path()});
    EXPECT_EQ(r.exit_code, kExitUsage) << flag << ": " << r.err;
    EXPECT_NE(r.err.find("使い方"), std::string::npos) << r.err;
  }
  KuraRun r = Kura({"--password", "x", "snapshots"});
  EXPECT_EQ(r.exit_code, kExitUsage);
}

}  // namespace
}  // namespace kura::testing
