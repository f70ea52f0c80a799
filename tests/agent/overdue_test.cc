// The overdue check with a fake clock: the office must see that backups are not being made
// (seed 000 §2.2(3)) even when nothing failed — the agent was stopped, the PC was off, the
// monthly closing never ran — and must not see a warning within the grace.
#include "agent/overdue.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>

#include "agent/schedule.h"

namespace kura {
namespace {

constexpr int64_t kHour = 3600;

class OverdueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tz = std::getenv("TZ");
    had_tz_ = tz != nullptr;
    old_tz_ = tz ? tz : "";
    setenv("TZ", "Asia/Tokyo", 1);
    tzset();
    JobConfig job;
    job.name = "care";
    job.label = "ケアレンツ";
    job.schedule.daily = TimeOfDay{2, 0};
    job.schedule.grace_hours = 6;
    TargetConfig local;
    local.name = "local";
    job.targets.push_back(local);
    config_.jobs.push_back(job);
    config_.status_file = "/var/lib/kura/status.json";
  }
  void TearDown() override {
    if (had_tz_)
      setenv("TZ", old_tz_.c_str(), 1);
    else
      unsetenv("TZ");
    tzset();
  }
  static int64_t At(int y, int mo, int d, int h, int mi) { return LocalTimeAt({y, mo, d}, {h, mi}); }

  // A status document where job "care" last succeeded at `when` with `kind`.
  StatusDocument SucceededAt(int64_t when, const std::string& kind = "daily", int64_t first_seen = 0) {
    StatusDocument doc;
    doc.updated = when;
    JobStatus& js = doc.jobs["care"];
    js.first_seen = first_seen ? first_seen : when - 30 * 24 * kHour;
    js.last_success_by_kind[kind] = when;
    RecordTargetSuccess(js.targets["local"], when, "snap");
    return doc;
  }
  std::vector<OverdueWarning> At(const StatusDocument* doc, int64_t now) {
    FakeClock clock(now);
    return FindOverdue(config_, doc, clock);
  }

  AgentConfig config_;
  bool had_tz_ = false;
  std::string old_tz_;
};

TEST_F(OverdueTest, NoStatusFileWhileJobsAreConfiguredIsAWarning) {
  auto w = At(nullptr, At(2026, 11, 21, 9, 0));
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].reason, "no_status_file");
  EXPECT_NE(w[0].message_ja.find("/var/lib/kura/status.json"), std::string::npos) << w[0].message_ja;
  EXPECT_NE(w[0].message_ja.find("弊社までご連絡下さい。"), std::string::npos) << "ends with the guidance";
  config_.jobs.clear();
  EXPECT_TRUE(At(nullptr, At(2026, 11, 21, 9, 0)).empty()) << "nothing configured, nothing expected";
}

TEST_F(OverdueTest, JobTheStatusFileDoesNotKnowHasNeverRun) {
  StatusDocument doc;
  doc.updated = At(2026, 11, 20, 2, 0);
  auto w = At(&doc, At(2026, 11, 21, 9, 0));
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].reason, "never");
  EXPECT_NE(w[0].message_ja.find("ケアレンツ"), std::string::npos);
}

TEST_F(OverdueTest, DailyLastSucceeded25HoursAgoIsOverdueButWithinGraceIsNot) {
  int64_t last = At(2026, 11, 20, 2, 5);
  StatusDocument doc = SucceededAt(last);
  EXPECT_TRUE(At(&doc, last + 25 * kHour).empty()) << "25 h is within 24 h + 6 h grace";
  EXPECT_TRUE(At(&doc, last + 30 * kHour).empty()) << "exactly at the end of the grace";
  auto w = At(&doc, last + 30 * kHour + 1);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].reason, "daily");
  EXPECT_EQ(w[0].due, last + 30 * kHour);
  EXPECT_EQ(w[0].last_success, last);
  EXPECT_NE(w[0].message_ja.find("2026-11-20 02:05"), std::string::npos)
      << "names the last success: " << w[0].message_ja;
  // Without grace, 25 h is overdue.
  config_.jobs[0].schedule.grace_hours = 0;
  EXPECT_EQ(At(&doc, last + 25 * kHour).size(), 1u);
}

TEST_F(OverdueTest, DailyLastSucceededThreeDaysAgoIsOverdue) {
  int64_t last = At(2026, 11, 18, 2, 0);
  StatusDocument doc = SucceededAt(last);
  auto w = At(&doc, At(2026, 11, 21, 2, 0));
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].reason, "daily");
  EXPECT_NE(w[0].message_en.find("overdue"), std::string::npos) << w[0].message_en;
}

