// Test helper: the server's side of the retention decisions, in memory. Each generation is
// received at the fake clock's time, judged (anomaly.h), marked accepted or anomalous (a
// flood also marks its members), the site goes on hold on an anomaly, and retention runs
// (retention_rules.h) and removes what it evicts — the loop the catalog will run.
#pragma once

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "util/clock.h"
#include "vault/anomaly.h"
#include "vault/calendar.h"
#include "vault/clock_guard.h"
#include "vault/retention_rules.h"

namespace kura::vault::testing {

// Unix ms of a local time in JST (no process time zone involved).
inline int64_t Jst(int64_t y, int mo, int d, int h = 0, int mi = 0, int s = 0) {
  return (DaysFromCivil({y, mo, d}) * 86400 + h * 3600 + mi * 60 + s - 9 * 3600) * 1000;
}
inline int64_t JstSeconds(int64_t y, int mo, int d, int h = 0, int mi = 0, int s = 0) {
  return Jst(y, mo, d, h, mi, s) / 1000;
}

constexpr uint64_t kMiB = 1 << 20;

// A backup as a clinic's nightly database dump looks: 500 MiB, 5 % new, compresses 3:1.
inline Generation Good(std::string id, SnapshotKind kind, int64_t received_ms = 0,
                       uint64_t bytes = 500 * kMiB) {
  Generation g;
  g.id = std::move(id);
  g.kind = kind;
  g.received_ms = received_ms;
  g.state = GenerationState::kPendingCheck;
  g.bytes = bytes;
  g.new_bytes = bytes / 20;
  g.chunks = bytes / kMiB;
  g.compression_ratio = 3.0;
  return g;
}

// Encrypted junk of about the same size: nothing dedups, nothing compresses.
inline Generation Junk(std::string id, SnapshotKind kind, int64_t received_ms = 0,
                       uint64_t bytes = 480 * kMiB) {
  Generation g = Good(std::move(id), kind, received_ms, bytes);
  g.new_bytes = bytes;
  g.compression_ratio = 1.0;
  return g;
}

class VaultSim {
 public:
  explicit VaultSim(FakeClock* clock, RemoteRetentionPolicy policy = {}, AnomalyThresholds thresholds = {})
      : clock_(clock), policy_(policy), thresholds_(thresholds) {}

  AnomalyVerdict Receive(Generation g) {
    g.received_ms = clock_->NowUnixMillis();
    g.state = GenerationState::kPendingCheck;
    gens_.push_back(g);
    AnomalyVerdict v = AssessGeneration(g, gens_, thresholds_);
    Generation& stored = gens_.back();
    if (v.anomalous) {
      stored.state = GenerationState::kAnomalous;
      on_hold_ = true;
      for (Generation& other : gens_) {
        if (std::find(v.flood_members.begin(), v.flood_members.end(), other.id) != v.flood_members.end()) {
          other.state = GenerationState::kAnomalous;
        }
      }
    } else {
      stored.state = GenerationState::kAccepted;
    }
    RunRetention();
    return v;
  }

  RetentionPlan RunRetention() {
    RetentionPlan plan = PlanRemoteRetention(gens_, policy_, {on_hold_, !DeletionAllowed(clock_guard_)},
                                             clock_->NowUnixMillis());
    for (const std::string& id : plan.EvictIds()) {
      evicted_.insert(id);
      gens_.erase(std::remove_if(gens_.begin(), gens_.end(), [&](const Generation& g) { return g.id == id; }),
                  gens_.end());
    }
    return plan;
  }

  // An operator clears the hold: anomalous generations are accepted (it was legitimate) or
  // left anomalous (junk, evicted by the next retention run).
  void ClearHold(bool accept_anomalous) {
    on_hold_ = false;
    if (accept_anomalous) {
      for (Generation& g : gens_) {
        if (g.state == GenerationState::kAnomalous) g.state = GenerationState::kAccepted;
      }
    }
  }

  bool Has(const std::string& id) const {
    return std::any_of(gens_.begin(), gens_.end(), [&](const Generation& g) { return g.id == id; });
  }
  std::vector<std::string> Ids() const {
    std::vector<std::string> ids;
    for (const Generation& g : gens_) ids.push_back(g.id);
    std::sort(ids.begin(), ids.end());
    return ids;
  }
  bool on_hold() const { return on_hold_; }
  const std::set<std::string>& evicted() const { return evicted_; }
  std::vector<Generation>& generations() { return gens_; }
  ClockGuardState& clock_guard() { return clock_guard_; }

 private:
  FakeClock* clock_;
  RemoteRetentionPolicy policy_;
  AnomalyThresholds thresholds_;
  std::vector<Generation> gens_;
  std::set<std::string> evicted_;
  bool on_hold_ = false;
  ClockGuardState clock_guard_;
};

}  // namespace kura::vault::testing
