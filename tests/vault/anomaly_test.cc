// Anomaly checks against a site's own history (issue 7 §4). Requirement IDs: G-MON-05 (a
// synthetic surge past the threshold raises an alarm), G-INT-01 (junk that looks like a
// backup cannot crowd out good generations).
#include "vault/anomaly.h"

#include <gtest/gtest.h>

#include "vault/vault_sim.h"

namespace kura::vault {
namespace {

using testing::Good;
using testing::Jst;
using testing::Junk;
using testing::kMiB;

// Five accepted nights of a 500 MiB dump.
std::vector<Generation> History(int nights = 5) {
  std::vector<Generation> gens;
  for (int day = 1; day <= nights; ++day) {
    Generation g = Good(fmt::format("d{:02}", day), SnapshotKind::kDaily, Jst(2026, 11, day, 2, 5));
    g.state = GenerationState::kAccepted;
    gens.push_back(g);
  }
  return gens;
}

std::vector<AnomalyCheck> Checks(const AnomalyVerdict& v) {
  std::vector<AnomalyCheck> out;
  for (const AnomalyFinding& f : v.findings) out.push_back(f.check);
  return out;
}

TEST(AnomalyTest, AnOrdinaryNightIsNotAnomalous) {
  AnomalyVerdict v = AssessGeneration(Good("d06", SnapshotKind::kDaily, Jst(2026, 11, 6, 2, 5)), History());
  EXPECT_FALSE(v.anomalous);
  EXPECT_EQ(v.history_used, 5U);
  EXPECT_FALSE(v.lenient);
  EXPECT_EQ(DescribeVerdict(v, Language::kEnglish), "no anomaly");
  EXPECT_EQ(DescribeVerdict(v, Language::kJapanese), "異常なし");
}

TEST(AnomalyTest, EncryptedJunkIsFlaggedForNewDataAndCompression) {
  AnomalyVerdict v = AssessGeneration(Junk("junk", SnapshotKind::kDaily, Jst(2026, 11, 6, 2, 5)), History());
  EXPECT_TRUE(v.anomalous);
  EXPECT_EQ(Checks(v),
            (std::vector<AnomalyCheck>{AnomalyCheck::kNewDataRatio, AnomalyCheck::kCompressionCollapse}));
  std::string en = DescribeVerdict(v, Language::kEnglish);
  EXPECT_NE(en.find("new data 100% of the snapshot (the site's median 5%, limit 50%)"), std::string::npos)
      << en;
  EXPECT_NE(en.find("compression saves only 0%"), std::string::npos) << en;
  EXPECT_NE(en.find("an operator clears the hold"), std::string::npos) << en;
  std::string ja = DescribeVerdict(v, Language::kJapanese);
  EXPECT_NE(ja.find("新規データの割合 100%"), std::string::npos) << ja;
  EXPECT_NE(ja.find("保留"), std::string::npos) << ja;
}

TEST(AnomalyTest, EachCheckFiresAloneAtItsThreshold) {
  const int64_t t = Jst(2026, 11, 6, 2, 5);
  struct Case {
    const char* name;
    Generation g;
    std::vector<AnomalyCheck> expected;
  };
  Generation big = Good("big", SnapshotKind::kDaily, t, 2100 * kMiB);    // 4.2× the median
  big.chunks = 500;                                                      // chunks stay near the median
  Generation four = Good("four", SnapshotKind::kDaily, t, 2000 * kMiB);  // exactly 4×: not beyond
  four.chunks = 500;
  Generation tiny = Good("tiny", SnapshotKind::kDaily, t, 100 * kMiB);  // a fifth
  tiny.chunks = 500;
  Generation many_chunks = Good("chunks", SnapshotKind::kDaily, t);
  many_chunks.chunks = 2500;
  Generation half_new = Good("half", SnapshotKind::kDaily, t);
  half_new.new_bytes = half_new.bytes * 6 / 10;
  Generation undeclared = Junk("undeclared", SnapshotKind::kDaily, t);
  undeclared.compression_ratio = 0;
  undeclared.new_bytes = undeclared.bytes / 20;
  for (const Case& c :
       {Case{"big", big, {AnomalyCheck::kSizeFar}}, Case{"four", four, {}},
        Case{"tiny", tiny, {AnomalyCheck::kSizeFar}}, Case{"chunks", many_chunks, {AnomalyCheck::kChunksFar}},
        Case{"half", half_new, {AnomalyCheck::kNewDataRatio}}, Case{"undeclared", undeclared, {}}}) {
    EXPECT_EQ(Checks(AssessGeneration(c.g, History())), c.expected) << c.name;
  }
}

// A small database varies a lot in relative size; differences under the slack are never
// flagged.
TEST(AnomalyTest, SmallAbsoluteDifferencesAreNotFlagged) {
  std::vector<Generation> history = History();
  for (Generation& g : history) {
    g.bytes = 64 * 1024;
    g.new_bytes = 3 * 1024;
    g.chunks = 2;
  }
  Generation g = Good("d06", SnapshotKind::kDaily, Jst(2026, 11, 6, 2, 5), 900 * 1024);
  g.new_bytes = 40 * 1024;
  g.chunks = 20;
  EXPECT_FALSE(AssessGeneration(g, history).anomalous);
}

// A site whose dumps are compressed already (pg_dump -Fc): high new-data ratio and no
// compression saving are its normal, and are not flagged.
TEST(AnomalyTest, ASiteThatNeverCompressesIsJudgedByItsOwnNormal) {
  std::vector<Generation> history = History();
  for (Generation& g : history) {
    g.new_bytes = g.bytes * 9 / 10;
    g.compression_ratio = 1.02;
  }
  Generation g = Junk("d06", SnapshotKind::kDaily, Jst(2026, 11, 6, 2, 5), 500 * kMiB);
  EXPECT_FALSE(AssessGeneration(g, history).anomalous)
      << DescribeVerdict(AssessGeneration(g, history), Language::kEnglish);
}

TEST(AnomalyTest, TooLittleHistoryIsJudgedLeniently) {
  const int64_t t = Jst(2026, 11, 3, 2, 5);
  Generation five_times = Good("five", SnapshotKind::kDaily, t, 2500 * kMiB);
  five_times.chunks = 500;
  AnomalyVerdict v = AssessGeneration(five_times, History(2));
  EXPECT_TRUE(v.lenient);
  EXPECT_FALSE(v.anomalous);  // 5× passes under the lenient 8×
  Generation nine_times = Good("nine", SnapshotKind::kDaily, t, 4500 * kMiB);
  nine_times.chunks = 500;
  EXPECT_EQ(Checks(AssessGeneration(nine_times, History(2))),
            (std::vector<AnomalyCheck>{AnomalyCheck::kSizeFar}));
  // With no history at all, content is not judged: the first backup is all new.
  AnomalyVerdict first = AssessGeneration(Junk("first", SnapshotKind::kDaily, t), {});
  EXPECT_FALSE(first.anomalous);
  EXPECT_EQ(first.history_used, 0U);
}

TEST(AnomalyTest, AFloodIsAFloodEvenWithoutHistory) {
  std::vector<Generation> gens;
  const int64_t t0 = Jst(2026, 11, 1, 9, 0);
  for (int i = 0; i < 6; ++i) {
    Generation g = Good(fmt::format("m{}", i), SnapshotKind::kManual, t0 + i * 9 * 60'000);
    g.state = GenerationState::kPendingCheck;
    gens.push_back(g);
  }
  // The seventh within the hour.
  Generation seventh = Good("m6", SnapshotKind::kManual, t0 + 59 * 60'000);
  AnomalyVerdict v = AssessGeneration(seventh, gens);
  EXPECT_EQ(Checks(v), (std::vector<AnomalyCheck>{AnomalyCheck::kFloodHour}));
  EXPECT_EQ(v.flood_members, (std::vector<std::string>{"m5", "m4", "m3", "m2", "m1", "m0"}));
  EXPECT_NE(DescribeVerdict(v, Language::kEnglish).find("7 generations received within an hour (limit 6)"),
            std::string::npos);
  // Seven spread over more than an hour are not an hourly flood.
  seventh.received_ms = t0 + 61 * 60'000;
  gens[0].received_ms = t0;
  EXPECT_FALSE(AssessGeneration(seventh, gens).anomalous);
}

TEST(AnomalyTest, TwentyFiveInADayAreAFlood) {
  std::vector<Generation> gens;
  const int64_t t0 = Jst(2026, 11, 1, 0, 0);
  for (int i = 0; i < 24; ++i) {
    Generation g = Good(fmt::format("g{:02}", i), SnapshotKind::kManual, t0 + i * 55 * 60'000);
    g.state = i % 2 ? GenerationState::kAccepted : GenerationState::kAnomalous;
    gens.push_back(g);
  }
  Generation last = Good("g24", SnapshotKind::kManual, t0 + 23 * 3'600'000 + 59 * 60'000);
  AnomalyVerdict v = AssessGeneration(last, gens);
  EXPECT_EQ(Checks(v), (std::vector<AnomalyCheck>{AnomalyCheck::kFloodDay}));
  EXPECT_EQ(v.flood_members.size(), 12U);  // the accepted ones; anomalous ones are already marked
}

// Anomalous generations never become the baseline: after five junk generations a sixth is
// still judged against the good ones.
TEST(AnomalyTest, AnomalousGenerationsAreNeverTheBaseline) {
  std::vector<Generation> gens = History();
  for (int day = 6; day <= 12; ++day) {
    Generation j = Junk(fmt::format("j{:02}", day), SnapshotKind::kDaily, Jst(2026, 11, day, 2, 5));
    j.state = GenerationState::kAnomalous;
    gens.push_back(j);
  }
  AnomalyVerdict v = AssessGeneration(Junk("j13", SnapshotKind::kDaily, Jst(2026, 11, 13, 2, 5)), gens);
  EXPECT_TRUE(v.anomalous);
  EXPECT_EQ(v.history_used, 5U);
}

// The candidate may be in the list (skipped by ID), and later generations do not count:
// judging again later gives the same answer.
TEST(AnomalyTest, LaterGenerationsDoNotChangeAVerdict) {
  std::vector<Generation> gens = History(3);
  Generation junk = Junk("junk", SnapshotKind::kDaily, Jst(2026, 11, 4, 2, 5));
  gens.push_back(junk);
  AnomalyVerdict before = AssessGeneration(junk, gens);
  for (int i = 0; i < 30; ++i)
    gens.push_back(
        Good(fmt::format("later{}", i), SnapshotKind::kManual, Jst(2026, 11, 4, 3, 0) + i * 60'000));
  AnomalyVerdict after = AssessGeneration(junk, gens);
  EXPECT_EQ(Checks(before), Checks(after));
  EXPECT_TRUE(after.flood_members.empty());
}

}  // namespace
}  // namespace kura::vault
