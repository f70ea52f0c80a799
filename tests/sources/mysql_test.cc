// MySQL/MariaDB source against a real throwaway MariaDB server (tests/support/db_servers.h).
#include "sources/mysql.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "support/db_servers.h"
#include "support/memory_snapshot.h"
#include "util/i18n.h"

namespace kura {
namespace {

using testing::MariaDbServer;
using testing::MemorySnapshot;

const char kSchema[] = R"sql(
CREATE TABLE patients (
  id INT PRIMARY KEY,
  big BIGINT,
  amount DECIMAL(12, 3),
  name VARCHAR(100),
  note TEXT,
  admitted DATETIME(3),
  updated TIMESTAMP NULL,
  photo BLOB,
  active TINYINT(1),
  mark VARCHAR(10)
) CHARACTER SET utf8mb4;
INSERT INTO patients VALUES
  (1, 9007199254740993, 12345.678, '山田 太郎', '要介護２・車いす', '2024-04-01 09:30:00.123', '2024-04-01 09:30:00', X'00FF10', 1, '🏥'),
  (2, -1, 0.001, 'Ｓｕｚｕｋｉ　花子', NULL, NULL, NULL, NULL, 0, NULL),
  (3, NULL, NULL, NULL, 'line1\nline2 "quoted" \'single\' back\\slash', '1999-12-31 23:59:59.999', NULL, REPEAT(X'00AB', 5000), NULL, '');
CREATE TABLE visits (id INT AUTO_INCREMENT PRIMARY KEY, patient_id INT, memo TEXT, INDEX (patient_id)) CHARACTER SET utf8mb4;
INSERT INTO visits (patient_id, memo) SELECT (seq % 3) + 1, CONCAT('訪問記録 ', seq) FROM seq_1_to_1000;
CREATE VIEW active_patients AS SELECT id, name FROM patients WHERE active = 1;
CREATE TRIGGER visits_memo BEFORE INSERT ON visits FOR EACH ROW SET NEW.memo = COALESCE(NEW.memo, '(なし)');
)sql";

const char kDigest[] =
    "SELECT id, big, amount, name, note, admitted, updated, HEX(photo), active, mark FROM patients ORDER BY "
    "id; "
    "SELECT * FROM visits ORDER BY id;";

class MysqlSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SetLanguage(Language::kEnglish);
    auto m = testing::TestMariaDb();
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    db_ = *m;
  }
  void TearDown() override { SetLanguage(Language::kJapanese); }
  ~MysqlSourceTest() override {
    for (const auto& d : dirs_) testing::RemoveAll(d);
  }

  DbConnection Conn() const {
    DbConnection c;
    c.host = db_->host;
    c.port = db_->port;
    c.user = db_->user;
    c.password = db_->password;
    return c;
  }

  void CreateSample(const std::string& name) {
    auto r = db_->Sql(
        "", "DROP DATABASE IF EXISTS " + name + "; CREATE DATABASE " + name + " CHARACTER SET utf8mb4");
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    r = db_->Sql(name, kSchema);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }

  std::string Digest(const std::string& db) {
    auto r = db_->Sql(db, kDigest);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : "";
  }

  Status Dump(const std::string& db, MemorySnapshot& snap, DbConnection conn) {
    MysqlSourceOptions o;
    o.conn = std::move(conn);
    o.database = db;
    return NewMysqlSource(o)->Backup(snap);
  }

  std::string MakeScriptDir(const std::string& name, const std::string& body) {
    std::string dir = testing::MakeTempDir("kura-mywrap-");
    dirs_.push_back(dir);
    std::ofstream(dir + "/" + name) << "#!/bin/sh\n" << body << "\n";
    ::chmod((dir + "/" + name).c_str(), 0755);
    return dir;
  }

  const MariaDbServer* db_ = nullptr;
  std::vector<std::string> dirs_;
};

