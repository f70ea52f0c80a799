// Calendar days and months in a fixed-offset zone, with no process time zone.
#include "vault/calendar.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "vault/vault_sim.h"

namespace kura::vault {
namespace {

using testing::Jst;

TEST(CalendarTest, CivilDaysRoundTrip) {
  EXPECT_EQ(DaysFromCivil({1970, 1, 1}), 0);
  EXPECT_EQ(DaysFromCivil({2026, 12, 2}), 20789);
  EXPECT_EQ(DaysFromCivil({1969, 12, 31}), -1);
  for (int64_t d = -800'000; d <= 800'000; d += 997) {
    CivilDate c = CivilFromDays(d);
    ASSERT_EQ(DaysFromCivil(c), d);
  }
  CivilDate leap = CivilFromDays(DaysFromCivil({2028, 2, 29}));
  EXPECT_EQ(leap.month, 2);
  EXPECT_EQ(leap.day, 29);
}

TEST(CalendarTest, JstDaysAndMonthsIgnoreTheProcessTimeZone) {
  setenv("TZ", "America/New_York", 1);  // must make no difference
  const FixedZone jst = FixedZone::Tokyo();
  const int64_t midnight = Jst(2026, 12, 1);
  EXPECT_EQ(DayName(LocalDay(midnight, jst)), "2026-12-01");
  EXPECT_EQ(DayName(LocalDay(midnight - 1, jst)), "2026-11-30");
  EXPECT_EQ(MonthName(LocalMonth(midnight, jst)), "2026-12");
  EXPECT_EQ(MonthName(LocalMonth(midnight - 1, jst)), "2026-11");
  EXPECT_EQ(DayName(LocalDay(midnight, FixedZone::Utc())), "2026-11-30");
  EXPECT_EQ(FormatLocalMinute(midnight, jst), "2026-12-01 00:00 JST");
  EXPECT_EQ(FormatLocalMinute(midnight, FixedZone::Utc()), "2026-11-30 15:00 UTC");
  EXPECT_EQ(WeekdayOfDay(LocalDay(Jst(2026, 12, 2, 12), jst)), 3);  // Wednesday
  EXPECT_EQ(LocalDayStartMs(LocalDay(Jst(2026, 12, 2, 12), jst), jst), Jst(2026, 12, 2));
  EXPECT_EQ(MonthName(LocalMonth(Jst(1969, 12, 31, 12), jst)), "1969-12");
  unsetenv("TZ");
}

TEST(CalendarTest, FixedZonesParse) {
  struct Case {
    const char* text;
    int32_t offset;
    const char* label;
  };
  for (const Case& c :
       {Case{"Asia/Tokyo", 32400, "JST"}, Case{"JST", 32400, "JST"}, Case{"UTC", 0, "UTC"},
        Case{"Z", 0, "UTC"}, Case{"+09:00", 32400, "JST"}, Case{"UTC+9", 32400, "JST"},
        Case{"-05:30", -19800, "UTC-05:30"}, Case{"+14:00", 50400, "UTC+14:00"}, Case{"+00:00", 0, "UTC"}}) {
    auto z = ParseFixedZone(c.text);
    ASSERT_TRUE(z.ok()) << c.text;
    EXPECT_EQ(z->offset_seconds, c.offset) << c.text;
    EXPECT_EQ(z->label, c.label) << c.text;
  }
  for (const char* bad :
       {"", "Europe/London", "+9:0", "+15:00", "+14:30", "+09:60", "09:00", "+", "UTC+", "+09:000", "+0x9"}) {
    auto z = ParseFixedZone(bad);
    EXPECT_FALSE(z.ok()) << bad;
    if (!z.ok()) {
      EXPECT_EQ(z.status().code(), Code::kInvalidArgument);
    }
  }
}

}  // namespace
}  // namespace kura::vault
