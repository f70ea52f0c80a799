// Single rules of remote retention (docs/retention.md §3). Requirement IDs: S-08, G-BAK-03
// (the 004 profile's one-year minimum), G-INT-02 (damage found by scrub is kept for the
// operator, never counted).
#include "vault/retention_rules.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "vault/vault_sim.h"

namespace kura::vault {
namespace {

using testing::Good;
using testing::Jst;

Generation Accepted(const std::string& id, SnapshotKind kind, int64_t received_ms,
                    GenerationState state = GenerationState::kAccepted) {
  Generation g = Good(id, kind, received_ms);
  g.state = state;
  return g;
}

std::map<std::string, GenerationDecision> Decide(const std::vector<Generation>& gens,
                                                 const RemoteRetentionPolicy& policy = {},
                                                 int64_t now = Jst(2026, 11, 20, 12, 0)) {
  std::map<std::string, GenerationDecision> out;
  for (const GenerationDecision& d : PlanRemoteRetention(gens, policy, {}, now).decisions) out[d.id] = d;
  return out;
}

TEST(RetentionRulesTest, TwoRunsOnOneNightTakeOnePlace) {
  auto d = Decide({Accepted("a", SnapshotKind::kDaily, Jst(2026, 11, 10, 2, 5)),
                   Accepted("b-retry", SnapshotKind::kDaily, Jst(2026, 11, 10, 4, 0)),
                   Accepted("c", SnapshotKind::kDaily, Jst(2026, 11, 9, 2, 5)),
                   Accepted("e", SnapshotKind::kDaily, Jst(2026, 11, 8, 2, 5))});
  EXPECT_TRUE(d["b-retry"].keep);
  EXPECT_EQ(d["a"].reason, RetentionReason::kSupersededInDay);
  EXPECT_FALSE(d["a"].keep);
  EXPECT_TRUE(d["c"].keep);
  EXPECT_TRUE(d["e"].keep);
  EXPECT_EQ(d["e"].rank, 3);
}

// A pending generation pushes nothing out; a damaged one is kept and not counted, and the
// last known-good moves to the newest intact one.
TEST(RetentionRulesTest, OnlyAcceptedGenerationsCount) {
  auto d =
      Decide({Accepted("p", SnapshotKind::kDaily, Jst(2026, 11, 12, 2, 5), GenerationState::kPendingCheck),
              Accepted("x", SnapshotKind::kDaily, Jst(2026, 11, 11, 2, 5), GenerationState::kDamaged),
              Accepted("a", SnapshotKind::kDaily, Jst(2026, 11, 10, 2, 5)),
              Accepted("b", SnapshotKind::kDaily, Jst(2026, 11, 9, 2, 5)),
              Accepted("c", SnapshotKind::kDaily, Jst(2026, 11, 8, 2, 5)),
              Accepted("old", SnapshotKind::kDaily, Jst(2026, 11, 7, 2, 5))});
  EXPECT_EQ(d["p"].reason, RetentionReason::kPendingCheck);
  EXPECT_TRUE(d["p"].keep);
  EXPECT_EQ(d["x"].reason, RetentionReason::kDamaged);
  EXPECT_TRUE(d["x"].keep);
  EXPECT_TRUE(d["a"].last_known_good);
  EXPECT_TRUE(d["a"].keep && d["b"].keep && d["c"].keep);
  EXPECT_FALSE(d["old"].keep);
}

// The last known-good of each kind stays outside the count, even with a count of 0.
TEST(RetentionRulesTest, TheLastKnownGoodStaysWithACountOfZero) {
  RemoteRetentionPolicy none;
  none.daily_days = 0;
  none.monthly_months = 0;
  none.manual_last = 0;
  auto d = Decide({Accepted("d1", SnapshotKind::kDaily, Jst(2026, 11, 10, 2, 5)),
                   Accepted("d0", SnapshotKind::kDaily, Jst(2026, 11, 9, 2, 5)),
                   Accepted("m", SnapshotKind::kMonthly, Jst(2026, 10, 31, 23, 0)),
                   Accepted("h", SnapshotKind::kManual, Jst(2026, 11, 3, 14, 0))},
                  none);
  EXPECT_EQ(d["d1"].reason, RetentionReason::kLastKnownGood);
  EXPECT_TRUE(d["d1"].keep);
  EXPECT_FALSE(d["d0"].keep);
  EXPECT_TRUE(d["m"].keep);
  EXPECT_TRUE(d["h"].keep);
  EXPECT_EQ(DescribeDecision(d["d1"], none, Language::kEnglish), "last known-good, kept outside the count");
}

// G-BAK-03: under the 004 profile a generation received at T is not removed before T + 1 year.
TEST(RetentionRulesTest, TheMinimumAgeKeepsAYear) {
  RemoteRetentionPolicy year;
  year.min_keep_ms = 365 * kMillisPerDay;
  const int64_t now = Jst(2026, 11, 20, 12, 0);
  std::vector<Generation> gens;
  for (int i = 0; i < 10; ++i)
    gens.push_back(Accepted(fmt::format("n{}", i), SnapshotKind::kDaily, now - i * kMillisPerDay));
  gens.push_back(Accepted("young", SnapshotKind::kDaily, now - 364 * kMillisPerDay));
  gens.push_back(Accepted("old", SnapshotKind::kDaily, now - 366 * kMillisPerDay));
  auto d = Decide(gens, year, now);
  EXPECT_EQ(d["n5"].reason, RetentionReason::kMinAge);
  EXPECT_TRUE(d["young"].keep);
  EXPECT_FALSE(d["old"].keep);
}

TEST(RetentionRulesTest, AGenerationReceivedAfterNowIsKeptAndNotCounted) {
  auto d = Decide({Accepted("future", SnapshotKind::kDaily, Jst(2036, 1, 1)),
                   Accepted("a", SnapshotKind::kDaily, Jst(2026, 11, 10, 2, 5)),
                   Accepted("b", SnapshotKind::kDaily, Jst(2026, 11, 9, 2, 5)),
                   Accepted("c", SnapshotKind::kDaily, Jst(2026, 11, 8, 2, 5))});
  EXPECT_EQ(d["future"].reason, RetentionReason::kFutureReceive);
  EXPECT_TRUE(d["future"].keep);
  EXPECT_TRUE(d["c"].keep);
  EXPECT_TRUE(d["a"].last_known_good);
}

TEST(RetentionRulesTest, AJustAcceptedGenerationSettlesBeforeItCounts) {
  const int64_t now = Jst(2026, 11, 11, 2, 30);
  std::vector<Generation> gens = {Accepted("new", SnapshotKind::kDaily, Jst(2026, 11, 11, 2, 5)),
                                  Accepted("a", SnapshotKind::kDaily, Jst(2026, 11, 10, 2, 5)),
                                  Accepted("b", SnapshotKind::kDaily, Jst(2026, 11, 9, 2, 5)),
                                  Accepted("c", SnapshotKind::kDaily, Jst(2026, 11, 8, 2, 5))};
  auto d = Decide(gens, {}, now);
  EXPECT_EQ(d["new"].reason, RetentionReason::kSettling);
  EXPECT_TRUE(d["c"].keep);
  d = Decide(gens, {}, now + kMillisPerHour);
  EXPECT_EQ(d["new"].reason, RetentionReason::kDailyDay);
  EXPECT_FALSE(d["c"].keep);
}

TEST(RetentionRulesTest, PoliciesAreValidated) {
  EXPECT_TRUE(ValidateRetentionPolicy({}).ok());
  RemoteRetentionPolicy p;
  p.daily_days = -1;
  Status s = ValidateRetentionPolicy(p);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  p.daily_days = kMaxRetentionCount + 1;
  EXPECT_FALSE(ValidateRetentionPolicy(p).ok());
  p.daily_days = 3;
  p.settle_ms = -1;
  EXPECT_FALSE(ValidateRetentionPolicy(p).ok());
}

TEST(RetentionRulesTest, ReasonCodesAreStableAndDistinct) {
  std::set<std::string_view> codes;
  for (int r = 0; r <= static_cast<int>(RetentionReason::kAnomalousRejected); ++r) {
    std::string_view code = RetentionReasonCode(static_cast<RetentionReason>(r));
    EXPECT_FALSE(code.empty());
    codes.insert(code);
  }
  EXPECT_EQ(codes.size(), static_cast<size_t>(RetentionReason::kAnomalousRejected) + 1);
  EXPECT_EQ(RetentionReasonCode(RetentionReason::kOlderDay), "older_day");
  for (GenerationState s : {GenerationState::kPendingCheck, GenerationState::kAccepted,
                            GenerationState::kAnomalous, GenerationState::kDamaged}) {
    EXPECT_EQ(ParseGenerationState(GenerationStateName(s)), s);
  }
  EXPECT_FALSE(ParseGenerationState("kept").has_value());
  EXPECT_EQ(KindName(SnapshotKind::kMonthly), "monthly");
}

}  // namespace
}  // namespace kura::vault
