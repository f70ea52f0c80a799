// SQL Server source against a stand-in `sqlcmd` (a shell script put first in PATH): there is
// no SQL Server here. These tests check command construction, quoting, error parsing and
// temporary-file cleanup, not the behaviour of a real server.
#include "sources/sqlserver.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>

#include "support/db_servers.h"
#include "support/memory_snapshot.h"
#include "util/i18n.h"
#include "util/process.h"

namespace kura {
namespace {

using testing::MemorySnapshot;

// Logs argv, the query and SQLCMDPASSWORD under $FAKE_SQLCMD_LOG; answers each kind of query
// as SQL Server would, or fails as $FAKE_SQLCMD_MODE says. Server-side paths are mapped to
// $FAKE_SQLCMD_LOCALDIR by their file name (so Windows paths work too).
const char kStandIn[] = R"SH(#!/bin/sh
log="$FAKE_SQLCMD_LOG"
q=""; prev=""
for a in "$@"; do
  printf '%s\n' "$a" >> "$log/argv"
  [ "$prev" = "-Q" ] && q="$a"
  prev="$a"
done
echo "---" >> "$log/argv"
printf '%s\n' "$q" >> "$log/queries"
printf '%s\n' "${SQLCMDPASSWORD-unset}" >> "$log/password"
mode="${FAKE_SQLCMD_MODE:-ok}"
local_of() { f=$(printf '%s' "$1" | sed 's/.*[\\/]//'); echo "$FAKE_SQLCMD_LOCALDIR/$f"; }
case "$q" in
  BACKUP*)
    path=$(printf '%s' "$q" | sed -n "s/.* TO DISK = N'\(.*\)' WITH COPY_ONLY, CHECKSUM, INIT\$/\1/p")
    out=$(local_of "$path")
    echo "$out" >> "$log/bakfiles"
    case "$mode" in
      ok) printf 'FAKE-BAK\000\001\002 content' > "$out"
          echo "Processed 328 pages for database 'care', file 'care_Data' on file 1."
          echo "BACKUP DATABASE successfully processed 330 pages in 0.050 seconds (51.5 MB/sec)."
          exit 0;;
      nodevice) printf partial > "$out"
          echo "Msg 3201, Level 16, State 1, Server fake, Line 1"
          echo "Cannot open backup device '$path'. Operating system error 5(Access is denied.)."
          echo "Msg 3013, Level 16, State 1, Server fake, Line 1"
          echo "BACKUP DATABASE is terminating abnormally."
          exit 1;;
      nodb) echo "Msg 911, Level 16, State 11, Server fake, Line 1"
          echo "Database 'care' does not exist. Make sure that the name is entered correctly."
          echo "Msg 3013, Level 16, State 1, Server fake, Line 1"
          echo "BACKUP DATABASE is terminating abnormally."
          exit 1;;
      login) echo "Sqlcmd: Error: Microsoft ODBC Driver 18 for SQL Server : Login failed for user 'kura'.." >&2; exit 1;;
      unreachable) echo "Sqlcmd: Error: Microsoft ODBC Driver 18 for SQL Server : Login timeout expired."
          echo "Sqlcmd: Error: Microsoft ODBC Driver 18 for SQL Server : TCP Provider: Error code 0x2749."; exit 1;;
      killed) printf partial > "$out"; kill -KILL $$;;
    esac;;
  *DB_ID*) if [ "$mode" = exists ]; then echo 1; else echo 0; fi; exit 0;;
  *FILELISTONLY*)
    path=$(printf '%s' "$q" | sed -n "s/.*FROM DISK = N'\(.*\)'\$/\1/p")
    cp "$(local_of "$path")" "$log/restored.bak"
    printf 'care_Data|C:\\Data\\care.mdf|D|PRIMARY|8388608|35184372080640\n'
    printf 'care_Log|C:\\Data\\care_log.ldf|L||8388608|2199023255552\n'
    exit 0;;
  *SERVERPROPERTY*) echo '/var/opt/mssql/data/|/var/opt/mssql/log/'; exit 0;;
  "RESTORE DATABASE"*) echo "RESTORE DATABASE successfully processed 330 pages"; exit 0;;
  *sys.tables*) printf 'dbo.patients|3\ndbo.visits|1000\n'; exit 0;;
