#include "engine/forget_rules.h"

#include <algorithm>

#include "engine/prune.h"
#include "engine/snapshot_copy.h"
#include "repo/integrity_record.h"
#include "util/i18n.h"

namespace kura {

namespace {

bool HasTag(const std::vector<std::string>& tags, std::string_view tag) {
  return std::find(tags.begin(), tags.end(), tag) != tags.end();
}

bool MatchesTagEntry(const std::vector<std::string>& tags, std::string_view entry) {
  size_t start = 0;
  while (true) {
    size_t comma = entry.find(',', start);
    std::string_view t = entry.substr(start, comma == std::string_view::npos ? entry.npos : comma - start);
    if (!t.empty() && !HasTag(tags, t)) return false;
    if (comma == std::string_view::npos) return true;
    start = comma + 1;
  }
}

bool MatchesSource(const RetentionCandidate& c, const std::string& want) {
  if (want == c.source_name) return true;
  if (want == c.source_kind + ":" + c.source_name) return true;
  return want == c.source_kind + ":";
}

bool Matches(const RetentionCandidate& c, const SnapshotFilter& f) {
  if (!f.hosts.empty() && !HasTag(f.hosts, c.host)) return false;
  if (!f.sources.empty() && std::none_of(f.sources.begin(), f.sources.end(),
                                         [&](const std::string& s) { return MatchesSource(c, s); })) {
    return false;
  }
  if (!f.tags.empty() && std::none_of(f.tags.begin(), f.tags.end(),
                                      [&](const std::string& t) { return MatchesTagEntry(c.tags, t); })) {
    return false;
  }
  return true;
}

bool Filtering(const SnapshotFilter& f) {
  return !f.hosts.empty() || !f.sources.empty() || !f.tags.empty();
}

}  // namespace

Result<std::unique_ptr<ForgetRulesReport>> ForgetByRules(Repository& repo,
                                                         const ForgetRulesOptions& options) {
  const Clock& clock = options.clock ? *options.clock : SystemClock();
  KURA_ASSIGN_OR_RETURN(auto lock, repo.store().Lock(LockMode::kExclusive, options.lock_timeout_ms));
  auto report = std::make_unique<ForgetRulesReport>();
  // Read before anything is decided: without it the last intact generation is unknown.
  KURA_ASSIGN_OR_RETURN(IntegrityMarks marks, LoadIntegrityRecord(repo));
  KURA_ASSIGN_OR_RETURN(std::vector<Snapshot> all,
                        repo.ListSnapshots(&report->damaged_objects, /*with_blobs=*/false));
  int64_t now = clock.NowUnix();
  report->newest_future = nullptr;

  std::vector<RetentionCandidate> candidates;
  std::vector<std::string> problems;
  std::vector<size_t> chosen;  // indexes into `all`
  for (size_t i = 0; i < all.size(); ++i) {
    RetentionCandidate c;
    auto meta = repo.LoadHead(all[i].id);
    if (meta.ok()) {
      c.meta_ok = true;
      c.host = meta->host;
      c.source_kind = meta->source_kind;
      c.source_name = meta->source_name;
      c.tags = meta->tags;
      if (!Matches(c, options.filter)) continue;
    } else if (meta.status().code() == Code::kNotFound) {
      continue;  // removed meanwhile (by a forget that did not hold the lock)
    }
    // A snapshot whose metadata does not open is reported even when filtering: it might match.
    if (auto m = marks.find(all[i].id); m != marks.end()) c.integrity = m->second.state;
    candidates.push_back(std::move(c));
    problems.push_back(meta.ok() ? "" : meta.status().message());
    chosen.push_back(i);
  }
  for (size_t i : chosen) report->snapshots.push_back(std::move(all[i]));
  for (size_t i = 0; i < candidates.size(); ++i) candidates[i].snapshot = &report->snapshots[i];
  report->candidates = std::move(candidates);
  report->newest_future = NewestFutureSnapshot(report->snapshots, now);
  report->plan = PlanRetention(report->candidates, options.policy, options.group_by, now, options.protect);
  for (const RetentionCandidate* c : report->plan.unreadable) {
    report->unreadable_problems.push_back(problems[static_cast<size_t>(c - report->candidates.data())]);
  }
  if (options.dry_run) return report;

  for (const RetentionGroup& g : report->plan.groups) {
    for (const RetentionCandidate* c : g.forget) {
      Status st = repo.store().Delete(ObjectType::kSnapshot, c->snapshot->id);
      if (!st.ok() && st.code() != Code::kNotFound) return st;
      ++report->forgotten;
    }
  }
  if (report->forgotten > 0 && !Filtering(options.filter)) {
    // Marks of forgotten snapshots only take room. With a filter the listing is partial.
    std::vector<std::string> existing;
    for (const RetentionGroup& g : report->plan.groups) {
      for (const RetentionCandidate* c : g.keep) existing.push_back(c->snapshot->id);
    }
    for (const RetentionCandidate* c : report->plan.unreadable) existing.push_back(c->snapshot->id);
    for (const std::string& id : report->damaged_objects) existing.push_back(id);
    (void)ForgetIntegrityMarks(repo, existing);  // a stale mark is harmless; the forget is done
  }
  return report;
}

Result<int> RetainJobGenerations(Repository& repo, const std::string& job, const RetentionPolicy& policy,
                                 const std::vector<std::string>& protect, const Clock& clock) {
  ForgetRulesOptions options;
  options.policy = policy;
  options.filter.tags = {JobTag(job)};
  options.protect = protect;
  options.clock = &clock;
  KURA_ASSIGN_OR_RETURN(auto report, ForgetByRules(repo, options));
  if (report->forgotten == 0) return 0;
  KURA_RETURN_IF_ERROR(Prune(repo, /*dry_run=*/false).status());
  return static_cast<int>(report->forgotten);
}

}  // namespace kura
