// No exception or damaged state file may end a run silently. An escaped exception used to
// abort `kura run` / `kura agent` with nothing logged, no warning, no hook, the attempt
// not counted, and the later jobs of the tick never run; a damaged schedule.json made the
// agent fail every tick (a crash loop under systemd) without a backup or a warning.
#include <gtest/gtest.h>

#include <fstream>
#include <stdexcept>

#include "agent/agent_loop.h"
#include "agent/job_runner.h"
#include "agent/schedule.h"
#include "agent/status_file.h"
#include "objstore/object_store.h"
#include "support/db_servers.h"
#include "support/repo_testing.h"
#include "util/fs.h"
#include "util/i18n.h"

namespace kura {
namespace {

// A source whose backup throws, as a bug in a source or a library would.
class ThrowingSource : public Source {
 public:
  std::string Kind() const override { return "files"; }
  std::string Name() const override { return "throws"; }
  Status Backup(SnapshotWriter&) override { throw std::runtime_error("boom from a source"); }
};

class AgentResilienceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    setenv("KURA_ARGON2_MEM_KIB", "8192", 1);
    setenv("KURA_ARGON2_OPS", "1", 1);
    setenv("TZ", "Asia/Tokyo", 1);
    tzset();
    SetLanguage(Language::kEnglish);
    dir_ = testing::MakeTempDir("kura-resilience");
    setenv("KURA_CACHE_DIR", (dir_ + "/cache").c_str(), 1);
    ASSERT_TRUE(MakeDirs(dir_ + "/data").ok());
    std::ofstream(dir_ + "/data/a.txt") << "介護記録 1\n";
    std::ofstream(dir_ + "/pw") << "correct horse battery\n";
    auto store = OpenObjectStore(dir_ + "/local", true);
    ASSERT_TRUE(store.ok());
    Credentials c;
    c.password = "correct horse battery";
    ASSERT_TRUE(Repository::Init(std::move(*store), c, InitOptions{}, SystemClock()).ok());
    config_.state_dir = dir_ + "/state";
    config_.status_file = dir_ + "/state/status.json";
    config_.log_file = dir_ + "/log/kura.log";
    config_.hooks.on_failure.command = {
        "sh", "-c", "echo \"failure $KURA_JOB $KURA_ERROR_CODE\" >> " + dir_ + "/hooks.txt"};
    for (const char* name : {"broken", "docs"}) {
      JobConfig job;
      job.name = name;
      job.source.kind = "files";
      job.source.paths = {dir_ + "/data"};
      job.source.name = name;  // the ThrowingSource replaces "broken"
      job.schedule.daily = TimeOfDay{2, 0};
      TargetConfig t;
      t.name = "local";
      t.repository = dir_ + "/local";
      t.password_file = dir_ + "/pw";
      job.targets = {t};
      config_.jobs.push_back(job);
    }
    log_ = std::make_unique<RunLog>(config_.log_file, 1 << 20, 5, false);
  }
  void TearDown() override {
    SetLanguage(Language::kJapanese);
    testing::RemoveAll(dir_);
  }

  // Every job but "broken" gets its real source.
  std::function<Result<std::unique_ptr<Source>>(const SourceConfig&)> Sources() {
    return [](const SourceConfig& c) -> Result<std::unique_ptr<Source>> {
      if (c.name == "broken") return std::unique_ptr<Source>(std::make_unique<ThrowingSource>());
      return MakeSource(c);
    };
  }
  std::string Text(const std::string& path) {
    auto t = ReadTextFile(path);
    return t.ok() ? *t : "";
  }

  std::string dir_;
  AgentConfig config_;
  std::unique_ptr<RunLog> log_;
};

TEST_F(AgentResilienceTest, ExceptionInARunIsAFailedRunLoggedWarnedAndHooked) {
  RunContext ctx{&config_, nullptr, log_.get(), nullptr, Sources()};
  Result<JobRunReport> r = Status::Internal("not run");
  ASSERT_NO_THROW(r = RunJob(ctx, config_.jobs[0], SnapshotKind::kDaily, false));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status.code(), Code::kInternal);
  EXPECT_NE(r->status.message().find("boom from a source"), std::string::npos) << r->status.message();

  auto doc = LoadStatusFile(config_.status_file);
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  const JobStatus& js = doc->jobs["broken"];
  ASSERT_TRUE(js.last_run.has_value());
  EXPECT_EQ(js.last_run->result, "failed");
  EXPECT_TRUE(js.targets.at("local").warning.active) << "the failure raises the warning";
  EXPECT_EQ(Text(dir_ + "/hooks.txt"), "failure broken internal\n");
  std::string log = Text(config_.log_file);
  EXPECT_NE(log.find("run job=broken"), std::string::npos) << log;
  EXPECT_NE(log.find("result=failed"), std::string::npos) << log;
}

