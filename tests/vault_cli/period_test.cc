// The period bounds of `kura-vault audit export`: days are Japanese calendar days, --to
// includes its day, instants are exact, and nothing else is guessed at.
#include "vault_cli/period.h"

#include <gtest/gtest.h>

namespace kura::vault_cli {
namespace {

constexpr int64_t kDec1Jst = (1796083200 - 9 * 3600) * 1000LL;  // 2026-12-01T00:00:00+09:00

TEST(PeriodBoundTest, DaysAreDaysInJapan) {
  EXPECT_EQ(ParsePeriodBound("2026-12-01", false).value(), kDec1Jst);
  EXPECT_EQ(ParsePeriodBound("2026-12-01", true).value(), kDec1Jst + 86400 * 1000LL);
}

TEST(PeriodBoundTest, InstantsWithZoneAreExact) {
  EXPECT_EQ(ParsePeriodBound("2026-12-01T00:00:00Z", false).value(), 1796083200 * 1000LL);
  EXPECT_EQ(ParsePeriodBound("2026-12-01T00:00:00Z", true).value(), 1796083200 * 1000LL);
  EXPECT_EQ(ParsePeriodBound("2026-12-01T09:00:00+09:00", false).value(), 1796083200 * 1000LL);
  EXPECT_EQ(ParsePeriodBound("2026-11-30T19:00:00-05:00", false).value(), 1796083200 * 1000LL);
}

TEST(PeriodBoundTest, AnythingElseIsRefused) {
  for (const char* bad : {"", "2026-12", "2026-13-01", "2026-02-30", "2026-12-01T24:00:00Z",
                          "2026-12-01 00:00:00", "2026-12-01T00:00:00", "2026-12-01T00:00:00+9:00",
                          "2026-12-01T00:00:00+24:00", "yesterday", "2026-12- 1"}) {
    auto b = ParsePeriodBound(bad, false);
    EXPECT_FALSE(b.ok()) << bad;
    if (!b.ok()) {
      EXPECT_EQ(b.status().code(), Code::kInvalidArgument);
    }
  }
}

}  // namespace
}  // namespace kura::vault_cli