TEST_F(OverdueTest, ManualRunsDoNotStandForTheSchedule) {
  int64_t last = At(2026, 11, 18, 2, 0);
  StatusDocument doc = SucceededAt(last);
  doc.jobs["care"].last_success_by_kind["manual"] = At(2026, 11, 21, 1, 0);
  EXPECT_EQ(At(&doc, At(2026, 11, 21, 2, 0)).size(), 1u);
  doc.jobs["care"].last_success_by_kind["monthly"] = At(2026, 11, 21, 1, 0);
  EXPECT_TRUE(At(&doc, At(2026, 11, 21, 2, 0)).empty()) << "a monthly run stands for the daily";
}

TEST_F(OverdueTest, AnActiveFailureWarningIsNotRepeatedAsOverdue) {
  int64_t last = At(2026, 11, 18, 2, 0);
  StatusDocument doc = SucceededAt(last);
  RecordTargetFailure(doc.jobs["care"].targets["local"], At(2026, 11, 19, 2, 0),
                      Status::SourceFailed("pg_dump"), "ケアレンツ", "", "");
  EXPECT_TRUE(At(&doc, At(2026, 11, 21, 2, 0)).empty());
}

TEST_F(OverdueTest, MonthlyPastItsClosingDayPlusGraceIsOverdue) {
  JobSchedule& s = config_.jobs[0].schedule;
  s.daily.reset();
  s.monthly_day = 0;  // the last day of the month
  s.monthly_time = TimeOfDay{2, 0};
  // Last monthly closing succeeded for October; the job was known long before November's.
  StatusDocument doc = SucceededAt(At(2026, 10, 31, 2, 10), "monthly", At(2026, 9, 1, 0, 0));
  EXPECT_TRUE(At(&doc, At(2026, 11, 30, 7, 59)).empty()) << "within grace after the 30th 02:00";
  auto w = At(&doc, At(2026, 11, 30, 8, 1));
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].reason, "monthly");
  EXPECT_EQ(w[0].due, At(2026, 11, 30, 8, 0));
  EXPECT_NE(w[0].message_ja.find("月次"), std::string::npos);
  EXPECT_NE(w[0].message_ja.find("2026-11-30 02:00"), std::string::npos) << w[0].message_ja;
  // A daily success does not stand for the monthly closing.
  doc.jobs["care"].last_success_by_kind["daily"] = At(2026, 12, 1, 2, 0);
  EXPECT_EQ(At(&doc, At(2026, 12, 1, 9, 0)).size(), 1u);
  doc.jobs["care"].last_success_by_kind["monthly"] = At(2026, 12, 1, 2, 0);
  EXPECT_TRUE(At(&doc, At(2026, 12, 1, 9, 0)).empty());
}

TEST_F(OverdueTest, MonthlySlotBeforeTheJobWasFirstRecordedIsNotOverdue) {
  JobSchedule& s = config_.jobs[0].schedule;
  s.daily.reset();
  s.monthly_day = 0;
  StatusDocument doc = SucceededAt(At(2026, 11, 21, 10, 0), "manual", At(2026, 11, 21, 10, 0));
  EXPECT_TRUE(At(&doc, At(2026, 11, 25, 9, 0)).empty())
      << "installed on the 21st: October's closing is not missing";
}

TEST_F(OverdueTest, JobWithoutScheduleIsNeverOverdue) {
  config_.jobs[0].schedule = JobSchedule{};
  StatusDocument doc = SucceededAt(At(2020, 1, 1, 0, 0));
  EXPECT_TRUE(At(&doc, At(2026, 11, 21, 9, 0)).empty());
}

TEST_F(OverdueTest, StatusFileFromBeforePerKindTimesUsesTheLastSuccess) {
  StatusDocument doc = SucceededAt(At(2026, 11, 20, 2, 0));
  doc.jobs["care"].last_success_by_kind.clear();
  doc.jobs["care"].first_seen = 0;
  EXPECT_TRUE(At(&doc, At(2026, 11, 21, 2, 0)).empty());
  EXPECT_EQ(At(&doc, At(2026, 11, 22, 2, 0)).size(), 1u);
}

TEST_F(OverdueTest, StatusFileRoundTripKeepsPerKindSuccessAndFirstSeen) {
  StatusDocument doc = SucceededAt(At(2026, 11, 20, 2, 0), "monthly", At(2026, 1, 1, 0, 0));
  auto back = StatusFromJson(StatusToJson(doc));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->jobs["care"].last_success_by_kind, doc.jobs["care"].last_success_by_kind);
  EXPECT_EQ(back->jobs["care"].first_seen, At(2026, 1, 1, 0, 0));
}

}  // namespace
}  // namespace kura
