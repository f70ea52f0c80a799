// Generation rules: which snapshots of each kind to keep. Pure functions, no I/O.
//
// For each kind the rules are combined (a snapshot kept by any rule is kept):
//   keep_last N    the newest N snapshots;
//   keep_days D    the newest snapshot of each of the newest D calendar days that have one;
//   keep_months M  the newest snapshot of each of the newest M calendar months that have one.
// Counting days that *have* a snapshot (not days back from today) means a PC that was off
// for weeks does not lose its last good generations. A kind with no rule set keeps all.
// Calendar days and months are in the process's local time zone (JST on site machines).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "repo/snapshot.h"

namespace kura {

struct KindRule {
  int keep_last = -1;  // -1: rule not set
  int keep_days = -1;
  int keep_months = -1;
  bool any() const { return keep_last >= 0 || keep_days >= 0 || keep_months >= 0; }
};

struct RetentionPolicy {
  KindRule daily;
  KindRule monthly;
  KindRule manual;
  const KindRule& For(SnapshotKind kind) const;
  KindRule& For(SnapshotKind kind);
  // Seed 000's local generations: daily 30 days, monthly 36 months, manual last 1.
  static RetentionPolicy LocalDefaults();
};

struct RetentionDecision {
  std::vector<const Snapshot*> keep;
  std::vector<const Snapshot*> forget;
  std::map<std::string, std::string> reason;  // snapshot id -> why it is kept ("last", "day 2026-11-20", ...)
};

// `snapshots` may be in any order; pointers in the result point into it.
RetentionDecision ApplyRetention(const std::vector<Snapshot>& snapshots, const RetentionPolicy& policy);

}  // namespace kura