esac
echo "stand-in sqlcmd: unexpected query: $q" >&2
exit 99
)SH";

class SqlServerSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SetLanguage(Language::kEnglish);
    bin_ = testing::MakeTempDir("kura-sqlcmd-bin-");
    log_ = testing::MakeTempDir("kura-sqlcmd-log-");
    bak_ = testing::MakeTempDir("kura-sqlcmd-bak-");
    std::ofstream(bin_ + "/sqlcmd") << kStandIn;
    ::chmod((bin_ + "/sqlcmd").c_str(), 0755);
    const char* path = std::getenv("PATH");
    old_path_ = path != nullptr ? path : "/usr/bin:/bin";
    ::setenv("PATH", (bin_ + ":" + old_path_).c_str(), 1);
    ::setenv("FAKE_SQLCMD_LOG", log_.c_str(), 1);
    ::setenv("FAKE_SQLCMD_LOCALDIR", bak_.c_str(), 1);
    ::setenv("FAKE_SQLCMD_MODE", "ok", 1);
  }
  void TearDown() override {
    ::setenv("PATH", old_path_.c_str(), 1);
    for (const auto& d : {bin_, log_, bak_}) testing::RemoveAll(d);
    SetLanguage(Language::kJapanese);
  }

  SqlServerOptions Server() const {
    SqlServerOptions s;
    s.conn.host = "dbserver";
    s.conn.port = 1433;
    s.conn.user = "kura";
    s.conn.password = "S3cret'pw]";
    s.server_backup_dir = bak_;
    return s;
  }

  Status Backup(MemorySnapshot& snap, SqlServerOptions s, const std::string& db = "care") {
    return NewSqlServerSource({std::move(s), db})->Backup(snap);
  }

  std::string Slurp(const std::string& name) const {
    std::ifstream f(log_ + "/" + name);
    return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  }

  std::string BakDirListing() const {
    auto r = RunProcess({{"ls", "-A", bak_}});
    return r.ok() ? r->out : "ls failed";
  }

  std::string bin_, log_, bak_, old_path_;
};

TEST(SqlServerQuotingTest, IdentifiersAndStrings) {
  EXPECT_EQ(SqlServerQuoteIdentifier("care"), "[care]");
  EXPECT_EQ(SqlServerQuoteIdentifier("a]b"), "[a]]b]");
  EXPECT_EQ(SqlServerQuoteIdentifier("]]"), "[]]]]]");
  EXPECT_EQ(SqlServerQuoteIdentifier("介護[記録]"), "[介護[記録]]]");
  EXPECT_EQ(SqlServerQuoteString("C:\\tmp\\x.bak"), "N'C:\\tmp\\x.bak'");
  EXPECT_EQ(SqlServerQuoteString("O'Brien''s"), "N'O''Brien''''s'");
  EXPECT_EQ(SqlServerQuoteString("バックアップ"), "N'バックアップ'");
  EXPECT_EQ(SqlServerBackupStatement("care]db'x", "D:\\it's\\f.bak"),
            "BACKUP DATABASE [care]]db'x] TO DISK = N'D:\\it''s\\f.bak' WITH COPY_ONLY, CHECKSUM, INIT");
}

TEST(SqlServerMessagesTest, ParsesMsgLevelAndText) {
  auto m = ParseSqlServerMessages(
      "Processed 1 pages.\n"
      "Msg 3201, Level 16, State 1, Server DB1\\SQLEXPRESS, Line 1\n"
      "Cannot open backup device 'D:\\x.bak'. Operating system error 5(Access is denied.).\n"
      "Msg 3013, Level 16, State 1, Server DB1\\SQLEXPRESS, Line 1\n"
      "BACKUP DATABASE is terminating abnormally.\n");
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0].number, 3201);
  EXPECT_EQ(m[0].level, 16);
  EXPECT_EQ(m[0].text, "Cannot open backup device 'D:\\x.bak'. Operating system error 5(Access is denied.).");
  EXPECT_EQ(m[1].number, 3013);
  EXPECT_EQ(m[1].text, "BACKUP DATABASE is terminating abnormally.");
  EXPECT_TRUE(ParseSqlServerMessages("BACKUP DATABASE successfully processed").empty());
}

