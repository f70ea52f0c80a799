#include "agent/overdue.h"

#include <algorithm>

#include "agent/schedule.h"
#include "util/i18n.h"

namespace kura {

namespace {

constexpr int64_t kDay = int64_t{24} * 3600;

std::string When(int64_t t) {
  return FormatLocal(t).substr(0, 16);
}  // "2026-11-21 02:00"

int64_t Get(const std::map<std::string, int64_t>& m, const char* key) {
  auto it = m.find(key);
  return it == m.end() ? 0 : it->second;
}

bool FirstTargetFailing(const JobConfig& job, const JobStatus& js) {
  auto it = js.targets.find(job.targets.front().name);
  return it != js.targets.end() && it->second.warning.active;
}

// When the job was first recorded; status files written before first_seen existed give
// the oldest time they hold.
int64_t KnownSince(const JobStatus& js, const StatusDocument& doc) {
  if (js.first_seen != 0) return js.first_seen;
  int64_t t = 0;
  auto older = [&t](int64_t v) {
    if (v != 0 && (t == 0 || v < t)) t = v;
  };
  for (const auto& [name, ts] : js.targets) {
    older(ts.last_success);
    older(ts.last_attempt);
  }
  if (js.last_run) older(js.last_run->started);
  older(doc.updated);
  return t;
}

OverdueWarning Make(const JobConfig& job, const AgentConfig& c, std::string reason, int64_t due,
                    int64_t last) {
  OverdueWarning w{job.name, job.Label(), std::move(reason), due, last, "", ""};
  std::string last_ja =
      last ? fmt::format("最後に成功したバックアップ: {}", When(last)) : "成功したバックアップはありません";
  std::string last_en =
      last ? fmt::format("last successful backup: {}", When(last)) : "no backup has succeeded";
  if (w.reason == "never") {
    w.message_ja = fmt::format(
        "バックアップ「{}」はまだ一度も実行されていません (kura agent が動いているか確認してください)。{}",
        job.Label(), c.guidance_ja);
    w.message_en = fmt::format("Backup \"{}\" has never run (check that kura agent is running). {}",
                               job.Label(), c.guidance_en);
  } else if (w.reason == "monthly") {
    w.message_ja = fmt::format("バックアップ「{}」の月次バックアップ ({} の予定) が行われていません ({})。{}",
                               job.Label(), When(due - int64_t{job.schedule.grace_hours} * 3600), last_ja,
                               c.guidance_ja);
    w.message_en =
        fmt::format("The monthly backup of \"{}\" (due {}) has not been made ({}). {}", job.Label(),
                    When(due - int64_t{job.schedule.grace_hours} * 3600), last_en, c.guidance_en);
  } else {
    w.message_ja =
        fmt::format("バックアップ「{}」が予定どおり行われていません ({} までに成功するはずでした。{})。{}",
                    job.Label(), When(due), last_ja, c.guidance_ja);
    w.message_en = fmt::format("Backup \"{}\" is overdue (it should have succeeded by {}; {}). {}",
                               job.Label(), When(due), last_en, c.guidance_en);
  }
  return w;
}

}  // namespace

std::vector<OverdueWarning> FindOverdue(const AgentConfig& config, const StatusDocument* doc,
                                        const Clock& clock) {
  std::vector<OverdueWarning> out;
  if (config.jobs.empty()) return out;
  if (doc == nullptr) {
    OverdueWarning w;
    w.reason = "no_status_file";
    w.message_ja = fmt::format(
        "バックアップの記録 (状態ファイル {}) がありません。バックアップが一度も行われていないか、"
        "kura agent が動いていません。{}",
        config.status_file, config.guidance_ja);
    w.message_en = fmt::format(
        "No backup has been recorded (no status file {}): backups have never run, or kura agent "
        "is not running. {}",
        config.status_file, config.guidance_en);
    out.push_back(std::move(w));
    return out;
  }
  const int64_t now = clock.NowUnix();
  for (const JobConfig& job : config.jobs) {
    const JobSchedule& s = job.schedule;
    if ((!s.daily && !s.monthly_day) || job.targets.empty()) continue;
    const int64_t grace = static_cast<int64_t>(s.grace_hours) * 3600;
    auto found = doc->jobs.find(job.name);
    if (found == doc->jobs.end()) {
      out.push_back(Make(job, config, "never", 0, 0));
      continue;
    }
    const JobStatus& js = found->second;
    if (FirstTargetFailing(job, js)) continue;
    int64_t daily_ok =
        std::max(Get(js.last_success_by_kind, "daily"), Get(js.last_success_by_kind, "monthly"));
    int64_t monthly_ok = Get(js.last_success_by_kind, "monthly");
    if (js.last_success_by_kind.empty()) {  // a status file from before per-kind times: any success
      auto t = js.targets.find(job.targets.front().name);
      daily_ok = t == js.targets.end() ? 0 : t->second.last_success;
      monthly_ok = daily_ok;
    }
    int64_t since = KnownSince(js, *doc);
    if (s.daily) {
      int64_t due = (daily_ok != 0 ? daily_ok : since) + kDay + grace;
      if (now > due) {
        out.push_back(Make(job, config, "daily", due, daily_ok));
        continue;
      }
    }
    if (s.monthly_day) {
      int64_t slot = LastMonthlySlot(*s.monthly_day, s.monthly_time, now);
      if (now > slot + grace && monthly_ok < slot && since < slot) {
        out.push_back(Make(job, config, "monthly", slot + grace, monthly_ok));
      }
    }
  }
  return out;
}

}  // namespace kura
