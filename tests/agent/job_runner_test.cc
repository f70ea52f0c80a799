// Job runs, sends, the queue, warnings, hooks and agent ticks against real local
// repositories (files sources), with an injected clock for the agent.
#include "agent/job_runner.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "agent/agent_loop.h"
#include "agent/job_lock.h"
#include "agent/schedule.h"
#include "agent/status_file.h"
#include "engine/db_restore.h"
#include "engine/snapshot_copy.h"
#include "objstore/object_store.h"
#include "support/db_servers.h"
#include "util/fs.h"

namespace kura {
namespace {

class JobRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    setenv("KURA_ARGON2_MEM_KIB", "8192", 1);
    setenv("KURA_ARGON2_OPS", "1", 1);
    setenv("TZ", "Asia/Tokyo", 1);
    tzset();
    day_clock_.Set(LocalTimeAt({2026, 11, 21}, {12, 0}));  // noon in Tokyo, outside the send window
    dir_ = testing::MakeTempDir("kura-job-test");
    setenv("KURA_CACHE_DIR", (dir_ + "/cache").c_str(), 1);
    ASSERT_TRUE(MakeDirs(dir_ + "/data").ok());
    std::ofstream(dir_ + "/data/a.txt") << "介護記録 1\n";
    std::ofstream(dir_ + "/pw") << "correct horse battery\n";
    ::chmod((dir_ + "/pw").c_str(), 0600);  // as a real password file: no "readable by others" warning
    InitRepo("local");
    InitRepo("offsite");
    config_.state_dir = dir_ + "/state";
    config_.status_file = dir_ + "/state/status.json";
    config_.log_file = dir_ + "/log/kura.log";
    config_.hooks.on_failure.command = {
        "sh", "-c", "echo \"failure $KURA_TARGET $KURA_ERROR_CODE\" >> " + dir_ + "/hooks.txt"};
    config_.hooks.on_clear.command = {"sh", "-c", "echo \"clear $KURA_TARGET\" >> " + dir_ + "/hooks.txt"};
    JobConfig job;
    job.name = "care";
    job.source.kind = "files";
    job.source.paths = {dir_ + "/data"};
    job.targets = {Target("local"), Target("offsite")};
    config_.jobs.push_back(job);
    log_ = std::make_unique<RunLog>(config_.log_file, 1 << 20, 5, false);
  }
  void TearDown() override { testing::RemoveAll(dir_); }

  void InitRepo(const std::string& name) {
    auto store = OpenObjectStore(dir_ + "/" + name, true);
    ASSERT_TRUE(store.ok());
    Credentials c;
    c.password = "correct horse battery";
    ASSERT_TRUE(Repository::Init(std::move(*store), c, InitOptions{}, day_clock_).ok());
  }
  TargetConfig Target(const std::string& name) {
    TargetConfig t;
    t.name = name;
    t.repository = dir_ + "/" + name;
    t.password_file = dir_ + "/pw";
    return t;
  }
  const JobConfig& job() const { return config_.jobs[0]; }
  // Every run takes a fake clock (issue 6 §8: the real one made these tests fail at night in
  // Tokyo, inside the default send window). Without an explicit clock a run gets the
  // fixture's daytime clock, a minute later than the previous run so snapshots are ordered.
  RunContext Ctx(const Clock* clock = nullptr) {
    if (clock == nullptr) {
      day_clock_.Advance(60);
      clock = &day_clock_;
    }
    return RunContext{&config_, clock, log_.get(), nullptr};
  }
  std::vector<Snapshot> Snaps(const std::string& target) {
    auto repo = OpenTarget(*job().FindTarget(target));
    EXPECT_TRUE(repo.ok());
    auto s = JobSnapshots(**repo, "care");
    EXPECT_TRUE(s.ok());
    return *s;
  }
  StatusDocument Status_() {
    auto d = LoadStatusFile(config_.status_file);
    EXPECT_TRUE(d.ok());
    return *d;
  }
  std::string Hooks() {
    auto t = ReadTextFile(dir_ + "/hooks.txt");
    return t.ok() ? *t : "";
  }
  std::string Restored(const std::string& target, const Snapshot& s) {
    auto repo = OpenTarget(*job().FindTarget(target));
    std::string out = dir_ + "/restore-" + s.id.substr(0, 8);
    auto r = RestoreSnapshotToDirectory(**repo, s, out);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    auto text = ReadTextFile(out + dir_ + "/data/a.txt");
    return text.ok() ? *text : "";
  }

  std::string dir_;
  AgentConfig config_;
  std::unique_ptr<RunLog> log_;
  FakeClock day_clock_{0};  // set in SetUp, once TZ is Asia/Tokyo
};

