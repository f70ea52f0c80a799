// A failed drill and a broken source raise the alarm (issue 6 §10), with the real binary:
// a byte flipped in a pack on disk makes `kura drill` fail, set the warning (`kura status`
// exits 10), fire the failure hooks and exclude the damaged data, so the next `kura run`
// stores it again and the drill after it passes and clears the warning; a damaged SQLite
// source fails the run in words that name the database file and keeps the last good
// generation; a failed PostgreSQL drill prints kura's message, not the server's NOTICE.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "support/db_servers.h"
#include "support/job_harness.h"
#include "support/repo_testing.h"
#include "util/fs.h"

namespace kura::testing {
namespace {

using nlohmann::json;

json StatusJson(const JobSandbox& sb) {
  KuraRun r = sb.Kura({"status", "--json"});
  json j = json::parse(r.out, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << r.out << r.err;
  return j;
}

std::string Common(const JobSandbox& sb) {
  return fmt::format(
      "state_dir = \"{0}\"\nlog_file = \"{1}\"\nguidance_ja = \"サポートセンターまでご連絡下さい。\"\n"
      "[hooks.on_failure]\ncommand = [\"sh\", \"-c\", \"echo \\\"failure $KURA_ACTION $KURA_TARGET\\\" >> "
      "{2}\"]\n"
      "[hooks.on_clear]\ncommand = [\"sh\", \"-c\", \"echo \\\"clear $KURA_ACTION $KURA_TARGET\\\" >> "
      "{2}\"]\n",
      sb.Path("state"), sb.Path("log/kura.log"), sb.Path("hooks.txt"));
}

std::string Target(const JobSandbox& sb) {
  return fmt::format("[[job.target]]\nname = \"local\"\nrepository = \"{}\"\npassword_file = \"{}\"\n",
                     sb.Path("local"), sb.password_file());
}

// The largest pack file of a repository (where the data of a big file is).
std::string LargestPack(const std::string& repo) {
  std::string best;
  uintmax_t size = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(repo + "/data")) {
    if (e.is_regular_file() && e.file_size() > size) {
      size = e.file_size();
      best = e.path().string();
    }
  }
  return best;
}

std::string Hooks(const JobSandbox& sb) {
  auto t = ReadTextFile(sb.Path("hooks.txt"));
  return t.ok() ? *t : "";
}

// Before: exit 8 from the drill, but `kura status` exit 0, no hook, and the next run
// reused the damaged blob (stored 13.6 KiB) so every later snapshot was broken too.
TEST(JobDrillTest, FlippedByteInPackFailsDrillRaisesWarningAndNextRunStoresDataAgain) {
  JobSandbox sb;
  sb.InitRepo("local");
  std::string data = sb.Path("data");
  WriteFile(data + "/record.bin", SeededBytes(7, 768 * 1024));
  WriteFile(data + "/note.txt", std::string("介護記録の控え\n"));
  sb.WriteConfig(
      Common(sb) +
      fmt::format("[[job]]\nname = \"files\"\nlabel = \"介護記録\"\n[job.source]\nkind = \"files\"\n"
                  "paths = [\"{}\"]\n",
                  data) +
      Target(sb));
  KuraRun r = sb.Kura({"run", "files", "--kind", "daily"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  ASSERT_EQ(sb.Kura({"drill", "files"}).exit_code, 0);
  EXPECT_EQ(sb.Kura({"status"}).exit_code, 0);

  std::string pack = LargestPack(sb.Path("local"));
  ASSERT_FALSE(pack.empty());
  struct stat st {};
  ASSERT_EQ(::stat(pack.c_str(), &st), 0);
  ASSERT_TRUE(FlipByte(pack, static_cast<uint64_t>(st.st_size) / 2));

  KuraRun d = sb.Kura({"drill", "files", "--json"});
  EXPECT_EQ(d.exit_code, 8) << d.out << d.err;
  json dj = json::parse(d.out, nullptr, false);
  ASSERT_FALSE(dj.is_discarded()) << d.out;
  EXPECT_FALSE(dj["ok"].get<bool>());
  EXPECT_EQ(dj["damaged_part"], "repository") << d.out;
  EXPECT_GE(dj["damaged_blobs"].get<int>(), 1);
  EXPECT_NE(d.err.find("次回のバックアップで保存し直されます"), std::string::npos) << d.err;

  // What the office sees: the warning, like a failed backup.
  KuraRun s = sb.Kura({"status"});
  EXPECT_EQ(s.exit_code, 10) << s.out << s.err;
  EXPECT_NE(s.out.find("復元訓練「介護記録」"), std::string::npos) << s.out;
  EXPECT_NE(s.out.find("サポートセンターまでご連絡下さい。"), std::string::npos) << s.out;
  KuraRun se = sb.Kura({"--lang", "en", "status", "-v"});
  EXPECT_EQ(se.exit_code, 10);
  EXPECT_NE(se.out.find("restore drill"), std::string::npos) << se.out;
  EXPECT_NE(se.out.find("damaged"), std::string::npos) << se.out;
  json sj = StatusJson(sb);
  EXPECT_TRUE(sj["warning_active"].get<bool>()) << sj.dump(2);
  json ld = sj["jobs"]["files"]["last_drill"];
  EXPECT_EQ(ld["result"], "failed");
  EXPECT_EQ(ld["error"]["code"], "corruption");
  EXPECT_EQ(ld["damaged_part"], "repository");
  EXPECT_TRUE(ld["warning"]["active"].get<bool>());
  EXPECT_NE(ld["warning"]["message_ja"].get<std::string>().find("壊れています"), std::string::npos);
  EXPECT_EQ(ld["last_ok_snapshot"], ld["snapshot"]);  // the first drill found it intact
  EXPECT_NE(Hooks(sb).find("failure drill local"), std::string::npos) << Hooks(sb);

  // A second failed drill keeps the streak (since), counts it, and does not clear.
  int64_t failures = ld["warning"]["failures"].get<int64_t>();
  EXPECT_EQ(sb.Kura({"drill", "files"}).exit_code, 8);
  EXPECT_EQ(StatusJson(sb)["jobs"]["files"]["last_drill"]["warning"]["failures"].get<int64_t>(),
            failures + 1);

  // The next nightly run does not reuse the damaged data: it stores it again.
  r = sb.Kura({"run", "files", "--kind", "daily"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  sj = StatusJson(sb);
  EXPECT_GT(sj["jobs"]["files"]["last_run"]["bytes_stored"].get<uint64_t>(), 64u * 1024) << sj.dump(2);
  EXPECT_EQ(sb.Kura({"status"}).exit_code, 10);  // a backup does not clear the drill's warning

  d = sb.Kura({"drill", "files"});
  EXPECT_EQ(d.exit_code, 0) << d.out << d.err;
  s = sb.Kura({"status"});
  EXPECT_EQ(s.exit_code, 0) << s.out;
  EXPECT_EQ(s.out, "");
  sj = StatusJson(sb);
  EXPECT_FALSE(sj["warning_active"].get<bool>());
  EXPECT_EQ(sj["jobs"]["files"]["last_drill"]["last_ok_snapshot"],
            sj["jobs"]["files"]["last_run"]["snapshot"]);
  EXPECT_NE(Hooks(sb).find("clear drill local"), std::string::npos) << Hooks(sb);

  // And what was restored is what was backed up.
  std::string out = sb.Path("restored");
  KuraRun rr = sb.Kura({"restore", "latest", "-r", sb.Path("local"), "--target", out});
  ASSERT_EQ(rr.exit_code, 0) << rr.out << rr.err;
  EXPECT_EQ(ReadFileString(out + data + "/record.bin"), ReadFileString(data + "/record.bin"));
}

void SqliteExec(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
  sqlite3_free(err);
  sqlite3_close(db);
}

// Before: a damaged SQLite database was backed up every night as a success (and the next
// retention could forget the last good generation); the drill then blamed the repository.
TEST(JobDrillTest, DamagedSqliteSourceFailsTheRunNamingTheDatabaseAndKeepsTheGoodGeneration) {
  JobSandbox sb;
  sb.InitRepo("local");
  std::string src = sb.Path("care.db");
  SqliteExec(src,
             "CREATE TABLE patients(id INTEGER PRIMARY KEY, name TEXT, note TEXT);"
             "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 3000) "
             "INSERT INTO patients SELECT n, '利用者 ' || n, hex(randomblob(60)) FROM s;");
  sb.WriteConfig(
      Common(sb) +
      fmt::format("[[job]]\nname = \"lite\"\nlabel = \"ケア記録\"\n[job.source]\nkind = \"sqlite\"\n"
                  "path = \"{}\"\n",
                  src) +
      Target(sb) + "[job.target.retention]\ndaily = { keep_last = 1 }\n");
  KuraRun r = sb.Kura({"run", "lite", "--kind", "daily"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  std::vector<std::string> good = sb.Snapshots("local");
  ASSERT_EQ(good.size(), 1u);

  // A bad sector in the middle of the database file.
  std::string bytes = ReadFileString(src);
  ASSERT_GT(bytes.size(), 16u * 4096);
  for (size_t i = 0; i < 4096; ++i) bytes[8 * 4096 + i] = static_cast<char>(0xA5 ^ (i * 31));
  std::ofstream(src, std::ios::binary | std::ios::trunc) << bytes;

  r = sb.Kura({"run", "lite", "--kind", "daily"});
  EXPECT_EQ(r.exit_code, 5) << r.out << r.err;  // the source's failure, not the repository's
  EXPECT_NE(r.err.find(src), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("元のデータベース"), std::string::npos) << r.err;
  EXPECT_EQ(sb.Snapshots("local"), good);  // nothing stored, the good generation kept
  KuraRun s = sb.Kura({"--lang", "en", "status", "-v"});
  EXPECT_EQ(s.exit_code, 10) << s.out;
  EXPECT_NE(s.out.find(src), std::string::npos) << s.out;
  // The run's message (in the language it ran in) says the source file is the broken part.
  EXPECT_NE(s.out.find("壊れているのは元のデータベースファイルで、バックアップの保存先ではありません"),
            std::string::npos)
      << s.out;
  json sj = StatusJson(sb);
  EXPECT_EQ(sj["jobs"]["lite"]["targets"]["local"]["error"]["code"], "source_failed");
  // The drill restores the good generation and passes.
  KuraRun d = sb.Kura({"drill", "lite"});
  EXPECT_EQ(d.exit_code, 0) << d.out << d.err;
}

// Before: "NOTICE:  database "kura_drill_…" does not exist, skipping" came first on stderr.
TEST(JobDrillTest, FailedPostgresDrillPrintsKurasMessageWithoutServerNotice) {
  auto pg = TestPostgres();
  ASSERT_TRUE(pg.ok()) << pg.status().ToString();
  const PgServer& s = **pg;
  JobSandbox sb;
  sb.InitRepo("local");
  sb.WriteFile("pg.pw", s.password + "\n");
  ASSERT_TRUE(s.PsqlAdmin("postgres", "DROP DATABASE IF EXISTS drill_src WITH (FORCE)").ok());
  ASSERT_TRUE(
      s.PsqlAdmin("postgres", "CREATE DATABASE drill_src OWNER kura_test ENCODING 'UTF8' TEMPLATE template0")
          .ok());
  ASSERT_TRUE(s.Psql("drill_src",
                     "CREATE TABLE visits(id int PRIMARY KEY, memo text);"
                     "INSERT INTO visits SELECT g, md5(g::text) || '訪問' FROM generate_series(1, 20000) g;")
                  .ok());
  sb.WriteConfig(Common(sb) +
                 fmt::format("[[job]]\nname = \"pg\"\n[job.source]\nkind = \"postgresql\"\nhost = \"{}\"\n"
                             "port = {}\nuser = \"{}\"\ndatabase = \"drill_src\"\npassword_file = \"{}\"\n",
                             s.host, s.port, s.user, sb.Path("pg.pw")) +
                 Target(sb));
  KuraRun r = sb.Kura({"run", "pg", "--kind", "daily"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  std::string pack = LargestPack(sb.Path("local"));
  struct stat st {};
  ASSERT_EQ(::stat(pack.c_str(), &st), 0);
  ASSERT_TRUE(FlipByte(pack, static_cast<uint64_t>(st.st_size) / 2));

  KuraRun d = sb.Kura({"drill", "pg"});
  EXPECT_EQ(d.exit_code, 8) << d.out << d.err;
  EXPECT_EQ(d.err.find("NOTICE"), std::string::npos) << d.err;
  EXPECT_EQ(d.err.rfind("kura: エラー: 復元訓練に失敗しました", 0), 0u)
      << d.err;  // kura's message comes first
  EXPECT_NE(d.err.find("壊れている"), std::string::npos) << d.err;
  EXPECT_EQ(sb.Kura({"status"}).exit_code, 10);
  auto left = s.Psql("postgres", "SELECT count(*) FROM pg_database WHERE datname LIKE 'kura_drill_pg_%'");
  ASSERT_TRUE(left.ok());
  EXPECT_EQ(*left, "0\n");
}

// The dump tool's own error fails the run; the message names the source database (not
// the repository), so the office knows where to look.
TEST(JobDrillTest, PostgresDumpErrorFailsTheRunNamingTheSourceDatabase) {
  auto pg = TestPostgres();
  ASSERT_TRUE(pg.ok()) << pg.status().ToString();
  const PgServer& s = **pg;
  JobSandbox sb;
  sb.InitRepo("local");
  sb.WriteFile("pg.pw", s.password + "\n");
  ASSERT_TRUE(s.PsqlAdmin("postgres", "DROP DATABASE IF EXISTS broken_src WITH (FORCE)").ok());
  ASSERT_TRUE(
      s.PsqlAdmin("postgres", "CREATE DATABASE broken_src OWNER kura_test ENCODING 'UTF8' TEMPLATE template0")
          .ok());
  // A table the backup user cannot read: pg_dump fails on it.
  ASSERT_TRUE(
      s.PsqlAdmin("broken_src", "CREATE TABLE secret(x int); REVOKE ALL ON secret FROM PUBLIC;").ok());
  sb.WriteConfig(Common(sb) +
                 fmt::format("[[job]]\nname = \"pg\"\n[job.source]\nkind = \"postgresql\"\nhost = \"{}\"\n"
                             "port = {}\nuser = \"{}\"\ndatabase = \"broken_src\"\npassword_file = \"{}\"\n",
                             s.host, s.port, s.user, sb.Path("pg.pw")) +
                 Target(sb));
  KuraRun r = sb.Kura({"--lang", "en", "run", "pg", "--kind", "daily"});
  EXPECT_EQ(r.exit_code, 5) << r.out << r.err;
  EXPECT_NE(r.err.find("pg_dump (" + s.host + ":" + std::to_string(s.port) + "/broken_src) failed"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("secret"), std::string::npos) << r.err;
  EXPECT_TRUE(sb.Snapshots("local").empty());
  KuraRun st = sb.Kura({"status", "-v"});
  EXPECT_EQ(st.exit_code, 10);
  EXPECT_NE(st.out.find("broken_src"), std::string::npos) << st.out;
}

// G-BAK-07: retention never removes the last generation a drill found intact while a newer
// one is damaged. Before, the drill recorded nothing for retention, so keep-last 1 removed
// the intact generation and left only the damaged one.
TEST(JobDrillTest, FailedDrillKeepsTheLastIntactGenerationFromRetention) {
  JobSandbox sb;
  sb.InitRepo("local");
  std::string data = sb.Path("data");
  WriteFile(data + "/record.bin", SeededBytes(7, 256 * 1024));
  sb.WriteConfig(
      Common(sb) +
      fmt::format("[[job]]\nname = \"files\"\nlabel = \"介護記録\"\n[job.source]\nkind = \"files\"\n"
                  "paths = [\"{}\"]\n",
                  data) +
      Target(sb) + "[job.target.retention]\nenabled = false\n");  // forgotten by hand below
  ASSERT_EQ(sb.Kura({"run", "files", "--kind", "daily"}).exit_code, 0);
  ASSERT_EQ(sb.Kura({"drill", "files"}).exit_code, 0);  // generation A: intact

  WriteFile(data + "/record.bin", SeededBytes(8, 1024 * 1024));  // generation B: new data, a new pack
  KuraRun r = sb.Kura({"run", "files", "--kind", "daily"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  std::string pack = LargestPack(sb.Path("local"));
  struct stat st {};
  ASSERT_EQ(::stat(pack.c_str(), &st), 0);
  ASSERT_TRUE(FlipByte(pack, static_cast<uint64_t>(st.st_size) / 2));
  ASSERT_EQ(sb.Kura({"drill", "files"}).exit_code, 8);  // B: damaged

  KuraRun f = sb.Kura({"-r", sb.Path("local"), "forget", "--keep-last", "daily=1", "--json"});
  ASSERT_EQ(f.exit_code, 0) << f.out << f.err;
  json fj = json::parse(f.out, nullptr, false);
  ASSERT_FALSE(fj.is_discarded()) << f.out;
  EXPECT_EQ(fj["kept"].size(), 2u) << "the damaged newest and the intact one before it: " << f.out;
  EXPECT_TRUE(fj["forgotten"].empty()) << f.out;
}

}  // namespace
}  // namespace kura::testing
