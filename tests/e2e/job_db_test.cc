// End to end with the real binary and real servers, for each database source: back up a
// database with several types (Japanese text, quotes, NULL, binary), change it, back up
// again, restore each generation into a new database with `kura restore --to-database`
// and compare the table contents; a failing dump leaves no snapshot and sets the warning
// (`kura status` exits 10, the SQL hook posts to the bulletin board); the next success
// clears it and the clear hook removes the post; `kura drill` restores, checks and drops.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <nlohmann/json.hpp>

#include "support/db_servers.h"
#include "support/job_harness.h"
#include "util/fs.h"

namespace kura::testing {
namespace {

using nlohmann::json;

json StatusJson(const JobSandbox& sb) {
  KuraRun r = sb.Kura({"status", "--json"});
  return json::parse(r.out, nullptr, false);
}

std::string LastRunSnapshot(const JobSandbox& sb, const std::string& job) {
  json s = StatusJson(sb);
  return s["jobs"][job]["last_run"]["snapshot"].get<std::string>();
}

std::string Common(const JobSandbox& sb) {
  return fmt::format(
      "state_dir = \"{}\"\nlog_file = \"{}\"\nguidance_ja = \"サポートセンターまでご連絡下さい。\"\n",
      sb.Path("state"), sb.Path("log/kura.log"));
}

// The whole scenario; `dump` reads the source (or a restored copy) as comparable text.
struct Scenario {
  JobSandbox& sb;
  std::string job;
  std::function<std::string(const std::string& db)> dump;
  std::function<void()> change;
  std::function<void(bool broken)> break_source;
  std::function<std::vector<std::string>(const std::string& target_db)> restore_args;
  std::function<int()> bulletin_rows;
  std::string source_db;
  int failure_exit = 5;  // kExitSourceFailed
  std::string failure_code = "source_failed";

