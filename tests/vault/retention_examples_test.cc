// The worked examples of docs/retention.md, one test each, on a fake clock in JST (never the
// real clock or the process time zone). Requirement IDs: S-08 (remote generations 3/1/1,
// seed 000 §2.3), G-INT-01 (a site cannot destroy older generations, here by crowding them
// out), G-BAK-03 (the 004 profile's one-year minimum), G-OPS-19 (deletion outside the
// automatic retention is the operator's).
#include <gtest/gtest.h>

#include "vault/vault_sim.h"

namespace kura::vault {
namespace {

using testing::Good;
using testing::Jst;
using testing::JstSeconds;
using testing::Junk;
using testing::VaultSim;

using Ids = std::vector<std::string>;

// One night: the daily arrives at 02:05 JST, and the server's retention runs at 03:30.
void Night(VaultSim& sim, FakeClock& clock, int month, int day, const std::string& id) {
  clock.Set(JstSeconds(2026, month, day, 2, 5));
  ASSERT_FALSE(sim.Receive(Good(id, SnapshotKind::kDaily)).anomalous) << id;
  clock.Set(JstSeconds(2026, month, day, 3, 30));
  sim.RunRetention();
}

// S-08: after 5 daily, 2 monthly and 2 manual uploads, exactly 3, 1 and 1 remain.
TEST(RetentionExampleTest, FiveDailyTwoMonthlyTwoManualLeaveThreeOneOne) {
  FakeClock clock(JstSeconds(2026, 10, 31, 23, 0));
  VaultSim sim(&clock);
  ASSERT_FALSE(sim.Receive(Good("m1031", SnapshotKind::kMonthly)).anomalous);
  for (int day = 1; day <= 5; ++day) {
    Night(sim, clock, 11, day, "d0" + std::to_string(day));
    if (day == 2 || day == 4) {
      clock.Set(JstSeconds(2026, 11, day, 14, 0));
      ASSERT_FALSE(sim.Receive(Good("man0" + std::to_string(day), SnapshotKind::kManual)).anomalous);
    }
  }
  clock.Set(JstSeconds(2026, 11, 30, 23, 0));
  ASSERT_FALSE(sim.Receive(Good("m1130", SnapshotKind::kMonthly)).anomalous);
  clock.Set(JstSeconds(2026, 12, 1, 1, 0));
  sim.RunRetention();
  EXPECT_EQ(sim.Ids(), (Ids{"d03", "d04", "d05", "m1130", "man04"}));
}

// Example 1: a week of dailies with 11-05 missing. A day without a backup does not use up
// a place: after 11-07 the three kept are 11-07, 11-06 and 11-04.
TEST(RetentionExampleTest, AWeekOfDailiesWithOneMissingDay) {
  FakeClock clock(JstSeconds(2026, 11, 1));
  VaultSim sim(&clock);
  for (int day : {1, 2, 3, 4, 6}) Night(sim, clock, 11, day, "d0" + std::to_string(day));
  EXPECT_EQ(sim.Ids(), (Ids{"d03", "d04", "d06"}));
  Night(sim, clock, 11, 7, "d07");
  EXPECT_EQ(sim.Ids(), (Ids{"d04", "d06", "d07"}));
  EXPECT_EQ(sim.evicted(), (std::set<std::string>{"d01", "d02", "d03"}));
}

// Example 2: the month and day boundaries are JST's. 2026-12-01 00:00:00 JST is still
// 2026-11-30 in UTC; counted in UTC, November would hold two monthlies and October's
// would survive.
TEST(RetentionExampleTest, AMonthBoundaryInJst) {
  RemoteRetentionPolicy policy;
  policy.monthly_months = 2;
  std::vector<Generation> gens = {
      Good("m-oct", SnapshotKind::kMonthly, Jst(2026, 10, 31, 23, 30)),
      Good("m-nov", SnapshotKind::kMonthly, Jst(2026, 11, 30, 23, 59, 59)),
      Good("m-dec", SnapshotKind::kMonthly, Jst(2026, 12, 1, 0, 0, 0)),
      Good("d-1130", SnapshotKind::kDaily, Jst(2026, 11, 30, 23, 59, 59)),
      Good("d-1201", SnapshotKind::kDaily, Jst(2026, 12, 1, 0, 0, 0)),
  };
  for (Generation& g : gens) g.state = GenerationState::kAccepted;
  RetentionPlan plan = PlanRemoteRetention(gens, policy, {}, Jst(2026, 12, 1, 9, 0));
  std::map<std::string, const GenerationDecision*> by_id;
  for (const GenerationDecision& d : plan.decisions) by_id[d.id] = &d;
  EXPECT_TRUE(by_id["m-dec"]->keep);
  EXPECT_EQ(by_id["m-dec"]->bucket, "2026-12");
  EXPECT_TRUE(by_id["m-nov"]->keep);
  EXPECT_EQ(by_id["m-nov"]->bucket, "2026-11");
  EXPECT_FALSE(by_id["m-oct"]->keep);
  EXPECT_EQ(by_id["m-oct"]->reason, RetentionReason::kOlderMonth);
  EXPECT_EQ(by_id["d-1130"]->bucket, "2026-11-30");
  EXPECT_EQ(by_id["d-1201"]->bucket, "2026-12-01");
  EXPECT_EQ(by_id["d-1201"]->rank, 1);
  EXPECT_EQ(by_id["d-1130"]->rank, 2);
}

// The generations a site had before an attack; Night() rotates the dailies normally.
VaultSim* GoodHistory(VaultSim& sim, FakeClock& clock, int last_day) {
  clock.Set(JstSeconds(2026, 10, 31, 23, 0));
  EXPECT_FALSE(sim.Receive(Good("m1031", SnapshotKind::kMonthly)).anomalous);
  for (int day = 1; day <= last_day; ++day) {
    Night(sim, clock, 11, day, fmt::format("d{:02}", day));
    if (day == 3) {
      clock.Set(JstSeconds(2026, 11, 3, 14, 0));
      EXPECT_FALSE(sim.Receive(Good("man03", SnapshotKind::kManual)).anomalous);
    }
  }
  return &sim;
}

// Example 3 (issue 7 §4's acceptance test): 100 junk snapshots of every kind in one day
// remove no good generation. The first is already anomalous (nothing dedups or
// compresses), the site goes on hold, and after the operator clears the hold without
// accepting them, the junk goes and the good generations stay. G-INT-01, G-MON-05.
TEST(RetentionExampleTest, AJunkFloodOfAHundredSnapshotsInOneDayRemovesNoGoodGeneration) {
  FakeClock clock(0);
  VaultSim sim(&clock);
  GoodHistory(sim, clock, 5);
  const Ids good = sim.Ids();
  ASSERT_EQ(good, (Ids{"d03", "d04", "d05", "m1031", "man03"}));
  const SnapshotKind kinds[] = {SnapshotKind::kDaily, SnapshotKind::kMonthly, SnapshotKind::kManual};
  for (int i = 0; i < 100; ++i) {
    clock.Set(JstSeconds(2026, 11, 6, 9, 0) + i * 300);
    AnomalyVerdict v = sim.Receive(Junk(fmt::format("junk{:03}", i), kinds[i % 3]));
    EXPECT_TRUE(v.anomalous) << i;
  }
  clock.Set(JstSeconds(2026, 11, 7, 9, 0));
  sim.RunRetention();
  EXPECT_TRUE(sim.on_hold());
  for (const std::string& id : good) EXPECT_TRUE(sim.Has(id)) << id;
  EXPECT_EQ(sim.generations().size(), good.size() + 100);

  sim.ClearHold(/*accept_anomalous=*/false);
  sim.RunRetention();
  EXPECT_EQ(sim.Ids(), good);
}

// The same flood of junk that looks like real backups (it dedups and compresses): only
// the flood check can see it. The first six are accepted, the seventh within the hour
// trips the check and marks them anomalous too, and they never counted (settle time), so
// still no good generation goes.
TEST(RetentionExampleTest, AFloodOfLookAlikeSnapshotsRemovesNoGoodGeneration) {
  FakeClock clock(0);
  VaultSim sim(&clock);
  GoodHistory(sim, clock, 5);
  const Ids good = sim.Ids();
  int anomalous = 0;
  for (int i = 0; i < 100; ++i) {
    clock.Set(JstSeconds(2026, 11, 6, 9, 0) + i * 300);
    if (sim.Receive(Good(fmt::format("fake{:03}", i), SnapshotKind::kDaily)).anomalous) ++anomalous;
  }
  EXPECT_EQ(anomalous, 94);
  clock.Set(JstSeconds(2026, 11, 7, 9, 0));
  sim.RunRetention();
  for (const std::string& id : good) EXPECT_TRUE(sim.Has(id)) << id;
  for (const Generation& g : sim.generations()) {
    if (g.id.starts_with("fake")) {
      EXPECT_EQ(g.state, GenerationState::kAnomalous) << g.id;
    }
  }
}

// Example 4: three nights of junk dailies (the attack plain append-only cannot stop: three
// junk dailies would push the good ones out in three days) remove no good generation.
TEST(RetentionExampleTest, ThreeDaysOfJunkDailiesRemoveNoGoodGeneration) {
  FakeClock clock(0);
  VaultSim sim(&clock);
  GoodHistory(sim, clock, 10);
  const Ids good = sim.Ids();
  ASSERT_EQ(good, (Ids{"d08", "d09", "d10", "m1031", "man03"}));
  for (int day = 11; day <= 13; ++day) {
    clock.Set(JstSeconds(2026, 11, day, 2, 5));
    AnomalyVerdict v = sim.Receive(Junk(fmt::format("junk{}", day), SnapshotKind::kDaily));
    EXPECT_TRUE(v.anomalous);
    clock.Set(JstSeconds(2026, 11, day, 3, 30));
    sim.RunRetention();
  }
  EXPECT_TRUE(sim.on_hold());
  for (const std::string& id : good) EXPECT_TRUE(sim.Has(id)) << id;
  sim.ClearHold(false);
  sim.RunRetention();
  EXPECT_EQ(sim.Ids(), good);
}

// Example 5: a PC off for two weeks. Time passing alone removes nothing; the first backup
// after it takes one place, and the two newest from before stay.
TEST(RetentionExampleTest, APcOffForTwoWeeksKeepsItsLastGenerations) {
  FakeClock clock(0);
  VaultSim sim(&clock);
  for (int day = 1; day <= 5; ++day) Night(sim, clock, 11, day, fmt::format("d{:02}", day));
  clock.Set(JstSeconds(2026, 11, 19, 23, 0));
  EXPECT_EQ(sim.RunRetention().evict_count, 0U);
  EXPECT_EQ(sim.Ids(), (Ids{"d03", "d04", "d05"}));
  clock.Set(JstSeconds(2026, 11, 20, 8, 40));  // switched on in the morning, backs up at start-up
  ASSERT_FALSE(sim.Receive(Good("d20", SnapshotKind::kDaily)).anomalous);
  clock.Set(JstSeconds(2026, 11, 20, 10, 0));
  sim.RunRetention();
  EXPECT_EQ(sim.Ids(), (Ids{"d04", "d05", "d20"}));
}

// Example 6: a hold. Nothing is removed while it lasts; the plan still tells the operator
// what the rules would remove, and clearing the hold lets them. G-OPS-19.
TEST(RetentionExampleTest, AHoldRemovesNothingUntilTheOperatorClearsIt) {
  std::vector<Generation> gens;
  for (int day = 1; day <= 5; ++day) {
    Generation g = Good(fmt::format("d{:02}", day), SnapshotKind::kDaily, Jst(2026, 11, day, 2, 5));
    g.state = GenerationState::kAccepted;
    gens.push_back(g);
  }
  RemoteRetentionPolicy policy;
  RetentionPlan held = PlanRemoteRetention(gens, policy, {.on_hold = true}, Jst(2026, 11, 5, 9, 0));
  EXPECT_EQ(held.evict_count, 0U);
  EXPECT_EQ(held.held_back_count, 2U);
  EXPECT_TRUE(held.decisions[3].held_back);
  EXPECT_EQ(held.decisions[3].reason, RetentionReason::kOlderDay);
  std::string text = FormatRetentionPlan(held, policy, Language::kEnglish);
  EXPECT_NE(text.find("on hold: nothing of this repository is removed (2 generations would be otherwise)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("2026-11-01 02:05 JST"), std::string::npos) << text;
  EXPECT_NE(FormatRetentionPlan(held, policy, Language::kJapanese).find("保留中"), std::string::npos);

  RetentionPlan cleared = PlanRemoteRetention(gens, policy, {}, Jst(2026, 11, 5, 9, 0));
  EXPECT_EQ(cleared.EvictIds(), (Ids{"d02", "d01"}));
}

}  // namespace
}  // namespace kura::vault
