// The scheduler's decisions with an injected clock: catch-up of a standalone PC, monthly
// slots (last day of the month), retries, the send window and queued sends.
#include "agent/schedule.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>

namespace kura {
namespace {

class ScheduleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tz = std::getenv("TZ");
    old_tz_ = tz ? tz : "";
    had_tz_ = tz != nullptr;
    setenv("TZ", "Asia/Tokyo", 1);
    tzset();
    job_.name = "care";
    job_.schedule.daily = TimeOfDay{2, 0};
    job_.schedule.monthly_day = 0;  // last day
    job_.schedule.monthly_time = TimeOfDay{2, 0};
    config_.jobs.push_back(job_);
  }
  void TearDown() override {
    if (had_tz_)
      setenv("TZ", old_tz_.c_str(), 1);
    else
      unsetenv("TZ");
    tzset();
  }
  // Local (JST) time.
  static int64_t At(int y, int mo, int d, int h, int mi) { return LocalTimeAt({y, mo, d}, {h, mi}); }

  // Runs Decide and records every run as `outcome`; returns the run kinds decided.
  std::vector<SnapshotKind> Tick(int64_t now, RunOutcome outcome = RunOutcome::kOk) {
    Decision d = Decide(config_, state_, {}, now);
    state_ = d.state;
    std::vector<SnapshotKind> kinds;
    for (const AgentAction& a : d.actions) {
      if (a.type != AgentAction::Type::kRun) continue;
      kinds.push_back(a.kind);
      RecordRunOutcome(state_, config_.jobs[0], a.kind, outcome, config_.retry, now);
    }
    last_ = d;
    return kinds;
  }

  AgentConfig config_;
  JobConfig job_;
  ScheduleState state_;
  Decision last_;
  std::string old_tz_;
  bool had_tz_ = false;
};

TEST_F(ScheduleTest, SlotsInLocalTime) {
  EXPECT_EQ(LastDailySlot({2, 0}, At(2026, 11, 21, 8, 30)), At(2026, 11, 21, 2, 0));
  EXPECT_EQ(LastDailySlot({2, 0}, At(2026, 11, 21, 1, 59)), At(2026, 11, 20, 2, 0));
  EXPECT_EQ(NextDailySlot({2, 0}, At(2026, 11, 21, 2, 0)), At(2026, 11, 22, 2, 0));
  EXPECT_EQ(LastDailySlot({2, 0}, At(2027, 1, 1, 1, 0)), At(2026, 12, 31, 2, 0));
}

TEST_F(ScheduleTest, LastDayOfMonth) {
  EXPECT_EQ(DaysInMonth(2028, 2), 29);
  EXPECT_EQ(DaysInMonth(2027, 2), 28);
  EXPECT_EQ(DaysInMonth(2100, 2), 28);
  EXPECT_EQ(DaysInMonth(2000, 2), 29);
  EXPECT_EQ(LastMonthlySlot(0, {2, 0}, At(2027, 3, 10, 12, 0)), At(2027, 2, 28, 2, 0));
  EXPECT_EQ(LastMonthlySlot(0, {2, 0}, At(2028, 3, 1, 1, 0)), At(2028, 2, 29, 2, 0));
  EXPECT_EQ(NextMonthlySlot(0, {2, 0}, At(2026, 11, 30, 2, 0)), At(2026, 12, 31, 2, 0));
  EXPECT_EQ(LastMonthlySlot(0, {2, 0}, At(2027, 1, 15, 0, 0)), At(2026, 12, 31, 2, 0));
  EXPECT_EQ(LastMonthlySlot(25, {23, 0}, At(2026, 11, 25, 22, 59)), At(2026, 10, 25, 23, 0));
}

