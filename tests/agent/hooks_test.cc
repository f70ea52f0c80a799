// Hooks: named parameters are bound, never spliced, against real PostgreSQL, MariaDB and
// SQLite; the command hook gets the details in KURA_* variables.
#include "agent/hooks.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <fstream>

#include "support/db_servers.h"
#include "util/fs.h"

namespace kura {
namespace {

std::vector<std::pair<std::string, std::string>> Params() {
  HookEvent e;
  e.event = "failure";
  e.job = "care";
  e.job_label = "ケア記録";
  e.target = "offsite";
  e.kind = "daily";
  e.result = "failed";
  // A value that would break (or inject into) a spliced statement.
  e.error = "pg_dump: 接続できません'); DROP TABLE bulletin; --";
  e.message_ja = "バックアップ「ケア記録」が失敗しています。弊社までご連絡下さい。";
  e.since = 1795237200;
  e.time = 1795237260;
  return HookParameters(e);
}

TEST(HookBindingTest, NamedParametersBecomePlaceholders) {
  auto p = Params();
  auto b =
      BindNamedParameters("INSERT INTO t(a, b, c) VALUES (:job, :error, :job)", PlaceholderStyle::kDollar, p);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->sql, "INSERT INTO t(a, b, c) VALUES ($1, $2, $1)");
  ASSERT_EQ(b->values.size(), 2u);
  EXPECT_EQ(b->values[0], "care");
  b = BindNamedParameters("INSERT INTO t(a, b, c) VALUES (:job, :error, :job)", PlaceholderStyle::kQuestion,
                          p);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->sql, "INSERT INTO t(a, b, c) VALUES (?, ?, ?)");
  EXPECT_EQ(b->values.size(), 3u);
  // Literals, identifiers, comments and casts are left alone.
  b = BindNamedParameters("SELECT ':job', \":job\", now()::text -- :job\n, :since /* :x */",
                          PlaceholderStyle::kDollar, p);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->sql, "SELECT ':job', \":job\", now()::text -- :job\n, $1 /* :x */");
  EXPECT_EQ(b->values, std::vector<std::string>{"2026-11-21T05:00:00Z"});
  EXPECT_EQ(BindNamedParameters("SELECT :nope", PlaceholderStyle::kDollar, p).status().code(),
            Code::kInvalidArgument);
}

const char* kInsert =
    "INSERT INTO bulletin(title, body, job, since) VALUES (:message_ja, :error, :job, :since)";

class SqlHookTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = testing::MakeTempDir("kura-hook-test"); }
  void TearDown() override { testing::RemoveAll(dir_); }
  std::string PasswordFile(const std::string& pw) {
    std::string path = dir_ + "/pw";
    std::ofstream(path) << pw << "\n";
    return path;
  }
  std::string dir_;
};

TEST_F(SqlHookTest, Sqlite) {
  std::string db = dir_ + "/host.db";
  sqlite3* h = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &h), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(h, "CREATE TABLE bulletin(title TEXT, body TEXT, job TEXT, since TEXT)", nullptr,
                         nullptr, nullptr),
            SQLITE_OK);
  SqlHookConfig c;
  c.kind = "sqlite";
  c.path = db;
  c.statement = kInsert;
  ASSERT_TRUE(RunSqlHook(c, Params()).ok());
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(h, "SELECT title, body, job FROM bulletin", -1, &st, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(sqlite3_column_text(st, 0))), Params()[15 + 1].second);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(sqlite3_column_text(st, 1))),
            "pg_dump: 接続できません'); DROP TABLE bulletin; --");
  sqlite3_finalize(st);
  sqlite3_close(h);
  c.path = dir_ + "/missing.db";  // never created by a hook
  EXPECT_FALSE(RunSqlHook(c, Params()).ok());
  EXPECT_FALSE(PathExists(c.path));
}

TEST_F(SqlHookTest, PostgreSQL) {
  auto pg = testing::TestPostgres();
  ASSERT_TRUE(pg.ok()) << pg.status().ToString();
  const testing::PgServer& s = **pg;
  ASSERT_TRUE(s.PsqlAdmin("postgres", "DROP DATABASE IF EXISTS hookdb").ok());
  ASSERT_TRUE(
      s.PsqlAdmin("postgres", "CREATE DATABASE hookdb OWNER kura_test ENCODING 'UTF8' TEMPLATE template0")
          .ok());
  ASSERT_TRUE(s.Psql("hookdb",
                     "CREATE TABLE bulletin(id serial, title text, body text, job text, since timestamptz, "
                     "posted_at timestamptz default now())")
                  .ok());
  SqlHookConfig c;
  c.kind = "postgresql";
  c.conn.host = s.host;
  c.conn.port = s.port;
  c.conn.user = s.user;
  c.database = "hookdb";
  c.conn.password_file = PasswordFile(s.password);
  c.statement =
      "INSERT INTO bulletin(title, body, job, since) VALUES (:message_ja, :error, :job, :since::timestamptz)";
  Status st = RunSqlHook(c, Params());
  ASSERT_TRUE(st.ok()) << st.ToString();
  auto out =
      s.Psql("hookdb",
             "SELECT title || '|' || body || '|' || job || '|' || (since AT TIME ZONE 'UTC') FROM bulletin");
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out,
            "バックアップ「ケア記録」が失敗しています。弊社までご連絡下さい。|pg_dump: 接続できません'); "
            "DROP TABLE bulletin; --|care|2026-11-21 05:00:00\n");
  // The clearing statement, also bound.
  c.statement = "DELETE FROM bulletin WHERE job = :job";
  ASSERT_TRUE(RunSqlHook(c, Params()).ok());
  EXPECT_EQ(*s.Psql("hookdb", "SELECT count(*) FROM bulletin"), "0\n");
  c.conn.password_file = PasswordFile("wrong-password");
  st = RunSqlHook(c, Params());
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(st.message().find("wrong-password"), std::string::npos);
}

