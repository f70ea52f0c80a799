#include "vault/gc.h"

#include <algorithm>
#include <map>
#include <set>

#include "objstore/local_store.h"
#include "repo/snapshot.h"
#include "util/i18n.h"

namespace kura::vault {

std::function<bool(int64_t repository)> HoldsAndClockGuard(Catalog& catalog) {
  return [&catalog](int64_t repository) {
    Result<bool> blocked = catalog.DeletionBlocked(repository);
    return !blocked.ok() || *blocked;
  };
}

namespace {

constexpr int64_t kDayMs = int64_t{86400} * 1000;

// The repository's area as an ObjectStore: what GC reads and deletes through, so an S3
// store can stand in for it.
Result<std::unique_ptr<ObjectStore>> OpenArea(const std::string& objects_dir, const std::string& repo_id) {
  KURA_ASSIGN_OR_RETURN(std::unique_ptr<LocalStore> store,
                        LocalStore::Open(objects_dir + "/" + repo_id, false));
  return std::unique_ptr<ObjectStore>(std::move(store));
}

// The sorted blob IDs of the repository's live snapshots. Errors name the snapshot that
// could not be read: marking is then incomplete and nothing may be swept.
Result<std::vector<crypto::Hash>> Mark(Catalog& catalog, ObjectStore& area, int64_t repo) {
  KURA_ASSIGN_OR_RETURN(std::vector<std::string> live, catalog.LiveSnapshotNames(repo));
  std::vector<crypto::Hash> marked;
  for (const std::string& name : live) {
    Result<Bytes> bytes = area.Get(ObjectType::kSnapshot, name);
    if (!bytes.ok()) {
      return bytes.status().WithContext(Tr("スナップショット {} の読み込み", "reading snapshot {}", name));
    }
    Result<ByteView> ids = SnapshotBlobIds(name, *bytes);
    if (!ids.ok()) return ids.status();
    for (size_t i = 0; i + 32 <= ids->size(); i += 32) {
      crypto::Hash h{};
      std::copy_n(ids->begin() + static_cast<std::ptrdiff_t>(i), 32, h.begin());
      marked.push_back(h);
    }
    std::sort(marked.begin(), marked.end());
    marked.erase(std::unique(marked.begin(), marked.end()), marked.end());
  }
  return marked;
}

struct Run {
  Catalog& catalog;
  const std::string& objects_dir;
  const GcOptions& options;
  const AuditActor& actor;
  int64_t cutoff_ms;  // quarantined at or before this: due for deletion
  GcReport report;

  bool Blocked(int64_t repo) const { return options.deletion_blocked && options.deletion_blocked(repo); }

  // Deletes one object whose intent is written: the file (already gone is fine), then
  // its rows. A run killed in between leaves the intent, which the next run finishes.
  Status Delete(ObjectStore& area, const Catalog::GcIntent& intent) {
    ObjectType type = intent.kind == "pack" ? ObjectType::kPack : ObjectType::kSnapshot;
    Status st = area.Delete(type, intent.name);
    if (!st.ok() && st.code() != Code::kNotFound) return st;
    KURA_RETURN_IF_ERROR(catalog.FinishDeletion(intent, actor));
    Count(intent.kind, intent.size);
    return Status::Ok();
  }
  void Count(const std::string& kind, uint64_t size) {
    if (kind == "pack") {
      ++report.packs_deleted;
    } else {
      ++report.snapshots_deleted;
    }
    report.bytes_reclaimed += size;
  }

  Status FinishInterrupted() {
    KURA_ASSIGN_OR_RETURN(std::vector<Catalog::GcIntent> intents, catalog.ListDeletionIntents());
    for (const Catalog::GcIntent& intent : intents) {
      if (Blocked(intent.repository) || options.dry_run) continue;
      Result<std::unique_ptr<ObjectStore>> area = OpenArea(objects_dir, intent.repo_id);
      Status st = area.ok() ? Delete(**area, intent) : area.status();
      if (!st.ok()) {  // left for the next run; the others go on
        report.problems.push_back(Tr("リポジトリ {}: 中断された削除 ({} {}) を完了できません: {}",
                                     "repository {}: cannot finish the interrupted deletion of {} {}: {}",
                                     intent.repo_id, intent.kind, intent.name, st.message()));
        continue;
      }
      ++report.interrupted_deletions_finished;
    }
    return Status::Ok();
  }

