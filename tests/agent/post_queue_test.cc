// Bulletin-board posts (SQL hooks) of failed runs: one row per failed run however many
// targets and hook tables there are, and a post that finds the host application's
// database down is queued and made by a later agent tick — exactly once. Real SQLite and
// PostgreSQL databases, real repositories, a fake clock.
#include "agent/post_queue.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <fstream>

#include "agent/agent_loop.h"
#include "agent/status_file.h"
#include "objstore/object_store.h"
#include "support/db_servers.h"
#include "util/fs.h"

namespace kura {
namespace {

class PostQueueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    setenv("KURA_ARGON2_MEM_KIB", "8192", 1);
    setenv("KURA_ARGON2_OPS", "1", 1);
    dir_ = testing::MakeTempDir("kura-post-test");
    setenv("KURA_CACHE_DIR", (dir_ + "/cache").c_str(), 1);
    std::ofstream(dir_ + "/pw") << "correct horse battery\n";
    InitRepo("local");
    InitRepo("offsite");
    config_.state_dir = dir_ + "/state";
    config_.status_file = dir_ + "/state/status.json";
    JobConfig job;
    job.name = "care";
    job.label = "ケア記録";
    // The dump fails every time (a database server that is down, say).
    job.source.kind = "command";
    job.source.command = {"sh", "-c", "echo 'pg_dump: 接続できません' >&2; exit 1"};
    job.targets = {Target("local"), Target("offsite")};
    config_.jobs.push_back(job);
    board_ = dir_ + "/hostapp/board.db";  // the folder does not exist yet
  }
  void TearDown() override { testing::RemoveAll(dir_); }

