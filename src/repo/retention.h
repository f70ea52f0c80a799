// Generation rules: which snapshots of each kind to keep. Pure functions, no I/O.
//
// Snapshots are first put into groups (default: by host and source, that is source kind and
// name), and the rules are applied within each group alone: a daily files backup and a
// `pg_dump | kura backup --stdin` in one repository each keep their own generations. A
// group's decision never depends on snapshots of another group.
//
// For each kind within a group the rules are combined (a snapshot kept by any rule is kept):
//   keep_last N    the newest N snapshots;
//   keep_days D    the newest snapshot of each of the newest D calendar days that have one;
//   keep_months M  the newest snapshot of each of the newest M calendar months that have one.
// Counting days that *have* a snapshot (not days back from today) means a PC that was off
// for weeks does not lose its last good generations. A kind with no rule set keeps all.
// Calendar days and months are in the process's local time zone (JST on site machines).
//
// Whatever the rules say, a group always keeps (docs/agent.md, "Retention"):
//   - its newest non-empty snapshot (an empty stdin backup never pushes out the last dump);
//   - when a newer snapshot of the group is marked damaged by verify or drill, the newest
//     one marked intact (docs/integrity-record.md);
//   - every snapshot whose client time is later than now + kFutureToleranceSeconds (a clock
//     set to 2036): its time says nothing, so it never takes a rule's place, never counts as
//     the newest generation and is never `latest`; it is kept and reported until the clock
//     passes it or a person forgets it by ID.
// A snapshot whose sealed metadata cannot be opened has no known group: it is never
// removed by rules, only reported.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "kura/status.h"
#include "repo/integrity_record.h"
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

// The largest rule value accepted (about 27 years of daily generations).
inline constexpr int kMaxRuleValue = 10000;

// Parses one `KIND=N` rule value strictly: KIND is daily, monthly or manual, N only decimal
// digits, 0 <= N <= kMaxRuleValue. `flag` names the option in the message.
// Errors: kInvalidArgument with a message saying what is wrong and an example.
Status ParseRuleValue(std::string_view flag, std::string_view text, SnapshotKind* kind, int* value);

// A client time this far past now is a wrong clock, not a snapshot made a moment ago on a
// PC whose clock is a little ahead. Default: one hour.
inline constexpr int64_t kFutureToleranceSeconds = 3600;

// True when the snapshot's client time is later than now + kFutureToleranceSeconds.
bool IsFutureSnapshot(const SnapshotPlain& plain, int64_t now_unix);

// The snapshot `latest` means: the newest one whose time is not in the future; when every
// snapshot is in the future (the clock is behind all of them), the newest of them.
// nullptr when `snapshots` is empty.
const Snapshot* LatestSnapshot(const std::vector<Snapshot>& snapshots, int64_t now_unix);

// The newest snapshot whose time is in the future (the clock is behind it), or nullptr.
const Snapshot* NewestFutureSnapshot(const std::vector<Snapshot>& snapshots, int64_t now_unix);

// What snapshots are grouped by. Default: host and source.
struct GroupBy {
  bool host = true;
  bool source = true;
  bool tags = false;
};

// "host,source" (the default), "host", "source", "tags", any comma-separated combination,
// or "" (all snapshots in one group). restic's "paths" is accepted as "source".
// Errors: kInvalidArgument naming the unknown word.
Result<GroupBy> ParseGroupBy(std::string_view text);

// Tags that identify one snapshot (kura-copy-of:<id>) are not part of a tag group: every
// sent copy would otherwise be a group of its own and never be forgotten.
bool IsGroupingTag(std::string_view tag);

// What retention knows about one snapshot besides its plaintext part.
struct RetentionCandidate {
  const Snapshot* snapshot = nullptr;
  bool meta_ok = false;  // false: sealed metadata could not be opened; never removed by rules
  std::string host;
  std::string source_kind;
  std::string source_name;
  std::vector<std::string> tags;
  IntegrityState integrity = IntegrityState::kUnknown;
};

struct RetentionGroup {
  // What the group's snapshots share (fields not grouped by are empty).
  std::string host;
  std::string source_kind;
  std::string source_name;
  std::vector<std::string> tags;  // sorted
  // Newest first.
  std::vector<const RetentionCandidate*> keep;
  std::vector<const RetentionCandidate*> forget;
};

struct RetentionPlan {
  std::vector<RetentionGroup> groups;                 // ordered by their shared fields
  std::vector<const RetentionCandidate*> unreadable;  // kept, in no group
  std::vector<const RetentionCandidate*> future;      // kept (also listed in their group)
  // Snapshot id -> why it is kept: "last 2", "day 2026-11-20", "month 2026-11", "no rule",
  // "newest non-empty", "newest intact", "future time", "protected", "unreadable metadata".
  std::map<std::string, std::string> reason;
};

// Applies `policy` within each group. `protect` lists snapshot IDs kept whatever the rules
// (for example still queued for sending). Pointers in the plan point into `candidates`.
RetentionPlan PlanRetention(const std::vector<RetentionCandidate>& candidates, const RetentionPolicy& policy,
                            const GroupBy& group_by, int64_t now_unix,
                            const std::vector<std::string>& protect = {});

struct RetentionDecision {
  std::vector<const Snapshot*> keep;
  std::vector<const Snapshot*> forget;
  std::map<std::string, std::string> reason;  // snapshot id -> why it is kept ("last", "day 2026-11-20", ...)
};

// The rules over `snapshots` as one group, without the safety rules that need metadata or
// a clock. Kept for callers that have already selected one group's snapshots.
// `snapshots` may be in any order; pointers in the result point into it.
RetentionDecision ApplyRetention(const std::vector<Snapshot>& snapshots, const RetentionPolicy& policy);

}  // namespace kura
