// Each fault a user can meet gets its documented exit code and a message that says what
// happened and what to do; a failed backup leaves no snapshot and older ones untouched.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <cstring>
#include <filesystem>

#include "support/e2e_kura.h"

namespace kura::testing {
namespace {

using nlohmann::json;

class CliErrorTest : public KuraE2ETest {
 protected:
  size_t SnapshotCount() {
    json list = KuraJson({"snapshots"});
    return list.is_array() ? list.size() : 0;
  }
  // Files under data/ (the packs), by path.
  std::vector<std::string> PackFiles() {
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::recursive_directory_iterator(repo_ + "/data")) {
      if (e.is_regular_file() && e.path().filename().string().size() == 64) out.push_back(e.path().string());
    }
    return out;
  }
};

TEST_F(CliErrorTest, WrongPasswordExits4WithAMessage) {
  InitRepo();
  KuraRun ja = Kura({"snapshots"}, {{"KURA_PASSWORD", "not the password"}});
  EXPECT_EQ(ja.exit_code, kExitUnauthorized);
  EXPECT_NE(ja.err.find("パスワードまたは鍵ファイルが正しくありません"), std::string::npos) << ja.err;
  EXPECT_EQ(ja.err.find("not the password"), std::string::npos) << "never echo a secret";
  KuraRun en = Kura({"--lang", "en", "--json", "snapshots"}, {{"KURA_PASSWORD", "not the password"}});
  EXPECT_EQ(en.exit_code, kExitUnauthorized);
  EXPECT_NE(en.err.find("wrong password or key file"), std::string::npos) << en.err;
  EXPECT_EQ(en.Json()["error"].value("code", ""), "unauthorized") << en.out;
  EXPECT_EQ(en.Json().value("exit_code", 0), kExitUnauthorized);

  WriteFile(dir_.Sub("wrong.key"), "c29tZSBvdGhlciBzaXRlJ3Mga2V5IGZpbGUgY29udGVudA==\n");
  Env key = env_;
  key.erase("KURA_PASSWORD");
  key["KURA_KEY_FILE"] = dir_.Sub("wrong.key");
  EXPECT_EQ(RunKura({"snapshots"}, key).exit_code, kExitUnauthorized);
}

TEST_F(CliErrorTest, MissingKeyFileIsNamedNotCalledAWrongKey) {
  InitRepo();
  Env key = env_;
  key.erase("KURA_PASSWORD");
  key["KURA_KEY_FILE"] = dir_.Sub("no-such.key");
  KuraRun r = RunKura({"snapshots"}, key);
  EXPECT_EQ(r.exit_code, kExitUsage) << r.err;
  EXPECT_NE(r.err.find("鍵ファイルを読めません"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("no-such.key"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("正しくありません"), std::string::npos) << "not a wrong-key message: " << r.err;
}

TEST_F(CliErrorTest, MissingRepositoryExits3) {
  KuraRun r = Kura({"--lang", "en", "snapshots"}, {{"KURA_REPOSITORY", dir_.Sub("no/such/dir")}});
  EXPECT_EQ(r.exit_code, kExitRepoNotFound) << r.err;
  EXPECT_NE(r.err.find(dir_.Sub("no/such/dir")), std::string::npos)
      << "the message names the path: " << r.err;
  KuraRun ja = Kura({"snapshots"}, {{"KURA_REPOSITORY", dir_.Sub("no/such/dir")}});
  EXPECT_EQ(ja.exit_code, kExitRepoNotFound);
  EXPECT_NE(ja.err.find("kura: エラー:"), std::string::npos) << ja.err;
}

TEST_F(CliErrorTest, EmptyOrForeignDirectoryIsNotARepository) {
  std::filesystem::create_directories(dir_.Sub("empty"));
  WriteFile(dir_.Sub("random/notes.txt"), "not a repository");
  // A git directory (or another backup tool's repository) has a `config` file of its own.
  WriteFile(dir_.Sub("gitdir/config"), "[core]\n\trepositoryformatversion = 0\n");
  WriteFile(dir_.Sub("jsondir/config"), "{\"version\": 2, \"id\": \"restic\"}");
  for (const char* d : {"empty", "random", "gitdir", "jsondir"}) {
    KuraRun r = Kura({"--lang", "en", "snapshots"}, {{"KURA_REPOSITORY", dir_.Sub(d)}});
    EXPECT_EQ(r.exit_code, kExitRepoNotFound) << d << ": " << r.err;
    EXPECT_NE(r.err.find("is not a kura repository"), std::string::npos) << d << ": " << r.err;
    EXPECT_NE(r.err.find(dir_.Sub(d)), std::string::npos) << r.err;
  }
  EXPECT_FALSE(Exists(dir_.Sub("empty/config"))) << "opening must never create anything";
}

TEST_F(CliErrorTest, FailingSourceCommandExits5WithoutASnapshot) {
  InitRepo();
  KuraRun r = Kura({"--lang", "en", "backup", "--from-command",
                    "echo partial dump; echo 'pg_dump: connection refused' >&2; exit 3"});
  EXPECT_EQ(r.exit_code, kExitSourceFailed) << r.err;
  EXPECT_NE(r.err.find("no snapshot was made"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("connection refused"), std::string::npos)
      << "the tool's own error is shown: " << r.err;
  EXPECT_EQ(SnapshotCount(), 0u);
  KuraRun ok = Kura({"backup", "--from-command", "printf 'dump'"});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(Kura({"restore", "latest", "--stdout"}).out, "dump");
}

TEST_F(CliErrorTest, FifoAndSocketAreWarningsWithOrWithoutSkipUnreadable) {
  InitRepo();
  std::string src = dir_.Sub("src");
  WriteFile(src + "/ok.txt", "ok");
  ASSERT_EQ(::mkfifo((src + "/pipe").c_str(), 0600), 0);
  int sock = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::string sock_path = src + "/sock";
  ASSERT_LT(sock_path.size(), sizeof addr.sun_path);
  std::strcpy(addr.sun_path, sock_path.c_str());
  ASSERT_EQ(::bind(sock, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);

  // Every office tree has them (issue 6 §5): not a failed backup, with or without the flag.
  for (bool skip : {false, true}) {
    std::vector<std::string> args = {"--lang", "en", "--json", "backup"};
    if (skip) args.push_back("--skip-unreadable");
    args.push_back(src);
    KuraRun r = Kura(args);
    EXPECT_EQ(r.exit_code, kExitPartial) << r.err;
    EXPECT_EQ(r.Json()["warnings"].size(), 2u) << r.out;
    EXPECT_NE(r.err.find("pipe"), std::string::npos) << r.err;
  }
  EXPECT_EQ(SnapshotCount(), 2u);
  ::close(sock);
}

TEST_F(CliErrorTest, CorruptedPackIsNamedAndOtherSnapshotsStillRestore) {
  InitRepo();
  WriteFile(dir_.Sub("a/data.bin"), SeededBytes(1, 1 << 20));
  std::string a = BackupPaths({dir_.Sub("a")});
  std::vector<std::string> packs_a = PackFiles();
  ASSERT_FALSE(packs_a.empty());
  WriteFile(dir_.Sub("b/data.bin"), SeededBytes(2, 1 << 20));
  std::string b = BackupPaths({dir_.Sub("b")});

  // Rot inside the body of A's pack: only reading the data finds it.
  std::string pack = packs_a[0];
  std::string pack_name = pack.substr(pack.find_last_of('/') + 1);
  ASSERT_TRUE(FlipByte(pack, 1000));
  KuraRun deep = Kura({"--lang", "en", "verify", "--read-data"});
  EXPECT_EQ(deep.exit_code, kExitDamaged) << deep.out << deep.err;
  EXPECT_NE(deep.out.find("damaged pack " + pack_name.substr(0, 16)), std::string::npos) << deep.out;
  EXPECT_NE(deep.out.find("DAMAGED  " + a.substr(0, 8)), std::string::npos) << deep.out;
  EXPECT_NE(deep.out.find("ok       " + b.substr(0, 8)), std::string::npos) << deep.out;
  EXPECT_NE(deep.err.find("damage found"), std::string::npos) << deep.err;

  // Rot in its header: the structure check finds it too.
  ASSERT_TRUE(FlipByte(pack, 1000));
  ASSERT_TRUE(FlipByte(pack, 2));
  json quick = KuraJson({"verify"}, kExitDamaged);
  ASSERT_EQ(quick["damaged_packs"].size(), 1u) << quick.dump();
  EXPECT_EQ(quick["damaged_packs"][0].value("name", ""), pack_name);
  for (const json& s : quick["snapshots"]) EXPECT_EQ(s.value("ok", true), s.value("id", "") != a) << s.dump();

  // B does not use that pack and restores byte for byte; A's restore fails as damage.
  KuraRun rb = Kura({"restore", b, "--target", dir_.Sub("out")});
  EXPECT_EQ(rb.exit_code, 0) << rb.err;
  EXPECT_EQ(ReadFileString(dir_.Sub("out") + dir_.Sub("b/data.bin")), ReadFileString(dir_.Sub("b/data.bin")));
  KuraRun ra = Kura({"--lang", "en", "restore", a, "--target", dir_.Sub("out-a")});
  EXPECT_EQ(ra.exit_code, kExitDamaged) << ra.err;
  EXPECT_FALSE(Exists(dir_.Sub("out-a") + dir_.Sub("a/data.bin"))) << "no damaged file under its name";
}

TEST_F(CliErrorTest, CorruptedSnapshotFileIsNamedOthersAreListedFine) {
  InitRepo();
  WriteFile(dir_.Sub("src/a"), "one");
  std::string first = BackupPaths({dir_.Sub("src")});
  WriteFile(dir_.Sub("src/a"), "two");
  std::string second = BackupPaths({dir_.Sub("src")});
  ASSERT_TRUE(FlipByte(repo_ + "/snapshots/" + first, 30));
  KuraRun v = Kura({"--lang", "en", "verify"});
  EXPECT_EQ(v.exit_code, kExitDamaged);
  EXPECT_NE(v.out.find("damaged snapshot " + first.substr(0, 8)), std::string::npos) << v.out;
  EXPECT_NE(v.out.find("ok       " + second.substr(0, 8)), std::string::npos) << v.out;
  KuraRun list = Kura({"--lang", "en", "snapshots"});
  EXPECT_EQ(list.exit_code, kExitDamaged);
  EXPECT_NE(list.err.find(first.substr(0, 8)), std::string::npos) << list.err;
  KuraRun r = Kura({"restore", "latest", "--target", dir_.Sub("out")});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFileString(dir_.Sub("out") + dir_.Sub("src/a")), "two");
}

TEST_F(CliErrorTest, UnknownSnapshotExits3) {
  InitRepo();
  KuraRun r = Kura({"--lang", "en", "restore", "deadbeef", "--target", dir_.Sub("out")});
  EXPECT_EQ(r.exit_code, kExitRepoNotFound);
  EXPECT_NE(r.err.find("kura snapshots"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace kura::testing
