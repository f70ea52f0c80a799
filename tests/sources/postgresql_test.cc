// PostgreSQL source against a real throwaway cluster (tests/support/db_servers.h).
#include "sources/postgresql.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "support/db_servers.h"
#include "support/memory_snapshot.h"
#include "util/i18n.h"

namespace kura {
namespace {

using testing::MemorySnapshot;
using testing::PgServer;

// Every column type the brief asks for, Japanese text, NULLs, and a second table.
const char kSchema[] = R"sql(
SET TIME ZONE 'Asia/Tokyo';
CREATE TABLE patients (
  id integer PRIMARY KEY,
  big bigint,
  amount numeric(12, 3),
  name text,
  note varchar(200),
  admitted timestamp,
  updated timestamptz,
  photo bytea,
  active boolean
);
INSERT INTO patients VALUES
  (1, 9007199254740993, 12345.678, '山田 太郎', '要介護２・車いす', '2024-04-01 09:30:00', '2024-04-01 09:30:00+09', '\x00ff10', true),
  (2, -1, 0.001, 'Ｓｕｚｕｋｉ　花子', NULL, NULL, NULL, NULL, false),
  (3, NULL, NULL, NULL, 'line1
line2 "quoted" ''single''', '1999-12-31 23:59:59.999', now(), decode(repeat('ab', 5000), 'hex'), NULL);
CREATE TABLE visits (id serial PRIMARY KEY, patient_id integer REFERENCES patients(id), memo text);
INSERT INTO visits (patient_id, memo) SELECT (g % 3) + 1, '訪問記録 ' || g FROM generate_series(1, 1000) g;
CREATE INDEX visits_patient ON visits (patient_id);
CREATE VIEW active_patients AS SELECT id, name FROM patients WHERE active;
)sql";

const char kDigest[] =
    "SELECT coalesce(string_agg(p::text, E'\\n' ORDER BY id), '') FROM patients p "
    "UNION ALL SELECT coalesce(string_agg(v::text, E'\\n' ORDER BY id), '') FROM visits v";

class PostgresSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SetLanguage(Language::kEnglish);
    auto pg = testing::TestPostgres();
    ASSERT_TRUE(pg.ok()) << pg.status().ToString();
    pg_ = *pg;
  }
  void TearDown() override { SetLanguage(Language::kJapanese); }

  DbConnection Conn() const {
    DbConnection c;
    c.host = pg_->host;
    c.port = pg_->port;
    c.user = pg_->user;
    c.password = pg_->password;
    return c;
  }

  // Creates database `name` filled with kSchema.
  void CreateSample(const std::string& name) {
    ASSERT_TRUE(pg_->Psql("kura_test", "DROP DATABASE IF EXISTS " + name).ok());
    ASSERT_TRUE(pg_->Psql("kura_test", "CREATE DATABASE " + name).ok());
    auto r = pg_->Psql(name, kSchema);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }

  std::string Digest(const std::string& db) {
    auto r = pg_->Psql(db, kDigest);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : "";
  }

  Status Dump(const std::string& db, MemorySnapshot& snap, DbConnection conn) {
    PostgresSourceOptions o;
    o.conn = std::move(conn);
    o.database = db;
    return NewPostgresSource(o)->Backup(snap);
  }

  std::string MakeScriptDir(const std::string& name, const std::string& body) {
    std::string dir = testing::MakeTempDir("kura-pgwrap-");
    dirs_.push_back(dir);
    std::ofstream(dir + "/" + name) << "#!/bin/sh\n" << body << "\n";
    ::chmod((dir + "/" + name).c_str(), 0755);
    return dir;
  }
  ~PostgresSourceTest() override {
    for (const auto& d : dirs_) testing::RemoveAll(d);
  }

  const PgServer* pg_ = nullptr;
  std::vector<std::string> dirs_;
};

TEST_F(PostgresSourceTest, DumpAndRestoreIntoNewDatabaseGivesEqualTables) {
  CreateSample("pg_roundtrip");
  MemorySnapshot snap;
  Status s = Dump("pg_roundtrip", snap, Conn());
  ASSERT_TRUE(s.ok()) << s.ToString();
  const auto* e = snap.Find("pg_roundtrip.pgdump");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->content.substr(0, 5), "PGDMP");
  EXPECT_EQ(e->meta.mode, 0600u);
  // Uncompressed on purpose: the Japanese text appears verbatim in the dump.
  EXPECT_NE(e->content.find("訪問記録 999"), std::string::npos);

  PgRestoreTarget t;
  t.conn = Conn();
  t.database = "pg_roundtrip_restored";
  RestoreReport report;
  s = RestorePostgres(snap, t, &report);
  ASSERT_TRUE(s.ok()) << s.ToString();
  std::string original = Digest("pg_roundtrip");
  EXPECT_FALSE(original.empty());
  EXPECT_EQ(Digest("pg_roundtrip_restored"), original);
  ASSERT_EQ(report.tables.size(), 2u);
  EXPECT_EQ(report.tables[0].table, "public.patients");
  EXPECT_EQ(report.tables[0].rows, 3);
  EXPECT_EQ(report.tables[1].table, "public.visits");
  EXPECT_EQ(report.tables[1].rows, 1000);
  EXPECT_EQ(report.stream, "pg_roundtrip.pgdump");
  auto view = pg_->Psql("pg_roundtrip_restored", "SELECT count(*) FROM active_patients");
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(*view, "1\n");
}

TEST_F(PostgresSourceTest, RestoreRefusesNonEmptyDatabaseUnlessClean) {
  CreateSample("pg_clean_src");
  MemorySnapshot snap;
  ASSERT_TRUE(Dump("pg_clean_src", snap, Conn()).ok());
  CreateSample("pg_clean_dst");
  ASSERT_TRUE(pg_->Psql("pg_clean_dst", "DELETE FROM visits WHERE id > 10").ok());

  PgRestoreTarget t;
  t.conn = Conn();
  t.database = "pg_clean_dst";
  Status s = RestorePostgres(snap, t, nullptr);
  EXPECT_EQ(s.code(), Code::kAlreadyExists) << s.ToString();
  EXPECT_NE(s.message().find("not empty"), std::string::npos);

  t.clean = true;
  RestoreReport report;
  s = RestorePostgres(snap, t, &report);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(Digest("pg_clean_dst"), Digest("pg_clean_src"));
  EXPECT_EQ(report.TotalRows(), 1003);
}

TEST_F(PostgresSourceTest, RestoreIntoExistingEmptyDatabase) {
  CreateSample("pg_empty_src");
  MemorySnapshot snap;
  ASSERT_TRUE(Dump("pg_empty_src", snap, Conn()).ok());
  ASSERT_TRUE(pg_->Psql("kura_test", "DROP DATABASE IF EXISTS pg_empty_dst").ok());
  ASSERT_TRUE(pg_->Psql("kura_test", "CREATE DATABASE pg_empty_dst").ok());
  PgRestoreTarget t;
  t.conn = Conn();
  t.database = "pg_empty_dst";
  Status s = RestorePostgres(snap, t, nullptr);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(Digest("pg_empty_dst"), Digest("pg_empty_src"));
}

TEST_F(PostgresSourceTest, CorruptStreamFailsRestoreAndLeavesNoDatabase) {
  CreateSample("pg_corrupt_src");
  MemorySnapshot snap;
  ASSERT_TRUE(Dump("pg_corrupt_src", snap, Conn()).ok());
  snap.Corrupt("pg_corrupt_src.pgdump");
  PgRestoreTarget t;
  t.conn = Conn();
  t.database = "pg_corrupt_dst";
  Status s = RestorePostgres(snap, t, nullptr);
  EXPECT_FALSE(s.ok());
  auto exists = pg_->Psql("kura_test", "SELECT count(*) FROM pg_database WHERE datname = 'pg_corrupt_dst'");
  ASSERT_TRUE(exists.ok());
  EXPECT_EQ(*exists, "0\n");
}

TEST_F(PostgresSourceTest, WrongPasswordIsAClearErrorWithoutThePassword) {
  CreateSample("pg_wrongpw");
  DbConnection c = Conn();
  c.password = "definitely-wrong-secret";
  MemorySnapshot snap;
  Status s = Dump("pg_wrongpw", snap, c);
  EXPECT_EQ(s.code(), Code::kSourceFailed);
  EXPECT_NE(s.message().find("authentication failed for user kura_test"), std::string::npos) << s.message();
  EXPECT_EQ(s.message().find("definitely-wrong-secret"), std::string::npos);
  EXPECT_TRUE(snap.Entries().empty());

  SetLanguage(Language::kJapanese);
  s = Dump("pg_wrongpw", snap, c);
  EXPECT_NE(s.message().find("認証に失敗しました"), std::string::npos) << s.message();
}

TEST_F(PostgresSourceTest, MissingDatabaseIsAClearError) {
  MemorySnapshot snap;
  Status s = Dump("no_such_database", snap, Conn());
  EXPECT_EQ(s.code(), Code::kSourceFailed);
  EXPECT_NE(s.message().find("database no_such_database does not exist"), std::string::npos) << s.message();
  EXPECT_TRUE(snap.Entries().empty());
}

TEST_F(PostgresSourceTest, UnreachableServerIsAClearError) {
  DbConnection c = Conn();
  c.port = testing::FreeLoopbackPort();
  MemorySnapshot snap;
  Status s = Dump("kura_test", snap, c);
  EXPECT_EQ(s.code(), Code::kSourceFailed);
  EXPECT_NE(s.message().find("cannot connect to PostgreSQL server 127.0.0.1:"), std::string::npos)
      << s.message();

  PgRestoreTarget t;
  t.conn = c;
  t.database = "x";
  MemorySnapshot with_stream;
  EntryMeta m;
  m.path = "x.pgdump";
  std::string empty;
  struct Empty : ByteReader {
    Result<size_t> Read(uint8_t*, size_t) override { return size_t{0}; }
  } reader;
  ASSERT_TRUE(with_stream.AddFile(m, reader).ok());
  s = RestorePostgres(with_stream, t, nullptr);
  EXPECT_EQ(s.code(), Code::kRetryable) << s.ToString();
}

TEST_F(PostgresSourceTest, KilledDumpIsSourceFailedAndMakesNoStream) {
  CreateSample("pg_killed");
  // A pg_dump that gets killed half-way through its output.
  std::string dir = MakeScriptDir("pg_dump", "pg_dump \"$@\" | head -c 2000\nkill -KILL $$");
  DbConnection c = Conn();
  c.client_dir = dir;
  MemorySnapshot snap;
  Status s = Dump("pg_killed", snap, c);
  EXPECT_EQ(s.code(), Code::kSourceFailed) << s.ToString();
  EXPECT_NE(s.message().find("killed by signal 9"), std::string::npos) << s.message();
  EXPECT_TRUE(snap.Entries().empty());
}

TEST_F(PostgresSourceTest, DumpExitingNonZeroAfterOutputIsSourceFailed) {
  CreateSample("pg_failing");
  std::string dir =
      MakeScriptDir("pg_dump", "pg_dump \"$@\"\necho 'pg_dump: error: simulated failure' >&2\nexit 1");
  DbConnection c = Conn();
  c.client_dir = dir;
  MemorySnapshot snap;
  Status s = Dump("pg_failing", snap, c);
  EXPECT_EQ(s.code(), Code::kSourceFailed);
  EXPECT_NE(s.message().find("simulated failure"), std::string::npos) << s.message();
  EXPECT_TRUE(snap.Entries().empty());
}

TEST_F(PostgresSourceTest, PasswordNeverInArgv) {
  CreateSample("pg_argv");
  std::string dir =
      MakeScriptDir("pg_dump", "printf '%s\\n' \"$@\" > \"$(dirname \"$0\")/argv\"\nexec pg_dump \"$@\"");
  DbConnection c = Conn();
  c.client_dir = dir;
  MemorySnapshot snap;
  ASSERT_TRUE(Dump("pg_argv", snap, c).ok());
  std::ifstream f(dir + "/argv");
  std::string argv((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  EXPECT_NE(argv.find("--format=custom"), std::string::npos);
  EXPECT_NE(argv.find("--compress=0"), std::string::npos);
  EXPECT_EQ(argv.find(pg_->password), std::string::npos);
  EXPECT_EQ(argv.find("パス"), std::string::npos);
}

TEST_F(PostgresSourceTest, PassfileAndPasswordFileWork) {
  CreateSample("pg_passfile");
  std::string dir = testing::MakeTempDir("kura-pgpass-");
  dirs_.push_back(dir);
  std::string escaped;
  for (char ch : pg_->password)
    escaped += (ch == ':' || ch == '\\') ? std::string("\\") + ch : std::string(1, ch);
  std::ofstream(dir + "/pgpass") << "127.0.0.1:" << pg_->port << ":*:" << pg_->user << ":" << escaped << "\n";
  ::chmod((dir + "/pgpass").c_str(), 0600);
  DbConnection c = Conn();
  c.password.clear();
  c.pgpassfile = dir + "/pgpass";
  MemorySnapshot snap;
  Status s = Dump("pg_passfile", snap, c);
  EXPECT_TRUE(s.ok()) << s.ToString();

  std::ofstream(dir + "/pw") << pg_->password << "\n";
  c.pgpassfile.clear();
  c.password_file = dir + "/pw";
  MemorySnapshot snap2;
  s = Dump("pg_passfile", snap2, c);
  EXPECT_TRUE(s.ok()) << s.ToString();
}

TEST_F(PostgresSourceTest, MissingClientToolNamesItAndThePackage) {
  DbConnection c = Conn();
  c.client_dir = "/nonexistent-kura-dir";
  MemorySnapshot snap;
  Status s = Dump("kura_test", snap, c);
  EXPECT_EQ(s.code(), Code::kNotFound);
  EXPECT_NE(s.message().find("pg_dump"), std::string::npos);
  EXPECT_NE(s.message().find("postgresql-client"), std::string::npos);
}

TEST_F(PostgresSourceTest, WriterFailureStopsTheDump) {
  CreateSample("pg_writerfail");
  MemorySnapshot snap;
  snap.FailAfter(100);
  Status s = Dump("pg_writerfail", snap, Conn());
  EXPECT_EQ(s.code(), Code::kIOError) << s.ToString();
  EXPECT_TRUE(snap.Entries().empty());
}

TEST_F(PostgresSourceTest, ClusterModeDumpsAllDatabases) {
  CreateSample("pg_cluster_member");
  PostgresSourceOptions o;
  o.conn = Conn();
  o.conn.user = pg_->superuser;
  o.conn.password = pg_->superuser_password;
  o.cluster = true;
  MemorySnapshot snap;
  Status s = NewPostgresSource(o)->Backup(snap);
  ASSERT_TRUE(s.ok()) << s.ToString();
  const auto* e = snap.Find("cluster.sql");
  ASSERT_NE(e, nullptr);
  EXPECT_NE(e->content.find("CREATE ROLE kura_test"), std::string::npos);
  EXPECT_NE(e->content.find("pg_cluster_member"), std::string::npos);
}

TEST(PostgresErrorTest, RecognisesJapaneseServerMessages) {
  SetLanguage(Language::kEnglish);
  DbConnection c;
  c.user = "u";
  EXPECT_EQ(ExplainPostgresError("FATAL:  ユーザー\"u\"のパスワード認証に失敗しました", c, "db").code,
            Code::kUnauthorized);
  EXPECT_EQ(ExplainPostgresError("FATAL:  データベース\"db\"は存在しません", c, "db").code, Code::kNotFound);
  EXPECT_EQ(ExplainPostgresError("something else", c, "db").text, "");
  SetLanguage(Language::kJapanese);
}

}  // namespace
}  // namespace kura