  Status Sweep(const Catalog::GcRepository& repo) {
    const GcOptions& o = options;
    if (Blocked(repo.id)) {
      ++report.repositories_blocked;
      return Status::Ok();
    }
    KURA_ASSIGN_OR_RETURN(bool leased, catalog.UploadLeaseLive(repo.id, o.upload_lease_seconds));
    if (leased) {
      ++report.repositories_leased;
      return Status::Ok();
    }
    Result<std::unique_ptr<ObjectStore>> area = OpenArea(objects_dir, repo.repo_id);
    if (!area.ok()) {
      ++report.repositories_unreadable;
      report.problems.push_back(Tr("リポジトリ {}: 保管領域を開けません: {}",
                                   "repository {}: cannot open its area: {}", repo.repo_id,
                                   area.status().message()));
      return Status::Ok();
    }
    // Packs before the mark: a pack recorded later is not judged this run, and a snapshot
    // committed after the mark renewed the lease, which ApplyGcMarks checks.
    KURA_ASSIGN_OR_RETURN(std::vector<Catalog::GcPack> packs, catalog.ListGcPacks(repo.id));
    Result<std::vector<crypto::Hash>> marked = Mark(catalog, **area, repo.id);
    if (!marked.ok()) {
      ++report.repositories_unreadable;
      report.problems.push_back(Tr("リポジトリ {}: 参照を確かめられないため何も回収しません: {}",
                                   "repository {}: references could not be checked, nothing collected: {}",
                                   repo.repo_id, marked.status().message()));
      return Status::Ok();
    }
    std::set<int64_t> referenced;
    KURA_RETURN_IF_ERROR(catalog.ForEachPackBlob(repo.id, [&](int64_t pack_id, ByteView id) {
      if (id.size() != 32 || referenced.count(pack_id) != 0) return;
      crypto::Hash h{};
      std::copy_n(id.begin(), 32, h.begin());
      if (std::binary_search(marked->begin(), marked->end(), h)) referenced.insert(pack_id);
    }));
    std::vector<int64_t> quarantine, revive;
    for (const Catalog::GcPack& p : packs) {
      bool ref = referenced.count(p.id) != 0;
      if (!ref && !p.quarantined) quarantine.push_back(p.id);
      if (ref && p.quarantined) revive.push_back(p.id);
    }
    if (!o.dry_run && (!quarantine.empty() || !revive.empty())) {
      Status st = catalog.ApplyGcMarks(repo.id, o.upload_lease_seconds, quarantine, revive, actor);
      if (st.code() == Code::kRetryable) {  // an upload began meanwhile: leave it all
        ++report.repositories_leased;
        return Status::Ok();
      }
      KURA_RETURN_IF_ERROR(st);
    }
    report.packs_quarantined += quarantine.size();
    report.packs_revived += revive.size();

    // What has been quarantined longer than the grace, as the catalog says now.
    KURA_ASSIGN_OR_RETURN(std::vector<Catalog::GcObject> due, catalog.ListQuarantinedSnapshots(repo.id));
    KURA_ASSIGN_OR_RETURN(packs, catalog.ListGcPacks(repo.id));
    std::set<int64_t> revived(revive.begin(), revive.end());
    for (const Catalog::GcPack& p : packs) {
      if (p.quarantined && (!o.dry_run || revived.count(p.id) == 0)) {
        due.push_back(Catalog::GcObject{"pack", p.name, p.size, p.quarantined_at_ms});
      }
    }
    for (const Catalog::GcObject& obj : due) {
      if (obj.quarantined_at_ms > cutoff_ms) continue;
      if (o.dry_run) {
        Count(obj.kind, obj.size);
        continue;
      }
      // Checked again inside the intent's transaction: the lease, the state, the time.
      KURA_ASSIGN_OR_RETURN(
          std::optional<Catalog::GcIntent> intent,
          catalog.BeginDeletion(repo.id, obj.kind, obj.name, cutoff_ms, o.upload_lease_seconds));
      if (!intent) continue;
      intent->repo_id = repo.repo_id;
      KURA_RETURN_IF_ERROR(Delete(**area, *intent));
    }
    return Status::Ok();
  }
};

}  // namespace

Result<GcReport> RunGc(Catalog& catalog, const std::string& objects_dir, const Clock& clock,
                       const GcOptions& options, const AuditActor& actor) {
  Run run{catalog, objects_dir, options, actor, clock.NowUnixMillis() - options.grace_days * kDayMs, {}};
  KURA_RETURN_IF_ERROR(run.FinishInterrupted());
  KURA_ASSIGN_OR_RETURN(std::vector<Catalog::GcRepository> repos, catalog.ListGcRepositories());
  std::map<int64_t, std::string> tenants;
  for (const Catalog::GcRepository& repo : repos) {
    if (options.stop && options.stop()) break;
    tenants[repo.tenant_id] = repo.tenant;
    ++run.report.repositories;
    Status st = run.Sweep(repo);
    if (!st.ok()) {
      // One repository's storage failing must not stop the others' collection. The
      // caller prints or logs the report (the CLI, serve's periodic run): once.
      run.report.problems.push_back(Tr("リポジトリ {}: {}", "repository {}: {}", repo.repo_id, st.message()));
    }
  }
  KURA_ASSIGN_OR_RETURN(auto pending, catalog.PendingReclaimBytes());
  for (const auto& [tenant_id, bytes] : pending) {
    run.report.pending.push_back(GcTenantReclaim{tenant_id, tenants[tenant_id], bytes});
  }
  const GcReport& r = run.report;
  KURA_RETURN_IF_ERROR(
      catalog
          .Audit(
              {actor, "gc.sweep", "vault", std::string(kAuditSuccess),
               fmt::format("dry_run={} repositories={} leased={} blocked={} unreadable={}"
                           " packs_quarantined={} packs_revived={} packs_deleted={}"
                           " snapshots_deleted={} bytes_reclaimed={} interrupted_finished={}",
                           options.dry_run, r.repositories, r.repositories_leased, r.repositories_blocked,
                           r.repositories_unreadable, r.packs_quarantined, r.packs_revived, r.packs_deleted,
                           r.snapshots_deleted, r.bytes_reclaimed, r.interrupted_deletions_finished)})
          .status());
  return run.report;
}

}  // namespace kura::vault
