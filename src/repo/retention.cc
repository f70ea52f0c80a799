#include "repo/retention.h"

#include <algorithm>
#include <ctime>
#include <set>

namespace kura {

const KindRule& RetentionPolicy::For(SnapshotKind kind) const {
  switch (kind) {
    case SnapshotKind::kDaily: return daily;
    case SnapshotKind::kMonthly: return monthly;
    case SnapshotKind::kManual: return manual;
  }
  return daily;
}

KindRule& RetentionPolicy::For(SnapshotKind kind) {
  return const_cast<KindRule&>(static_cast<const RetentionPolicy*>(this)->For(kind));
}

RetentionPolicy RetentionPolicy::LocalDefaults() {
  RetentionPolicy p;
  p.daily.keep_days = 30;
  p.monthly.keep_months = 36;
  p.manual.keep_last = 1;
  return p;
}

static std::string Bucket(int64_t t, const char* fmt) {
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  localtime_r(&tt, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, fmt, &tm);
  return buf;
}

RetentionDecision ApplyRetention(const std::vector<Snapshot>& snapshots, const RetentionPolicy& policy) {
  RetentionDecision d;
  for (SnapshotKind kind : {SnapshotKind::kDaily, SnapshotKind::kMonthly, SnapshotKind::kManual}) {
    std::vector<const Snapshot*> of_kind;
    for (const Snapshot& s : snapshots) {
      if (s.plain.kind == kind) of_kind.push_back(&s);
    }
    std::sort(of_kind.begin(), of_kind.end(), [](const Snapshot* a, const Snapshot* b) {
      return a->plain.OrderKey() != b->plain.OrderKey() ? a->plain.OrderKey() > b->plain.OrderKey() : a->id > b->id;
    });
    const KindRule& rule = policy.For(kind);
    std::set<std::string> days, months;
    int taken_last = 0;
    for (const Snapshot* s : of_kind) {
      std::string why;
      if (!rule.any()) why = "no rule";
      if (rule.keep_last >= 0 && taken_last < rule.keep_last) {
        ++taken_last;
        why = "last " + std::to_string(taken_last);
      }
      std::string day = Bucket(s->plain.time, "%Y-%m-%d");
      if (rule.keep_days >= 0 && !days.count(day) && static_cast<int>(days.size()) < rule.keep_days) {
        days.insert(day);
        if (why.empty()) why = "day " + day;
      }
      std::string month = Bucket(s->plain.time, "%Y-%m");
      if (rule.keep_months >= 0 && !months.count(month) && static_cast<int>(months.size()) < rule.keep_months) {
        months.insert(month);
        if (why.empty()) why = "month " + month;
      }
      if (why.empty()) {
        d.forget.push_back(s);
      } else {
        d.keep.push_back(s);
        d.reason[s->id] = why;
      }
    }
  }
  return d;
}

}  // namespace kura