TEST_F(ScheduleTest, NightlyRunOncePerDay) {
  EXPECT_EQ(Tick(At(2026, 11, 20, 23, 0)),
            std::vector<SnapshotKind>{SnapshotKind::kDaily});  // first start: catch up
  EXPECT_TRUE(Tick(At(2026, 11, 21, 1, 59)).empty());
  EXPECT_EQ(Tick(At(2026, 11, 21, 2, 0)), std::vector<SnapshotKind>{SnapshotKind::kDaily});
  EXPECT_TRUE(Tick(At(2026, 11, 21, 2, 1)).empty());
  EXPECT_TRUE(Tick(At(2026, 11, 21, 23, 0)).empty());
  EXPECT_EQ(last_.next_wake, At(2026, 11, 21, 23, 0) + 3600);
  EXPECT_TRUE(Tick(At(2026, 11, 22, 1, 30)).empty());
  EXPECT_EQ(last_.next_wake, At(2026, 11, 22, 2, 0));
}

TEST_F(ScheduleTest, StandalonePcCatchesUpAtStartUp) {
  Tick(At(2026, 11, 19, 2, 0));
  // The PC was off at 02:00 on the 20th and 21st and is switched on at 08:30: one run, now.
  EXPECT_EQ(Tick(At(2026, 11, 21, 8, 30)), std::vector<SnapshotKind>{SnapshotKind::kDaily});
  EXPECT_TRUE(Tick(At(2026, 11, 21, 8, 31)).empty());
  // Switched on at 01:00 before the slot: yesterday's missed run is caught up.
  Tick(At(2026, 11, 22, 2, 0));
  EXPECT_EQ(Tick(At(2026, 11, 24, 1, 0)), std::vector<SnapshotKind>{SnapshotKind::kDaily});
  EXPECT_TRUE(Tick(At(2026, 11, 24, 1, 30)).empty());
  EXPECT_EQ(Tick(At(2026, 11, 24, 2, 0)), std::vector<SnapshotKind>{SnapshotKind::kDaily});
}

TEST_F(ScheduleTest, MonthlyOnLastDayStandsForTheDaily) {
  Tick(At(2026, 11, 21, 3, 0));  // first seen: November's slot is not due yet, October's is baselined
  EXPECT_TRUE(Tick(At(2026, 11, 29, 12, 0)) == std::vector<SnapshotKind>{SnapshotKind::kDaily});
  EXPECT_EQ(Tick(At(2026, 11, 30, 2, 0)), std::vector<SnapshotKind>{SnapshotKind::kMonthly});
  EXPECT_TRUE(Tick(At(2026, 11, 30, 3, 0)).empty());  // the daily of the 30th was settled by the monthly
  EXPECT_EQ(Tick(At(2026, 12, 1, 2, 0)), std::vector<SnapshotKind>{SnapshotKind::kDaily});
}

TEST_F(ScheduleTest, FirstStartDoesNotMakeLastMonthsMonthly) {
  EXPECT_EQ(Tick(At(2026, 11, 21, 9, 0)), std::vector<SnapshotKind>{SnapshotKind::kDaily});
}

TEST_F(ScheduleTest, MissedMonthlyIsCaughtUp) {
  Tick(At(2026, 11, 29, 9, 0));
  // Off from the 29th evening to December 1st morning: the monthly of the 30th runs at start.
  EXPECT_EQ(Tick(At(2026, 12, 1, 8, 30)), std::vector<SnapshotKind>{SnapshotKind::kMonthly});
  EXPECT_TRUE(Tick(At(2026, 12, 1, 9, 0)).empty());
}

TEST_F(ScheduleTest, FailedRunIsRetriedWithBackoffThenGivenUp) {
  config_.jobs[0].run_max_attempts = 3;
  int64_t t = At(2026, 11, 21, 2, 0);
  Tick(At(2026, 11, 20, 23, 0));
  EXPECT_EQ(Tick(t, RunOutcome::kFailed).size(), 1u);
  EXPECT_TRUE(Tick(t + 59, RunOutcome::kFailed).empty());
  EXPECT_EQ(Tick(t + 60, RunOutcome::kFailed).size(), 1u);  // 2nd attempt after 60 s
  EXPECT_TRUE(Tick(t + 60 + 119, RunOutcome::kFailed).empty());
  EXPECT_EQ(Tick(t + 60 + 120, RunOutcome::kFailed).size(), 1u);  // 3rd after 120 s
  EXPECT_TRUE(Tick(t + 5000, RunOutcome::kFailed).empty());       // given up for this slot
  EXPECT_EQ(Tick(At(2026, 11, 22, 2, 0)).size(), 1u);             // the next night runs again
}