TEST_F(JobRunnerTest, RunWritesSendsAndReports) {
  auto r = RunJob(Ctx(), job(), SnapshotKind::kDaily, false);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(r->status.ok()) << r->status.ToString();
  ASSERT_EQ(r->targets.size(), 2u);
  EXPECT_EQ(r->targets[0].state, "written");
  EXPECT_EQ(r->targets[1].state, "sent") << r->targets[1].status.ToString();
  auto off = Snaps("offsite");
  ASSERT_EQ(off.size(), 1u);
  EXPECT_EQ(off[0].plain.kind, SnapshotKind::kDaily);
  EXPECT_EQ(Restored("offsite", off[0]), "介護記録 1\n");
  // A repeated send is a no-op.
  auto from = OpenTarget(job().targets[0]);
  auto to = OpenTarget(job().targets[1]);
  auto again = CopySnapshot(**from, r->snapshot, **to, day_clock_);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->already_present);
  EXPECT_EQ(Snaps("offsite").size(), 1u);
  StatusDocument d = Status_();
  EXPECT_EQ(d.jobs["care"].targets["local"].last_result, "ok");
  EXPECT_EQ(d.jobs["care"].targets["offsite"].last_snapshot, off[0].id);
  EXPECT_EQ(d.jobs["care"].last_run->result, "ok");
  EXPECT_TRUE(ActiveWarnings(d).empty());
  auto log = ReadTextFile(config_.log_file);
  EXPECT_NE(log->find("run job=care kind=daily result=ok"), std::string::npos) << *log;
  EXPECT_NE(log->find("send job=care target=offsite"), std::string::npos);
}

TEST_F(JobRunnerTest, FailedBackupWarnsEveryTargetUntilTheNextSuccess) {
  ASSERT_TRUE(RunJob(Ctx(), job(), SnapshotKind::kDaily, false)->status.ok());
  config_.jobs[0].source.paths = {dir_ + "/missing"};
  auto r = RunJob(Ctx(), job(), SnapshotKind::kDaily, false);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->status.ok());
  EXPECT_TRUE(r->snapshot.empty());
  EXPECT_EQ(Snaps("local").size(), 1u);  // no snapshot from the failed run
  StatusDocument d = Status_();
  EXPECT_EQ(ActiveWarnings(d).size(), 2u);
  EXPECT_EQ(d.jobs["care"].last_run->result, "failed");
  EXPECT_EQ(Hooks(), "failure local not_found\nfailure offsite not_found\n");
  int64_t since = d.jobs["care"].targets["local"].warning.since;
  // Still failing: the warning keeps its start.
  ASSERT_FALSE(RunJob(Ctx(), job(), SnapshotKind::kDaily, false)->status.ok());
  EXPECT_EQ(Status_().jobs["care"].targets["local"].warning.since, since);
  EXPECT_EQ(Status_().jobs["care"].targets["local"].warning.failures, 2);
  config_.jobs[0].source.paths = {dir_ + "/data"};
  ASSERT_TRUE(RunJob(Ctx(), job(), SnapshotKind::kDaily, false)->ok());
  EXPECT_TRUE(ActiveWarnings(Status_()).empty());
  EXPECT_NE(Hooks().find("clear local\nclear offsite\n"), std::string::npos) << Hooks();
}

TEST_F(JobRunnerTest, DeferredSendIsQueuedAndFailedSendsRetry) {
  auto r = RunJob(Ctx(), job(), SnapshotKind::kMonthly, /*defer_send=*/true);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->targets[1].state, "queued");
  EXPECT_TRUE(Snaps("offsite").empty());
  auto items = SendQueue(config_.QueueDir()).List();
  ASSERT_EQ(items->size(), 1u);
  EXPECT_TRUE((*items)[0].night);
  EXPECT_EQ(Status_().jobs["care"].targets["offsite"].pending_sends, 1);
  EXPECT_TRUE(ActiveWarnings(Status_()).empty());  // queued is not failed

  // The target is unreachable: the item stays, with a backoff, and the warning is set.
  ASSERT_EQ(::rename((dir_ + "/offsite").c_str(), (dir_ + "/offsite.away").c_str()), 0);
  FakeClock clock(1795237200);
  auto s = SendQueued(Ctx(&clock), (*items)[0].id);
  ASSERT_TRUE(s.ok());
  EXPECT_FALSE(s->status.ok());
  auto left = SendQueue(config_.QueueDir()).List();
  ASSERT_EQ(left->size(), 1u);
  EXPECT_EQ((*left)[0].attempts, 1);
  EXPECT_GT((*left)[0].next_attempt, clock.NowUnix());
  auto w = ActiveWarnings(Status_());
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].target, "offsite");
  EXPECT_EQ(Hooks(), "failure offsite not_found\n");

  ASSERT_EQ(::rename((dir_ + "/offsite.away").c_str(), (dir_ + "/offsite").c_str()), 0);
  s = SendQueued(Ctx(), (*items)[0].id);
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE(s->status.ok()) << s->status.ToString();
  EXPECT_TRUE(SendQueue(config_.QueueDir()).List()->empty());
  auto off = Snaps("offsite");
  ASSERT_EQ(off.size(), 1u);
  EXPECT_EQ(off[0].plain.kind, SnapshotKind::kMonthly);
  EXPECT_TRUE(ActiveWarnings(Status_()).empty());
  EXPECT_EQ(Hooks(), "failure offsite not_found\nclear offsite\n");
}