TEST_F(AgentResilienceTest, AgentTickCountsTheAttemptOfAThrowingJobAndRunsTheNextJob) {
  FakeClock clock(LocalTimeAt({2026, 11, 21}, {8, 30}));
  AgentOptions o;
  o.clock = &clock;
  o.once = true;
  o.log = log_.get();
  o.make_source = Sources();
  TickReport t;
  ASSERT_TRUE(RunAgent(config_, o, &t).ok());
  EXPECT_EQ(t.runs, 2) << "the job after the failing one still runs";
  EXPECT_EQ(t.runs_failed, 1);
  auto state = LoadScheduleState(config_.ScheduleStateFile());
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->jobs["broken"].daily.attempts, 1) << "the failed attempt is counted";
  EXPECT_FALSE(state->jobs["broken"].daily.done);
  EXPECT_TRUE(state->jobs["docs"].daily.done);
  auto doc = LoadStatusFile(config_.status_file);
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ(doc->jobs["docs"].last_run->result, "ok");
  EXPECT_EQ(doc->jobs["broken"].last_run->result, "failed");
}

TEST_F(AgentResilienceTest, DamagedScheduleFileIsMovedAsideReportedAndRebuilt) {
  ASSERT_TRUE(MakeDirs(config_.state_dir).ok());
  std::ofstream(config_.ScheduleStateFile())
      << R"({"version":1,"jobs":{"docs":{"daily":{"slot":"yesterday"}}}})";
  config_.jobs.erase(config_.jobs.begin());  // only "docs"
  FakeClock clock(LocalTimeAt({2026, 11, 21}, {8, 30}));
  AgentOptions o;
  o.clock = &clock;
  o.once = true;
  o.log = log_.get();
  TickReport t;
  Status st;
  ASSERT_NO_THROW(st = RunAgent(config_, o, &t));
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(t.runs, 1) << "the backup still runs";
  EXPECT_EQ(t.runs_failed, 0);
  EXPECT_NE(Text(config_.ScheduleStateFile() + ".damaged").find("yesterday"), std::string::npos)
      << "the damaged file is kept for whoever looks into it";
  EXPECT_TRUE(LoadScheduleState(config_.ScheduleStateFile()).ok()) << "a new state file replaces it";
  std::string log = Text(config_.log_file);
  EXPECT_NE(log.find("schedule result=damaged"), std::string::npos) << log;
  EXPECT_NE(log.find("daily.slot"), std::string::npos) << "the log names the bad field: " << log;
}

TEST_F(AgentResilienceTest, WrongTypedStatusFileIsReportedThenRebuiltByTheNextRun) {
  ASSERT_TRUE(MakeDirs(config_.state_dir).ok());
  std::ofstream(config_.status_file)
      << R"({"schema_version":1,"jobs":{"docs":{"targets":{"local":{"pending_sends":"2"}}}}})";
  auto before = LoadStatusFile(config_.status_file);
  ASSERT_EQ(before.status().code(), Code::kCorruption);
  EXPECT_NE(before.status().message().find(config_.status_file), std::string::npos)
      << before.status().message();
  EXPECT_NE(before.status().message().find("pending_sends"), std::string::npos) << before.status().message();
  EXPECT_NE(before.status().message().find("delete"), std::string::npos)
      << "says what to do: " << before.status().message();

  RunContext ctx{&config_, nullptr, log_.get(), nullptr, nullptr};
  auto r = RunJob(ctx, config_.jobs[1], SnapshotKind::kDaily, false);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->status.ok()) << r->status.ToString();
  auto after = LoadStatusFile(config_.status_file);
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(after->jobs["docs"].last_run->result, "ok");
  EXPECT_TRUE(PathExists(config_.status_file + ".damaged"));
}

}  // namespace
}  // namespace kura
