// Site states for the vendor (issue 7 §4, "Missed-backup alarm"), on a fake clock in JST.
// Requirement IDs: G-MON-01 (the failure is visible and cleared by the next success),
// S-01 (a standalone PC backs up at start-up), S-07 (the warning clears on the next
// success), G-INT-02 (damage found by scrub is its own state).
#include "vault/site_state.h"

#include <gtest/gtest.h>

#include "util/clock.h"
#include "vault/vault_sim.h"

namespace kura::vault {
namespace {

using testing::Jst;
using testing::JstSeconds;

BackupSchedule At(int hour, int minute, uint8_t weekdays = 0x7f) {
  BackupSchedule s;
  s.minute_of_day = hour * 60 + minute;
  s.weekdays = weekdays;
  return s;
}

SiteFacts Nightly(int64_t last_arrival_ms) {
  SiteFacts f;
  f.schedule = At(2, 0);
  f.enrolled_ms = Jst(2026, 10, 1);
  f.last_arrival_ms = last_arrival_ms;
  f.last_success_ms = last_arrival_ms;
  return f;
}

SiteStatus At(const SiteFacts& f, const FakeClock& clock, SiteStatePolicy p = {}) {
  return EvaluateSite(f, p, clock.NowUnixMillis());
}

TEST(SiteStateTest, OkOnceTheNightsBackupArrived) {
  FakeClock clock(JstSeconds(2026, 11, 5, 9, 0));
  SiteFacts f = Nightly(Jst(2026, 11, 5, 2, 10));
  SiteStatus st = At(f, clock);
  EXPECT_EQ(st.state, SiteState::kOk);
  EXPECT_EQ(st.since_ms, Jst(2026, 11, 5, 2, 10));
  EXPECT_EQ(st.next_deadline_ms, Jst(2026, 11, 6, 6, 0));
  EXPECT_EQ(SiteSummary(st, f, {}, FixedZone::Tokyo(), Language::kEnglish),
            "ok since 2026-11-05 02:10 JST: last backup received 2026-11-05 02:10 JST");
}

// The deadline is the scheduled time plus the grace, to the second: 05:59:59 is still ok,
// 06:00:00 is overdue.
TEST(SiteStateTest, OverdueAtTheScheduledTimePlusTheGrace) {
  FakeClock clock(JstSeconds(2026, 11, 5, 5, 59, 59));
  SiteFacts f = Nightly(Jst(2026, 11, 4, 2, 10));
  EXPECT_EQ(At(f, clock).state, SiteState::kOk);
  clock.Advance(1);
  SiteStatus st = At(f, clock);
  EXPECT_EQ(st.state, SiteState::kOverdue);
  EXPECT_EQ(st.since_ms, Jst(2026, 11, 5, 6, 0));
  EXPECT_EQ(st.missed_due_ms, Jst(2026, 11, 5, 2, 0));
  std::string en = SiteSummary(st, f, {}, FixedZone::Tokyo(), Language::kEnglish);
  EXPECT_EQ(en,
            "overdue since 2026-11-05 06:00 JST: the backup due 2026-11-05 02:00 JST has not arrived within "
            "the 4 h "
            "grace (last received 2026-11-04 02:10 JST); check that the site's PC is on and kura is running");
  EXPECT_NE(SiteSummary(st, f, {}, FixedZone::Tokyo(), Language::kJapanese).find("期限超過"),
            std::string::npos);
}

// A schedule just before midnight JST: the backup of 23:30 may arrive after midnight
// within the grace; one that comes early (23:55 for a 00:30 schedule) counts as well.
TEST(SiteStateTest, AcrossMidnightJst) {
  SiteFacts f = Nightly(Jst(2026, 11, 5, 0, 20));
  f.schedule = At(23, 30);
  SiteStatePolicy one_hour{.grace_ms = kMillisPerHour};
  FakeClock clock(JstSeconds(2026, 11, 5, 0, 29, 59));  // due 11-04 23:30, arrived 00:20
  EXPECT_EQ(At(f, clock, one_hour).state, SiteState::kOk);
  clock.Set(JstSeconds(2026, 11, 6, 0, 30));  // due 11-05 23:30: nothing since 00:20 the day before
  SiteStatus st = At(f, clock, one_hour);
  EXPECT_EQ(st.state, SiteState::kOverdue);
  EXPECT_EQ(st.missed_due_ms, Jst(2026, 11, 5, 23, 30));

  f.schedule = At(0, 30);
  f.last_arrival_ms = Jst(2026, 11, 5, 23, 55);  // early for 11-06 00:30
  clock.Set(JstSeconds(2026, 11, 6, 9, 0));
  EXPECT_EQ(At(f, clock, one_hour).state, SiteState::kOk);
}

// A missed day is overdue even when the last report was a success (the run said it
// finished, but nothing arrived).
TEST(SiteStateTest, AMissedDayIsOverdueEvenAfterASuccessReport) {
  FakeClock clock(JstSeconds(2026, 11, 5, 9, 0));
  SiteFacts f = Nightly(Jst(2026, 11, 4, 2, 10));
  f.last_success_ms = Jst(2026, 11, 5, 2, 15);
  EXPECT_EQ(At(f, clock).state, SiteState::kOverdue);
}

// Failed is its own state, shown before overdue (it carries the site's reason), and the
// next success clears it (G-MON-01, S-07).
TEST(SiteStateTest, FailedUntilTheNextSuccess) {
  FakeClock clock(JstSeconds(2026, 11, 5, 9, 0));
  SiteFacts f = Nightly(Jst(2026, 11, 4, 2, 10));
  f.failing_since_ms = Jst(2026, 11, 5, 2, 20);
  f.failure_message = "disk full\x1b[2J";
  SiteStatus st = At(f, clock);
  EXPECT_EQ(st.state, SiteState::kFailed);
  EXPECT_EQ(st.since_ms, Jst(2026, 11, 5, 2, 20));
  ASSERT_EQ(st.conditions.size(), 2U);
  EXPECT_EQ(st.conditions[1].state, SiteState::kOverdue);
  std::string en = SiteSummary(st, f, {}, FixedZone::Tokyo(), Language::kEnglish);
  EXPECT_EQ(en,
            "failed since 2026-11-05 02:20 JST: the site reported a failed backup: \"disk full\\x1B[2J\"; "
            "contact the "
            "site to find the cause (also: overdue)");
  // Failed but not overdue: the failure came before the deadline.
  clock.Set(JstSeconds(2026, 11, 5, 3, 0));
  st = At(f, clock);
  EXPECT_EQ(st.state, SiteState::kFailed);
  EXPECT_EQ(st.conditions.size(), 1U);
  // The retry succeeds and arrives.
  f.last_success_ms = Jst(2026, 11, 5, 4, 0);
  f.last_arrival_ms = Jst(2026, 11, 5, 4, 0);
  clock.Set(JstSeconds(2026, 11, 5, 9, 0));
  EXPECT_EQ(At(f, clock).state, SiteState::kOk);
}

// S-01: a standalone PC is off at night and backs up at start-up. With its grace (10 h) the
// morning backup is on time; with the default 4 h it would be overdue every morning.
TEST(SiteStateTest, AStartUpPcWithItsGrace) {
  SiteFacts f = Nightly(Jst(2026, 11, 4, 8, 45));
  SiteStatePolicy startup{.grace_ms = 10 * kMillisPerHour};
  FakeClock clock(JstSeconds(2026, 11, 5, 7, 0));
  EXPECT_EQ(At(f, clock, startup).state, SiteState::kOk);
  EXPECT_EQ(At(f, clock).state, SiteState::kOverdue);
  clock.Set(JstSeconds(2026, 11, 5, 11, 59));
  EXPECT_EQ(At(f, clock, startup).state, SiteState::kOk);
  clock.Set(JstSeconds(2026, 11, 5, 12, 0));
  EXPECT_EQ(At(f, clock, startup).state, SiteState::kOverdue);
  f.last_arrival_ms = Jst(2026, 11, 5, 8, 50);
  EXPECT_EQ(At(f, clock, startup).state, SiteState::kOk);
}

// Example 5 of docs/retention.md: a PC off for two weeks is overdue since the first missed
// night, not since the last one.
TEST(SiteStateTest, APcOffForTwoWeeksIsOverdueSinceTheFirstMissedNight) {
  FakeClock clock(JstSeconds(2026, 11, 19, 23, 0));
  SiteFacts f = Nightly(Jst(2026, 11, 5, 2, 5));
  SiteStatus st = At(f, clock);
  EXPECT_EQ(st.state, SiteState::kOverdue);
  EXPECT_EQ(st.missed_due_ms, Jst(2026, 11, 6, 2, 0));
  EXPECT_EQ(st.since_ms, Jst(2026, 11, 6, 6, 0));
}

TEST(SiteStateTest, WeekdaySchedulesExpectNothingAtTheWeekend) {
  SiteFacts f = Nightly(Jst(2026, 11, 6, 2, 5));  // Friday
  f.schedule = At(2, 0, 0x3e);
  FakeClock clock(JstSeconds(2026, 11, 8, 12, 0));  // Sunday
  EXPECT_EQ(At(f, clock).state, SiteState::kOk);
  clock.Set(JstSeconds(2026, 11, 9, 6, 0));  // Monday 06:00
  SiteStatus st = At(f, clock);
  EXPECT_EQ(st.state, SiteState::kOverdue);
  EXPECT_EQ(st.missed_due_ms, Jst(2026, 11, 9, 2, 0));
}

TEST(SiteStateTest, ANewSiteIsOverdueFromItsFirstScheduledNight) {
  SiteFacts f;
  f.schedule = At(2, 0);
  f.enrolled_ms = Jst(2026, 11, 1, 10, 0);
  FakeClock clock(JstSeconds(2026, 11, 2, 5, 0));
  EXPECT_EQ(At(f, clock).state, SiteState::kOk);
  clock.Set(JstSeconds(2026, 11, 3, 9, 0));
  SiteStatus st = At(f, clock);
  EXPECT_EQ(st.state, SiteState::kOverdue);
  EXPECT_EQ(st.missed_due_ms, Jst(2026, 11, 2, 2, 0));
}

TEST(SiteStateTest, WithoutAScheduleADailyIsExpectedEveryDay) {
  SiteFacts f = Nightly(Jst(2026, 11, 4, 2, 0));
  f.schedule.reset();
  FakeClock clock(JstSeconds(2026, 11, 5, 5, 59));
  EXPECT_EQ(At(f, clock).state, SiteState::kOk);
  clock.Set(JstSeconds(2026, 11, 5, 6, 0));
  EXPECT_EQ(At(f, clock).state, SiteState::kOverdue);
}

TEST(SiteStateTest, IncompleteUntilABackupArrives) {
  FakeClock clock(JstSeconds(2026, 11, 5, 4, 0));
  SiteFacts f = Nightly(Jst(2026, 11, 4, 2, 10));
  f.incomplete_since_ms = Jst(2026, 11, 5, 2, 30);
  SiteStatus st = At(f, clock);
  EXPECT_EQ(st.state, SiteState::kIncomplete);
  EXPECT_NE(SiteSummary(st, f, {}, FixedZone::Tokyo(), Language::kEnglish).find("never committed"),
            std::string::npos);
  f.last_arrival_ms = Jst(2026, 11, 5, 3, 0);
  EXPECT_EQ(At(f, clock).state, SiteState::kOk);
}

// Precedence: anomalous, damaged, failed, overdue, incomplete; every active one is listed.
TEST(SiteStateTest, PrecedenceListsEveryActiveCondition) {
  FakeClock clock(JstSeconds(2026, 11, 6, 9, 0));
  SiteFacts f = Nightly(Jst(2026, 11, 4, 2, 10));
  f.failing_since_ms = Jst(2026, 11, 5, 2, 20);
  f.incomplete_since_ms = Jst(2026, 11, 6, 2, 30);
  f.damaged_since_ms = Jst(2026, 11, 5, 12, 0);
  f.hold_since_ms = Jst(2026, 11, 6, 2, 40);
  SiteStatus st = At(f, clock);
  std::vector<SiteState> states;
  for (const SiteCondition& c : st.conditions) states.push_back(c.state);
  EXPECT_EQ(states, (std::vector<SiteState>{SiteState::kAnomalous, SiteState::kDamaged, SiteState::kFailed,
                                            SiteState::kOverdue, SiteState::kIncomplete}));
  EXPECT_EQ(st.state, SiteState::kAnomalous);
  EXPECT_EQ(st.since_ms, Jst(2026, 11, 6, 2, 40));
  f.hold_since_ms.reset();
  EXPECT_EQ(At(f, clock).state, SiteState::kDamaged);
  f.damaged_since_ms.reset();
  EXPECT_EQ(At(f, clock).state, SiteState::kFailed);
  f.failing_since_ms.reset();
  EXPECT_EQ(At(f, clock).state, SiteState::kOverdue);
  std::string ja = SiteSummary(At(f, clock), f, {}, FixedZone::Tokyo(), Language::kJapanese);
  EXPECT_NE(ja.find("ほかに: 未完了"), std::string::npos) << ja;
  for (SiteState s : {SiteState::kOk, SiteState::kOverdue, SiteState::kFailed, SiteState::kIncomplete,
                      SiteState::kDamaged, SiteState::kAnomalous}) {
    EXPECT_FALSE(SiteStateName(s).empty());
    EXPECT_NE(SiteStateLabel(s, Language::kJapanese), SiteStateLabel(s, Language::kEnglish));
  }
}

TEST(SiteStateTest, SchedulesParseAsTheAgentReportsThem) {
  auto s = ParseBackupSchedule("02:00", "Asia/Tokyo", "daily");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->minute_of_day, 120);
  EXPECT_EQ(s->zone.offset_seconds, 9 * 3600);
  EXPECT_EQ(s->weekdays, 0x7f);
  auto w = ParseBackupSchedule("23:45", "+05:30", "mon,wed,fri");
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->weekdays, 0x2a);
  EXPECT_EQ(w->zone.offset_seconds, 5 * 3600 + 1800);
  EXPECT_EQ(ParseBackupSchedule("08:00", "UTC", "weekdays")->weekdays, 0x3e);
  SetLanguage(Language::kEnglish);
  for (auto [time, zone, days] : {std::tuple{"2:00", "Asia/Tokyo", "daily"},
                                  {"24:00", "UTC", "daily"},
                                  {"02:60", "UTC", "daily"},
                                  {"02:00", "Europe/Paris", "daily"},
                                  {"02:00", "UTC", "mon,,tue"},
                                  {"02:00", "UTC", ""},
                                  {"02:00", "UTC", "monday"}}) {
    auto r = ParseBackupSchedule(time, zone, days);
    ASSERT_FALSE(r.ok()) << time << " " << zone << " " << days;
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
    EXPECT_NE(r.status().message().find('"'), std::string::npos) << r.status().message();  // names the value
  }
  SetLanguage(Language::kJapanese);
}

}  // namespace
}  // namespace kura::vault
