#include "engine/prune.h"

#include <algorithm>
#include <iterator>
#include <map>
#include <queue>
#include <set>

#include "repo/pack.h"
#include "repo/snapshot.h"
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
  for (const Snapshot& s : r.forgotten)
    KURA_RETURN_IF_ERROR(repo.store().Delete(ObjectType::kSnapshot, s.id));
  return r;
}

Result<ForgetResult> Forget(Repository& repo, const RetentionPolicy& policy, bool dry_run,
                            int lock_timeout_ms) {
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
  std::vector<std::string> damaged;
  KURA_ASSIGN_OR_RETURN(std::vector<Snapshot> all, repo.ListSnapshots(&damaged));
  std::vector<std::string> ids, aside;
  for (const std::string& ref : refs) {
    auto s = repo.FindSnapshot(ref);
    if (s.ok()) {
      ids.push_back(s->id);
      continue;
    }
    if (s.status().code() != Code::kNotFound) return s.status();
    // A damaged snapshot object is no snapshot FindSnapshot knows, but it can be named.
    std::vector<std::string> match;
    for (const std::string& d : damaged) {
      if (ref.size() >= 4 && d.compare(0, ref.size(), ref) == 0) match.push_back(d);
    }
    if (match.size() > 1) {
      return Status::InvalidArgument(
          Tr("{} に当てはまるスナップショットが複数あります。もっと長く指定してください",
             "{} matches more than one snapshot; give more digits", ref));
    }
    if (match.empty()) return s.status();
    aside.push_back(match[0]);
  }
  KURA_ASSIGN_OR_RETURN(ForgetResult r, DeleteSnapshots(repo, all, ids, dry_run));
  r.moved_aside = aside;
  if (dry_run) return r;
  for (const std::string& id : aside) KURA_RETURN_IF_ERROR(repo.store().MoveAside(ObjectType::kSnapshot, id));
  return r;
}

namespace {

constexpr uint32_t kNoOwner = UINT32_MAX;

bool Contains(const std::vector<crypto::Hash>& sorted, const crypto::Hash& h) {
  return std::binary_search(sorted.begin(), sorted.end(), h);
}

size_t IndexOf(const std::vector<crypto::Hash>& sorted, const crypto::Hash& h) {
  return static_cast<size_t>(std::lower_bound(sorted.begin(), sorted.end(), h) - sorted.begin());
}

Status CheckFailed(const crypto::Hash& blob, const std::string& pack) {
  return Status::Internal(
             Tr("prune を削除の前に中止しました: データ {} が、削除しようとしたパック {} "
                "以外のどのパックにも無くなります。"
                "このパックは削除していません。リポジトリを検査し、販売元へご連絡ください",
                "prune stopped before deleting: blob {} would be in no pack once pack {} is "
                "deleted; that pack was not deleted. Check the repository and contact your vendor",
                ToHex(blob).substr(0, 16), pack.substr(0, 16)))
      .WithAdvice(Advice::kCheckRepository);
}

// One prune run; the pieces share this state.
class Pruner {
 public:
  Pruner(Repository& repo, const PruneOptions& options)
      : repo_(repo), options_(options), clock_(options.clock ? *options.clock : SystemClock()) {}

  Result<PruneResult> Run();

 private:
  Status CollectReferences();
  Status Plan();
  // Chooses for each referenced blob the one pack that keeps it (owner_).
  Status AssignOwners();
  // Re-reads the snapshot list and the pack listing right before a deletion, so that a
  // snapshot committed meanwhile (by a backup that got past a broken lock) keeps its
  // data: packs holding a blob of a new snapshot are dropped from `batch`.
  Status Refresh(std::vector<std::string>& batch);
  // Reads snapshots that appeared since prune started; their blobs go to late_blobs_.
  Status LearnLateSnapshots();
  Result<bool> NeededLate(const std::vector<PackEntry>& entries) const;
  // §9 of issue 6: before anything is deleted, every referenced blob stored in a pack of
  // `batch` must also be stored in a pack that survives (checked through the cache).
  Status CheckSurvivors(const std::vector<std::string>& batch);
  Status DeleteBatch(std::vector<std::string> batch);
  Status Repack();
  Status Flush();

  Repository& repo_;
  const PruneOptions& options_;
  const Clock& clock_;
  IndexCache* cache_ = nullptr;
  PruneResult result_;

