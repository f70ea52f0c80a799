#include "agent/verify.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <deque>
#include <future>
#include <mutex>
#include <set>
#include <unordered_set>

#include "repo/blob.h"
#include "repo/integrity_record.h"
#include "util/hex.h"
#include "util/i18n.h"
#include "util/thread_pool.h"

namespace kura {

bool VerifyReport::ok() const {
  if (!damaged_packs.empty() || !damaged_snapshots.empty()) return false;
  return std::all_of(snapshots.begin(), snapshots.end(), [](const SnapshotCheck& s) { return s.ok; });
}

namespace {

struct PackResult {
  std::string name;
  Status status;                      // whole-pack problem
  std::vector<PackEntry> entries;     // entries that are intact
  std::vector<crypto::Hash> damaged;  // blobs that failed to decode (read_data only)
  bool header_ok = false;             // the header parsed: damage is limited to `damaged`
  bool unreadable = false;            // the store refused the read (not damage)
  uint64_t bytes = 0;
  uint64_t blobs_checked = 0;
};

bool IsReadRefused(const Status& st) {
  Code c = st.code();
  return c != Code::kCorruption && c != Code::kUnsupported && c != Code::kNotFound;
}

PackResult CheckPack(Repository& repo, const ObjectInfo& info, bool read_data) {
  PackResult r;
  r.name = info.name;
  r.bytes = info.size;
  if (!read_data) {
    auto header = ReadPackHeader(repo.store(), info.name, info.size);
    if (!header.ok()) {
      r.status = header.status();
      r.unreadable = IsReadRefused(r.status);
    } else {
      r.entries = std::move(header->entries);
    }
    return r;
  }
  auto bytes = repo.store().Get(ObjectType::kPack, info.name);
  if (!bytes.ok()) {
    r.status = bytes.status();
    r.unreadable = IsReadRefused(r.status);
    return r;
  }
  if (ToHex(crypto::Sha256(*bytes)) != info.name) {
    r.status = Status::Corruption(Tr("パック {} の内容がハッシュと一致しません",
                                     "pack {} does not match its hash", info.name.substr(0, 16)));
    // Blobs that still decrypt and match their IDs are usable; keep checking them.
  }
  auto header = ParsePackHeader(*bytes, info.name);
  if (!header.ok()) {
    r.status = header.status();
    return r;
  }
  r.header_ok = true;
  for (const PackEntry& e : header->entries) {
    if (e.offset + e.stored_length > bytes->size()) {
      r.damaged.push_back(e.id);
      continue;
    }
    auto plain = DecodeBlob(repo.keys(), e, ByteView(bytes->data() + e.offset, e.stored_length));
    ++r.blobs_checked;
    if (plain.ok()) {
      r.entries.push_back(e);
    } else {
      r.damaged.push_back(e.id);
      if (r.status.ok()) r.status = plain.status();
    }
  }
  return r;
}

struct HashHasher {
  size_t operator()(const crypto::Hash& h) const {
    size_t v;
    std::memcpy(&v, h.data(), sizeof v);
    return v;
  }
};

}  // namespace

Result<VerifyReport> Verify(Repository& repo, const VerifyOptions& options) {
  KURA_ASSIGN_OR_RETURN(auto lock, repo.store().Lock(LockMode::kShared, 60000));
  VerifyReport report;
  KURA_ASSIGN_OR_RETURN(std::vector<ObjectInfo> packs, repo.store().List(ObjectType::kPack));
  std::vector<std::string> damaged_ids;
  KURA_ASSIGN_OR_RETURN(std::vector<Snapshot> snaps, repo.ListSnapshots(&damaged_ids));
  if (!options.snapshots.empty()) {
    // Only the packs that hold the chosen snapshots' blobs (located through a fresh index).
    KURA_RETURN_IF_ERROR(repo.Resync().status());
    KURA_ASSIGN_OR_RETURN(IndexCache * cache, repo.Cache());
    std::set<std::string> wanted;
    for (const Snapshot& s : snaps) {
      if (std::find(options.snapshots.begin(), options.snapshots.end(), s.id) == options.snapshots.end())
        continue;
      for (const crypto::Hash& b : s.blobs) {
        KURA_ASSIGN_OR_RETURN(std::optional<BlobLocation> loc, cache->Find(b));
        if (loc) wanted.insert(loc->pack);
      }
    }
    std::erase_if(packs, [&](const ObjectInfo& p) { return !wanted.count(p.name); });
  }
  uint64_t total_bytes = 0;
  for (const ObjectInfo& p : packs) total_bytes += p.size;

  // Blob IDs found intact, and which packs hold them (for "unreferenced").
  std::unordered_set<crypto::Hash, HashHasher> good;
  std::vector<std::pair<std::string, std::vector<crypto::Hash>>> pack_blobs;
  std::vector<PackResult> harmed;  // damaged or unreadable packs, for the cache below
  {
    ThreadPool pool(options.threads);
    std::deque<std::future<PackResult>> window;
    size_t next = 0;
    Progress progress;
    progress.bytes_total = total_bytes;
    auto submit = [&] {
      while (window.size() < 2 * pool.size() && next < packs.size()) {
        ObjectInfo info = packs[next++];
        window.push_back(
            pool.Submit([&repo, info, &options] { return CheckPack(repo, info, options.read_data); }));
      }
    };
    submit();
    while (!window.empty()) {
      PackResult r = window.front().get();
      window.pop_front();
      submit();
      ++report.packs;
      report.pack_bytes += r.bytes;
      report.blobs_checked += r.blobs_checked;
      if (!r.status.ok()) {
        report.damaged_packs.push_back({r.name, r.status.message()});
        PackResult h;
        h.name = r.name;
        h.header_ok = r.header_ok;
        h.unreadable = r.unreadable;
        h.damaged = r.damaged;
        harmed.push_back(std::move(h));
      }
      std::vector<crypto::Hash> ids;
      for (const PackEntry& e : r.entries) {
        good.insert(e.id);
        ids.push_back(e.id);
      }
      pack_blobs.emplace_back(r.name, std::move(ids));
      if (options.progress) {
        progress.bytes_done += r.bytes;
        progress.items_done = report.packs;
        options.progress->Update(progress);
      }
    }
  }

  if (!options.snapshots.empty()) {
    std::erase_if(snaps, [&](const Snapshot& s) {
      return std::find(options.snapshots.begin(), options.snapshots.end(), s.id) == options.snapshots.end();
    });
    damaged_ids.clear();
  }
  for (const std::string& id : damaged_ids) {
    report.damaged_snapshots.push_back(
        {id, L("スナップショットのファイルが壊れています", "the snapshot object is damaged")});
  }
  // Later backups must not keep referring to damaged data: they store those blobs again.
  // Only what is damaged is excluded: with a readable header, the blobs that failed to
  // decode; intact blobs of the same pack stay usable for restore and dedup. A pack the
  // store refused to read is only forgotten, so the next sync tries it again.
  if (!harmed.empty()) {
    KURA_ASSIGN_OR_RETURN(IndexCache * cache, repo.Cache());
    for (const PackResult& h : harmed) {
      if (h.unreadable) {
        KURA_RETURN_IF_ERROR(cache->RemovePack(h.name));
      } else if (h.header_ok) {
        KURA_RETURN_IF_ERROR(cache->QuarantineBlobs(h.name, h.damaged));
      } else {
        KURA_RETURN_IF_ERROR(cache->QuarantinePack(h.name));
      }
    }
  }
  std::unordered_set<crypto::Hash, HashHasher> referenced;
  for (const Snapshot& s : snaps) {
    SnapshotCheck check{s.id, s.plain.kind, s.plain.time, true, "", 0};
    auto meta = repo.LoadMeta(s.id);
    if (!meta.ok()) {
      check.ok = false;
      check.problem = meta.status().message();
    }
    for (const crypto::Hash& b : s.blobs) {
      referenced.insert(b);
      if (!good.count(b)) ++check.missing_blobs;
    }
    if (check.missing_blobs > 0) {
      check.ok = false;
      if (check.problem.empty()) {
        check.problem = Tr("{} 個のデータが欠損または破損しています", "{} blobs are missing or damaged",
                           check.missing_blobs);
      }
    }
    report.snapshots.push_back(std::move(check));
  }
  for (const auto& [name, ids] : pack_blobs) {
    if (!options.snapshots.empty()) break;  // unknowable from a partial check
    bool used =
        std::any_of(ids.begin(), ids.end(), [&](const crypto::Hash& h) { return referenced.count(h); });
    if (!used && !ids.empty()) ++report.unreferenced_packs;
  }
  // What was proved, for retention's last-intact rule (docs/integrity-record.md). Best
  // effort: the check's findings stand whether or not the local record can be written.
  std::vector<IntegrityResult> marks;
  for (const SnapshotCheck& c : report.snapshots) {
    if (!c.ok || options.read_data) {
      marks.push_back({c.id, c.ok ? IntegrityState::kIntact : IntegrityState::kDamaged, c.problem});
    }
  }
  (void)RecordIntegrity(repo, marks, options.read_data ? "verify --read-data" : "verify", SystemClock());
  if (options.progress) options.progress->Done();
  return report;
}

}  // namespace kura
