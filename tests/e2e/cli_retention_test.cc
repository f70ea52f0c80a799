// `kura forget` through the real binary (issue 6 §3): the README's mixed repository keeps
// every source's generations, bad rule values are refused with the repository unchanged,
// and a snapshot stamped by a clock in the future is reported and never `latest`.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <set>

#include "engine/backup.h"
#include "objstore/object_store.h"
#include "repo/repository.h"
#include "sources/files.h"
#include "support/e2e_kura.h"
#include "util/clock.h"

namespace kura::testing {
namespace {

using nlohmann::json;

class CliRetentionTest : public KuraE2ETest {
 protected:
  std::set<std::string> SnapshotIds() {
    std::set<std::string> out;
    for (const json& s : KuraJson({"snapshots"})) out.insert(s.value("id", ""));
    return out;
  }
  std::string BackupStdin(const std::string& data, const std::string& name = "pg_dump.sql") {
    KuraRun r = Kura({"--json", "backup", "--stdin", "--stdin-name", name, "--kind", "daily"}, {}, data);
    EXPECT_EQ(r.exit_code, kExitOk) << r.err;
    return r.Json().value("snapshot", "");
  }
};

// README: a nightly files backup and `pg_dump | kura backup --stdin` into one repository,
// then `kura forget --prune`. All snapshots were one pool, and the files backup was deleted.
TEST_F(CliRetentionTest, ReadmeWorkflowForgetPruneKeepsTheFilesAndTheDumpGenerations) {
  InitRepo();
  std::string src = dir_.Sub("src");
  WriteFile(src + "/カルテ/患者1.txt", TextBytes(200000));
  WriteFile(src + "/images/xray.bin", SeededBytes(3, 1 << 20));
  std::string files = BackupPaths({src}, {"--kind", "daily"});
  std::string dump = BackupStdin("-- PostgreSQL database dump\nCREATE TABLE karte (id int);\n");
  ASSERT_FALSE(files.empty());
  ASSERT_FALSE(dump.empty());

  KuraRun dry = Kura({"--lang", "en", "forget", "--prune", "--dry-run"});
  ASSERT_EQ(dry.exit_code, kExitOk) << dry.err;
  EXPECT_NE(dry.out.find("source files:" + src), std::string::npos) << dry.out;
  EXPECT_NE(dry.out.find("source stdin:pg_dump.sql"), std::string::npos) << dry.out;
  EXPECT_EQ(SnapshotIds(), (std::set<std::string>{files, dump})) << "a dry run changes nothing";

  KuraRun r = Kura({"forget", "--prune"});
  ASSERT_EQ(r.exit_code, kExitOk) << r.err;
  EXPECT_EQ(SnapshotIds(), (std::set<std::string>{files, dump}));
  json restored = KuraJson({"restore", files, "--target", dir_.Sub("out")});
  EXPECT_EQ(ReadTree(dir_.Sub("out") + src), ReadTree(src)) << "the files generation must still restore";
  EXPECT_EQ(Kura({"restore", dump, "--stdout"}).out,
            "-- PostgreSQL database dump\nCREATE TABLE karte (id int);\n");

  // --group-by '' is the old single pool, for whoever asks for it; filters narrow it down.
  json one = KuraJson({"forget", "--dry-run", "--group-by", "", "--keep-last", "daily=1"});
  EXPECT_EQ(one["groups"].size(), 1u);
  EXPECT_EQ(one["forgotten"].size(), 1u);
  json only_dump =
      KuraJson({"forget", "--dry-run", "--source", "stdin:pg_dump.sql", "--keep-last", "daily=0"});
  EXPECT_EQ(only_dump["groups"].size(), 1u);
  EXPECT_EQ(only_dump["groups"][0]["source"].value("kind", ""), "stdin");
  json other_host = KuraJson({"forget", "--host", "no-such-host", "--keep-last", "daily=0"});
  EXPECT_EQ(other_host["forgotten"].size(), 0u);
  EXPECT_EQ(SnapshotIds(), (std::set<std::string>{files, dump}));
}

// `--keep-last manual=l` meant 0 and forgot every manual generation; `=3abc` meant 3.
TEST_F(CliRetentionTest, BadRuleValuesAreRefusedAndNothingIsDeleted) {
  InitRepo();
  std::string src = dir_.Sub("src");
  WriteFile(src + "/a.txt", TextBytes(1000));
  std::string a = BackupPaths({src});
  WriteFile(src + "/b.txt", TextBytes(2000));
  std::string b = BackupPaths({src});
  const std::set<std::string> before{a, b};
  const std::vector<std::vector<std::string>> bad = {
      {"--keep-last", "manual=l"},
      {"--keep-last", "manual=3abc"},
      {"--keep-last", "manual=-1"},
      {"--keep-last", "manual="},
      {"--keep-last", "=3"},
      {"--keep-last", "weekly=3"},
      {"--keep-last", "manual"},
      {"--keep-days", "daily=1.5"},
      {"--keep-months", "monthly=99999999999999999999"},
      {"--keep-last", "manual=1", "--keep-last", "manual=2"},
      {"--group-by", "hostname"},
      {"--keep-last", "manual=0", "--keep-last", "daily=x"},
  };
  for (const auto& flags : bad) {
    std::vector<std::string> args{"--lang", "en", "forget", "--prune"};
    args.insert(args.end(), flags.begin(), flags.end());
    KuraRun r = Kura(args);
    EXPECT_EQ(r.exit_code, kExitUsage) << ::testing::PrintToString(flags) << "\n" << r.out << r.err;
    EXPECT_NE(r.err.find(flags.size() == 2 ? flags[1] : flags.back()), std::string::npos)
        << "the message names the bad value: " << r.err;
    EXPECT_EQ(SnapshotIds(), before) << ::testing::PrintToString(flags);
  }
  KuraRun ja = Kura({"forget", "--keep-last", "manual=l"});
  EXPECT_EQ(ja.exit_code, kExitUsage);
  EXPECT_NE(ja.err.find("整数"), std::string::npos) << ja.err;
  EXPECT_EQ(SnapshotIds(), before);
}

// A snapshot made while the clock said 2100 (through the engine with a FakeClock, as a PC
// with a wrong clock would), then a real one: the real one is latest, and backup,
// snapshots and forget warn that the clock is behind a snapshot.
TEST_F(CliRetentionTest, ASnapshotFromAFutureClockIsReportedAndNeverLatest) {
  InitRepo();
  std::string src = dir_.Sub("src");
  WriteFile(src + "/now.txt", "made now");
  std::string real = BackupPaths({src});
  std::string future_id;
  {
    ::setenv("KURA_CACHE_DIR", dir_.Sub("engine-cache").c_str(), 1);
    ::setenv("KURA_ARGON2_MEM_KIB", "8192", 1);
    ::setenv("KURA_ARGON2_OPS", "1", 1);
    auto store = OpenObjectStore(repo_, /*create=*/false);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    Credentials creds;
    creds.password = env_.at("KURA_PASSWORD");
    auto repo = Repository::Open(std::move(*store), creds);
    ASSERT_TRUE(repo.ok()) << repo.status().ToString();
    WriteFile(dir_.Sub("wrong/then.txt"), "made when the clock was wrong");
    FilesSourceOptions fo;
    fo.paths = {dir_.Sub("wrong")};
    auto source = NewFilesSource(std::move(fo));
    FakeClock year2100(4102444800);
    BackupOptions o;
    o.clock = &year2100;
    o.threads = 1;
    auto r = RunBackup(**repo, *source, o);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    future_id = r->snapshot_id;
  }
  json ls = KuraJson({"ls", "latest"});
  EXPECT_EQ(ls.value("id", ls.value("snapshot", "")), real) << ls.dump();

  KuraRun snaps = Kura({"--lang", "en", "snapshots"});
  EXPECT_EQ(snaps.exit_code, kExitOk);
  EXPECT_NE(snaps.err.find("clock"), std::string::npos) << snaps.err;
  EXPECT_NE(snaps.err.find(future_id.substr(0, 8)), std::string::npos) << snaps.err;

  WriteFile(src + "/later.txt", "later");
  KuraRun backup = Kura({"--lang", "en", "backup", src});
  EXPECT_EQ(backup.exit_code, kExitOk) << backup.err;
  EXPECT_NE(backup.err.find("behind snapshot " + future_id.substr(0, 8)), std::string::npos) << backup.err;

  // keep-last 1 keeps the newest real generation; the future one is kept and named.
  KuraRun forget = Kura({"--lang", "en", "forget", "--keep-last", "manual=1"});
  EXPECT_EQ(forget.exit_code, kExitOk) << forget.err;
  EXPECT_NE(forget.err.find(future_id.substr(0, 8)), std::string::npos) << forget.err;
  std::set<std::string> left = SnapshotIds();
  EXPECT_TRUE(left.count(future_id));
  EXPECT_FALSE(left.count(real)) << "the older real generation is the one forgotten";
  EXPECT_EQ(left.size(), 2u);
  json latest = KuraJson({"ls", "latest"});
  EXPECT_NE(latest.value("id", latest.value("snapshot", "")), future_id);
}

}  // namespace
}  // namespace kura::testing
