// Property tests of the retention and anomaly decisions over random histories, floods and
// receive orders. Seeded and reproducible: a failure prints its seed; KURA_PROPERTY_SEED
// replays one. Requirement IDs: S-08 (3/1/1 never exceeded), G-INT-01 (a site cannot
// destroy good generations by crowding them out), G-OPS-19 (nothing leaves while held).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <random>
#include <set>

#include "vault/vault_sim.h"

namespace kura::vault {
namespace {

using testing::Good;
using testing::Jst;
using testing::JstSeconds;
using testing::Junk;
using testing::VaultSim;

constexpr SnapshotKind kKinds[] = {SnapshotKind::kDaily, SnapshotKind::kMonthly, SnapshotKind::kManual};

std::vector<uint64_t> Seeds(int n) {
  if (const char* s = std::getenv("KURA_PROPERTY_SEED")) return {std::strtoull(s, nullptr, 10)};
  std::vector<uint64_t> seeds;
  for (int i = 0; i < n; ++i) seeds.push_back(0x6b757261ULL * 1000 + static_cast<uint64_t>(i));
  return seeds;
}

struct Random {
  std::mt19937_64 rng;
  explicit Random(uint64_t seed) : rng(seed) {}
  int64_t Int(int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); }
  bool Chance(double p) { return std::bernoulli_distribution(p)(rng); }
};

struct Case {
  std::vector<Generation> gens;
  RemoteRetentionPolicy policy;
  RetentionGuards guards;
  int64_t now_ms = 0;
};

Case RandomCase(Random& r) {
  Case c;
  c.now_ms = Jst(2026, 12, 1, 9, 0);
  c.policy.daily_days = static_cast<int>(r.Int(0, 5));
  c.policy.monthly_months = static_cast<int>(r.Int(0, 3));
  c.policy.manual_last = static_cast<int>(r.Int(0, 3));
  c.policy.settle_ms = r.Chance(0.5) ? 0 : 3'600'000;
  if (r.Chance(0.2)) c.policy.min_keep_ms = r.Int(1, 30) * kMillisPerDay;
  c.guards.on_hold = r.Chance(0.15);
  c.guards.clock_frozen = r.Chance(0.15);
  const int n = static_cast<int>(r.Int(0, 60));
  const GenerationState states[] = {GenerationState::kAccepted,  GenerationState::kAccepted,
                                    GenerationState::kAccepted,  GenerationState::kPendingCheck,
                                    GenerationState::kAnomalous, GenerationState::kDamaged};
  for (int i = 0; i < n; ++i) {
    Generation g = Good(fmt::format("g{:03}", i), kKinds[r.Int(0, 2)]);
    // Up to 90 days back; a few within the last hour, a few "in the future".
    g.received_ms = c.now_ms - r.Int(0, 90 * kMillisPerDay);
    if (r.Chance(0.05)) g.received_ms = c.now_ms + r.Int(kMillisPerHour, 30 * kMillisPerDay);
    if (r.Chance(0.05)) g.received_ms = c.now_ms - r.Int(0, kMillisPerHour);
    // Same-second arrivals happen (retries of different snapshots).
    if (i > 0 && r.Chance(0.05)) g.received_ms = c.gens.back().received_ms;
    g.state = states[r.Int(0, 5)];
    c.gens.push_back(g);
  }
  return c;
}

bool Counted(const Generation& g, const Case& c) {
  return g.state == GenerationState::kAccepted && g.received_ms <= c.now_ms + kFutureReceiveToleranceMs &&
         g.received_ms <= c.now_ms - c.policy.settle_ms;
}

int64_t BucketOf(const Generation& g, const RemoteRetentionPolicy& p) {
  switch (g.kind) {
    case SnapshotKind::kDaily:
      return LocalDay(g.received_ms, p.zone);
    case SnapshotKind::kMonthly:
      return LocalMonth(g.received_ms, p.zone);
    case SnapshotKind::kManual:
      return 0;
  }
  return 0;
}

TEST(RetentionPropertyTest, RandomHistoriesKeepWhatThePolicyPromises) {
  for (uint64_t seed : Seeds(300)) {
    SCOPED_TRACE(::testing::Message() << "seed " << seed);
    Random r(seed);
    Case c = RandomCase(r);
    RetentionPlan plan = PlanRemoteRetention(c.gens, c.policy, c.guards, c.now_ms);
    ASSERT_EQ(plan.decisions.size(), c.gens.size());
    std::map<std::string, const GenerationDecision*> by_id;
    for (const GenerationDecision& d : plan.decisions) by_id[d.id] = &d;

    // Nothing is evicted while on hold or while the clock guard is frozen.
    if (c.guards.on_hold || c.guards.clock_frozen) {
      ASSERT_EQ(plan.evict_count, 0U);
    }

    for (SnapshotKind kind : kKinds) {
      std::vector<const Generation*> counted;
      for (const Generation& g : c.gens) {
        if (g.kind == kind && Counted(g, c)) counted.push_back(&g);
      }
      std::sort(counted.begin(), counted.end(), [](const Generation* a, const Generation* b) {
        return a->received_ms != b->received_ms ? a->received_ms > b->received_ms : a->id > b->id;
      });
      // A good generation of each kind is always kept: the newest counted one.
      if (!counted.empty()) {
        EXPECT_TRUE(by_id[counted.front()->id]->keep);
        EXPECT_TRUE(by_id[counted.front()->id]->last_known_good);
      }
      // Evictions never exceed what the policy allows: the newest of each of the newest N
      // buckets (or the newest N manual ones) are all kept.
      const int n = kind == SnapshotKind::kDaily     ? c.policy.daily_days
                    : kind == SnapshotKind::kMonthly ? c.policy.monthly_months
                                                     : c.policy.manual_last;
      std::set<int64_t> buckets;
      int manual_seen = 0;
      for (const Generation* g : counted) {
        if (kind == SnapshotKind::kManual) {
          if (manual_seen++ < n) {
            EXPECT_TRUE(by_id[g->id]->keep) << g->id;
          }
          continue;
        }
        const int64_t b = BucketOf(*g, c.policy);
        if (buckets.count(b) == 0 && static_cast<int>(buckets.size()) < n) {
          buckets.insert(b);
          EXPECT_TRUE(by_id[g->id]->keep) << g->id;
        } else {
          buckets.insert(b);
        }
      }
      // ... and the kept counted ones are no more than the policy's N plus the last
      // known-good and the minimum-age ones.
      size_t kept_by_count = 0;
      for (const Generation* g : counted) {
        const GenerationDecision* d = by_id[g->id];
        if (d->keep && !d->held_back && d->reason != RetentionReason::kMinAge &&
            d->reason != RetentionReason::kLastKnownGood) {
          ++kept_by_count;
        }
      }
      EXPECT_LE(kept_by_count, static_cast<size_t>(n));
    }
    for (const Generation& g : c.gens) {
      const GenerationDecision* d = by_id[g.id];
      // Pending, damaged, settling and "future" generations are never evicted; anomalous
      // ones only once the hold is cleared.
      if (!Counted(g, c)) {
        if (g.state == GenerationState::kAnomalous && !c.guards.on_hold && !c.guards.clock_frozen &&
            g.received_ms <= c.now_ms + kFutureReceiveToleranceMs) {
          EXPECT_FALSE(d->keep) << g.id;
        } else {
          EXPECT_TRUE(d->keep) << g.id;
        }
      }
      if (c.policy.min_keep_ms > 0 && Counted(g, c) && g.received_ms > c.now_ms - c.policy.min_keep_ms) {
        EXPECT_TRUE(d->keep) << g.id;
      }
    }
  }
}

TEST(RetentionPropertyTest, ResultsDoNotDependOnInputOrder) {
  for (uint64_t seed : Seeds(200)) {
    SCOPED_TRACE(::testing::Message() << "seed " << seed);
    Random r(seed);
    Case c = RandomCase(r);
    RetentionPlan a = PlanRemoteRetention(c.gens, c.policy, c.guards, c.now_ms);
    std::shuffle(c.gens.begin(), c.gens.end(), r.rng);
    RetentionPlan b = PlanRemoteRetention(c.gens, c.policy, c.guards, c.now_ms);
    ASSERT_EQ(a.decisions.size(), b.decisions.size());
    for (size_t i = 0; i < a.decisions.size(); ++i) {
      EXPECT_EQ(a.decisions[i].id, b.decisions[i].id);
      EXPECT_EQ(a.decisions[i].keep, b.decisions[i].keep);
      EXPECT_EQ(a.decisions[i].reason, b.decisions[i].reason);
      EXPECT_EQ(a.decisions[i].rank, b.decisions[i].rank);
    }
    // The anomaly verdict of each generation does not depend on the order either.
    if (!c.gens.empty()) {
      const Generation& g = c.gens[r.Int(0, static_cast<int64_t>(c.gens.size()) - 1)];
      AnomalyVerdict v1 = AssessGeneration(g, c.gens);
      std::shuffle(c.gens.begin(), c.gens.end(), r.rng);
      AnomalyVerdict v2 = AssessGeneration(g, c.gens);
      EXPECT_EQ(v1.anomalous, v2.anomalous);
      EXPECT_EQ(v1.findings.size(), v2.findings.size());
      EXPECT_EQ(v1.flood_members, v2.flood_members);
    }
  }
}

// JST day boundaries: 23:59:59 and 00:00:00 JST are different days, on every day of a
// few random years (leap days and year ends included), whatever the UTC date says.
TEST(RetentionPropertyTest, JstDayBoundariesAreRight) {
  for (uint64_t seed : Seeds(200)) {
    SCOPED_TRACE(::testing::Message() << "seed " << seed);
    Random r(seed);
    const int64_t year = r.Int(2000, 2100);
    const int month = static_cast<int>(r.Int(1, 12));
    const int day = static_cast<int>(r.Int(1, 28));
    const int64_t midnight = Jst(year, month, day, 0, 0, 0);
    const int64_t before = midnight - 1000;
    const FixedZone jst = FixedZone::Tokyo();
    EXPECT_EQ(LocalDay(midnight, jst), LocalDay(before, jst) + 1);
    EXPECT_EQ(DayName(LocalDay(midnight, jst)), fmt::format("{:04}-{:02}-{:02}", year, month, day));
    EXPECT_EQ(FormatLocalMinute(before, jst).substr(11), "23:59 JST");
    std::vector<Generation> gens = {Good("late", SnapshotKind::kDaily, before),
                                    Good("early", SnapshotKind::kDaily, midnight)};
    for (Generation& g : gens) g.state = GenerationState::kAccepted;
    RemoteRetentionPolicy one_day;
    one_day.daily_days = 1;
    RetentionPlan plan = PlanRemoteRetention(gens, one_day, {}, midnight + 2 * kMillisPerDay);
    EXPECT_EQ(plan.decisions[0].id, "early");
    EXPECT_EQ(plan.decisions[1].reason, RetentionReason::kOlderDay);  // not "same day"
    // 00:00:00 and 23:59:59 of the same JST day share a bucket.
    gens[0].received_ms = midnight + kMillisPerDay - 1000;
    plan = PlanRemoteRetention(gens, one_day, {}, midnight + 2 * kMillisPerDay);
    EXPECT_EQ(plan.decisions[1].reason, RetentionReason::kSupersededInDay);
  }
}

// Random floods of junk at random times over a random good history: no generation that
// was good and kept before the flood is removed by it, and all junk is evicted once the
// hold is cleared without accepting it.
TEST(RetentionPropertyTest, RandomFloodsRemoveNoGoodGeneration) {
  for (uint64_t seed : Seeds(40)) {
    SCOPED_TRACE(::testing::Message() << "seed " << seed);
    Random r(seed);
    FakeClock clock(JstSeconds(2026, 11, 1));
    VaultSim sim(&clock);
    const int nights = static_cast<int>(r.Int(1, 20));
    for (int day = 1; day <= nights; ++day) {
      clock.Set(JstSeconds(2026, 11, day, 2, 0) + r.Int(0, 3 * 3600));
      uint64_t bytes = static_cast<uint64_t>(r.Int(400, 600)) * testing::kMiB;
      ASSERT_FALSE(
          sim.Receive(Good(fmt::format("good{:02}", day), SnapshotKind::kDaily, 0, bytes)).anomalous);
      if (r.Chance(0.2)) {
        clock.Advance(r.Int(3600, 8 * 3600));
        ASSERT_FALSE(
            sim.Receive(Good(fmt::format("man{:02}", day), kKinds[r.Int(1, 2)], 0, bytes)).anomalous);
      }
      clock.Advance(2 * 3600);
      sim.RunRetention();
    }
    const std::vector<std::string> good = sim.Ids();
    const int junk = static_cast<int>(r.Int(1, 150));
    const int64_t start = JstSeconds(2026, 11, nights + 1, 0, 0) + r.Int(0, 20 * 3600);
    std::vector<int64_t> times;
    for (int i = 0; i < junk; ++i) times.push_back(start + r.Int(0, 3 * 86400));
    std::sort(times.begin(), times.end());
    for (int i = 0; i < junk; ++i) {
      clock.Set(times[i]);
      uint64_t bytes = static_cast<uint64_t>(r.Int(1, 2000)) * testing::kMiB;
      sim.Receive(Junk(fmt::format("junk{:03}", i), kKinds[r.Int(0, 2)], 0, bytes));
      if (r.Chance(0.3)) sim.RunRetention();
    }
    clock.Advance(86400);
    sim.RunRetention();
    ASSERT_TRUE(sim.on_hold());
    for (const std::string& id : good) EXPECT_TRUE(sim.Has(id)) << id;
    sim.ClearHold(false);
    sim.RunRetention();
    EXPECT_EQ(sim.Ids(), good);
  }
}

}  // namespace
}  // namespace kura::vault