TEST_F(SqlHookTest, MariaDB) {
  auto my = testing::TestMariaDb();
  ASSERT_TRUE(my.ok()) << my.status().ToString();
  const testing::MariaDbServer& s = **my;
  ASSERT_TRUE(s.Sql("", "DROP DATABASE IF EXISTS hookdb; CREATE DATABASE hookdb CHARACTER SET utf8mb4").ok());
  ASSERT_TRUE(s.Sql("hookdb",
                    "CREATE TABLE bulletin(id INT AUTO_INCREMENT PRIMARY KEY, title TEXT, body TEXT, job "
                    "TEXT, since VARCHAR(32))")
                  .ok());
  SqlHookConfig c;
  c.kind = "mysql";
  c.conn.host = s.host;
  c.conn.port = s.port;
  c.conn.user = s.user;
  c.database = "hookdb";
  c.conn.password_file = PasswordFile(s.password);
  c.statement = kInsert;
  Status st = RunSqlHook(c, Params());
  ASSERT_TRUE(st.ok()) << st.ToString();
  auto out = s.Sql("hookdb", "SELECT CONCAT(title, '|', body, '|', job, '|', since) FROM bulletin");
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out,
            "バックアップ「ケア記録」が失敗しています。弊社までご連絡下さい。|pg_dump: 接続できません'); "
            "DROP TABLE bulletin; --|care|2026-11-21T05:00:00Z\n");
}

TEST_F(SqlHookTest, CommandGetsTheDetailsInTheEnvironment) {
  std::string out = dir_ + "/env.txt";
  HookAction a;
  a.command = {"sh", "-c",
               "printf '%s|%s|%s|%s' \"$KURA_EVENT\" \"$KURA_JOB\" \"$KURA_ERROR\" \"$KURA_SINCE\" > " + out};
  HookEvent e;
  e.event = "failure";
  e.job = "care";
  e.error = "失敗 \"quoted\" $(rm -rf /)";
  e.since = 1795237200;
  ASSERT_TRUE(RunHook(a, e).ok());
  EXPECT_EQ(*ReadTextFile(out), "failure|care|失敗 \"quoted\" $(rm -rf /)|2026-11-21T05:00:00Z");
  a.command = {"sh", "-c", "exit 3"};
  EXPECT_FALSE(RunHook(a, e).ok());
  a.command = {"sleep", "30"};
  a.timeout_seconds = 1;
  Status st = RunHook(a, e);
  EXPECT_EQ(st.code(), Code::kCancelled);
}

// Regression (issue 6 §9): the watchdog's Kill() raced the Wait() on the main thread and
// could SIGKILL a process group the system had reused. Commands ending right at the
// timeout make the two meet; each run ends as the command's own result or as the timeout,
// never otherwise (and ThreadSanitizer, scripts/test.sh, sees no race).
TEST(HookCommandTest, WatchdogMeetingTheCommandsExitIsSafe) {
  HookEvent e;
  e.event = "failure";
  for (const char* sleep : {"0.98", "0.99", "1.0", "1.01", "1.02"}) {
    HookAction a;
    a.command = {"sleep", sleep};
    a.timeout_seconds = 1;
    Status st = RunHook(a, e);
    EXPECT_TRUE(st.ok() || st.code() == Code::kCancelled) << sleep << ": " << st.ToString();
  }
}

// Regression (issue 6 §7): `env` in a hook printed KURA_PASSWORD and KURA_DB_PASSWORD.
TEST(HookCommandTest, TheCommandNeverSeesKurasSecrets) {
  ::setenv("KURA_PASSWORD", "hook-sentinel-password", 1);
  ::setenv("KURA_DB_PASSWORD", "hook-sentinel-db", 1);
  std::string out = testing::MakeTempDir("kura-hook") + "/env.txt";
  HookAction a;
  a.command = {"sh", "-c", "env > " + out};
  HookEvent e;
  e.event = "success";
  e.job = "care";
  Status st = RunHook(a, e);
  ::unsetenv("KURA_PASSWORD");
  ::unsetenv("KURA_DB_PASSWORD");
  ASSERT_TRUE(st.ok()) << st.ToString();
  std::string env = *ReadTextFile(out);
  EXPECT_NE(env.find("KURA_JOB=care"), std::string::npos) << env;
  EXPECT_EQ(env.find("hook-sentinel"), std::string::npos) << env;
}

}  // namespace
}  // namespace kura
