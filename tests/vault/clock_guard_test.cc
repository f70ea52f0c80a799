// The clock guard (issue 7 §4: "If the server clock jumps (backwards, or forwards by more
// than a day), retention and deletion freeze and an alarm is raised"). Requirement IDs:
// G-AUD-08 (the vault's clock is checked), G-OPS-19 (no deletion outside the rules).
#include "vault/clock_guard.h"

#include <gtest/gtest.h>

#include "util/clock.h"
#include "vault/vault_sim.h"

namespace kura::vault {
namespace {

using testing::Good;
using testing::Jst;
using testing::JstSeconds;
using testing::VaultSim;

ClockReading Wall(const FakeClock& clock, std::optional<int64_t> steady = std::nullopt) {
  return {clock.NowUnixMillis(), steady};
}

TEST(ClockGuardTest, TheFirstReadingIsTheStart) {
  FakeClock clock(JstSeconds(2026, 11, 1));
  ClockObservation o = ObserveClock({}, Wall(clock));
  EXPECT_FALSE(o.state.frozen);
  EXPECT_FALSE(o.alarm_raised);
  EXPECT_EQ(o.state.last_seen_ms, clock.NowUnixMillis());
}

TEST(ClockGuardTest, SmallStepsBackAreNtpAndMoveNothingBack) {
  FakeClock clock(JstSeconds(2026, 11, 1));
  ClockGuardState s = ObserveClock({}, Wall(clock)).state;
  clock.Advance(60);
  s = ObserveClock(s, Wall(clock, 60'000)).state;
  const int64_t seen = s.last_seen_ms;
  clock.Advance(-2);  // within the 2 s tolerance
  ClockObservation o = ObserveClock(s, Wall(clock, 0));
  EXPECT_FALSE(o.state.frozen);
  EXPECT_EQ(o.state.last_seen_ms, seen);
}

TEST(ClockGuardTest, ABackwardJumpFreezesUntilAcknowledged) {
  FakeClock clock(JstSeconds(2026, 11, 10, 9, 0));
  ClockGuardState s = ObserveClock({}, Wall(clock)).state;
  clock.Set(JstSeconds(2026, 11, 3, 9, 0));
  ClockObservation o = ObserveClock(s, Wall(clock, 1000));
  EXPECT_TRUE(o.state.frozen);
  EXPECT_TRUE(o.alarm_raised);
  EXPECT_EQ(o.state.jump, ClockJump::kBackward);
  EXPECT_FALSE(DeletionAllowed(o.state));
  EXPECT_EQ(
      DescribeClockGuard(o.state, FixedZone::Tokyo(), Language::kEnglish),
      "the server clock went back about 168 h, from 2026-11-10 09:00 JST to 2026-11-03 09:00 JST; retention "
      "and deletion are frozen; check NTP, then an operator acknowledges");
  EXPECT_NE(DescribeClockGuard(o.state, FixedZone::Tokyo(), Language::kJapanese).find("時計が"),
            std::string::npos);
  // Still frozen when the clock is put right again, and the alarm is raised only once.
  clock.Set(JstSeconds(2026, 11, 10, 9, 5));
  ClockObservation later = ObserveClock(o.state, Wall(clock, 60'000));
  EXPECT_TRUE(later.state.frozen);
  EXPECT_FALSE(later.alarm_raised);
  ClockGuardState acked = AcknowledgeClock(later.state, clock.NowUnixMillis());
  EXPECT_TRUE(DeletionAllowed(acked));
  EXPECT_EQ(acked.last_seen_ms, clock.NowUnixMillis());
  EXPECT_EQ(acked.jump, ClockJump::kNone);
}

// Forward by more than a day: a jump while running (the monotonic clock saw a minute), and
// after a restart the operator must say it was a downtime. Exactly one day is allowed.
TEST(ClockGuardTest, AForwardJumpOfMoreThanADay) {
  FakeClock clock(JstSeconds(2026, 11, 1));
  ClockGuardState s = ObserveClock({}, Wall(clock)).state;
  clock.Advance(86400);
  EXPECT_FALSE(ObserveClock(s, Wall(clock)).state.frozen);
  clock.Advance(1);
  ClockObservation restart = ObserveClock(s, Wall(clock));  // no monotonic reference
  EXPECT_TRUE(restart.state.frozen);
  EXPECT_EQ(restart.state.jump, ClockJump::kForward);
  ClockObservation running = ObserveClock(s, Wall(clock, 60'000));
  EXPECT_TRUE(running.state.frozen);
  // The vault ran (idle) through the whole time: the monotonic clock agrees.
  ClockObservation idle = ObserveClock(s, Wall(clock, 86'401'000 - 30'000));
  EXPECT_FALSE(idle.state.frozen);
  EXPECT_NE(DescribeClockGuard(restart.state, FixedZone::Tokyo(), Language::kEnglish).find("known downtime"),
            std::string::npos);
}

// Nothing is evicted while the guard is frozen, and retention resumes after the operator
// acknowledges.
TEST(ClockGuardTest, RetentionAndDeletionFreezeWithTheGuard) {
  FakeClock clock(JstSeconds(2026, 11, 1));
  VaultSim sim(&clock);
  for (int day = 1; day <= 3; ++day) {
    clock.Set(JstSeconds(2026, 11, day, 2, 5));
    sim.Receive(Good(fmt::format("d{:02}", day), SnapshotKind::kDaily));
  }
  sim.clock_guard() = ObserveClock({}, Wall(clock)).state;
  // The clock jumps two months ahead; two more "dailies" arrive on the wrong dates.
  clock.Set(JstSeconds(2027, 1, 10, 2, 5));
  sim.clock_guard() = ObserveClock(sim.clock_guard(), Wall(clock)).state;
  ASSERT_TRUE(sim.clock_guard().frozen);
  for (int i = 0; i < 3; ++i) {
    clock.Advance(86400);
    sim.Receive(Good(fmt::format("f{}", i), SnapshotKind::kDaily));
  }
  clock.Advance(7200);
  RetentionPlan plan = sim.RunRetention();
  EXPECT_EQ(plan.evict_count, 0U);
  EXPECT_EQ(plan.held_back_count, 3U);
  EXPECT_NE(FormatRetentionPlan(plan, {}, Language::kEnglish).find("clock jump detected"), std::string::npos);
  EXPECT_TRUE(sim.Has("d01"));
  sim.clock_guard() = AcknowledgeClock(sim.clock_guard(), clock.NowUnixMillis());
  EXPECT_EQ(sim.RunRetention().evict_count, 3U);
}

TEST(ClockGuardTest, JumpNames) {
  EXPECT_EQ(ClockJumpName(ClockJump::kNone), "none");
  EXPECT_EQ(ClockJumpName(ClockJump::kBackward), "backward");
  EXPECT_EQ(ClockJumpName(ClockJump::kForward), "forward");
  EXPECT_EQ(DescribeClockGuard({}, FixedZone::Tokyo(), Language::kEnglish), "the clock is steady");
  (void)Jst;
}

}  // namespace
}  // namespace kura::vault
