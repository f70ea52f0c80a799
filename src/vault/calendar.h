// Calendar days and months of the vault's own clock in a fixed-offset zone, without the
// process time zone (docs/retention.md, "Calendar"). Pure functions; thread-safe.
//
// Retention buckets and the missed-backup schedule are counted in the tenant's zone:
// Asia/Tokyo (UTC+09:00, no daylight saving) by default. Only fixed offsets are accepted,
// so a day is always 86,400 seconds and the answer never depends on the host's tzdata.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "kura/status.h"

namespace kura::vault {

struct FixedZone {
  // Seconds east of UTC. Default: +09:00 (Asia/Tokyo).
  int32_t offset_seconds = 9 * 3600;
  // How people see it: "JST", "UTC", "UTC+05:30".
  std::string label = "JST";

  static FixedZone Tokyo() { return {}; }
  static FixedZone Utc() { return {0, "UTC"}; }
};

// Accepts "Asia/Tokyo", "JST", "Japan", "UTC", "Etc/UTC", "Z", "+09:00", "-05:30",
// "UTC+09:00", "UTC+9". Offsets are at most ±14:00, minutes 00–59.
// Errors: kInvalidArgument naming the zone and the accepted forms.
Result<FixedZone> ParseFixedZone(std::string_view text);

// A date in the proleptic Gregorian calendar.
struct CivilDate {
  int64_t year = 1970;
  int month = 1;  // 1–12
  int day = 1;    // 1–31
};

inline constexpr int64_t kMillisPerDay = 86'400'000;
inline constexpr int64_t kMillisPerHour = 3'600'000;

// Days since 1970-01-01 of a civil date, and back (Howard Hinnant's algorithms).
int64_t DaysFromCivil(const CivilDate& date);
CivilDate CivilFromDays(int64_t days);

// The local day number (days since 1970-01-01 local) of an instant in `zone`.
int64_t LocalDay(int64_t unix_ms, const FixedZone& zone);
// The local month number (year * 12 + month - 1) of an instant in `zone`.
int64_t LocalMonth(int64_t unix_ms, const FixedZone& zone);
// 0 = Sunday … 6 = Saturday, of a local day number.
int WeekdayOfDay(int64_t local_day);
// The instant (UTC ms) at which local day `local_day` starts in `zone`.
int64_t LocalDayStartMs(int64_t local_day, const FixedZone& zone);

// "2026-11-20", "2026-11", "2026-11-20 02:05 JST" (for people and for bucket names).
std::string DayName(int64_t local_day);
std::string MonthName(int64_t local_month);
std::string FormatLocalMinute(int64_t unix_ms, const FixedZone& zone);

}  // namespace kura::vault
