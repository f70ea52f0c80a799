// Remote retention: which generations of one repository (a site's job) the vault keeps,
// counted on the vault's receive time in calendar buckets (docs/retention.md). Pure
// functions with no I/O and no clock of their own; thread-safe.
//
// Rules (seed 000 §2.3 / §3.3: daily 直近3件, monthly 直近1件, manual 直近1件; issue 7 §4):
//   daily    the newest accepted daily of each of the newest `daily_days` local days
//            that have one (days without a backup do not use up a place);
//   monthly  the newest accepted monthly of each of the newest `monthly_months` months
//            that have one;
//   manual   the newest `manual_last` accepted manual generations.
// Only accepted generations (passed the vault's checks) are counted, so a new generation
// evicts older ones only once it passed them. Whatever the counts say:
//   - the newest accepted generation of each kind (its "last known-good") is kept;
//   - accepted generations younger than `settle_ms` are kept and not counted yet;
//   - pending-check and damaged generations are kept and never counted;
//   - anomalous generations are never counted; they are kept while the repository is on
//     hold and evicted once an operator cleared the hold without accepting them;
//   - a generation received later than now + kFutureReceiveToleranceMs is kept, not counted;
//   - on hold, or with the clock guard frozen (clock_guard.h), nothing is evicted: the plan
//     still says what the rules would evict (`held_back`).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "kura/status.h"
#include "util/i18n.h"
#include "vault/calendar.h"
#include "vault/generation.h"

namespace kura::vault {

struct RemoteRetentionPolicy {
  int daily_days = 3;      // Default: 3 (seed 000 §2.3(1))
  int monthly_months = 1;  // Default: 1 (seed 000 §2.3(2))
  int manual_last = 1;     // Default: 1 (seed 000 §2.3(3))
  // Every accepted generation younger than this is kept (seed 004 第21条①: 1 year).
  // Default: 0 (off).
  int64_t min_keep_ms = 0;
  // An accepted generation counts (and so can push an older one out) only once it is this
  // old: until then a flood can still be found among its neighbours (anomaly.h's hourly
  // window) and it is kept without being counted. Default: 1 h.
  int64_t settle_ms = 3'600'000;
  FixedZone zone;  // Default: Asia/Tokyo
};

// The largest count accepted (about 27 years of dailies).
inline constexpr int kMaxRetentionCount = 10000;
// Receive times may differ this much between vault processes behind one load balancer.
inline constexpr int64_t kFutureReceiveToleranceMs = int64_t{5} * 60 * 1000;

// Errors: kInvalidArgument naming the count that is negative or above kMaxRetentionCount,
// or a negative min_keep_ms or settle_ms.
Status ValidateRetentionPolicy(const RemoteRetentionPolicy& policy);

struct RetentionGuards {
  bool on_hold = false;       // the repository (or its site) is on hold
  bool clock_frozen = false;  // the clock guard froze deletion
};

enum class RetentionReason {
  // Kept.
  kDailyDay,       // newest accepted daily of one of the counted days
  kMonthlyMonth,   // newest accepted monthly of one of the counted months
  kManualLast,     // one of the newest manual_last accepted manual generations
  kLastKnownGood,  // the newest accepted of its kind, kept outside the count
  kMinAge,         // younger than min_keep_ms
  kSettling,       // accepted less than settle_ms ago: not counted yet
  kPendingCheck,   // the checks have not run yet
  kDamaged,        // scrub found damage: kept for the operator
  kAnomalousHeld,  // anomalous while the repository is on hold
  kFutureReceive,  // received "after now": the clock went back
  // Evicted by the rules (kept anyway when held_back).
  kOlderDay,           // its day is older than the counted days
  kSupersededInDay,    // a newer accepted daily of the same day is kept
  kOlderMonth,         // its month is older than the counted months
  kSupersededInMonth,  // a newer accepted monthly of the same month is kept
  kOlderManual,        // manual_last newer manual generations are kept
  kAnomalousRejected,  // anomalous, and the hold was cleared without accepting it
};

// Stable snake_case code for catalog rows and --json ("daily_day", "older_day", ...).
std::string_view RetentionReasonCode(RetentionReason reason);

struct GenerationDecision {
  std::string id;
  SnapshotKind kind = SnapshotKind::kDaily;
  int64_t received_ms = 0;
  GenerationState state = GenerationState::kPendingCheck;
  bool keep = true;              // false: evict (retention may hand it to the GC)
  RetentionReason reason;        // the rule that kept it, or why the rules evict it
  bool last_known_good = false;  // the newest accepted generation of its kind
  bool held_back = false;        // kept only because of the hold or the frozen clock
  std::string bucket;            // "2026-11-20" (daily), "2026-11" (monthly), "" otherwise
  int rank = 0;                  // 1 = newest day/month/manual counted; 0: not counted
};

struct RetentionPlan {
  std::vector<GenerationDecision> decisions;  // newest first (receive time, then ID)
  RetentionGuards guards;
  size_t evict_count = 0;      // decisions with keep == false
  size_t held_back_count = 0;  // decisions kept only by the guards
  std::vector<std::string> EvictIds() const;
};

// Decides every generation of one repository. `generations` may be in any order (the
// result does not depend on it); REQUIRES: IDs are unique.
RetentionPlan PlanRemoteRetention(const std::vector<Generation>& generations,
                                  const RemoteRetentionPolicy& policy, const RetentionGuards& guards,
                                  int64_t now_ms);

// One decision for people: "日次: 2026-11-20 の最新 (3 日中 1 日目)・最後の正常世代" /
// "daily: newest of 2026-11-20 (day 1 of 3) · last known-good".
std::string DescribeDecision(const GenerationDecision& decision, const RemoteRetentionPolicy& policy,
                             Language lang);

// The `kura-vault retention show` text: a header line (hold, frozen clock, counts) and one
// line per generation, newest first, with its local receive time, kind, state, verdict and
// reason.
std::string FormatRetentionPlan(const RetentionPlan& plan, const RemoteRetentionPolicy& policy,
                                Language lang);

}  // namespace kura::vault
