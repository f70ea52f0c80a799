// Forgetting by generation rules, group by group (issue 6 §3): what `kura forget` without
// snapshot IDs does, and the job runner's retention after each run.
//
// Under the repository's exclusive lock: lists the snapshots, opens each one's sealed
// metadata (host, source and tags are encrypted), reads the local integrity record
// (repo/integrity_record.h), plans with PlanRetention (repo/retention.h: the grouping and
// the safety rules are documented there) and, unless dry_run, deletes the snapshot objects
// the plan forgets. Packs are not touched: run Prune afterwards.
#pragma once

#include <string>
#include <vector>

#include "kura/status.h"
#include "repo/repository.h"
#include "repo/retention.h"
#include "util/clock.h"

namespace kura {

// Which snapshots are considered at all. An empty list matches everything.
struct SnapshotFilter {
  std::vector<std::string> hosts;  // any of these hosts
  std::vector<std::string>
      sources;  // any of: the source name, "KIND:NAME", or "KIND:" (every source of a kind)
  // Any of these entries; an entry "a,b" needs all of its tags (as restic's --tag).
  std::vector<std::string> tags;
};

struct ForgetRulesOptions {
  RetentionPolicy policy = RetentionPolicy::LocalDefaults();
  GroupBy group_by;  // Default: host and source
  SnapshotFilter filter;
  std::vector<std::string> protect;  // snapshot IDs never forgotten (still to be sent)
  bool dry_run = false;
  const Clock* clock = nullptr;  // Default: SystemClock()
  int lock_timeout_ms = 60000;
};

struct ForgetRulesReport {
  std::vector<Snapshot> snapshots;             // every snapshot considered (the plan points into candidates)
  std::vector<RetentionCandidate> candidates;  // one per considered snapshot; points into `snapshots`
  RetentionPlan plan;
  std::vector<std::string> damaged_objects;      // snapshot objects that could not be read at all
  std::vector<std::string> unreadable_problems;  // parallel to plan.unreadable: why the metadata did not open
  size_t forgotten = 0;                          // snapshot objects deleted (0 on a dry run)
  const Snapshot* newest_future = nullptr;       // the clock is behind this snapshot (into `snapshots`)

  ForgetRulesReport() = default;
  ForgetRulesReport(const ForgetRulesReport&) = delete;  // holds pointers into itself
  ForgetRulesReport(ForgetRulesReport&&) = default;
};

// Errors: kLocked, store failures, kCorruption when the integrity record cannot be read
// (nothing is deleted then: the protection it gives would be lost).
Result<std::unique_ptr<ForgetRulesReport>> ForgetByRules(Repository& repo, const ForgetRulesOptions& options);

// The job runner's retention: the job's own snapshots (tag kura-job:<job>), grouped by host
// and source, never forgetting `protect`; prunes when something was forgotten. Returns how
// many snapshots were forgotten.
Result<int> RetainJobGenerations(Repository& repo, const std::string& job, const RetentionPolicy& policy,
                                 const std::vector<std::string>& protect, const Clock& clock);

}  // namespace kura
