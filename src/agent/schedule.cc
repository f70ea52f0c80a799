#include "agent/schedule.h"

#include <algorithm>
#include <ctime>
#include <nlohmann/json.hpp>

#include "util/fs.h"
#include "util/i18n.h"
#include "util/json_read.h"

namespace kura {

LocalDate LocalDateOf(int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  localtime_r(&t, &tm);
  return {tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday};
}

int64_t LocalTimeAt(const LocalDate& d, const TimeOfDay& t) {
  std::tm tm{};
  tm.tm_year = d.year - 1900;
  tm.tm_mon = d.month - 1;
  tm.tm_mday = d.day;
  tm.tm_hour = t.hour;
  tm.tm_min = t.minute;
  tm.tm_isdst = -1;  // let the zone decide (no DST in Japan; correct elsewhere)
  return static_cast<int64_t>(std::mktime(&tm));
}

int DaysInMonth(int year, int month) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

static LocalDate AddDays(LocalDate d, int days) {
  // Noon avoids DST edges; mktime normalises the day overflow.
  std::tm tm{};
  tm.tm_year = d.year - 1900;
  tm.tm_mon = d.month - 1;
  tm.tm_mday = d.day + days;
  tm.tm_hour = 12;
  tm.tm_isdst = -1;
  std::time_t t = std::mktime(&tm);
  return LocalDateOf(static_cast<int64_t>(t));
}

int64_t LastDailySlot(const TimeOfDay& t, int64_t now) {
  LocalDate today = LocalDateOf(now);
  int64_t slot = LocalTimeAt(today, t);
  return slot <= now ? slot : LocalTimeAt(AddDays(today, -1), t);
}

int64_t NextDailySlot(const TimeOfDay& t, int64_t now) {
  LocalDate today = LocalDateOf(now);
  int64_t slot = LocalTimeAt(today, t);
  return slot > now ? slot : LocalTimeAt(AddDays(today, 1), t);
}

static int64_t MonthlySlotIn(int year, int month, int day, const TimeOfDay& t) {
  LocalDate d{year, month, day == 0 ? DaysInMonth(year, month) : day};
  return LocalTimeAt(d, t);
}

int64_t LastMonthlySlot(int day, const TimeOfDay& t, int64_t now) {
  LocalDate today = LocalDateOf(now);
  int64_t slot = MonthlySlotIn(today.year, today.month, day, t);
  if (slot <= now) return slot;
  int y = today.month == 1 ? today.year - 1 : today.year;
  int m = today.month == 1 ? 12 : today.month - 1;
  return MonthlySlotIn(y, m, day, t);
}

int64_t NextMonthlySlot(int day, const TimeOfDay& t, int64_t now) {
  LocalDate today = LocalDateOf(now);
  int64_t slot = MonthlySlotIn(today.year, today.month, day, t);
  if (slot > now) return slot;
  int y = today.month == 12 ? today.year + 1 : today.year;
  int m = today.month == 12 ? 1 : today.month + 1;
  return MonthlySlotIn(y, m, day, t);
}

bool InSendWindow(const SendWindow& w, int64_t now) {
  int start = w.start.Minutes(), end = w.end.Minutes();
  if (start == end) return true;  // "00:00-00:00": any time
  std::time_t tt = static_cast<std::time_t>(now);
  std::tm tm{};
  localtime_r(&tt, &tm);
  int m = tm.tm_hour * 60 + tm.tm_min;
  return start < end ? (m >= start && m < end) : (m >= start || m < end);
}

int64_t NextSendWindowStart(const SendWindow& w, int64_t now) {
  if (InSendWindow(w, now)) return now;
  return NextDailySlot(w.start, now);
}

int64_t BackoffSeconds(const RetryPolicy& p, int attempts) {
  int64_t wait = p.initial_seconds;
  for (int i = 1; i < attempts && wait < p.max_seconds; ++i) wait *= 2;
  return std::min<int64_t>(wait, p.max_seconds);
}

namespace {

using nlohmann::json;

json SlotJson(const SlotState& s) {
  return {{"slot", s.slot}, {"done", s.done}, {"attempts", s.attempts}, {"next_attempt", s.next_attempt}};
}
SlotState SlotFrom(const JsonView& j) {
  SlotState s;
  s.slot = j.Int("slot");
  s.done = j.Bool("done");
  s.attempts = j.Int32("attempts");
  s.next_attempt = j.Int("next_attempt");
  return s;
}

// Whether a slot needs a run now: a newer slot than the one recorded, or a retry that is due.
bool Due(const SlotState& s, int64_t slot, int64_t now) {
  if (slot > s.slot) return true;
  return slot == s.slot && !s.done && now >= s.next_attempt;
}

void StartSlot(SlotState& s, int64_t slot) {
  if (slot > s.slot) s = SlotState{slot, false, 0, 0};
}

void Settle(SlotState& s, RunOutcome outcome, int max_attempts, const RetryPolicy& retry, int64_t now) {
  switch (outcome) {
    case RunOutcome::kOk:
      s.done = true;
      break;
    case RunOutcome::kFailed:
      ++s.attempts;
      if (s.attempts >= max_attempts)
        s.done = true;
      else
        s.next_attempt = now + BackoffSeconds(retry, s.attempts);
      break;
    case RunOutcome::kLocked:
      s.next_attempt = now + 60;
      break;
  }
}

}  // namespace

Result<ScheduleState> ParseScheduleState(std::string_view text, const std::string& path) {
  ScheduleState state;
  json doc = json::parse(text, nullptr, false);
  std::string problem;
  JsonView root(&doc, "", &problem);
  if (doc.is_discarded())
    problem = "not valid JSON";
  else if (!doc.is_object())
    root.Fail("", fmt::format("expected an object, got {}", JsonTypeName(doc)));
  if (problem.empty() && root.Int("version", 1) > kScheduleStateVersion) {
    return Status::Unsupported(Tr("スケジュールの状態ファイル {} はこの kura より新しい形式です",
                                  "schedule state file {} has a newer format than this kura", path));
  }
  std::optional<JsonView> jobs;
  if (problem.empty()) jobs = root.Object("jobs");
  if (jobs) {
    for (const auto& [name, j] : jobs->Members()) {
      if (!j.IsObject()) {
        j.Fail("", fmt::format("expected an object, got {}", JsonTypeName(j.raw())));
        break;
      }
      JobScheduleState js;
      js.initialized = j.Bool("initialized");
      if (auto daily = j.Object("daily")) js.daily = SlotFrom(*daily);
      if (auto monthly = j.Object("monthly")) js.monthly = SlotFrom(*monthly);
      state.jobs[name] = js;
    }
  }
  if (!problem.empty()) {
    return Status::Corruption(
        Tr("スケジュールの状態ファイル {} が壊れています ({})。kura agent は作り直して続けます "
           "(壊れたファイルは {}.damaged に残します)",
           "schedule state file {} is damaged ({}); kura agent rebuilds it and goes on "
           "(keeping the damaged file as {}.damaged)",
           path, problem, path));
  }
  return state;
}

Result<ScheduleState> LoadScheduleState(const std::string& path) {
  if (!PathExists(path)) return ScheduleState{};
  KURA_ASSIGN_OR_RETURN(std::string text, ReadTextFile(path));
  return ParseScheduleState(text, path);
}

Status SaveScheduleState(const std::string& path, const ScheduleState& state) {
  json jobs = json::object();
  for (const auto& [name, js] : state.jobs) {
    jobs[name] = {
        {"initialized", js.initialized}, {"daily", SlotJson(js.daily)}, {"monthly", SlotJson(js.monthly)}};
  }
  std::string text = DumpStateJson(json{{"version", kScheduleStateVersion}, {"jobs", jobs}});
  return WriteFileAtomic(path, AsBytes(text), 0644);
}

Decision Decide(const AgentConfig& config, const ScheduleState& state, const std::vector<QueuedSend>& queue,
                int64_t now) {
  Decision d;
  d.state = state;
  d.next_wake = now + 3600;
  for (const JobConfig& job : config.jobs) {
    JobScheduleState& js = d.state.jobs[job.name];
    const JobSchedule& sch = job.schedule;
    if (!js.initialized) {
      js.initialized = true;
      if (sch.monthly_day)
        js.monthly = SlotState{LastMonthlySlot(*sch.monthly_day, sch.monthly_time, now), true, 0, 0};
    }
    bool monthly_due = false, daily_due = false;
    if (sch.monthly_day) {
      int64_t slot = LastMonthlySlot(*sch.monthly_day, sch.monthly_time, now);
      monthly_due = Due(js.monthly, slot, now);
      if (monthly_due) StartSlot(js.monthly, slot);
      d.next_wake = std::min(d.next_wake, NextMonthlySlot(*sch.monthly_day, sch.monthly_time, now));
      if (!js.monthly.done && js.monthly.next_attempt > now)
        d.next_wake = std::min(d.next_wake, js.monthly.next_attempt);
    }
    if (sch.daily) {
      int64_t slot = LastDailySlot(*sch.daily, now);
      daily_due = Due(js.daily, slot, now);
      if (daily_due) StartSlot(js.daily, slot);
      d.next_wake = std::min(d.next_wake, NextDailySlot(*sch.daily, now));
      if (!js.daily.done && js.daily.next_attempt > now)
        d.next_wake = std::min(d.next_wake, js.daily.next_attempt);
    }
    if (monthly_due) {
      d.actions.push_back({AgentAction::Type::kRun, job.name, SnapshotKind::kMonthly, ""});
    } else if (daily_due) {
      d.actions.push_back({AgentAction::Type::kRun, job.name, SnapshotKind::kDaily, ""});
    }
  }
  std::vector<const QueuedSend*> sends;
  for (const QueuedSend& q : queue) {
    if (config.FindJob(q.job) == nullptr) continue;  // a job removed from the config: left for the operator
    // A night item not yet tried is due whenever the window is open, so changing
    // send_window takes effect for items queued before the change.
    bool window_open = q.night && q.attempts == 0 && InSendWindow(config.send_window, now);
    if (q.next_attempt <= now || window_open)
      sends.push_back(&q);
    else
      d.next_wake = std::min(d.next_wake, q.next_attempt);
  }
  for (const QueuedSend* q : sends)
    d.actions.push_back({AgentAction::Type::kSend, q->job, SnapshotKind::kDaily, q->id});
  return d;
}

void RecordRunOutcome(ScheduleState& state, const JobConfig& job, SnapshotKind kind, RunOutcome outcome,
                      const RetryPolicy& retry, int64_t now) {
  JobScheduleState& js = state.jobs[job.name];
  if (kind == SnapshotKind::kMonthly) {
    Settle(js.monthly, outcome, job.run_max_attempts, retry, now);
    if (job.schedule.daily && !js.daily.done && js.daily.slot != 0 && js.daily.slot <= now) {
      Settle(js.daily, outcome, job.run_max_attempts, retry, now);
    }
  } else if (kind == SnapshotKind::kDaily) {
    Settle(js.daily, outcome, job.run_max_attempts, retry, now);
  }
}

}  // namespace kura