TEST_F(MysqlSourceTest, DumpAndRestoreIntoNewDatabaseGivesEqualTables) {
  CreateSample("my_roundtrip");
  MemorySnapshot snap;
  Status s = Dump("my_roundtrip", snap, Conn());
  ASSERT_TRUE(s.ok()) << s.ToString();
  const auto* e = snap.Find("my_roundtrip.sql");
  ASSERT_NE(e, nullptr);
  EXPECT_NE(e->content.find("訪問記録 999"), std::string::npos);
  EXPECT_NE(e->content.find("0x00FF10"), std::string::npos);         // --hex-blob
  EXPECT_NE(e->content.find("visits_memo"), std::string::npos);      // --triggers
  EXPECT_EQ(e->content.find("CREATE DATABASE"), std::string::npos);  // restorable under another name

  MysqlRestoreTarget t;
  t.conn = Conn();
  t.database = "my_roundtrip_restored";
  RestoreReport report;
  s = RestoreMysql(snap, t, &report);
  ASSERT_TRUE(s.ok()) << s.ToString();
  std::string original = Digest("my_roundtrip");
  EXPECT_NE(original.find("山田 太郎"), std::string::npos);
  EXPECT_EQ(Digest("my_roundtrip_restored"), original);
  ASSERT_EQ(report.tables.size(), 2u);
  EXPECT_EQ(report.tables[0].table, "patients");
  EXPECT_EQ(report.tables[0].rows, 3);
  EXPECT_EQ(report.tables[1].table, "visits");
  EXPECT_EQ(report.tables[1].rows, 1000);
  auto view = db_->Sql("my_roundtrip_restored", "SELECT COUNT(*) FROM active_patients");
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(*view, "1\n");
}

TEST_F(MysqlSourceTest, RestoreRefusesNonEmptyDatabaseUnlessClean) {
  CreateSample("my_clean_src");
  MemorySnapshot snap;
  ASSERT_TRUE(Dump("my_clean_src", snap, Conn()).ok());
  CreateSample("my_clean_dst");
  ASSERT_TRUE(db_->Sql("my_clean_dst", "DELETE FROM visits WHERE id > 10").ok());
  MysqlRestoreTarget t;
  t.conn = Conn();
  t.database = "my_clean_dst";
  Status s = RestoreMysql(snap, t, nullptr);
  EXPECT_EQ(s.code(), Code::kAlreadyExists) << s.ToString();
  t.clean = true;
  RestoreReport report;
  s = RestoreMysql(snap, t, &report);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(Digest("my_clean_dst"), Digest("my_clean_src"));
  EXPECT_EQ(report.TotalRows(), 1003);
}

TEST_F(MysqlSourceTest, CorruptStreamFailsRestoreAndLeavesNoDatabase) {
  CreateSample("my_corrupt_src");
  MemorySnapshot snap;
  ASSERT_TRUE(Dump("my_corrupt_src", snap, Conn()).ok());
  snap.Corrupt("my_corrupt_src.sql");
  MysqlRestoreTarget t;
  t.conn = Conn();
  t.database = "my_corrupt_dst";
  EXPECT_FALSE(RestoreMysql(snap, t, nullptr).ok());
  auto n =
      db_->Sql("", "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'my_corrupt_dst'");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, "0\n");
}

TEST_F(MysqlSourceTest, WrongPasswordIsAClearErrorWithoutThePassword) {
  CreateSample("my_wrongpw");
  DbConnection c = Conn();
  c.password = "definitely-wrong-secret";
  MemorySnapshot snap;
  Status s = Dump("my_wrongpw", snap, c);
  EXPECT_EQ(s.code(), Code::kSourceFailed);
  EXPECT_NE(s.message().find("authentication failed for user kura_test"), std::string::npos) << s.message();
  EXPECT_EQ(s.message().find("definitely-wrong-secret"), std::string::npos);
  EXPECT_TRUE(snap.Entries().empty());

  MysqlRestoreTarget t;
  t.conn = c;
  t.database = "x";
  ASSERT_TRUE(Dump("my_wrongpw", snap, Conn()).ok());
  s = RestoreMysql(snap, t, nullptr);
  EXPECT_EQ(s.code(), Code::kUnauthorized) << s.ToString();
}

TEST_F(MysqlSourceTest, MissingDatabaseIsAClearError) {
  MemorySnapshot snap;
  Status s = Dump("no_such_database", snap, Conn());
  EXPECT_EQ(s.code(), Code::kSourceFailed);
  EXPECT_NE(s.message().find("database no_such_database does not exist"), std::string::npos) << s.message();
  EXPECT_TRUE(snap.Entries().empty());
}

