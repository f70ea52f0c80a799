// Generation rules, as a clinic would notice them: which snapshots survive `kura forget`.
#include "repo/retention.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <time.h>

#include <ctime>
#include <optional>
#include <set>

namespace kura {
namespace {

// Site machines run in JST; a POSIX TZ string needs no tzdata.
class RetentionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* old = std::getenv("TZ");
    old_tz_ = old ? std::optional<std::string>(old) : std::nullopt;
    ::setenv("TZ", "JST-9", 1);
    ::tzset();
  }
  void TearDown() override {
    if (old_tz_)
      ::setenv("TZ", old_tz_->c_str(), 1);
    else
      ::unsetenv("TZ");
    ::tzset();
  }

  // Local (JST) time to Unix seconds.
  static int64_t Jst(int y, int mo, int d, int h = 12, int mi = 0) {
    return static_cast<int64_t>(::timegm(new_tm(y, mo, d, h, mi))) - 9 * 3600;
  }
  static std::tm* new_tm(int y, int mo, int d, int h, int mi) {
    static std::tm tm;
    tm = std::tm{};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    return &tm;
  }

  // Adds a snapshot; its id says what it is ("daily-2026-11-20-18").
  const std::string& Add(SnapshotKind kind, int64_t t, std::string label = "") {
    Snapshot s;
    s.id = label.empty() ? std::string(KindName(kind)) + "-" + std::to_string(t) : label;
    s.plain.kind = kind;
    s.plain.time = t;
    s.plain.time_ms = t * 1000;
    snaps_.push_back(s);
    return snaps_.back().id;
  }

  std::set<std::string> Kept(const RetentionPolicy& p) {
    RetentionDecision d = ApplyRetention(snaps_, p);
    std::set<std::string> out;
    for (const Snapshot* s : d.keep) out.insert(s->id);
    EXPECT_EQ(d.keep.size() + d.forget.size(), snaps_.size()) << "every snapshot is decided once";
    for (const Snapshot* s : d.keep) EXPECT_FALSE(d.reason[s->id].empty()) << s->id;
    return out;
  }

  std::vector<Snapshot> snaps_;
  std::optional<std::string> old_tz_;
};

TEST_F(RetentionTest, KeepDaysKeepsTheNewestSnapshotOfEachDay) {
  std::string morning = Add(SnapshotKind::kDaily, Jst(2026, 11, 20, 8), "20-morning");
  std::string evening = Add(SnapshotKind::kDaily, Jst(2026, 11, 20, 23, 59), "20-evening");
  std::string d19 = Add(SnapshotKind::kDaily, Jst(2026, 11, 19, 12), "19");
  std::string d18 = Add(SnapshotKind::kDaily, Jst(2026, 11, 18, 0, 1), "18");
  RetentionPolicy p;
  p.daily.keep_days = 2;
  EXPECT_EQ(Kept(p), (std::set<std::string>{evening, d19}));
  (void)morning;
  (void)d18;
}

TEST_F(RetentionTest, DaysAreLocalCalendarDays) {
  // 00:30 JST on the 21st is still the 20th in UTC: in JST these are two days.
  std::string late = Add(SnapshotKind::kDaily, Jst(2026, 11, 21, 0, 30), "21-0030");
  std::string early = Add(SnapshotKind::kDaily, Jst(2026, 11, 20, 22, 0), "20-2200");
  RetentionPolicy p;
  p.daily.keep_days = 2;
  EXPECT_EQ(Kept(p), (std::set<std::string>{late, early}));
}

// A PC switched off for six weeks must not lose its last generations: the days counted
// are days that have a snapshot, not days back from today.
TEST_F(RetentionTest, KeepDaysCountsDaysThatHaveSnapshotsNotCalendarDays) {
  std::vector<std::string> ids;
  for (int d = 1; d <= 10; ++d) ids.push_back(Add(SnapshotKind::kDaily, Jst(2026, 8, d)));
  // ... then nothing until the machine is back in late September.
  ids.push_back(Add(SnapshotKind::kDaily, Jst(2026, 9, 25)));
  RetentionPolicy p;
  p.daily.keep_days = 5;
  std::set<std::string> kept = Kept(p);
  EXPECT_EQ(kept, (std::set<std::string>{ids[10], ids[9], ids[8], ids[7], ids[6]}));
}