  std::set<std::string> known_snapshots_;
  std::vector<crypto::Hash> referenced_;  // sorted, unique
  std::vector<crypto::Hash> late_blobs_;  // of snapshots committed while prune ran; sorted
  std::vector<uint32_t> owner_;           // per referenced blob: index into listed_, or kNoOwner
  std::vector<ObjectInfo> listed_;
  std::map<std::string, size_t> listed_index_;
  std::set<std::string> present_;  // pack names the store listed at the last Refresh
  std::set<std::string> indexed_;  // packs the cache has entries for
  std::vector<bool> young_;
  std::vector<std::string> unused_, repack_, torn_;
  SyncStats sync_;

  std::set<std::string> deleted_;
  std::set<std::string> written_;
  PackBuilder builder_;
  std::vector<std::string> moved_olds_;  // repacked olds whose blobs are all in `builder_` or stored
};

Status Pruner::CollectReferences() {
  std::vector<std::string> damaged;
  KURA_ASSIGN_OR_RETURN(std::vector<Snapshot> snaps, repo_.ListSnapshots(&damaged, /*with_blobs=*/false));
  // One snapshot's blob list at a time, merged into the sorted union: memory grows with the
  // distinct blobs, not with blobs times generations.
  auto merge = [this](const std::vector<crypto::Hash>& sorted) {
    std::vector<crypto::Hash> merged;
    merged.reserve(referenced_.size() + sorted.size());
    std::set_union(referenced_.begin(), referenced_.end(), sorted.begin(), sorted.end(),
                   std::back_inserter(merged));
    referenced_ = std::move(merged);
  };
  for (const Snapshot& listed : snaps) {
    known_snapshots_.insert(listed.id);
    auto s = repo_.LoadSnapshot(listed.id);
    if (!s.ok()) {
      // Listed a moment ago: gone since (a forget) is fine, anything else stops prune
      // before it deletes anything.
      if (s.status().code() == Code::kNotFound) continue;
      return s.status();
    }
    merge(s->blobs);
  }
  // A damaged snapshot no longer stops prune for good. Its data stays protected as far
  // as its plaintext blob list can still be read; one whose list is unreadable cannot
  // be restored anyway. Either way it is reported, so it gets moved aside.
  for (const std::string& id : damaged) {
    known_snapshots_.insert(id);
    result_.damaged_snapshots.push_back(id);
    auto bytes = repo_.store().Get(ObjectType::kSnapshot, id);
    if (!bytes.ok()) continue;
    auto parsed = ParseSnapshot(id, *bytes);
    if (parsed.ok()) merge(parsed->blobs);
    // A snapshot of a newer format is not damage: its blob list cannot be read by this kura,
    // so nothing it might use may be deleted.
    if (!parsed.ok() && parsed.status().code() == Code::kUnsupported) {
      return Status::Unsupported(
          Tr("{}。このリポジトリには新しい kura が書いたスナップショットがあるため、prune は何も削除せずに"
             "中止しました。kura を更新してから prune してください",
             "{}. This repository holds a snapshot written by a newer kura, so prune stopped without "
             "deleting anything; update kura, then prune",
             parsed.status().message()));
    }
  }
  owner_.assign(referenced_.size(), kNoOwner);
  return Status::Ok();
}

Status Pruner::Plan() {
  KURA_ASSIGN_OR_RETURN(sync_, repo_.Resync());
  KURA_ASSIGN_OR_RETURN(cache_, repo_.Cache());
  for (const auto& [name, st] : sync_.unreadable) result_.unreadable_packs.emplace_back(name, st.message());
  KURA_ASSIGN_OR_RETURN(listed_, repo_.store().List(ObjectType::kPack));
  std::sort(listed_.begin(), listed_.end(),
            [](const ObjectInfo& a, const ObjectInfo& b) { return a.name < b.name; });
  const int64_t cutoff = clock_.NowUnix() - options_.grace_seconds;
  young_.assign(listed_.size(), false);
  for (size_t i = 0; i < listed_.size(); ++i) {
    listed_index_[listed_[i].name] = i;
    present_.insert(listed_[i].name);
    // mtime 0: the store does not know (test stores), so no protection can be given.
    young_[i] = options_.grace_seconds > 0 && listed_[i].mtime != 0 && listed_[i].mtime > cutoff;
  }
  KURA_ASSIGN_OR_RETURN(std::vector<std::string> indexed, cache_->Packs());
  indexed_.insert(indexed.begin(), indexed.end());
  KURA_RETURN_IF_ERROR(AssignOwners());
  for (size_t i = 0; i < listed_.size(); ++i) {
    const ObjectInfo& info = listed_[i];
    if (!indexed_.count(info.name)) continue;  // damaged, unreadable or unknown: never deleted here
    KURA_ASSIGN_OR_RETURN(std::vector<PackEntry> entries, cache_->PackEntries(info.name));
    if (entries.empty()) continue;  // quarantined whole by verify: left for the vendor
    uint64_t used = 0, unused = 0;
    for (const PackEntry& e : entries) {
      bool owned = Contains(referenced_, e.id) && owner_[IndexOf(referenced_, e.id)] == i;
      (owned ? used : unused) += e.stored_length;
    }
    // Only unreferenced blobs count as waste, not the header: a small pack whose blobs are
    // all in use would otherwise be "repacked" into itself.
    bool wholly_unused = used == 0;
    bool worth_repacking = static_cast<double>(unused) > kRepackThreshold * static_cast<double>(info.size);
    if (!wholly_unused && !worth_repacking) {
      result_.bytes_kept += info.size;
      continue;
    }
    if (young_[i]) {
      ++result_.packs_young;
      result_.bytes_kept += info.size;
      continue;
    }
    if (wholly_unused) {
      unused_.push_back(info.name);
    } else {
      repack_.push_back(info.name);
      result_.bytes_kept += used;
    }
  }
  // A damaged pack (a torn write left by a crash on a filesystem without atomic rename) is
  // never indexed, so nothing can depend on it as long as every referenced blob is held by
  // an intact pack. Then it is removed, or verify would report it for ever; otherwise it is
  // kept for verify and the vendor. A pack of a newer format is not ours to judge.
  bool all_held = std::all_of(owner_.begin(), owner_.end(), [](uint32_t o) { return o != kNoOwner; });
  if (all_held) {
    for (const std::string& name : sync_.damaged) {
      auto it = listed_index_.find(name);
      if (it == listed_index_.end() || young_[it->second]) continue;
      auto header = ReadPackHeader(repo_.store(), name, listed_[it->second].size);
      if (header.ok() || header.status().code() != Code::kCorruption) continue;
      torn_.push_back(name);
    }
  }
  return Status::Ok();
}

Status Pruner::AssignOwners() {
  // What each indexed pack holds of the referenced blobs: (index into referenced_, bytes).
  std::vector<std::vector<std::pair<uint32_t, uint32_t>>> held(listed_.size());
  std::vector<uint8_t> holders(referenced_.size(), 0);  // packs holding the blob, up to 2
  uint64_t held_entries = 0;
  for (size_t i = 0; i < listed_.size(); ++i) {
    if (!indexed_.count(listed_[i].name)) continue;
    KURA_ASSIGN_OR_RETURN(std::vector<PackEntry> entries, cache_->PackEntries(listed_[i].name));
    for (const PackEntry& e : entries) {
      if (!Contains(referenced_, e.id)) continue;
      const auto ref = static_cast<uint32_t>(IndexOf(referenced_, e.id));
      // The same blob twice in one pack is one holder.
      if (!held[i].empty() && held[i].back().first == ref) continue;
      held[i].emplace_back(ref, e.stored_length);
      holders[ref] = static_cast<uint8_t>(std::min(2, holders[ref] + 1));
      ++held_entries;
    }
  }
  uint64_t owned_blobs = 0;
  auto take = [&](size_t i) {
    for (const auto& [ref, length] : held[i]) {
      if (owner_[ref] != kNoOwner) continue;
      owner_[ref] = static_cast<uint32_t>(i);
      ++owned_blobs;
    }
  };
  // Young packs own first: they stay whatever happens. Then the packs that hold a blob no
  // other pack holds: they stay too. Either way they own what they hold, so the greedy
  // below sees nothing left for them.
  for (size_t i = 0; i < listed_.size(); ++i) {
    if (young_[i]) take(i);
  }
  for (size_t i = 0; i < listed_.size(); ++i) {
    if (std::any_of(held[i].begin(), held[i].end(), [&](const auto& h) { return holders[h.first] == 1; }))
      take(i);
  }
  // The rest hold only data some other pack holds too (copies a second backup wrote without
  // knowing of the first). Greedily, the pack that would be the most wholly in use owns what
  // nobody owns yet (ties: the more bytes, then by name). A pack of the copy being assembled
  // stays wholly unowned while the overlapping packs of other copies lose some, so whole
  // copies are kept and the others end up wholly unused, however each backup's workers split
  // the blobs into packs and whatever the packs' random names.
  auto gain = [&](size_t i) {
    uint64_t g = 0;
    for (const auto& [ref, length] : held[i]) {
      if (owner_[ref] == kNoOwner) g += length;
    }
    return g;
  };
  struct Candidate {
    uint64_t gain;   // bytes this pack would own now
    uint64_t total;  // bytes of referenced blobs it holds
    size_t pack;
  };
  auto worse = [](const Candidate& a, const Candidate& b) {
    // a.gain / a.total < b.gain / b.total, without division.
    const long double left = static_cast<long double>(a.gain) * static_cast<long double>(b.total);
    const long double right = static_cast<long double>(b.gain) * static_cast<long double>(a.total);
    if (left != right) return left < right;
    if (a.gain != b.gain) return a.gain < b.gain;
    return a.pack > b.pack;
  };
  std::priority_queue<Candidate, std::vector<Candidate>, decltype(worse)> queue(worse);
  for (size_t i = 0; i < listed_.size(); ++i) {
    const uint64_t all = gain(i);
    if (all > 0) queue.push({all, all, i});
  }
  // Lazy: a pack's gain (and so its share) only shrinks, so a popped pack whose gain is
  // still current is the best.
  while (!queue.empty()) {
    Candidate c = queue.top();
    queue.pop();
    const uint64_t now = gain(c.pack);
    if (now == 0) continue;
    if (now == c.gain) {
      take(c.pack);
    } else {
      queue.push({now, c.total, c.pack});
    }
  }
  result_.duplicate_blobs = held_entries - owned_blobs;
  return Status::Ok();
}

Status Pruner::LearnLateSnapshots() {
  KURA_ASSIGN_OR_RETURN(std::vector<ObjectInfo> names, repo_.store().List(ObjectType::kSnapshot));
  bool learned = false;
  for (const ObjectInfo& o : names) {
    if (known_snapshots_.count(o.name)) continue;
    auto bytes = repo_.store().Get(ObjectType::kSnapshot, o.name);
    if (!bytes.ok()) {
      if (bytes.status().code() == Code::kNotFound) continue;  // withdrawn by its backup
      return bytes.status();
    }
    known_snapshots_.insert(o.name);
    auto parsed = ParseSnapshot(o.name, *bytes);
    if (!parsed.ok()) continue;
    late_blobs_.insert(late_blobs_.end(), parsed->blobs.begin(), parsed->blobs.end());
    learned = true;
  }
  if (learned) {
    std::sort(late_blobs_.begin(), late_blobs_.end());
    late_blobs_.erase(std::unique(late_blobs_.begin(), late_blobs_.end()), late_blobs_.end());
  }
  return Status::Ok();
}

Result<bool> Pruner::NeededLate(const std::vector<PackEntry>& entries) const {
  return std::any_of(entries.begin(), entries.end(),
                     [&](const PackEntry& e) { return Contains(late_blobs_, e.id); });
}

Status Pruner::Refresh(std::vector<std::string>& batch) {
  KURA_RETURN_IF_ERROR(LearnLateSnapshots());
  KURA_ASSIGN_OR_RETURN(std::vector<ObjectInfo> listed, repo_.store().List(ObjectType::kPack));
  present_.clear();
  for (const ObjectInfo& o : listed) present_.insert(o.name);
  if (late_blobs_.empty()) return Status::Ok();
  std::vector<std::string> keep;
  for (const std::string& pack : batch) {
    KURA_ASSIGN_OR_RETURN(std::vector<PackEntry> entries, cache_->PackEntries(pack));
    KURA_ASSIGN_OR_RETURN(bool needed, NeededLate(entries));
    if (!needed) keep.push_back(pack);
  }
  batch = std::move(keep);
  return Status::Ok();
}

Status Pruner::CheckSurvivors(const std::vector<std::string>& batch) {
  std::set<std::string> going(batch.begin(), batch.end());
  for (const std::string& pack : batch) {
    KURA_ASSIGN_OR_RETURN(std::vector<PackEntry> entries, cache_->PackEntries(pack));
    for (const PackEntry& e : entries) {
      if (!Contains(referenced_, e.id)) continue;
      KURA_ASSIGN_OR_RETURN(std::vector<std::string> holders, cache_->PacksHolding(e.id));
      bool survives = std::any_of(holders.begin(), holders.end(), [&](const std::string& h) {
        return !going.count(h) && !deleted_.count(h) && (present_.count(h) || written_.count(h));
      });
      if (!survives) return CheckFailed(e.id, pack);
    }
  }
  return Status::Ok();
}

Status Pruner::DeleteBatch(std::vector<std::string> batch) {
  // A repack can come out byte for byte (so name for name) equal to the old pack: that
  // name was just written and stays.
  std::erase_if(batch, [&](const std::string& n) { return written_.count(n) > 0 || deleted_.count(n) > 0; });
  if (batch.empty()) return Status::Ok();
  KURA_RETURN_IF_ERROR(Refresh(batch));
  KURA_RETURN_IF_ERROR(CheckSurvivors(batch));
  for (const std::string& name : batch) {
    if (written_.count(name) || deleted_.count(name)) continue;
    KURA_ASSIGN_OR_RETURN(std::vector<PackEntry> entries, cache_->PackEntries(name));
    // The bytes are held until the snapshot list has been read once more after the
    // delete: a backup that got past a broken lock and committed in between gets its pack
    // back, and one that commits later sees the pack gone and withdraws its snapshot.
    auto bytes = repo_.store().Get(ObjectType::kPack, name);
    if (!bytes.ok() && bytes.status().code() != Code::kNotFound) {
      result_.unreadable_packs.emplace_back(name, bytes.status().message());
      continue;  // what cannot be read is not deleted
    }
    KURA_RETURN_IF_ERROR(repo_.store().Delete(ObjectType::kPack, name));
    KURA_RETURN_IF_ERROR(LearnLateSnapshots());
    KURA_ASSIGN_OR_RETURN(bool needed, NeededLate(entries));
    if (needed && bytes.ok()) {
      KURA_RETURN_IF_ERROR(repo_.store().Put(ObjectType::kPack, name, *bytes));
      // A backup's sync may have dropped its rows meanwhile (the cache file is shared).
      KURA_RETURN_IF_ERROR(cache_->AddPack(name, entries));
      continue;
    }
    deleted_.insert(name);
    ++result_.packs_deleted;
    auto it = listed_index_.find(name);
    if (it != listed_index_.end()) result_.bytes_freed += listed_[it->second].size;
    // The cache is disposable: a row left by a failed write here is dropped by the next
    // sync, and deleted_ keeps this run from counting on it.
    (void)cache_->RemovePack(name);
  }
  return Status::Ok();
}

Status Pruner::Flush() {
  if (builder_.empty()) return Status::Ok();
  std::vector<PackEntry> entries;
  Bytes bytes = builder_.Finish(&entries);
  std::string name = ToHex(crypto::Sha256(bytes));
  // Repacking is deterministic, so a prune run again after one whose Put tore rebuilds the
  // very same pack under the same name. Put of an existing name is a no-op even when the
  // stored copy is damaged (docs/objstore.md): unless that copy is removed first, the old
  // packs would be deleted while the torn copy is the only one left.
  if (auto it = listed_index_.find(name); it != listed_index_.end() && !deleted_.count(name)) {
    bool intact = listed_[it->second].size == bytes.size();
    if (intact) {
      auto stored = repo_.store().Get(ObjectType::kPack, name);
      intact = stored.ok() && ToHex(crypto::Sha256(*stored)) == name;
    }
    if (!intact) KURA_RETURN_IF_ERROR(repo_.store().Delete(ObjectType::kPack, name));
  }
  KURA_RETURN_IF_ERROR(repo_.store().Put(ObjectType::kPack, name, bytes));
  KURA_RETURN_IF_ERROR(cache_->AddPack(name, entries));
  written_.insert(name);
  deleted_.erase(name);  // a torn copy of this very pack may have been deleted before
  ++result_.packs_written;
  // Every old pack whose blobs were all added before this flush is now redundant: delete
  // it at once, so a nearly full disk gains room for the next new pack.
  std::vector<std::string> done;
  done.swap(moved_olds_);
  return DeleteBatch(std::move(done));
}

Status Pruner::Repack() {
  std::set<crypto::Hash> moved;  // a blob held by two old packs is kept once
  for (const std::string& name : repack_) {
    const size_t i = listed_index_.at(name);
    auto pack = repo_.store().Get(ObjectType::kPack, name);
    if (!pack.ok() || ToHex(crypto::Sha256(*pack)) != name) {
      // Damaged or unreadable now: left alone for verify to report; the rest goes on.
      result_.unreadable_packs.emplace_back(
          name, pack.ok() ? Tr("パック {} の内容がハッシュと一致しません", "pack {} does not match its hash",
                               name.substr(0, 16))
                          : pack.status().message());
      continue;
    }
    // Offsets come from the pack's own header, not from the cache: a stale or damaged
    // cache row must never make prune copy the wrong bytes into a new pack.
    auto header = ParsePackHeader(*pack, name);
    if (!header.ok()) {
      result_.unreadable_packs.emplace_back(name, header.status().message());
      continue;
    }
    ++result_.packs_repacked;
    for (const PackEntry& e : header->entries) {
      if (!Contains(referenced_, e.id) || owner_[IndexOf(referenced_, e.id)] != i || moved.count(e.id))
        continue;
      if (e.offset + e.stored_length > pack->size()) continue;
      // Sealed blobs move unchanged: repacking needs no decryption.
      builder_.Add(e.id, e.compression, e.raw_length,
                   Bytes(pack->begin() + static_cast<long>(e.offset),
                         pack->begin() + static_cast<long>(e.offset + e.stored_length)));
      moved.insert(e.id);
      if (builder_.size_bytes() >= repo_.config().pack_target_size) KURA_RETURN_IF_ERROR(Flush());
    }
    moved_olds_.push_back(name);
  }
  KURA_RETURN_IF_ERROR(Flush());
  // Olds with nothing left to move (their owned blobs were already moved with another).
  std::vector<std::string> rest;
  rest.swap(moved_olds_);
  return DeleteBatch(std::move(rest));
}

Result<PruneResult> Pruner::Run() {
  KURA_ASSIGN_OR_RETURN(auto lock, repo_.store().Lock(LockMode::kExclusive, options_.lock_timeout_ms));
  KURA_RETURN_IF_ERROR(CollectReferences());
  KURA_RETURN_IF_ERROR(Plan());
  if (options_.dry_run) {
    result_.packs_deleted = unused_.size() + repack_.size() + torn_.size();
    result_.packs_repacked = repack_.size();
    for (const std::vector<std::string>* v : {&unused_, &torn_, &repack_}) {
      for (const std::string& n : *v) result_.bytes_freed += listed_[listed_index_.at(n)].size;
    }
    for (const std::string& n : repack_) {  // what a repack keeps is not freed
      KURA_ASSIGN_OR_RETURN(std::vector<PackEntry> entries, cache_->PackEntries(n));
      const size_t i = listed_index_.at(n);
      for (const PackEntry& e : entries) {
        if (Contains(referenced_, e.id) && owner_[IndexOf(referenced_, e.id)] == i)
          result_.bytes_freed -= e.stored_length;
      }
    }
    return result_;
  }
  // Wholly unused packs first: deleting them needs no space, so a full disk gets room.
  std::vector<std::string> first = unused_;
  first.insert(first.end(), torn_.begin(), torn_.end());
  KURA_RETURN_IF_ERROR(DeleteBatch(std::move(first)));
  const uint64_t freed_before_repack = result_.bytes_freed;
  Status repacked = Repack();
  if (!repacked.ok()) {
    if (repacked.code() == Code::kInternal) return repacked;  // the safety check: refuse loudly
    result_.repack_status = repacked.WithContext(
        Tr("prune は使われていないパック {} 個 ({} バイト) を削除した後、再構成の途中で止まりました。"
           "リポジトリは無事です",
           "prune deleted {} unused packs ({} bytes), then repacking stopped; the repository is intact",
           result_.packs_deleted, freed_before_repack));
  }
  // Temporary files of killed backups, by the same grace as packs.
  result_.temp_cleanup_status =
      repo_.store().RemoveStaleTemporaryFiles(clock_.NowUnix() - options_.grace_seconds);
  return result_;
}

}  // namespace

Result<PruneResult> Prune(Repository& repo, const PruneOptions& options) {
  Pruner pruner(repo, options);
  return pruner.Run();
}

Result<PruneResult> Prune(Repository& repo, bool dry_run, int lock_timeout_ms) {
  PruneOptions options;
  options.dry_run = dry_run;
  options.lock_timeout_ms = lock_timeout_ms;
  KURA_ASSIGN_OR_RETURN(PruneResult r, Prune(repo, options));
  if (!r.repack_status.ok()) return r.repack_status;
  return r;
}

}  // namespace kura