TEST_F(JobRunnerTest, SameJobNeverRunsTwice) {
  auto lock = LockJob(config_.LockDir(), "care");
  ASSERT_TRUE(lock.ok());
  auto r = RunJob(Ctx(), job(), SnapshotKind::kManual, false);
  EXPECT_EQ(r.status().code(), Code::kLocked);
  lock->reset();
  EXPECT_TRUE(RunJob(Ctx(), job(), SnapshotKind::kManual, false).ok());
}

TEST_F(JobRunnerTest, RetentionKeepsQueuedSnapshots) {
  config_.jobs[0].targets[1].send = SendMode::kNight;
  for (int i = 0; i < 3; ++i) {
    std::ofstream(dir_ + "/data/a.txt") << "版 " << i << "\n";
    ASSERT_TRUE(RunJob(Ctx(), job(), SnapshotKind::kManual, false)->status.ok());
  }
  // manual keeps the last 1, but the two older ones still wait to be sent.
  EXPECT_EQ(Snaps("local").size(), 3u);
  auto items = SendQueue(config_.QueueDir()).List();
  ASSERT_EQ(items->size(), 3u);
  for (const SendItem& i : *items) ASSERT_TRUE(SendQueued(Ctx(), i.id)->status.ok());
  ASSERT_TRUE(RunJob(Ctx(), job(), SnapshotKind::kDaily, false)->status.ok());
  EXPECT_EQ(Snaps("offsite").size(), 1u);  // the target's own retention: manual last 1
  auto local = Snaps("local");
  ASSERT_EQ(local.size(), 2u);  // the newest manual and the new daily
  EXPECT_EQ(local[0].plain.kind, SnapshotKind::kManual);
  EXPECT_EQ(Restored("local", local[0]), "版 2\n");
}

TEST_F(JobRunnerTest, AgentTicksCatchUpAndSendAtNight) {
  config_.jobs[0].schedule.daily = TimeOfDay{2, 0};
  config_.jobs[0].targets[1].send = SendMode::kNight;
  FakeClock clock(LocalTimeAt({2026, 11, 21}, {8, 30}));  // the PC starts at 08:30
  AgentOptions o;
  o.clock = &clock;
  o.once = true;
  o.log = log_.get();
  TickReport t;
  ASSERT_TRUE(RunAgent(config_, o, &t).ok());
  EXPECT_EQ(t.runs, 1);
  EXPECT_EQ(t.sends, 0);
  EXPECT_EQ(Snaps("local").size(), 1u);
  EXPECT_TRUE(Snaps("offsite").empty());
  clock.Set(LocalTimeAt({2026, 11, 21}, {12, 0}));
  ASSERT_TRUE(RunAgent(config_, o, &t).ok());
  EXPECT_EQ(t.runs + t.sends, 0);
  clock.Set(LocalTimeAt({2026, 11, 21}, {22, 0}));
  ASSERT_TRUE(RunAgent(config_, o, &t).ok());
  EXPECT_EQ(t.sends, 1);
  EXPECT_EQ(Snaps("offsite").size(), 1u);
  EXPECT_TRUE(SendQueue(config_.QueueDir()).List()->empty());
  // Two agents never run at once.
  auto held = FileLock::Acquire(config_.state_dir + "/agent.lock", 0, "busy");
  ASSERT_TRUE(held.ok());
  EXPECT_EQ(RunAgent(config_, o, &t).code(), Code::kLocked);
}

TEST_F(JobRunnerTest, AgentLoopSleepsUntilDueAndStops) {
  config_.jobs[0].schedule.daily = TimeOfDay{2, 0};
  FakeClock clock(LocalTimeAt({2026, 11, 21}, {1, 0}));
  std::atomic<bool> stop{false};
  std::vector<int64_t> sleeps;
  AgentOptions o;
  o.clock = &clock;
  o.stop = &stop;
  o.log = log_.get();
  o.sleep = [&](int64_t s) {
    sleeps.push_back(s);
    clock.Advance(s);
    if (clock.NowUnix() >= LocalTimeAt({2026, 11, 21}, {2, 5})) stop = true;
  };
  ASSERT_TRUE(RunAgent(config_, o).ok());
  // 01:00 catch-up of the 20th, then the 02:00 run of the 21st (the daily retention keeps
  // one snapshot per calendar day, so only the second remains).
  std::string log = *ReadTextFile(config_.log_file);
  size_t runs = 0;
  for (size_t p = log.find("run job=care kind=daily result=ok"); p != std::string::npos;
       p = log.find("run job=care", p + 1))
    ++runs;
  EXPECT_EQ(runs, 2u) << log;
  auto snaps = Snaps("local");
  ASSERT_EQ(snaps.size(), 1u);
  EXPECT_EQ(snaps[0].plain.time, LocalTimeAt({2026, 11, 21}, {2, 0}));
  ASSERT_FALSE(sleeps.empty());
  EXPECT_LE(*std::max_element(sleeps.begin(), sleeps.end()), 60);
}

}  // namespace
}  // namespace kura
