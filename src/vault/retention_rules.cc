#include "vault/retention_rules.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "util/i18n.h"

namespace kura::vault {
namespace {

bool NewerFirst(const Generation* a, const Generation* b) {
  if (a->received_ms != b->received_ms) return a->received_ms > b->received_ms;
  return a->id > b->id;
}

// How one kind is counted: by local day, by local month, or by generation.
enum class Bucketing { kDay, kMonth, kNone };

Bucketing BucketingOf(SnapshotKind kind) {
  switch (kind) {
    case SnapshotKind::kDaily:
      return Bucketing::kDay;
    case SnapshotKind::kMonthly:
      return Bucketing::kMonth;
    case SnapshotKind::kManual:
      return Bucketing::kNone;
  }
  return Bucketing::kNone;
}

int CountOf(SnapshotKind kind, const RemoteRetentionPolicy& policy) {
  switch (kind) {
    case SnapshotKind::kDaily:
      return policy.daily_days;
    case SnapshotKind::kMonthly:
      return policy.monthly_months;
    case SnapshotKind::kManual:
      return policy.manual_last;
  }
  return 0;
}

// Applies the count of one kind to its accepted generations, newest first.
void CountKind(const std::vector<GenerationDecision*>& accepted, const RemoteRetentionPolicy& policy,
               int64_t now_ms) {
  if (accepted.empty()) return;
  const SnapshotKind kind = accepted.front()->kind;
  const Bucketing bucketing = BucketingOf(kind);
  const int count = CountOf(kind, policy);
  int buckets_seen = 0;
  int64_t current_bucket = 0;
  bool current_kept = false;
  for (size_t i = 0; i < accepted.size(); ++i) {
    GenerationDecision& d = *accepted[i];
    if (bucketing == Bucketing::kNone) {
      d.keep = static_cast<int>(i) < count;
      d.rank = d.keep ? static_cast<int>(i) + 1 : 0;
      d.reason = d.keep ? RetentionReason::kManualLast : RetentionReason::kOlderManual;
    } else {
      const bool by_day = bucketing == Bucketing::kDay;
      const int64_t bucket =
          by_day ? LocalDay(d.received_ms, policy.zone) : LocalMonth(d.received_ms, policy.zone);
      d.bucket = by_day ? DayName(bucket) : MonthName(bucket);
      if (i == 0 || bucket != current_bucket) {
        current_bucket = bucket;
        current_kept = buckets_seen < count;
        ++buckets_seen;
        d.keep = current_kept;
        d.rank = current_kept ? buckets_seen : 0;
        if (by_day) {
          d.reason = current_kept ? RetentionReason::kDailyDay : RetentionReason::kOlderDay;
        } else {
          d.reason = current_kept ? RetentionReason::kMonthlyMonth : RetentionReason::kOlderMonth;
        }
      } else {
        d.keep = false;
        if (by_day) {
          d.reason = current_kept ? RetentionReason::kSupersededInDay : RetentionReason::kOlderDay;
        } else {
          d.reason = current_kept ? RetentionReason::kSupersededInMonth : RetentionReason::kOlderMonth;
        }
      }
    }
    if (i == 0) {
      d.last_known_good = true;
      if (!d.keep) {
        d.keep = true;
        d.reason = RetentionReason::kLastKnownGood;
      }
    }
    if (!d.keep && policy.min_keep_ms > 0 && d.received_ms > now_ms - policy.min_keep_ms) {
      d.keep = true;
      d.reason = RetentionReason::kMinAge;
    }
  }
}

std::string KindText(SnapshotKind kind, Language lang) {
  switch (kind) {
    case SnapshotKind::kDaily:
      return TrIn(lang, "日次", "daily");
    case SnapshotKind::kMonthly:
      return TrIn(lang, "月次", "monthly");
    case SnapshotKind::kManual:
      return TrIn(lang, "手動", "manual");
  }
  return "";
}

std::string StateText(GenerationState state, Language lang) {
  switch (state) {
    case GenerationState::kPendingCheck:
      return TrIn(lang, "確認待ち", "pending check");
    case GenerationState::kAccepted:
      return TrIn(lang, "正常", "accepted");
    case GenerationState::kAnomalous:
      return TrIn(lang, "異常", "anomalous");
    case GenerationState::kDamaged:
      return TrIn(lang, "破損", "damaged");
  }
  return "";
}

}  // namespace

Status ValidateRetentionPolicy(const RemoteRetentionPolicy& policy) {
  struct Field {
    const char* name;
    int value;
  };
  for (const Field& f : {Field{"daily", policy.daily_days}, Field{"monthly", policy.monthly_months},
                         Field{"manual", policy.manual_last}}) {
    if (f.value < 0 || f.value > kMaxRetentionCount) {
      return Status::InvalidArgument(
          Tr("保持数 {}={} は使えません。0 から {} の整数で指定してください (例: daily=3)",
             "retention count {}={} is not accepted; give a whole number from 0 to {} (for example daily=3)",
             f.name, f.value, kMaxRetentionCount));
    }
  }
  if (policy.min_keep_ms < 0 || policy.settle_ms < 0) {
    return Status::InvalidArgument(Tr("最低保持期間と落ち着くまでの時間は 0 以上で指定してください",
                                      "the minimum keeping period and the settle time must be zero or more"));
  }
  return Status::Ok();
}

std::string_view RetentionReasonCode(RetentionReason reason) {
  switch (reason) {
    case RetentionReason::kDailyDay:
      return "daily_day";
    case RetentionReason::kMonthlyMonth:
      return "monthly_month";
    case RetentionReason::kManualLast:
      return "manual_last";
    case RetentionReason::kLastKnownGood:
      return "last_known_good";
    case RetentionReason::kMinAge:
      return "min_age";
    case RetentionReason::kSettling:
      return "settling";
    case RetentionReason::kPendingCheck:
      return "pending_check";
    case RetentionReason::kDamaged:
      return "damaged";
    case RetentionReason::kAnomalousHeld:
      return "anomalous_held";
    case RetentionReason::kFutureReceive:
      return "future_receive";
    case RetentionReason::kOlderDay:
      return "older_day";
    case RetentionReason::kSupersededInDay:
      return "superseded_in_day";
    case RetentionReason::kOlderMonth:
      return "older_month";
    case RetentionReason::kSupersededInMonth:
      return "superseded_in_month";
    case RetentionReason::kOlderManual:
      return "older_manual";
    case RetentionReason::kAnomalousRejected:
      return "anomalous_rejected";
  }
  return "";
}

std::vector<std::string> RetentionPlan::EvictIds() const {
  std::vector<std::string> ids;
  for (const GenerationDecision& d : decisions) {
    if (!d.keep) ids.push_back(d.id);
  }
  return ids;
}

RetentionPlan PlanRemoteRetention(const std::vector<Generation>& generations,
                                  const RemoteRetentionPolicy& policy, const RetentionGuards& guards,
                                  int64_t now_ms) {
  std::vector<const Generation*> order;
  order.reserve(generations.size());
  for (const Generation& g : generations) order.push_back(&g);
  std::sort(order.begin(), order.end(), NewerFirst);

  RetentionPlan plan;
  plan.guards = guards;
  plan.decisions.reserve(order.size());
  for (const Generation* g : order) {
    GenerationDecision d;
    d.id = g->id;
    d.kind = g->kind;
    d.received_ms = g->received_ms;
    d.state = g->state;
    d.reason = RetentionReason::kPendingCheck;
    plan.decisions.push_back(std::move(d));
  }

  std::vector<GenerationDecision*> accepted[3];
  for (GenerationDecision& d : plan.decisions) {
    if (d.received_ms > now_ms + kFutureReceiveToleranceMs) {
      d.reason = RetentionReason::kFutureReceive;
      continue;
    }
    switch (d.state) {
      case GenerationState::kPendingCheck:
        d.reason = RetentionReason::kPendingCheck;
        break;
      case GenerationState::kDamaged:
        d.reason = RetentionReason::kDamaged;
        break;
      case GenerationState::kAnomalous:
        d.keep = guards.on_hold;
        d.reason = guards.on_hold ? RetentionReason::kAnomalousHeld : RetentionReason::kAnomalousRejected;
        break;
      case GenerationState::kAccepted:
        if (d.received_ms > now_ms - policy.settle_ms) {
          d.reason = RetentionReason::kSettling;
        } else {
          accepted[static_cast<int>(d.kind)].push_back(&d);
        }
        break;
    }
  }
  for (const auto& list : accepted) CountKind(list, policy, now_ms);

  for (GenerationDecision& d : plan.decisions) {
    if (!d.keep && (guards.on_hold || guards.clock_frozen)) {
      d.keep = true;
      d.held_back = true;
      ++plan.held_back_count;
    }
    if (!d.keep) ++plan.evict_count;
  }
  return plan;
}

std::string DescribeDecision(const GenerationDecision& d, const RemoteRetentionPolicy& policy,
                             Language lang) {
  std::string text;
  switch (d.reason) {
    case RetentionReason::kDailyDay:
      text = TrIn(lang, "日次: {0} の最新 ({2} 日中 {1} 日目)", "daily: newest of {0} (day {1} of {2})",
                  d.bucket, d.rank, policy.daily_days);
      break;
    case RetentionReason::kMonthlyMonth:
      text = TrIn(lang, "月次: {0} の最新 ({2} か月中 {1} か月目)",
                  "monthly: newest of {0} (month {1} of {2})", d.bucket, d.rank, policy.monthly_months);
      break;
    case RetentionReason::kManualLast:
      text = TrIn(lang, "手動: 直近 {1} 件の {0} 件目", "manual: {0} of the last {1}", d.rank,
                  policy.manual_last);
      break;
    case RetentionReason::kLastKnownGood:
      text = TrIn(lang, "保持数の外で残す最後の正常世代", "last known-good, kept outside the count");
      break;
    case RetentionReason::kMinAge:
      text = TrIn(lang, "最低保持期間内", "within the minimum keeping period");
      break;
    case RetentionReason::kSettling:
      text = TrIn(lang, "受け入れ直後: 落ち着くまで数えません",
                  "just accepted: not counted until it has settled");
      break;
    case RetentionReason::kPendingCheck:
      text = TrIn(lang, "確認待ち: 数えず、他の世代を押し出しません",
                  "pending check: not counted, pushes nothing out");
      break;
    case RetentionReason::kDamaged:
      text = TrIn(lang, "破損 (スクラブで検出): 数えず、オペレーターが確認するまで残します",
                  "damaged (found by scrub): not counted, kept for the operator");
      break;
    case RetentionReason::kAnomalousHeld:
      text =
          TrIn(lang, "異常: 保留中のため残します。数えません", "anomalous: kept while on hold, not counted");
      break;
    case RetentionReason::kFutureReceive:
      text = TrIn(lang, "受信時刻が現在より後 (時計の戻り): 数えず残します",
                  "received after now (the clock went back): kept, not counted");
      break;
    case RetentionReason::kOlderDay:
      text = TrIn(lang, "日次: {} は直近 {} 日より前", "daily: {} is older than the last {} days", d.bucket,
                  policy.daily_days);
      break;
    case RetentionReason::kSupersededInDay:
      text = TrIn(lang, "日次: {} のより新しい世代を残します", "daily: a newer generation of {} is kept",
                  d.bucket);
      break;
    case RetentionReason::kOlderMonth:
      text = TrIn(lang, "月次: {} は直近 {} か月より前", "monthly: {} is older than the last {} months",
                  d.bucket, policy.monthly_months);
      break;
    case RetentionReason::kSupersededInMonth:
      text = TrIn(lang, "月次: {} のより新しい世代を残します", "monthly: a newer generation of {} is kept",
                  d.bucket);
      break;
    case RetentionReason::kOlderManual:
      text = TrIn(lang, "手動: より新しい {} 件を残します", "manual: the {} newer ones are kept",
                  policy.manual_last);
      break;
    case RetentionReason::kAnomalousRejected:
      text = TrIn(lang, "異常: 保留が解除され、受け入れられませんでした",
                  "anomalous: the hold was cleared without accepting it");
      break;
  }
  if (d.last_known_good && d.reason != RetentionReason::kLastKnownGood) {
    text += TrIn(lang, "・最後の正常世代", " · last known-good");
  }
  if (d.held_back) {
    text += TrIn(lang, " (保留または時計の凍結のため削除しません)", " (not removed: hold or frozen clock)");
  }
  return text;
}

std::string FormatRetentionPlan(const RetentionPlan& plan, const RemoteRetentionPolicy& policy,
                                Language lang) {
  std::string out;
  if (plan.guards.on_hold) {
    out += TrIn(
        lang,
        "保留中: このリポジトリからは何も削除しません (規則だけなら {} 世代を削除)。解除はオペレーターが "
        "hold clear で行います\n",
        "on hold: nothing of this repository is removed ({} generations would be otherwise); an operator "
        "clears it with hold clear\n",
        plan.held_back_count);
  }
  if (plan.guards.clock_frozen) {
    out += TrIn(
        lang,
        "時計の飛びを検出: オペレーターが確認するまで保持と削除を止めています (規則だけなら {} 世代を削除)\n",
        "clock jump detected: retention and deletion are frozen until an operator acknowledges ({} "
        "generations would be removed otherwise)\n",
        plan.held_back_count);
  }
  out += TrIn(
      lang, "保持規則: 日次 {} 日・月次 {} か月・手動 {} 件 ({})。{} 世代中 {} 世代を削除\n",
      "policy: daily {} (days), monthly {} (months), manual {} (latest), {}; {} generations, {} to remove\n",
      policy.daily_days, policy.monthly_months, policy.manual_last, policy.zone.label, plan.decisions.size(),
      plan.evict_count);
  for (const GenerationDecision& d : plan.decisions) {
    out += fmt::format("{}  {:<7}  {:<13}  {}  {:<12}  {}\n", FormatLocalMinute(d.received_ms, policy.zone),
                       KindText(d.kind, lang), StateText(d.state, lang),
                       d.keep ? TrIn(lang, "保持", "keep ") : TrIn(lang, "削除", "evict"), d.id.substr(0, 12),
                       DescribeDecision(d, policy, lang));
  }
  return out;
}

}  // namespace kura::vault
