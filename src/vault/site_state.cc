#include "vault/site_state.h"

#include <algorithm>
#include <charconv>

#include "util/i18n.h"
#include "util/text.h"

namespace kura::vault {
namespace {

// Weekday masks never leave more than 7 days between runs, so 8 days finds a run.
constexpr int kSearchDays = 8;
// How far back a run of missed days is followed (for "since"); older is "since enrolment".
constexpr int kMaxMissedWalk = 400;

int64_t OccurrenceOn(const BackupSchedule& s, int64_t local_day) {
  return LocalDayStartMs(local_day, s.zone) + int64_t{s.minute_of_day} * 60'000;
}

bool RunsOn(const BackupSchedule& s, int64_t local_day) {
  return (s.weekdays >> WeekdayOfDay(local_day)) & 1U;
}

std::optional<int64_t> AtOrBefore(const BackupSchedule& s, int64_t t) {
  const int64_t day = LocalDay(t, s.zone);
  for (int64_t d = day; d > day - kSearchDays; --d) {
    if (RunsOn(s, d) && OccurrenceOn(s, d) <= t) return OccurrenceOn(s, d);
  }
  return std::nullopt;
}

std::optional<int64_t> After(const BackupSchedule& s, int64_t t) {
  const int64_t day = LocalDay(t, s.zone);
  for (int64_t d = day; d < day + kSearchDays; ++d) {
    if (RunsOn(s, d) && OccurrenceOn(s, d) > t) return OccurrenceOn(s, d);
  }
  return std::nullopt;
}

// An arrival at or after this time counts for the run due at `due`.
int64_t WindowStart(const BackupSchedule& s, int64_t due, const SiteStatePolicy& p) {
  int64_t early = p.early_ms;
  if (auto prev = AtOrBefore(s, due - 1)) early = std::min(early, (due - *prev) / 2);
  return due - early;
}

struct Overdue {
  bool overdue = false;
  int64_t missed_due = 0;
  std::optional<int64_t> next_deadline;
};

Overdue JudgeScheduled(const SiteFacts& f, const BackupSchedule& s, const SiteStatePolicy& p, int64_t now) {
  Overdue o;
  auto satisfied = [&](int64_t due) {
    return f.last_arrival_ms && *f.last_arrival_ms >= WindowStart(s, due, p);
  };
  if (auto next = After(s, now - p.grace_ms)) o.next_deadline = *next + p.grace_ms;
  auto due = AtOrBefore(s, now - p.grace_ms);
  if (!due || *due <= f.enrolled_ms || satisfied(*due)) return o;
  int64_t first = *due;
  for (int i = 0; i < kMaxMissedWalk; ++i) {
    auto prev = AtOrBefore(s, first - 1);
    if (!prev || *prev <= f.enrolled_ms || satisfied(*prev)) break;
    first = *prev;
  }
  o.overdue = true;
  o.missed_due = first;
  return o;
}

Overdue JudgeUnscheduled(const SiteFacts& f, const SiteStatePolicy& p, int64_t now) {
  Overdue o;
  const int64_t base = std::max(f.enrolled_ms, f.last_arrival_ms.value_or(f.enrolled_ms));
  const int64_t due = base + kMillisPerDay;
  o.next_deadline = due + p.grace_ms;
  if (now >= due + p.grace_ms) {
    o.overdue = true;
    o.missed_due = due;
  }
  return o;
}

bool ParseClock(std::string_view text, int* minute_of_day) {
  if (text.size() != 5 || text[2] != ':') return false;
  int h = 0;
  int m = 0;
  for (size_t i : {0, 1, 3, 4}) {
    if (text[i] < '0' || text[i] > '9') return false;
  }
  std::from_chars(text.data(), text.data() + 2, h);
  std::from_chars(text.data() + 3, text.data() + 5, m);
  if (h > 23 || m > 59) return false;
  *minute_of_day = h * 60 + m;
  return true;
}

std::optional<uint8_t> ParseDays(std::string_view text) {
  if (text == "daily") return 0x7f;
  if (text == "weekdays") return 0x3e;
  static constexpr std::string_view kNames[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
  uint8_t mask = 0;
  while (!text.empty()) {
    size_t comma = text.find(',');
    std::string_view word = text.substr(0, comma);
    auto it = std::find(std::begin(kNames), std::end(kNames), word);
    if (it == std::end(kNames)) return std::nullopt;
    mask |= static_cast<uint8_t>(1U << (it - std::begin(kNames)));
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
    if (text.empty()) return std::nullopt;
  }
  if (mask == 0) return std::nullopt;
  return mask;
}

}  // namespace

int SiteStatePrecedence(SiteState s) {
  switch (s) {
    case SiteState::kAnomalous:
      return 0;
    case SiteState::kDamaged:
      return 1;
    case SiteState::kFailed:
      return 2;
    case SiteState::kOverdue:
      return 3;
    case SiteState::kIncomplete:
      return 4;
    case SiteState::kOk:
      return 5;
  }
  return 5;
}

std::string_view SiteStateName(SiteState state) {
  switch (state) {
    case SiteState::kOk:
      return "ok";
    case SiteState::kOverdue:
      return "overdue";
    case SiteState::kFailed:
      return "failed";
    case SiteState::kIncomplete:
      return "incomplete";
    case SiteState::kDamaged:
      return "damaged";
    case SiteState::kAnomalous:
      return "anomalous";
  }
  return "ok";
}

std::string SiteStateLabel(SiteState state, Language lang) {
  switch (state) {
    case SiteState::kOk:
      return TrIn(lang, "正常", "ok");
    case SiteState::kOverdue:
      return TrIn(lang, "期限超過", "overdue");
    case SiteState::kFailed:
      return TrIn(lang, "失敗", "failed");
    case SiteState::kIncomplete:
      return TrIn(lang, "未完了", "incomplete");
    case SiteState::kDamaged:
      return TrIn(lang, "破損", "damaged");
    case SiteState::kAnomalous:
      return TrIn(lang, "異常 (保留中)", "anomalous (on hold)");
  }
  return "";
}

Result<BackupSchedule> ParseBackupSchedule(std::string_view time, std::string_view timezone,
                                           std::string_view days) {
  BackupSchedule s;
  if (!ParseClock(time, &s.minute_of_day)) {
    return Status::InvalidArgument(Tr("スケジュールの time \"{}\" は HH:MM (例: 02:00) で指定してください",
                                      "schedule time \"{}\" must be HH:MM (for example 02:00)",
                                      EscapeText(time, false)));
  }
  auto zone = ParseFixedZone(timezone);
  if (!zone.ok()) return zone.status();
  s.zone = *zone;
  auto mask = ParseDays(days);
  if (!mask) {
    return Status::InvalidArgument(
        Tr("スケジュールの days \"{}\" は daily、weekdays、または mon,wed,fri "
           "のような曜日の並びで指定してください",
           "schedule days \"{}\" must be daily, weekdays or a list of days such as mon,wed,fri",
           EscapeText(days, false)));
  }
  s.weekdays = *mask;
  return s;
}

SiteStatus EvaluateSite(const SiteFacts& f, const SiteStatePolicy& p, int64_t now_ms) {
  SiteStatus st;
  if (f.hold_since_ms) st.conditions.push_back({SiteState::kAnomalous, *f.hold_since_ms});
  if (f.damaged_since_ms) st.conditions.push_back({SiteState::kDamaged, *f.damaged_since_ms});
  if (f.failing_since_ms && (!f.last_success_ms || *f.last_success_ms < *f.failing_since_ms)) {
    st.conditions.push_back({SiteState::kFailed, *f.failing_since_ms});
  }
  Overdue o = f.schedule ? JudgeScheduled(f, *f.schedule, p, now_ms) : JudgeUnscheduled(f, p, now_ms);
  st.next_deadline_ms = o.next_deadline;
  if (o.overdue) {
    st.conditions.push_back({SiteState::kOverdue, o.missed_due + p.grace_ms});
    st.missed_due_ms = o.missed_due;
  }
  if (f.incomplete_since_ms && (!f.last_arrival_ms || *f.last_arrival_ms < *f.incomplete_since_ms)) {
    st.conditions.push_back({SiteState::kIncomplete, *f.incomplete_since_ms});
  }
  if (st.conditions.empty())
    st.conditions.push_back({SiteState::kOk, f.last_arrival_ms.value_or(f.enrolled_ms)});
  st.state = st.conditions.front().state;
  st.since_ms = st.conditions.front().since_ms;
  return st;
}

std::string SiteSummary(const SiteStatus& st, const SiteFacts& f, const SiteStatePolicy& p,
                        const FixedZone& zone, Language lang) {
  const std::string since = FormatLocalMinute(st.since_ms, zone);
  const std::string last =
      f.last_arrival_ms ? FormatLocalMinute(*f.last_arrival_ms, zone) : TrIn(lang, "なし", "none");
  std::string line = SiteStateLabel(st.state, lang) + TrIn(lang, " ({} から): ", " since {}: ", since);
  switch (st.state) {
    case SiteState::kOk:
      line += TrIn(lang, "最後のバックアップ受信 {}", "last backup received {}", last);
      break;
    case SiteState::kOverdue:
      line += TrIn(
          lang,
          "{} 予定のバックアップが猶予 {} 時間を過ぎても届いていません (最後の受信 {})。拠点の PC が起動し "
          "kura "
          "が動いているか確認してください",
          "the backup due {} has not arrived within the {} h grace (last received {}); check that the "
          "site's PC is on and kura is running",
          FormatLocalMinute(st.missed_due_ms.value_or(st.since_ms), zone), p.grace_ms / kMillisPerHour, last);
      break;
    case SiteState::kFailed:
      line +=
          TrIn(lang, "拠点がバックアップの失敗を報告しました: \"{}\"。拠点に連絡して原因を確認してください",
               "the site reported a failed backup: \"{}\"; contact the site to find the cause",
               EscapeText(f.failure_message, false));
      break;
    case SiteState::kIncomplete:
      line +=
          TrIn(lang,
               "送信が始まりましたが完了していません (最後の受信 "
               "{})。次の送信で解消しなければ拠点の回線を確認してください",
               "an upload began but was never committed (last received {}); if the next one does not finish, "
               "check the site's network",
               last);
      break;
    case SiteState::kDamaged:
      line +=
          TrIn(lang, "スクラブが保存中の世代に破損を見つけました。kura-vault scrub の報告を確認してください",
               "scrub found damage in a kept generation; read the kura-vault scrub report");
      break;
    case SiteState::kAnomalous:
      line += TrIn(
          lang,
          "異常な世代を受信したため保留中で、何も削除しません。拠点に侵害がないか確認し、オペレーターが hold "
          "clear で解除してください",
          "anomalous generations arrived, so the site is on hold and nothing is removed; check the site for "
          "a compromise, then an operator clears the hold with hold clear");
      break;
  }
  if (st.conditions.size() > 1) {
    std::string others;
    for (size_t i = 1; i < st.conditions.size(); ++i) {
      if (!others.empty()) others += ", ";
      others += SiteStateLabel(st.conditions[i].state, lang);
    }
    line += TrIn(lang, " (ほかに: {})", " (also: {})", others);
  }
  return line;
}

}  // namespace kura::vault