TEST_F(MysqlSourceTest, UnreachableServerIsAClearError) {
  DbConnection c = Conn();
  c.port = testing::FreeLoopbackPort();
  MemorySnapshot snap;
  Status s = Dump("mysql", snap, c);
  EXPECT_EQ(s.code(), Code::kSourceFailed);
  EXPECT_NE(s.message().find("cannot connect to MariaDB/MySQL server 127.0.0.1:"), std::string::npos)
      << s.message();
}

TEST_F(MysqlSourceTest, KilledDumpIsSourceFailedAndMakesNoStream) {
  CreateSample("my_killed");
  std::string dir = MakeScriptDir("mariadb-dump", "mariadb-dump \"$@\" | head -c 2000\nkill -KILL $$");
  DbConnection c = Conn();
  c.client_dir = dir;
  MemorySnapshot snap;
  Status s = Dump("my_killed", snap, c);
  EXPECT_EQ(s.code(), Code::kSourceFailed) << s.ToString();
  EXPECT_NE(s.message().find("killed by signal 9"), std::string::npos) << s.message();
  EXPECT_TRUE(snap.Entries().empty());
}

TEST_F(MysqlSourceTest, PasswordOnlyInAPrivateOptionFileThatIsRemoved) {
  CreateSample("my_argv");
  // Records argv, the option file's mode and contents, then runs the real tool.
  std::string dir = MakeScriptDir("mariadb-dump",
                                  "d=$(dirname \"$0\")\n"
                                  "printf '%s\\n' \"$@\" > \"$d/argv\"\n"
                                  "f=${1#--defaults-extra-file=}\n"
                                  "stat -c %a \"$f\" > \"$d/mode\"\n"
                                  "echo \"$f\" > \"$d/path\"\n"
                                  "echo \"${MYSQL_PWD-unset}\" > \"$d/env\"\n"
                                  "exec mariadb-dump \"$@\"");
  DbConnection c = Conn();
  c.client_dir = dir;
  ::setenv("MYSQL_PWD", "inherited-wrong", 1);
  MemorySnapshot snap;
  Status s = Dump("my_argv", snap, c);
  ::unsetenv("MYSQL_PWD");
  ASSERT_TRUE(s.ok()) << s.ToString();
  auto slurp = [&](const std::string& name) {
    std::ifstream f(dir + "/" + name);
    return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  };
  std::string argv = slurp("argv");
  EXPECT_EQ(argv.rfind("--defaults-extra-file=", 0), 0u) << argv;
  EXPECT_EQ(argv.find(db_->password), std::string::npos);
  for (const char* flag : {"--single-transaction", "--routines", "--events", "--triggers", "--hex-blob",
                           "--default-character-set=utf8mb4"}) {
    EXPECT_NE(argv.find(flag), std::string::npos) << flag;
  }
  EXPECT_EQ(slurp("mode"), "600\n");
  EXPECT_EQ(slurp("env"), "unset\n");
  std::string path = slurp("path");
  path.pop_back();
  struct stat st {};
  EXPECT_NE(::stat(path.c_str(), &st), 0) << "option file left behind: " << path;
}

TEST_F(MysqlSourceTest, FallsBackToMysqldump) {
  CreateSample("my_fallback");
  std::string dir = MakeScriptDir("mysqldump", "exec mariadb-dump \"$@\"");
  DbConnection c = Conn();
  c.client_dir = dir;
  MemorySnapshot snap;
  Status s = Dump("my_fallback", snap, c);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_NE(snap.Find("my_fallback.sql"), nullptr);
}

TEST_F(MysqlSourceTest, MissingClientToolNamesItAndThePackage) {
  DbConnection c = Conn();
  c.client_dir = "/nonexistent-kura-dir";
  MemorySnapshot snap;
  Status s = Dump("mysql", snap, c);
  EXPECT_EQ(s.code(), Code::kNotFound);
  EXPECT_NE(s.message().find("mariadb-dump"), std::string::npos);
  EXPECT_NE(s.message().find("mariadb-client"), std::string::npos);
}

TEST(MysqlOptionFileTest, EscapesQuotesAndBackslashes) {
  EXPECT_EQ(MysqlOptionFile("a\"b\\c d#e"), "[client]\npassword=\"a\\\"b\\\\c d#e\"\n");
}

}  // namespace
}  // namespace kura