TEST(SqlcmdArgsTest, PasswordNeverInArgvAndAuthModes) {
  SqlServerOptions s;
  s.conn.host = "db";
  s.conn.port = 1500;
  s.conn.user = "kura";
  s.conn.password = "pw";
  s.trust_server_certificate = true;
  auto a = SqlcmdArgs(s, "master", "SELECT 1");
  auto has = [&](const std::string& x) { return std::find(a.begin(), a.end(), x) != a.end(); };
  EXPECT_TRUE(has("-b"));
  EXPECT_TRUE(has("-C"));
  EXPECT_TRUE(has("db,1500"));
  EXPECT_TRUE(has("kura"));
  EXPECT_FALSE(has("pw"));
  EXPECT_FALSE(has("-P"));
  EXPECT_FALSE(has("-E"));
  EXPECT_EQ(a.back(), "SELECT 1");
  s.conn.user.clear();
  a = SqlcmdArgs(s, "master", "SELECT 1");
  EXPECT_TRUE(has("-E"));
  EXPECT_FALSE(has("-U"));
}

TEST_F(SqlServerSourceTest, BackupStreamsTheBakAndDeletesIt) {
  MemorySnapshot snap;
  Status s = Backup(snap, Server());
  ASSERT_TRUE(s.ok()) << s.ToString();
  const auto* e = snap.Find("care.bak");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->content, std::string("FAKE-BAK\0\1\2 content", 19));
  EXPECT_EQ(BakDirListing(), "");  // the temporary .bak is gone

  std::string query = Slurp("queries");
  EXPECT_EQ(query.rfind("BACKUP DATABASE [care] TO DISK = N'" + bak_ + "/kura-care-", 0), 0u) << query;
  EXPECT_NE(query.find(".bak' WITH COPY_ONLY, CHECKSUM, INIT\n"), std::string::npos) << query;
  EXPECT_EQ(Slurp("password"), "S3cret'pw]\n");  // through SQLCMDPASSWORD
  std::string argv = Slurp("argv");
  EXPECT_EQ(argv.find("S3cret"), std::string::npos);
  EXPECT_NE(argv.find("\n-b\n"), std::string::npos);
  EXPECT_NE(argv.find("\ndbserver,1433\n"), std::string::npos);
}

TEST_F(SqlServerSourceTest, WindowsServerPathWithLocalShare) {
  SqlServerOptions s = Server();
  s.server_backup_dir = "D:\\kura-tmp";
  s.local_backup_dir = bak_;
  MemorySnapshot snap;
  Status st = Backup(snap, s, "介護]DB");
  ASSERT_TRUE(st.ok()) << st.ToString();
  std::string query = Slurp("queries");
  EXPECT_EQ(query.rfind("BACKUP DATABASE [介護]]DB] TO DISK = N'D:\\kura-tmp\\kura-", 0), 0u) << query;
  EXPECT_EQ(snap.Entries().size(), 1u);
  EXPECT_EQ(BakDirListing(), "");
}