TEST_F(RetentionTest, KeepMonthsKeepsTheNewestOfEachMonth) {
  std::string oct_early = Add(SnapshotKind::kMonthly, Jst(2026, 10, 1), "oct-1");
  std::string oct_late = Add(SnapshotKind::kMonthly, Jst(2026, 10, 31, 23, 0), "oct-31");
  std::string nov = Add(SnapshotKind::kMonthly, Jst(2026, 11, 30), "nov");
  std::string sep = Add(SnapshotKind::kMonthly, Jst(2026, 9, 30), "sep");
  RetentionPolicy p;
  p.monthly.keep_months = 2;
  EXPECT_EQ(Kept(p), (std::set<std::string>{nov, oct_late}));
  (void)oct_early;
  (void)sep;
}

TEST_F(RetentionTest, KeepLastKeepsTheNewestN) {
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(Add(SnapshotKind::kManual, Jst(2026, 11, 20, 9, i)));
  RetentionPolicy p;
  p.manual.keep_last = 2;
  EXPECT_EQ(Kept(p), (std::set<std::string>{ids[4], ids[3]}));
  p.manual.keep_last = 0;
  EXPECT_TRUE(Kept(p).empty());
}

TEST_F(RetentionTest, SnapshotsWithinOneSecondAreOrderedByMilliseconds) {
  int64_t t = Jst(2026, 11, 20, 9);
  Snapshot a, b;
  a.id = "ffff-first";
  a.plain.kind = b.plain.kind = SnapshotKind::kManual;
  a.plain.time = b.plain.time = t;
  a.plain.time_ms = t * 1000 + 100;
  b.id = "0000-second";
  b.plain.time_ms = t * 1000 + 900;
  snaps_ = {a, b};
  RetentionPolicy p;
  p.manual.keep_last = 1;
  EXPECT_EQ(Kept(p), (std::set<std::string>{"0000-second"}));
}

TEST_F(RetentionTest, LocalDefaults) {
  RetentionPolicy p = RetentionPolicy::LocalDefaults();
  EXPECT_EQ(p.daily.keep_days, 30);
  EXPECT_EQ(p.daily.keep_last, -1);
  EXPECT_EQ(p.monthly.keep_months, 36);
  EXPECT_EQ(p.manual.keep_last, 1);

  // 40 nightly backups, 40 month-ends, 3 manual ones.
  std::vector<std::string> daily, monthly, manual;
  for (int d = 0; d < 40; ++d) daily.push_back(Add(SnapshotKind::kDaily, Jst(2026, 10, 1) + d * 86400));
  for (int m = 0; m < 40; ++m)
    monthly.push_back(Add(SnapshotKind::kMonthly, Jst(2023 + m / 12, 1 + m % 12, 28)));
  for (int i = 0; i < 3; ++i) manual.push_back(Add(SnapshotKind::kManual, Jst(2026, 11, 1) + i * 60));
  std::set<std::string> kept = Kept(p);
  std::set<std::string> expected(daily.end() - 30, daily.end());
  expected.insert(monthly.end() - 36, monthly.end());
  expected.insert(manual.back());
  EXPECT_EQ(kept, expected);
}

TEST_F(RetentionTest, KindsAreIndependent) {
  std::string daily = Add(SnapshotKind::kDaily, Jst(2026, 11, 1));
  std::string monthly = Add(SnapshotKind::kMonthly, Jst(2026, 11, 1, 13));
  RetentionPolicy p;
  p.daily.keep_days = 1;
  p.monthly.keep_months = 1;
  p.manual.keep_last = 0;
  EXPECT_EQ(Kept(p), (std::set<std::string>{daily, monthly}));
  // A kind with no rule keeps everything.
  RetentionPolicy none;
  none.daily.keep_days = 1;
  Add(SnapshotKind::kMonthly, Jst(2026, 10, 1));
  EXPECT_EQ(Kept(none).size(), 3u);
}

TEST_F(RetentionTest, AFloodOfManualSnapshotsNeverRemovesDailies) {
  std::vector<std::string> daily;
  for (int d = 0; d < 30; ++d) daily.push_back(Add(SnapshotKind::kDaily, Jst(2026, 10, 1) + d * 86400));
  // Someone presses "back up now" 500 times on the newest day.
  for (int i = 0; i < 500; ++i) Add(SnapshotKind::kManual, Jst(2026, 10, 30, 8) + i);
  std::set<std::string> kept = Kept(RetentionPolicy::LocalDefaults());
  for (const std::string& d : daily) EXPECT_TRUE(kept.count(d)) << d;
  EXPECT_EQ(kept.size(), 31u);
}

}  // namespace
}  // namespace kura
