#include "agent/prune.h"

#include <algorithm>
#include <map>
#include <set>

#include "repo/pack.h"
#include "util/hex.h"
#include "util/i18n.h"

namespace kura {

static Result<ForgetResult> DeleteSnapshots(Repository& repo, const std::vector<Snapshot>& all,
                                            const std::vector<std::string>& forget_ids, bool dry_run) {
  ForgetResult r;
  for (const Snapshot& s : all) {
    bool drop = std::find(forget_ids.begin(), forget_ids.end(), s.id) != forget_ids.end();
    (drop ? r.forgotten : r.kept).push_back(s);
  }
  if (dry_run) return r;
  for (const Snapshot& s : r.forgotten) KURA_RETURN_IF_ERROR(repo.store().Delete(ObjectType::kSnapshot, s.id));
  return r;
}

Result<ForgetResult> Forget(Repository& repo, const RetentionPolicy& policy, bool dry_run, int lock_timeout_ms) {
  KURA_ASSIGN_OR_RETURN(auto lock, repo.store().Lock(LockMode::kExclusive, lock_timeout_ms));
  KURA_ASSIGN_OR_RETURN(std::vector<Snapshot> all, repo.ListSnapshots());
  RetentionDecision d = ApplyRetention(all, policy);
  std::vector<std::string> ids;
  for (const Snapshot* s : d.forget) ids.push_back(s->id);
  KURA_ASSIGN_OR_RETURN(ForgetResult r, DeleteSnapshots(repo, all, ids, dry_run));
  r.reason = d.reason;
  return r;
}

Result<ForgetResult> ForgetSnapshots(Repository& repo, const std::vector<std::string>& refs, bool dry_run,
                                     int lock_timeout_ms) {
  KURA_ASSIGN_OR_RETURN(auto lock, repo.store().Lock(LockMode::kExclusive, lock_timeout_ms));
  std::vector<std::string> ids;
  for (const std::string& ref : refs) {
    KURA_ASSIGN_OR_RETURN(Snapshot s, repo.FindSnapshot(ref));
    ids.push_back(s.id);
  }
  KURA_ASSIGN_OR_RETURN(std::vector<Snapshot> all, repo.ListSnapshots());
  return DeleteSnapshots(repo, all, ids, dry_run);
}

Result<PruneResult> Prune(Repository& repo, bool dry_run, int lock_timeout_ms) {
  KURA_ASSIGN_OR_RETURN(auto lock, repo.store().Lock(LockMode::kExclusive, lock_timeout_ms));
  std::vector<std::string> damaged;
  KURA_ASSIGN_OR_RETURN(std::vector<Snapshot> snaps, repo.ListSnapshots(&damaged));
  if (!damaged.empty()) {
    return Status::Corruption(Tr("壊れたスナップショット {} があるため prune を中止しました。kura verify で確認してください",
                                 "prune stopped: snapshot {} is damaged; run kura verify", ShortId(damaged[0])));
  }
  std::vector<crypto::Hash> referenced;
  for (const Snapshot& s : snaps) referenced.insert(referenced.end(), s.blobs.begin(), s.blobs.end());
  std::sort(referenced.begin(), referenced.end());
  referenced.erase(std::unique(referenced.begin(), referenced.end()), referenced.end());
  auto is_referenced = [&](const crypto::Hash& h) {
    return std::binary_search(referenced.begin(), referenced.end(), h);
  };

  KURA_ASSIGN_OR_RETURN(SyncStats sync, repo.Resync());
  KURA_ASSIGN_OR_RETURN(IndexCache * cache, repo.Cache());
  KURA_ASSIGN_OR_RETURN(std::vector<ObjectInfo> listed, repo.store().List(ObjectType::kPack));
  std::map<std::string, uint64_t> listed_size;
  for (const ObjectInfo& info : listed) listed_size[info.name] = info.size;
  PruneResult result;
  std::vector<std::string> to_delete;
  PackBuilder builder;
  // Blobs already written to a new pack in this prune: a blob held by two old packs is kept once.
  std::set<crypto::Hash> moved;
  // Packs this prune stored. A rewritten pack can come out byte for byte (so name for name)
  // equal to an old one; that name must then not be deleted with the old packs.
  std::set<std::string> written;
  auto flush = [&]() -> Status {
    if (builder.empty()) return Status::Ok();
    std::vector<PackEntry> entries;
    Bytes bytes = builder.Finish(&entries);
    std::string name = ToHex(crypto::Sha256(bytes));
    // Repacking is deterministic, so a prune run again after one whose Put tore rebuilds the
    // very same pack under the same name. Put of an existing name is a no-op even when the
    // stored copy is damaged (docs/objstore.md): unless that copy is removed first, the old
    // packs would be deleted while the torn copy is the only one left.
    if (auto it = listed_size.find(name); it != listed_size.end()) {
      bool intact = it->second == bytes.size();
      if (intact) {
        auto stored = repo.store().Get(ObjectType::kPack, name);
        intact = stored.ok() && ToHex(crypto::Sha256(*stored)) == name;
      }
      if (!intact) KURA_RETURN_IF_ERROR(repo.store().Delete(ObjectType::kPack, name));
    }
    KURA_RETURN_IF_ERROR(repo.store().Put(ObjectType::kPack, name, bytes));
    KURA_RETURN_IF_ERROR(cache->AddPack(name, entries));
    written.insert(name);
    ++result.packs_written;
    return Status::Ok();
  };
  for (const ObjectInfo& info : listed) {
    std::vector<PackEntry> entries = cache->PackEntries(info.name);
    if (entries.empty()) continue;  // damaged or unknown header: leave it for verify to report
    uint64_t used_bytes = 0, unused = 0;
    for (const PackEntry& e : entries) {
      (is_referenced(e.id) ? used_bytes : unused) += e.stored_length;
    }
    if (used_bytes == 0) {
      to_delete.push_back(info.name);
      result.bytes_freed += info.size;
      continue;
    }
    // Only unreferenced blobs count as waste, not the header: a small pack whose blobs are
    // all in use would otherwise be "repacked" into itself.
    if (static_cast<double>(unused) <= kRepackThreshold * static_cast<double>(info.size)) {
      result.bytes_kept += info.size;
      continue;
    }
    ++result.packs_repacked;
    result.bytes_freed += unused;
    result.bytes_kept += used_bytes;
    to_delete.push_back(info.name);
    if (dry_run) continue;
    KURA_ASSIGN_OR_RETURN(Bytes pack, repo.store().Get(ObjectType::kPack, info.name));
    if (ToHex(crypto::Sha256(pack)) != info.name) {
      return Status::Corruption(Tr("パック {} が壊れているため prune を中止しました。kura verify --read-data で確認してください",
                                   "prune stopped: pack {} is damaged; run kura verify --read-data",
                                   info.name.substr(0, 16)));
    }
    for (const PackEntry& e : entries) {
      if (!is_referenced(e.id) || moved.count(e.id)) continue;
      // Sealed blobs move unchanged: repacking needs no decryption.
      builder.Add(e.id, e.compression, e.raw_length,
                  Bytes(pack.begin() + static_cast<long>(e.offset),
                        pack.begin() + static_cast<long>(e.offset + e.stored_length)));
      moved.insert(e.id);
      if (builder.size_bytes() >= repo.config().pack_target_size) KURA_RETURN_IF_ERROR(flush());
    }
  }
  // A damaged pack (a torn write left by a crash on a filesystem without atomic rename) is
  // never indexed, so nothing can depend on it as long as every referenced blob is held by
  // an intact pack. Then it is removed, or verify would report it for ever; otherwise it is
  // kept for verify and the vendor. A pack of a newer format is not ours to judge.
  if (!sync.damaged.empty() &&
      std::all_of(referenced.begin(), referenced.end(), [&](const crypto::Hash& h) { return cache->Find(h).has_value(); })) {
    for (const std::string& name : sync.damaged) {
      auto header = ReadPackHeader(repo.store(), name, listed_size[name]);
      if (header.ok() || header.status().code() != Code::kCorruption) continue;
      to_delete.push_back(name);
      result.bytes_freed += listed_size[name];
    }
  }
  result.packs_deleted = to_delete.size();
  if (dry_run) return result;
  KURA_RETURN_IF_ERROR(flush());
  // Only now that every kept blob is stored in a new pack are the old packs deleted.
  for (const std::string& name : to_delete) {
    if (written.count(name)) continue;
    KURA_RETURN_IF_ERROR(repo.store().Delete(ObjectType::kPack, name));
    KURA_RETURN_IF_ERROR(cache->RemovePack(name));
  }
  return result;
}

}  // namespace kura
