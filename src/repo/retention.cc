#include "repo/retention.h"

#include <algorithm>
#include <charconv>
#include <ctime>
#include <set>
#include <tuple>

#include "util/i18n.h"

namespace kura {

const KindRule& RetentionPolicy::For(SnapshotKind kind) const {
  switch (kind) {
    case SnapshotKind::kDaily:
      return daily;
    case SnapshotKind::kMonthly:
      return monthly;
    case SnapshotKind::kManual:
      return manual;
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

static std::string_view ExampleFor(std::string_view flag) {
  if (flag == "--keep-days") return "daily=30";
  if (flag == "--keep-months") return "monthly=36";
  return "manual=1";
}

Status ParseRuleValue(std::string_view flag, std::string_view text, SnapshotKind* kind, int* value) {
  auto eq = text.find('=');
  if (eq == std::string_view::npos) {
    return Status::InvalidArgument(Tr("{} {}: 「種類=数」の形で指定してください (例: {} {})",
                                      "{} {}: give KIND=N (for example {} {})", flag, text, flag,
                                      ExampleFor(flag)));
  }
  std::string_view kind_text = text.substr(0, eq), number = text.substr(eq + 1);
  auto k = ParseKind(kind_text);
  if (!k) {
    return Status::InvalidArgument(
        Tr("{} {}: 種類「{}」は daily、monthly、manual のいずれかです (例: {} {})",
           "{} {}: kind \"{}\" must be daily, monthly or manual (for example {} {})", flag, text, kind_text,
           flag, ExampleFor(flag)));
  }
  bool digits = !number.empty() &&
                std::all_of(number.begin(), number.end(), [](char c) { return c >= '0' && c <= '9'; });
  int n = 0;
  if (digits) {
    auto [ptr, ec] = std::from_chars(number.data(), number.data() + number.size(), n);
    if (ec == std::errc::result_out_of_range || (ec == std::errc() && n > kMaxRuleValue)) {
      return Status::InvalidArgument(Tr("{} {}: {} は大きすぎます (最大 {})",
                                        "{} {}: {} is too large (at most {})", flag, text, number,
                                        kMaxRuleValue));
    }
    digits = ec == std::errc() && ptr == number.data() + number.size();
  }
  if (!digits) {
    return Status::InvalidArgument(Tr("{} {}: 「{}」は 0 以上の整数ではありません (例: {} {})",
                                      "{} {}: \"{}\" is not a whole number of 0 or more (for example {} {})",
                                      flag, text, number, flag, ExampleFor(flag)));
  }
  *kind = *k;
  *value = n;
  return Status::Ok();
}

bool IsFutureSnapshot(const SnapshotPlain& plain, int64_t now_unix) {
  return plain.OrderKey() > (now_unix + kFutureToleranceSeconds) * 1000;
}

static bool Newer(const Snapshot& a, const Snapshot& b) {
  return a.plain.OrderKey() != b.plain.OrderKey() ? a.plain.OrderKey() > b.plain.OrderKey() : a.id > b.id;
}

const Snapshot* LatestSnapshot(const std::vector<Snapshot>& snapshots, int64_t now_unix) {
  const Snapshot* plausible = nullptr;
  const Snapshot* any = nullptr;
  for (const Snapshot& s : snapshots) {
    if (!any || Newer(s, *any)) any = &s;
    if (!IsFutureSnapshot(s.plain, now_unix) && (!plausible || Newer(s, *plausible))) plausible = &s;
  }
  return plausible ? plausible : any;
}

const Snapshot* NewestFutureSnapshot(const std::vector<Snapshot>& snapshots, int64_t now_unix) {
  const Snapshot* out = nullptr;
  for (const Snapshot& s : snapshots) {
    if (IsFutureSnapshot(s.plain, now_unix) && (!out || Newer(s, *out))) out = &s;
  }
  return out;
}

Result<GroupBy> ParseGroupBy(std::string_view text) {
  GroupBy g{false, false, false};
  size_t start = 0;
  while (start <= text.size() && !text.empty()) {
    size_t comma = text.find(',', start);
    std::string_view word = text.substr(start, comma == std::string_view::npos ? text.npos : comma - start);
    if (word == "host") {
      g.host = true;
    } else if (word == "source" || word == "paths") {
      g.source = true;
    } else if (word == "tags" || word == "tag") {
      g.tags = true;
    } else {
      return Status::InvalidArgument(
          Tr("--group-by の「{}」は使えません。host、source、tags をカンマで区切って指定してください (例: "
             "--group-by host,source、グループ分けしないときは --group-by '')",
             "--group-by: \"{}\" is not host, source or tags; give a comma-separated list (for example "
             "--group-by host,source, or --group-by '' for no grouping)",
             word));
    }
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return g;
}

bool IsGroupingTag(std::string_view tag) {
  return tag.rfind("kura-copy-of:", 0) != 0;
}

static std::string Bucket(int64_t t, const char* fmt) {
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  localtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, fmt, &tm);
  return buf;
}

// The rules of one kind over `newest_first`; fills `reason` for every snapshot kept.
template <typename Item, typename SnapOf>
static void ApplyKindRule(const std::vector<Item>& newest_first, const KindRule& rule, SnapOf snap_of,
                          std::map<std::string, std::string>& reason) {
  std::set<std::string> days, months;
  int taken_last = 0;
  for (const Item& item : newest_first) {
    const Snapshot& s = snap_of(item);
    std::string why;
    if (!rule.any()) why = "no rule";
    if (rule.keep_last >= 0 && taken_last < rule.keep_last) {
      ++taken_last;
      why = "last " + std::to_string(taken_last);
    }
    std::string day = Bucket(s.plain.time, "%Y-%m-%d");
    if (rule.keep_days >= 0 && !days.count(day) && static_cast<int>(days.size()) < rule.keep_days) {
      days.insert(day);
      if (why.empty()) why = "day " + day;
    }
    std::string month = Bucket(s.plain.time, "%Y-%m");
    if (rule.keep_months >= 0 && !months.count(month) && static_cast<int>(months.size()) < rule.keep_months) {
      months.insert(month);
      if (why.empty()) why = "month " + month;
    }
    if (!why.empty()) reason[s.id] = why;
  }
}

RetentionDecision ApplyRetention(const std::vector<Snapshot>& snapshots, const RetentionPolicy& policy) {
  RetentionDecision d;
  for (SnapshotKind kind : {SnapshotKind::kDaily, SnapshotKind::kMonthly, SnapshotKind::kManual}) {
    std::vector<const Snapshot*> of_kind;
    for (const Snapshot& s : snapshots) {
      if (s.plain.kind == kind) of_kind.push_back(&s);
    }
    std::sort(of_kind.begin(), of_kind.end(),
              [](const Snapshot* a, const Snapshot* b) { return Newer(*a, *b); });
    ApplyKindRule(
        of_kind, policy.For(kind), [](const Snapshot* s) -> const Snapshot& { return *s; }, d.reason);
    for (const Snapshot* s : of_kind) (d.reason.count(s->id) ? d.keep : d.forget).push_back(s);
  }
  return d;
}

namespace {

using GroupKey = std::tuple<std::string, std::string, std::string, std::vector<std::string>>;

GroupKey KeyOf(const RetentionCandidate& c, const GroupBy& g) {
  GroupKey key;
  if (g.host) std::get<0>(key) = c.host;
  if (g.source) {
    std::get<1>(key) = c.source_kind;
    std::get<2>(key) = c.source_name;
  }
  if (g.tags) {
    std::vector<std::string> tags;
    for (const std::string& t : c.tags) {
      if (IsGroupingTag(t)) tags.push_back(t);
    }
    std::sort(tags.begin(), tags.end());
    tags.erase(std::unique(tags.begin(), tags.end()), tags.end());
    std::get<3>(key) = std::move(tags);
  }
  return key;
}

// One group's decision, from its members alone.
void DecideGroup(RetentionGroup& group, std::vector<const RetentionCandidate*> members,
                 const RetentionPolicy& policy, int64_t now_unix, const std::set<std::string>& protect,
                 RetentionPlan& plan) {
  std::sort(members.begin(), members.end(), [](const RetentionCandidate* a, const RetentionCandidate* b) {
    return Newer(*a->snapshot, *b->snapshot);
  });
  std::map<std::string, std::string> reason;
  // Snapshots with a believable time, newest first: only these take rule places.
  std::vector<const RetentionCandidate*> plausible;
  for (const RetentionCandidate* c : members) {
    if (IsFutureSnapshot(c->snapshot->plain, now_unix)) {
      reason[c->snapshot->id] = "future time";
      plan.future.push_back(c);
    } else {
      plausible.push_back(c);
    }
  }
  for (SnapshotKind kind : {SnapshotKind::kDaily, SnapshotKind::kMonthly, SnapshotKind::kManual}) {
    std::vector<const RetentionCandidate*> of_kind;
    for (const RetentionCandidate* c : plausible) {
      if (c->snapshot->plain.kind == kind) of_kind.push_back(c);
    }
    ApplyKindRule(
        of_kind, policy.For(kind),
        [](const RetentionCandidate* c) -> const Snapshot& { return *c->snapshot; }, reason);
  }
  auto keep_as = [&](const RetentionCandidate* c, const char* why) { reason.emplace(c->snapshot->id, why); };
  // An empty stream (a dump that failed inside a pipe) never costs the last real one: the
  // group's newest non-empty snapshot stays, and so does each kind's newest non-empty one
  // whenever the kind's rules keep anything (an empty one would otherwise take its place).
  for (const RetentionCandidate* c : plausible) {
    if (c->snapshot->plain.bytes > 0) {
      keep_as(c, "newest non-empty");
      break;
    }
  }
  for (SnapshotKind kind : {SnapshotKind::kDaily, SnapshotKind::kMonthly, SnapshotKind::kManual}) {
    bool rules_keep = false;
    const RetentionCandidate* newest_full = nullptr;
    for (const RetentionCandidate* c : plausible) {
      if (c->snapshot->plain.kind != kind) continue;
      rules_keep = rules_keep || reason.count(c->snapshot->id);
      if (!newest_full && c->snapshot->plain.bytes > 0) newest_full = c;
    }
    if (rules_keep && newest_full) keep_as(newest_full, "newest non-empty");
  }
  // The newest generation found intact survives while a newer one is known damaged.
  const RetentionCandidate* newest_intact = nullptr;
  bool newer_damaged = false;
  for (const RetentionCandidate* c : plausible) {
    if (c->integrity == IntegrityState::kIntact) {
      newest_intact = c;
      break;
    }
    if (c->integrity == IntegrityState::kDamaged) newer_damaged = true;
  }
  if (newest_intact && newer_damaged) keep_as(newest_intact, "newest intact");
  for (const RetentionCandidate* c : members) {
    if (protect.count(c->snapshot->id)) keep_as(c, "protected");
  }
  for (const RetentionCandidate* c : members) {
    auto it = reason.find(c->snapshot->id);
    if (it == reason.end()) {
      group.forget.push_back(c);
    } else {
      group.keep.push_back(c);
      plan.reason[c->snapshot->id] = it->second;
    }
  }
}

}  // namespace

RetentionPlan PlanRetention(const std::vector<RetentionCandidate>& candidates, const RetentionPolicy& policy,
                            const GroupBy& group_by, int64_t now_unix,
                            const std::vector<std::string>& protect) {
  RetentionPlan plan;
  std::map<GroupKey, std::vector<const RetentionCandidate*>> groups;
  for (const RetentionCandidate& c : candidates) {
    if (!c.meta_ok) {
      plan.unreadable.push_back(&c);
      plan.reason[c.snapshot->id] = "unreadable metadata";
      continue;
    }
    groups[KeyOf(c, group_by)].push_back(&c);
  }
  std::set<std::string> protected_ids(protect.begin(), protect.end());
  for (auto& [key, members] : groups) {
    RetentionGroup group;
    std::tie(group.host, group.source_kind, group.source_name, group.tags) = key;
    DecideGroup(group, std::move(members), policy, now_unix, protected_ids, plan);
    plan.groups.push_back(std::move(group));
  }
  return plan;
}

}  // namespace kura