  void InitRepo(const std::string& name) {
    auto store = OpenObjectStore(dir_ + "/" + name, true);
    ASSERT_TRUE(store.ok());
    Credentials c;
    c.password = "correct horse battery";
    ASSERT_TRUE(Repository::Init(std::move(*store), c, InitOptions{}, SystemClock()).ok());
  }
  TargetConfig Target(const std::string& name) {
    TargetConfig t;
    t.name = name;
    t.repository = dir_ + "/" + name;
    t.password_file = dir_ + "/pw";
    return t;
  }
  // The same post in the agent's [hooks] and in the job's hooks, as an installer that
  // copied the example into both places would have it.
  void PostTo(const SqlHookConfig& sql, const std::string& clear_statement = "") {
    for (HookSet* set : {&config_.hooks, &config_.jobs[0].hooks}) {
      set->on_failure.sql = sql;
      if (!clear_statement.empty()) {
        set->on_clear.sql = sql;
        set->on_clear.sql->statement = clear_statement;
      }
    }
  }
  SqlHookConfig SqliteBoard() const {
    SqlHookConfig s;
    s.kind = "sqlite";
    s.path = board_;
    s.statement = "INSERT INTO bulletin(job, target, body) VALUES (:job, :target, :message_ja)";
    return s;
  }
  void CreateBoard() {
    ASSERT_TRUE(MakeDirs(dir_ + "/hostapp", 0755).ok());
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(board_.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE bulletin(job TEXT, target TEXT, body TEXT)", nullptr, nullptr,
                           nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  int BoardRows() const {
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(board_.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
      sqlite3_close(db);
      return -1;
    }
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db, "SELECT count(*) FROM bulletin", -1, &st, nullptr);
    int n = st && sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
  }
  void FailedRun(const Clock& clock) {
    RunContext ctx{&config_, &clock, nullptr, nullptr};
    auto r = RunJob(ctx, config_.jobs[0], SnapshotKind::kDaily, false);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_FALSE(r->status.ok());
  }
  size_t Queued() const {
    auto items = PostQueue(PostQueueDir(config_)).List();
    EXPECT_TRUE(items.ok());
    return items.ok() ? items->size() : 0;
  }
  void Tick(const Clock& clock) {
    AgentOptions o;
    o.clock = &clock;
    o.once = true;
    auto t = AgentTick(config_, o);
    ASSERT_TRUE(t.ok()) << t.status().ToString();
  }

  std::string dir_;
  std::string board_;
  AgentConfig config_;
};

// Before: two targets × two hook tables made four rows for one failed run.
TEST_F(PostQueueTest, FailedRunPostsOneRowNotOnePerTargetAndHook) {
  CreateBoard();
  PostTo(SqliteBoard());
  FakeClock clock(1795237200);
  FailedRun(clock);
  EXPECT_EQ(BoardRows(), 1);
  clock.Advance(86400);
  FailedRun(clock);
  EXPECT_EQ(BoardRows(), 2);  // one per failed run
  EXPECT_EQ(Queued(), 0u);
}

// Before: the post was only logged; the office never saw the failures of the night the
// host application's database was unavailable.
TEST_F(PostQueueTest, PostWhileBoardDatabaseIsMissingIsMadeOnceByTheAgentLater) {
  PostTo(SqliteBoard());
  FakeClock clock(1795237200);
  FailedRun(clock);
  clock.Advance(3600);
  FailedRun(clock);
  EXPECT_EQ(Queued(), 2u);           // one per failed run
  EXPECT_FALSE(PathExists(board_));  // a hook never creates the application's database

  Tick(clock);  // still missing: nothing lost, nothing posted
  EXPECT_EQ(Queued(), 2u);
  CreateBoard();
  clock.Advance(30);
  Tick(clock);  // backoff not over yet
  EXPECT_EQ(BoardRows(), 0);
  clock.Advance(3600);
  Tick(clock);
  EXPECT_EQ(BoardRows(), 2);
  EXPECT_EQ(Queued(), 0u);
  clock.Advance(3600);
  Tick(clock);
  Tick(clock);
  EXPECT_EQ(BoardRows(), 2);  // exactly once
}

// The clear post (DELETE) of a later success must not overtake the failure post waiting
// in the queue: the board ends empty, not with a stale failure.
TEST_F(PostQueueTest, QueuedPostsAreMadeInOrderSoAClearFollowsItsFailure) {
  PostTo(SqliteBoard(), "DELETE FROM bulletin WHERE job = :job");
  FakeClock clock(1795237200);
  FailedRun(clock);
  EXPECT_EQ(Queued(), 1u);
  // The source recovers; the success clears the warning: the clear post queues behind.
  ASSERT_TRUE(MakeDirs(dir_ + "/data").ok());
  std::ofstream(dir_ + "/data/a.txt") << "介護記録\n";
  config_.jobs[0].source = SourceConfig{};
  config_.jobs[0].source.kind = "files";
  config_.jobs[0].source.paths = {dir_ + "/data"};
  clock.Advance(600);
  RunContext ctx{&config_, &clock, nullptr, nullptr};
  auto r = RunJob(ctx, config_.jobs[0], SnapshotKind::kDaily, false);
  ASSERT_TRUE(r.ok() && r->status.ok()) << (r.ok() ? r->status.ToString() : r.status().ToString());
  EXPECT_EQ(Queued(), 3u);  // the failure, then the clears of the backup (local) and of the send (offsite)
  CreateBoard();
  clock.Advance(7200);
  Tick(clock);
  EXPECT_EQ(Queued(), 0u);
  EXPECT_EQ(BoardRows(), 0);
}

// A real PostgreSQL bulletin board that cannot be reached when the run fails (nothing
// listens on its port), and is reachable again at the next tick.
TEST_F(PostQueueTest, PostgresBoardDownDuringFailedRunGetsOneRowWhenItIsBack) {
  auto pg = testing::TestPostgres();
  ASSERT_TRUE(pg.ok()) << pg.status().ToString();
  const testing::PgServer& s = **pg;
  ASSERT_TRUE(s.PsqlAdmin("postgres", "DROP DATABASE IF EXISTS boarddb").ok());
  ASSERT_TRUE(
      s.PsqlAdmin("postgres", "CREATE DATABASE boarddb OWNER kura_test ENCODING 'UTF8' TEMPLATE template0")
          .ok());
  ASSERT_TRUE(s.Psql("boarddb", "CREATE TABLE bulletin(id serial, job text, target text, body text)").ok());
  std::ofstream(dir_ + "/board.pw") << s.password << "\n";
  SqlHookConfig sql;
  sql.kind = "postgresql";
  sql.conn.host = s.host;
  sql.conn.port = testing::FreeLoopbackPort();  // the server is "down"
  sql.conn.user = s.user;
  sql.database = "boarddb";
  sql.conn.password_file = dir_ + "/board.pw";
  sql.conn.connect_timeout_seconds = 2;
  sql.statement = "INSERT INTO bulletin(job, target, body) VALUES (:job, :target, :message_ja)";
  PostTo(sql);
  FakeClock clock(1795237200);
  FailedRun(clock);
  EXPECT_EQ(Queued(), 1u);
  // The server is back (here: the configuration points at where it runs).
  for (HookSet* set : {&config_.hooks, &config_.jobs[0].hooks}) set->on_failure.sql->conn.port = s.port;
  clock.Advance(3600);
  Tick(clock);
  Tick(clock);
  EXPECT_EQ(Queued(), 0u);
  auto rows =
      s.Psql("boarddb", "SELECT job || '|' || target || '|' || (body LIKE '%ケア記録%') FROM bulletin");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(*rows, "care|local|true\n");
}

// The same with a real MariaDB bulletin board (the host applications of seed 000 also run
// on MySQL/MariaDB): down when the run fails, one row with the Japanese message when it is
// back — bound parameters, so a quote in the error cannot break the statement.
// (G-INC-01: the failure reaches the people who must act; seed 000 §2.3.)
TEST_F(PostQueueTest, MariaDbBoardDownDuringFailedRunGetsOneRowWhenItIsBack) {
  auto my = testing::TestMariaDb();
  ASSERT_TRUE(my.ok()) << my.status().ToString();
  const testing::MariaDbServer& s = **my;
  ASSERT_TRUE(
      s.Sql("", "DROP DATABASE IF EXISTS boarddb; CREATE DATABASE boarddb CHARACTER SET utf8mb4").ok());
  ASSERT_TRUE(
      s.Sql("boarddb",
            "CREATE TABLE bulletin(id INT AUTO_INCREMENT PRIMARY KEY, job TEXT, target TEXT, body TEXT)")
          .ok());
  std::ofstream(dir_ + "/board.pw") << s.password << "\n";
  config_.jobs[0].source.command = {"sh", "-c", "echo \"mysqldump: can't connect; it's down\" >&2; exit 1"};
  SqlHookConfig sql;
  sql.kind = "mysql";
  sql.conn.host = s.host;
  sql.conn.port = testing::FreeLoopbackPort();  // the server is "down"
  sql.conn.user = s.user;
  sql.database = "boarddb";
  sql.conn.password_file = dir_ + "/board.pw";
  sql.conn.connect_timeout_seconds = 2;
  sql.statement = "INSERT INTO bulletin(job, target, body) VALUES (:job, :target, :message_ja)";
  PostTo(sql);
  FakeClock clock(1795237200);
  FailedRun(clock);
  EXPECT_EQ(Queued(), 1u);
  auto none = s.Sql("boarddb", "SELECT COUNT(*) FROM bulletin");
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_EQ(*none, "0\n");
  for (HookSet* set : {&config_.hooks, &config_.jobs[0].hooks}) set->on_failure.sql->conn.port = s.port;
  clock.Advance(3600);
  Tick(clock);
  Tick(clock);
  EXPECT_EQ(Queued(), 0u);
  auto rows = s.Sql("boarddb", "SELECT CONCAT(job, '|', target, '|', body LIKE '%ケア記録%') FROM bulletin");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(*rows, "care|local|1\n");
}

// A statement the database refuses (a wrong table name) is not retried forever.
TEST_F(PostQueueTest, StatementRefusedByTheDatabaseIsNotQueued) {
  CreateBoard();
  SqlHookConfig sql = SqliteBoard();
  sql.statement = "INSERT INTO no_such_table(job) VALUES (:job)";
  PostTo(sql);
  FakeClock clock(1795237200);
  FailedRun(clock);
  EXPECT_EQ(Queued(), 0u);
}

// Every truncation and many byte changes of a valid post file: the parser answers
// kCorruption/kUnsupported or an item that survives a round trip, and never throws (an
// exception would abort `kura agent` on every tick).
TEST(PostItemParserTest, DamagedPostFilesNeverThrow) {
  PostItem item;
  item.id = "000000000001-care-failure-0a1b2c3d";
  item.seq = 1;
  item.job = "care";
  item.event = "failure";
  item.scope = "agent";
  item.params = {{"job", "care"},
                 {"message_ja", "バックアップ「ケア記録」が失敗しています"},
                 {"error", "'); DROP TABLE x; --"}};
  item.enqueued = 1795237200;
  item.attempts = 2;
  item.next_attempt = 1795237320;
  item.last_error = "SQL hook: cannot open SQLite database";
  std::string valid = SerializePostItem(item);
  auto back = ParsePostItem("p.json", valid);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->params, item.params);
  EXPECT_EQ(back->seq, 1u);
  std::vector<std::string> inputs;
  for (size_t n = 0; n < valid.size(); ++n) inputs.push_back(valid.substr(0, n));
  uint32_t seed = 7;
  for (size_t i = 0; i < valid.size(); ++i) {
    for (char c : {'"', '1', '[', '{', '-', 'x', '\0'}) {
      std::string m = valid;
      m[i] = c;
      inputs.push_back(m);
    }
    seed = seed * 1103515245u + 12345u;
    std::string m = valid;
    m[i] = static_cast<char>(m[i] ^ (1 << (seed >> 16) % 8));
    inputs.push_back(m);
  }
  for (const char* swap :
       {"\"seq\": \"1\"", "\"params\": {}", "\"params\": [1]", "\"version\": \"1\"", "\"version\": 99"}) {
    std::string m = valid;
    size_t key = m.find(std::string(swap).substr(0, std::string(swap).find(':')));
    ASSERT_NE(key, std::string::npos);
    m.replace(key, m.find_first_of(",\n", key) - key, swap);
    inputs.push_back(m);
  }
  for (const std::string& in : inputs) {
    auto r = ParsePostItem("p.json", in);
    if (r.ok()) {
      auto again = ParsePostItem("p.json", SerializePostItem(*r));
      ASSERT_TRUE(again.ok());
      EXPECT_EQ(again->params, r->params);
    } else {
      EXPECT_TRUE(r.status().code() == Code::kCorruption || r.status().code() == Code::kUnsupported)
          << r.status().ToString();
    }
  }
}

}  // namespace
}  // namespace kura
