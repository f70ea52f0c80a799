#include "vault/calendar.h"

#include <fmt/format.h>

#include <charconv>

#include "util/i18n.h"

namespace kura::vault {
namespace {

// Floor division: instants before 1970 still fall on the right day.
int64_t FloorDiv(int64_t a, int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)) ? 1 : 0);
}

bool ParseSmall(std::string_view s, int* out) {
  if (s.empty() || s.size() > 2) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  auto r = std::from_chars(s.data(), s.data() + s.size(), *out);
  return r.ec == std::errc();
}

Status BadZone(std::string_view text) {
  return Status::InvalidArgument(Tr(
      "タイムゾーン \"{}\" は使えません。Asia/Tokyo、UTC、または +09:00 のような固定の時差で指定してください",
      "time zone \"{}\" is not accepted; give Asia/Tokyo, UTC or a fixed offset such as +09:00", text));
}

}  // namespace

Result<FixedZone> ParseFixedZone(std::string_view text) {
  if (text == "Asia/Tokyo" || text == "JST" || text == "Japan") return FixedZone::Tokyo();
  if (text == "UTC" || text == "Etc/UTC" || text == "Z") return FixedZone::Utc();
  std::string_view rest = text;
  if (rest.starts_with("UTC")) rest.remove_prefix(3);
  if (rest.size() < 2 || (rest[0] != '+' && rest[0] != '-')) return BadZone(text);
  int sign = rest[0] == '-' ? -1 : 1;
  rest.remove_prefix(1);
  int hours = 0;
  int minutes = 0;
  size_t colon = rest.find(':');
  if (!ParseSmall(rest.substr(0, colon), &hours)) return BadZone(text);
  if (colon != std::string_view::npos && !ParseSmall(rest.substr(colon + 1), &minutes)) return BadZone(text);
  if (colon != std::string_view::npos && rest.size() - colon - 1 != 2) return BadZone(text);
  if (hours > 14 || minutes > 59 || (hours == 14 && minutes != 0)) return BadZone(text);
  FixedZone zone;
  zone.offset_seconds = sign * (hours * 3600 + minutes * 60);
  if (zone.offset_seconds == 0) return FixedZone::Utc();
  zone.label = fmt::format("UTC{}{:02}:{:02}", sign < 0 ? '-' : '+', hours, minutes);
  if (zone.offset_seconds == 9 * 3600) zone.label = "JST";
  return zone;
}

int64_t DaysFromCivil(const CivilDate& date) {
  const int64_t y = date.year - (date.month <= 2 ? 1 : 0);
  const int64_t era = FloorDiv(y, 400);
  const int64_t yoe = y - era * 400;
  const int64_t mp = (date.month + 9) % 12;
  const int64_t doy = (153 * mp + 2) / 5 + date.day - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

CivilDate CivilFromDays(int64_t days) {
  const int64_t z = days + 719468;
  const int64_t era = FloorDiv(z, 146097);
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  CivilDate d;
  d.day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  d.month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  d.year = yoe + era * 400 + (d.month <= 2 ? 1 : 0);
  return d;
}

int64_t LocalDay(int64_t unix_ms, const FixedZone& zone) {
  return FloorDiv(unix_ms + int64_t{zone.offset_seconds} * 1000, kMillisPerDay);
}

int64_t LocalMonth(int64_t unix_ms, const FixedZone& zone) {
  CivilDate d = CivilFromDays(LocalDay(unix_ms, zone));
  return d.year * 12 + (d.month - 1);
}

int WeekdayOfDay(int64_t local_day) {
  // 1970-01-01 was a Thursday (4).
  return static_cast<int>(((local_day % 7) + 7 + 4) % 7);
}

int64_t LocalDayStartMs(int64_t local_day, const FixedZone& zone) {
  return local_day * kMillisPerDay - int64_t{zone.offset_seconds} * 1000;
}

std::string DayName(int64_t local_day) {
  CivilDate d = CivilFromDays(local_day);
  return fmt::format("{:04}-{:02}-{:02}", d.year, d.month, d.day);
}

std::string MonthName(int64_t local_month) {
  return fmt::format("{:04}-{:02}", FloorDiv(local_month, 12),
                     local_month - FloorDiv(local_month, 12) * 12 + 1);
}

std::string FormatLocalMinute(int64_t unix_ms, const FixedZone& zone) {
  int64_t local_ms = unix_ms + int64_t{zone.offset_seconds} * 1000;
  int64_t day = FloorDiv(local_ms, kMillisPerDay);
  int64_t minute_of_day = (local_ms - day * kMillisPerDay) / 60'000;
  return fmt::format("{} {:02}:{:02} {}", DayName(day), minute_of_day / 60, minute_of_day % 60, zone.label);
}

}  // namespace kura::vault
