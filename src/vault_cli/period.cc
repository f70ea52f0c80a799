#include "vault_cli/period.h"

#include "util/clock.h"
#include "util/i18n.h"
#include "util/text.h"

namespace kura::vault_cli {

static constexpr int64_t kJapanOffset = int64_t{9} * 3600;

static bool Digits(const std::string& s, size_t from, size_t n) {
  if (from + n > s.size()) return false;
  for (size_t i = from; i < from + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  return true;
}

static int Two(const std::string& s, size_t at) {
  return (s[at] - '0') * 10 + (s[at + 1] - '0');
}

// ParseUtc, strictly: only a real date and time whose canonical form is exactly `z` (so
// "2026-02-30" or " 1" fields are refused, not normalised).
static bool StrictUtc(const std::string& z, int64_t* secs) {
  return ParseUtc(z, secs) && FormatUtc(*secs) == z;
}

Result<int64_t> ParsePeriodBound(const std::string& text, bool end) {
  Status bad = Status::InvalidArgument(
      Tr("期間 \"{}\" を読めません。2026-12-01 (日本時間の日付)、2026-12-01T09:30:00Z または "
         "2026-12-01T09:30:00+09:00 の形で指定してください",
         "cannot read the period bound \"{}\"; give 2026-12-01 (a day in Japan), 2026-12-01T09:30:00Z or "
         "2026-12-01T09:30:00+09:00",
         EscapeText(text.substr(0, 64), false)));
  int64_t secs = 0;
  if (text.size() == 10) {
    if (!StrictUtc(text + "T00:00:00Z", &secs)) return bad;
    secs -= kJapanOffset;
    if (end) secs += 86400;
    return secs * 1000;
  }
  if (text.size() == 20 && text.back() == 'Z') {
    if (!StrictUtc(text, &secs)) return bad;
    return secs * 1000;
  }
  if (text.size() == 25 && (text[19] == '+' || text[19] == '-') && Digits(text, 20, 2) && text[22] == ':' &&
      Digits(text, 23, 2)) {
    if (!StrictUtc(text.substr(0, 19) + "Z", &secs)) return bad;
    int64_t hours = Two(text, 20), minutes = Two(text, 23);
    if (hours > 23 || minutes > 59) return bad;
    int64_t offset = hours * 3600 + minutes * 60;
    secs -= text[19] == '+' ? offset : -offset;
    return secs * 1000;
  }
  return bad;
}

}  // namespace kura::vault_cli