TEST_F(SqlServerSourceTest, BackupDeviceErrorIsParsedAndTempFileRemoved) {
  ::setenv("FAKE_SQLCMD_MODE", "nodevice", 1);
  MemorySnapshot snap;
  Status s = Backup(snap, Server());
  EXPECT_EQ(s.code(), Code::kSourceFailed);
  EXPECT_NE(s.message().find("SQL Server cannot open the backup file"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("service account"), std::string::npos);
  EXPECT_NE(s.message().find("Operating system error 5"), std::string::npos);
  EXPECT_TRUE(snap.Entries().empty());
  EXPECT_EQ(BakDirListing(), "");  // the partial file written by the server is deleted
  EXPECT_NE(Slurp("bakfiles"), "");
}

TEST_F(SqlServerSourceTest, MissingDatabase) {
  ::setenv("FAKE_SQLCMD_MODE", "nodb", 1);
  MemorySnapshot snap;
  Status s = Backup(snap, Server());
  EXPECT_EQ(s.code(), Code::kSourceFailed);
  EXPECT_NE(s.message().find("database care does not exist on SQL Server dbserver,1433"), std::string::npos)
      << s.message();
}

TEST_F(SqlServerSourceTest, LoginFailure) {
  ::setenv("FAKE_SQLCMD_MODE", "login", 1);
  MemorySnapshot snap;
  Status s = Backup(snap, Server());
  EXPECT_EQ(s.code(), Code::kSourceFailed);
  EXPECT_NE(s.message().find("login to SQL Server failed (user kura)"), std::string::npos) << s.message();
  EXPECT_EQ(s.message().find("S3cret"), std::string::npos);
}

TEST_F(SqlServerSourceTest, UnreachableServer) {
  ::setenv("FAKE_SQLCMD_MODE", "unreachable", 1);
  MemorySnapshot snap;
  Status s = Backup(snap, Server());
  EXPECT_EQ(s.code(), Code::kSourceFailed);
  EXPECT_NE(s.message().find("cannot connect to SQL Server dbserver,1433"), std::string::npos) << s.message();
}

TEST_F(SqlServerSourceTest, KilledSqlcmdIsSourceFailedAndTempFileRemoved) {
  ::setenv("FAKE_SQLCMD_MODE", "killed", 1);
  MemorySnapshot snap;
  Status s = Backup(snap, Server());
  EXPECT_EQ(s.code(), Code::kSourceFailed);
  EXPECT_NE(s.message().find("killed by signal 9"), std::string::npos) << s.message();
  EXPECT_TRUE(snap.Entries().empty());
  EXPECT_EQ(BakDirListing(), "");
}

TEST_F(SqlServerSourceTest, MissingSqlcmdNamesThePackage) {
  SqlServerOptions s = Server();
  s.conn.client_dir = "/nonexistent-kura-dir";
  MemorySnapshot snap;
  Status st = Backup(snap, s);
  EXPECT_EQ(st.code(), Code::kNotFound);
  EXPECT_NE(st.message().find("sqlcmd"), std::string::npos);
  EXPECT_NE(st.message().find("mssql-tools18"), std::string::npos);
}

TEST_F(SqlServerSourceTest, RestoreMovesFilesAndCountsRows) {
  MemorySnapshot snap;
  ASSERT_TRUE(Backup(snap, Server()).ok());
  ::unlink((log_ + "/queries").c_str());
  SqlServerRestoreTarget t;
  t.server = Server();
  t.database = "care_restored";
  RestoreReport report;
  Status s = RestoreSqlServer(snap, t, &report);
  ASSERT_TRUE(s.ok()) << s.ToString();
  std::string q = Slurp("queries");
  EXPECT_NE(q.find("DB_ID(N'care_restored')"), std::string::npos) << q;
  EXPECT_NE(q.find("RESTORE FILELISTONLY FROM DISK = N'" + bak_ + "/kura-care_restored-"), std::string::npos)
      << q;
  EXPECT_NE(q.find("RESTORE DATABASE [care_restored] FROM DISK = N'" + bak_ + "/kura-care_restored-"),
            std::string::npos)
      << q;
  EXPECT_NE(
      q.find(
          "WITH REPLACE, CHECKSUM, MOVE N'care_Data' TO N'/var/opt/mssql/data/care_restored_care_Data.mdf', "
          "MOVE N'care_Log' TO N'/var/opt/mssql/log/care_restored_care_Log.ldf'\n"),
      std::string::npos)
      << q;
  // The server was given exactly the bytes of the stream; the temporary copy is gone.
  std::ifstream f(log_ + "/restored.bak");
  std::string given((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  EXPECT_EQ(given, snap.Find("care.bak")->content);
  EXPECT_EQ(BakDirListing(), "");
  ASSERT_EQ(report.tables.size(), 2u);
  EXPECT_EQ(report.tables[0].table, "dbo.patients");
  EXPECT_EQ(report.tables[0].rows, 3);
  EXPECT_EQ(report.TotalRows(), 1003);
}

TEST_F(SqlServerSourceTest, RestoreRefusesExistingDatabaseUnlessClean) {
  MemorySnapshot snap;
  ASSERT_TRUE(Backup(snap, Server()).ok());
  ::setenv("FAKE_SQLCMD_MODE", "exists", 1);
  SqlServerRestoreTarget t;
  t.server = Server();
  t.database = "care";
  EXPECT_EQ(RestoreSqlServer(snap, t, nullptr).code(), Code::kAlreadyExists);
  t.clean = true;
  Status s = RestoreSqlServer(snap, t, nullptr);
  EXPECT_TRUE(s.ok()) << s.ToString();
}

}  // namespace
}  // namespace kura