  void Run() {
    KuraRun r = sb.Kura({"run", job, "--kind", "daily"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    std::string gen1 = LastRunSnapshot(sb, job);
    std::string content1 = dump(source_db);
    ASSERT_NE(content1.find("山田"), std::string::npos) << content1;
    change();
    std::string content2 = dump(source_db);
    ASSERT_NE(content1, content2);
    r = sb.Kura({"run", job, "--kind", "manual"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    std::string gen2 = LastRunSnapshot(sb, job);
    ASSERT_NE(gen1, gen2);

    // Every generation restores into a new database with the contents it had.
    int n = 0;
    for (const auto& [id, expected] : {std::pair{gen1, content1}, std::pair{gen2, content2}}) {
      std::string target = fmt::format("restored_{}_{}", job, ++n);
      std::vector<std::string> args = {"restore", id.substr(0, 12), "-r", sb.Path("local"), "--json"};
      for (const std::string& a : restore_args(target)) args.push_back(a);
      KuraRun rr = sb.Kura(args);
      ASSERT_EQ(rr.exit_code, 0) << rr.out << rr.err;
      json report = json::parse(rr.out, nullptr, false);
      ASSERT_FALSE(report.is_discarded()) << rr.out;
      EXPECT_GT(report["restore"]["total_rows"].get<int>(), 0);
      EXPECT_EQ(dump(target), expected) << "generation " << n;
    }

    // A failing dump: no snapshot, the warning, the bulletin post.
    size_t snapshots = sb.Snapshots("local").size();
    break_source(true);
    r = sb.Kura({"run", job, "--kind", "daily"});
    EXPECT_EQ(r.exit_code, failure_exit) << r.out << r.err;
    EXPECT_EQ(sb.Snapshots("local").size(), snapshots);
    KuraRun st = sb.Kura({"status"});
    EXPECT_EQ(st.exit_code, 10);
    EXPECT_NE(st.out.find("バックアップの警告"), std::string::npos) << st.out;
    EXPECT_NE(st.out.find("サポートセンターまでご連絡下さい。"), std::string::npos) << st.out;
    json sj = StatusJson(sb);
    EXPECT_EQ(sj["schema_version"], 1);
    EXPECT_TRUE(sj["warning_active"].get<bool>());
    EXPECT_EQ(sj["jobs"][job]["targets"]["local"]["error"]["code"], failure_code);
    EXPECT_EQ(bulletin_rows(), 1);

    // The next success clears the warning and the clear hook removes the post.
    break_source(false);
    r = sb.Kura({"run", job, "--kind", "daily"});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    st = sb.Kura({"status"});
    EXPECT_EQ(st.exit_code, 0);
    EXPECT_EQ(st.out, "");
    EXPECT_EQ(bulletin_rows(), 0);

    // Restore drill.
    KuraRun d = sb.Kura({"drill", job, "--json"});
    EXPECT_EQ(d.exit_code, 0) << d.out << d.err;
    json dj = StatusJson(sb)["jobs"][job]["last_drill"];
    EXPECT_EQ(dj["result"], "ok");
    EXPECT_GT(dj["rows"].get<int>(), 0);
    auto log = ReadTextFile(sb.Path("log/kura.log"));
    ASSERT_TRUE(log.ok());
    EXPECT_NE(log->find("run job=" + job + " kind=daily result=failed"), std::string::npos);
    EXPECT_NE(log->find("drill job=" + job + " result=ok"), std::string::npos);
  }
};

TEST(JobDbTest, PostgreSQL) {
  auto pg = TestPostgres();
  ASSERT_TRUE(pg.ok()) << pg.status().ToString();
  const PgServer& s = **pg;
  JobSandbox sb;
  sb.InitRepo("local");
  sb.WriteFile("pg.pw", s.password + "\n");
  for (const char* db : {"care_src", "hostapp", "restored_pg_1", "restored_pg_2"}) {
    ASSERT_TRUE(s.PsqlAdmin("postgres", fmt::format("DROP DATABASE IF EXISTS {} WITH (FORCE)", db)).ok());
  }
  ASSERT_TRUE(
      s.PsqlAdmin("postgres", "CREATE DATABASE care_src OWNER kura_test ENCODING 'UTF8' TEMPLATE template0")
          .ok());
  ASSERT_TRUE(
      s.PsqlAdmin("postgres", "CREATE DATABASE hostapp OWNER kura_test ENCODING 'UTF8' TEMPLATE template0")
          .ok());
  ASSERT_TRUE(s.Psql("hostapp",
                     "CREATE TABLE bulletin(id serial, job text, title text, body text, posted_at "
                     "timestamptz DEFAULT now())")
                  .ok());
  ASSERT_TRUE(s.Psql("care_src", R"(
    CREATE TABLE patients(id int PRIMARY KEY, name text NOT NULL, born date, weight numeric(5,1), active boolean,
                          note text, photo bytea, updated timestamptz);
    INSERT INTO patients VALUES
      (1, '山田 太郎', '1940-04-01', 52.5, true, '要介護3「週2回」', '\x00ff10', '2026-11-20 09:00:00+09'),
      (2, 'O''Brien', NULL, NULL, false, 'quote '' and "double"', NULL, NULL),
      (3, '佐藤 花子', '1935-12-31', 41.0, true, E'改行\nあり', '\xdeadbeef', '2026-11-21 02:00:00+09');
    CREATE TABLE visits(patient int REFERENCES patients(id), at timestamptz, memo text);
    INSERT INTO visits SELECT 1 + (g % 3), '2026-11-01'::timestamptz + g * interval '1 hour', '訪問 ' || g FROM generate_series(1, 200) g;
  )")
                  .ok());
  std::string hook = fmt::format(
      "kind = \"postgresql\"\nhost = \"{}\"\nport = {}\nuser = \"{}\"\ndatabase = \"hostapp\"\npassword_file "
      "= \"{}\"\n",
      s.host, s.port, s.user, sb.Path("pg.pw"));
  sb.WriteConfig(Common(sb) + fmt::format(R"T(
[hooks.on_failure.sql]
{0}statement = "INSERT INTO bulletin(job, title, body) VALUES (:job, :message_ja, :error)"
[hooks.on_clear.sql]
{0}statement = "DELETE FROM bulletin WHERE job = :job"

[[job]]
name = "pg"
label = "ケア記録 (PostgreSQL)"
[job.source]
kind = "postgresql"
host = "{1}"
port = {2}
user = "{3}"
database = "care_src"
password_file = "{4}"
[[job.target]]
name = "local"
repository = "{5}"
password_file = "{6}"
)T",
                                          hook, s.host, s.port, s.user, sb.Path("source.pw"),
                                          sb.Path("local"), sb.password_file()));
  Scenario sc{sb, "pg"};
  sc.source_db = "care_src";
  sc.dump = [&](const std::string& db) {
    auto a = s.Psql(db, "SELECT * FROM patients ORDER BY id");
    auto b = s.Psql(db, "SELECT count(*), string_agg(memo, ',' ORDER BY at) FROM visits");
    return (a.ok() ? *a : a.status().ToString()) + (b.ok() ? *b : b.status().ToString());
  };
  sc.change = [&] {
    ASSERT_TRUE(
        s.Psql("care_src",
               "UPDATE patients SET note = '変更後', weight = 53.0 WHERE id = 1; DELETE FROM visits WHERE "
               "patient = 2; "
               "INSERT INTO patients VALUES (4, '鈴木 一郎', '1950-01-01', 60.2, true, NULL, NULL, now())")
            .ok());
  };
  sc.break_source = [&](bool broken) {
    sb.WriteFile("source.pw", broken ? "wrong-password\n" : s.password + "\n");
  };
  sc.break_source(false);
  sc.restore_args = [&](const std::string& db) {
    return std::vector<std::string>{
        "--to-database",        "postgresql",     "--db-host", s.host,      "--db-port",
        std::to_string(s.port), "--db-user",      s.user,      "--db-name", db,
        "--db-password-file",   sb.Path("pg.pw"), "--no-owner"};
  };
  sc.bulletin_rows = [&] {
    auto r = s.Psql("hostapp", "SELECT count(*) FROM bulletin");
    return r.ok() ? std::stoi(*r) : -1;
  };
  sc.Run();
  auto title = s.Psql("hostapp", "SELECT count(*) FROM bulletin");
  auto drills = s.Psql("postgres", "SELECT count(*) FROM pg_database WHERE datname LIKE 'kura_drill_%'");
  ASSERT_TRUE(drills.ok());
  EXPECT_EQ(*drills, "0\n");  // the drill dropped its scratch database
}

TEST(JobDbTest, MariaDB) {
  auto my = TestMariaDb();
  ASSERT_TRUE(my.ok()) << my.status().ToString();
  const MariaDbServer& s = **my;
  JobSandbox sb;
  sb.InitRepo("local");
  sb.WriteFile("my.pw", s.password + "\n");
  ASSERT_TRUE(s.Sql("",
                    "DROP DATABASE IF EXISTS care_src; DROP DATABASE IF EXISTS hostapp; DROP DATABASE IF "
                    "EXISTS restored_my_1; "
                    "DROP DATABASE IF EXISTS restored_my_2; CREATE DATABASE care_src CHARACTER SET utf8mb4; "
                    "CREATE DATABASE hostapp CHARACTER SET utf8mb4")
                  .ok());
  ASSERT_TRUE(
      s.Sql("hostapp",
            "CREATE TABLE bulletin(id INT AUTO_INCREMENT PRIMARY KEY, job TEXT, title TEXT, body TEXT)")
          .ok());
  ASSERT_TRUE(s.Sql("care_src", R"(
    CREATE TABLE patients(id INT PRIMARY KEY, name VARCHAR(100) NOT NULL, born DATE, weight DECIMAL(5,1), active BOOL,
                          note TEXT, photo BLOB, updated DATETIME) ENGINE=InnoDB;
    INSERT INTO patients VALUES
      (1, '山田 太郎', '1940-04-01', 52.5, 1, '要介護3「週2回」', x'00ff10', '2026-11-20 09:00:00'),
      (2, 'O\'Brien', NULL, NULL, 0, 'quote \' and "double"', NULL, NULL),
      (3, '佐藤 花子', '1935-12-31', 41.0, 1, '改行\nあり', x'deadbeef', '2026-11-21 02:00:00');
  )")
                  .ok());
  std::string conn = fmt::format("host = \"{}\"\nport = {}\nuser = \"{}\"\n", s.host, s.port, s.user);
  sb.WriteConfig(Common(sb) + fmt::format(R"T(
[[job]]
name = "my"
label = "ケア記録 (MariaDB)"
[job.source]
kind = "mysql"
{0}database = "care_src"
password_file = "{1}"
[[job.target]]
name = "local"
repository = "{2}"
password_file = "{3}"
[job.hooks.on_failure.sql]
kind = "mysql"
{0}database = "hostapp"
password_file = "{4}"
statement = "INSERT INTO bulletin(job, title, body) VALUES (:job, :message_ja, :error)"
[job.hooks.on_clear.sql]
kind = "mysql"
{0}database = "hostapp"
password_file = "{4}"
statement = "DELETE FROM bulletin WHERE job = :job"
)T",
                                          conn, sb.Path("source.pw"), sb.Path("local"), sb.password_file(),
                                          sb.Path("my.pw")));
  Scenario sc{sb, "my"};
  sc.source_db = "care_src";
  sc.dump = [&](const std::string& db) {
    auto a = s.Sql(
        db, "SELECT id, name, born, weight, active, note, HEX(photo), updated FROM patients ORDER BY id");
    return a.ok() ? *a : a.status().ToString();
  };
  sc.change = [&] {
    ASSERT_TRUE(
        s.Sql("care_src",
              "UPDATE patients SET note = '変更後' WHERE id = 1; DELETE FROM patients WHERE id = 2; "
              "INSERT INTO patients VALUES (4, '鈴木 一郎', '1950-01-01', 60.2, 1, NULL, NULL, NOW())")
            .ok());
  };
  sc.break_source = [&](bool broken) {
    sb.WriteFile("source.pw", broken ? "wrong-password\n" : s.password + "\n");
  };
  sc.break_source(false);
  sc.restore_args = [&](const std::string& db) {
    return std::vector<std::string>{
        "--to-database", "mysql", "--db-host", s.host, "--db-port",          std::to_string(s.port),
        "--db-user",     s.user,  "--db-name", db,     "--db-password-file", sb.Path("my.pw")};
  };
  sc.bulletin_rows = [&] {
    auto r = s.Sql("hostapp", "SELECT count(*) FROM bulletin");
    return r.ok() ? std::stoi(*r) : -1;
  };
  sc.Run();
  auto drills =
      s.Sql("", "SELECT count(*) FROM information_schema.schemata WHERE schema_name LIKE 'kura\\_drill\\_%'");
  ASSERT_TRUE(drills.ok());
  EXPECT_EQ(*drills, "0\n");
}

std::string SqliteDump(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return "cannot open " + path;
  }
  std::string out;
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "SELECT id, name, weight, quote(photo), note FROM patients ORDER BY id", -1, &st,
                     nullptr);
  while (st != nullptr && sqlite3_step(st) == SQLITE_ROW) {
    for (int i = 0; i < 5; ++i) {
      const unsigned char* t = sqlite3_column_text(st, i);
      out += (t ? reinterpret_cast<const char*>(t) : "NULL") + std::string(i == 4 ? "\n" : "|");
    }
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

void SqliteExec(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
  sqlite3_free(err);
  sqlite3_close(db);
}

TEST(JobDbTest, SQLite) {
  JobSandbox sb;
  sb.InitRepo("local");
  std::string src = sb.Path("care.db"), host = sb.Path("hostapp.db");
  SqliteExec(src, R"(
    CREATE TABLE patients(id INTEGER PRIMARY KEY, name TEXT NOT NULL, weight REAL, photo BLOB, note TEXT);
    INSERT INTO patients VALUES (1, '山田 太郎', 52.5, x'00ff10', '要介護3「週2回」'),
                                (2, 'O''Brien', NULL, NULL, 'quote '' and "double"'),
                                (3, '佐藤 花子', 41.0, x'deadbeef', NULL);)");
  SqliteExec(host, "CREATE TABLE bulletin(job TEXT, title TEXT, body TEXT)");
  sb.WriteConfig(Common(sb) + fmt::format(R"T(
[hooks.on_failure.sql]
kind = "sqlite"
path = "{0}"
statement = "INSERT INTO bulletin(job, title, body) VALUES (:job, :message_ja, :error)"
[hooks.on_clear.sql]
kind = "sqlite"
path = "{0}"
statement = "DELETE FROM bulletin WHERE job = :job"
[[job]]
name = "lite"
label = "ケア記録 (SQLite)"
[job.source]
kind = "sqlite"
path = "{1}"
[[job.target]]
name = "local"
repository = "{2}"
password_file = "{3}"
)T",
                                          host, src, sb.Path("local"), sb.password_file()));
  Scenario sc{sb, "lite"};
  sc.source_db = src;
  sc.failure_exit = 5;  // a missing database file is the source's failure
  sc.failure_code = "source_failed";
  sc.dump = [&](const std::string& db) {
    return SqliteDump(db.find('/') == std::string::npos ? sb.Path(db + ".db") : db);
  };
  sc.change = [&] {
    SqliteExec(src,
               "UPDATE patients SET note = '変更後' WHERE id = 1; INSERT INTO patients VALUES (4, '鈴木', "
               "60.2, NULL, NULL)");
  };
  sc.break_source = [&](bool broken) {
    // The database file is gone (a moved or unmounted data directory).
    if (broken)
      ASSERT_EQ(::rename(src.c_str(), (src + ".away").c_str()), 0);
    else
      ASSERT_EQ(::rename((src + ".away").c_str(), src.c_str()), 0);
  };
  sc.restore_args = [&](const std::string& db) {
    return std::vector<std::string>{"--to-database", "sqlite", "--db-name", sb.Path(db + ".db")};
  };
  sc.bulletin_rows = [&] {
    sqlite3* db = nullptr;
    sqlite3_open(host.c_str(), &db);
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db, "SELECT count(*) FROM bulletin", -1, &st, nullptr);
    int n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
  };
  sc.Run();
}

}  // namespace
}  // namespace kura::testing