TEST_F(ScheduleTest, BusyJobIsTriedAgainWithoutCounting) {
  config_.jobs[0].run_max_attempts = 1;
  int64_t t = At(2026, 11, 21, 2, 0);
  Tick(At(2026, 11, 20, 23, 0));
  EXPECT_EQ(Tick(t, RunOutcome::kLocked).size(), 1u);
  EXPECT_TRUE(Tick(t + 30).empty());
  EXPECT_EQ(Tick(t + 60, RunOutcome::kOk).size(), 1u);
  EXPECT_TRUE(Tick(t + 120).empty());
}

TEST_F(ScheduleTest, BackoffDoublesUpToTheCap) {
  RetryPolicy p;
  EXPECT_EQ(BackoffSeconds(p, 1), 60);
  EXPECT_EQ(BackoffSeconds(p, 2), 120);
  EXPECT_EQ(BackoffSeconds(p, 3), 240);
  EXPECT_EQ(BackoffSeconds(p, 7), 3600);
  EXPECT_EQ(BackoffSeconds(p, 100), 3600);
}

TEST_F(ScheduleTest, SendWindowAcrossMidnight) {
  SendWindow w;  // 22:00-06:00
  EXPECT_FALSE(InSendWindow(w, At(2026, 11, 21, 14, 0)));
  EXPECT_TRUE(InSendWindow(w, At(2026, 11, 21, 22, 0)));
  EXPECT_TRUE(InSendWindow(w, At(2026, 11, 22, 5, 59)));
  EXPECT_FALSE(InSendWindow(w, At(2026, 11, 22, 6, 0)));
  EXPECT_EQ(NextSendWindowStart(w, At(2026, 11, 21, 14, 0)), At(2026, 11, 21, 22, 0));
  EXPECT_EQ(NextSendWindowStart(w, At(2026, 11, 22, 3, 0)), At(2026, 11, 22, 3, 0));
  SendWindow day{{9, 0}, {17, 0}};
  EXPECT_TRUE(InSendWindow(day, At(2026, 11, 21, 9, 0)));
  EXPECT_FALSE(InSendWindow(day, At(2026, 11, 21, 17, 0)));
}

TEST_F(ScheduleTest, QueuedSendsAreDueAtTheirTimeOrWhenTheWindowOpens) {
  config_.jobs[0].schedule = {};
  int64_t now = At(2026, 11, 21, 14, 0);
  std::vector<QueuedSend> q = {{"a", "care", now - 1, false, 1},
                               {"b", "care", At(2026, 11, 21, 22, 0), true, 0},
                               {"c", "gone", now - 1, false, 0},
                               {"d", "care", now + 100, false, 2}};
  Decision d = Decide(config_, state_, q, now);
  ASSERT_EQ(d.actions.size(), 1u);
  EXPECT_EQ(d.actions[0].item, "a");
  EXPECT_EQ(d.next_wake, now + 100);
  d = Decide(config_, state_, q, At(2026, 11, 21, 22, 30));
  ASSERT_EQ(d.actions.size(), 3u);
  EXPECT_EQ(d.actions[1].item, "b");
}

TEST_F(ScheduleTest, StateSurvivesSaveAndLoad) {
  Tick(At(2026, 11, 21, 2, 0), RunOutcome::kFailed);
  std::string path = ::testing::TempDir() + "/schedule_state_test.json";
  ASSERT_TRUE(SaveScheduleState(path, state_).ok());
  auto loaded = LoadScheduleState(path);
  ASSERT_TRUE(loaded.ok());
  const JobScheduleState& js = loaded->jobs.at("care");
  EXPECT_TRUE(js.initialized);
  EXPECT_EQ(js.daily.slot, At(2026, 11, 21, 2, 0));
  EXPECT_EQ(js.daily.attempts, 1);
  EXPECT_FALSE(js.daily.done);
  EXPECT_EQ(js.daily.next_attempt, At(2026, 11, 21, 2, 1));
}

}  // namespace
}  // namespace kura
