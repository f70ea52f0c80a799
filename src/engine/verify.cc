#include "engine/verify.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <deque>
#include <future>
#include <mutex>
#include <set>

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

struct GoodBlob {
  crypto::Hash id;
  uint32_t pack;  // index into the pack names
};

// The sealed metadata opens, and for version 3 every entry page decrypts, matches its ID
// and parses, with as many entries as the snapshot records (one page in memory at a time).
Status CheckMetadata(Repository& repo, const std::string& id, ByteView bytes) {
  auto head = OpenSnapshotMeta(repo.keys(), id, bytes);
  if (!head.ok()) return head.status();
  if (head->version < 3) return Status::Ok();
  KURA_RETURN_IF_ERROR(repo.Cache().status());
  std::unique_ptr<EntryReader> entries = repo.OpenEntries(id, *head);
  SnapshotEntry e;
  for (;;) {
    KURA_ASSIGN_OR_RETURN(bool more, entries->Next(&e));
    if (!more) return Status::Ok();
  }
}

}  // namespace

Result<VerifyReport> Verify(Repository& repo, const VerifyOptions& options) {
  KURA_ASSIGN_OR_RETURN(auto lock, repo.store().Lock(LockMode::kShared, 60000));
  VerifyReport report;
  KURA_ASSIGN_OR_RETURN(std::vector<ObjectInfo> packs, repo.store().List(ObjectType::kPack));
  std::vector<std::string> damaged_ids;
  KURA_ASSIGN_OR_RETURN(std::vector<Snapshot> snaps, repo.ListSnapshots(&damaged_ids, /*with_blobs=*/false));
  if (!options.snapshots.empty()) {
    // Only the packs that hold the chosen snapshots' blobs (located through a fresh index).
    KURA_RETURN_IF_ERROR(repo.Resync().status());
    KURA_ASSIGN_OR_RETURN(IndexCache * cache, repo.Cache());
    std::set<std::string> wanted;
    for (const Snapshot& listed : snaps) {
      if (std::find(options.snapshots.begin(), options.snapshots.end(), listed.id) == options.snapshots.end())
        continue;
      KURA_ASSIGN_OR_RETURN(Snapshot s, repo.LoadSnapshot(listed.id));
      for (const crypto::Hash& b : s.blobs) {
        KURA_ASSIGN_OR_RETURN(std::optional<BlobLocation> loc, cache->Find(b));
        if (loc) wanted.insert(loc->pack);
      }
    }
    std::erase_if(packs, [&](const ObjectInfo& p) { return !wanted.count(p.name); });
  }
  uint64_t total_bytes = 0;
  for (const ObjectInfo& p : packs) total_bytes += p.size;

  // Blob IDs found intact with the pack holding them, sorted by ID once all packs are read
  // (36 bytes a blob, no per-blob allocation: a million files fit in tens of MiB).
  std::deque<GoodBlob> good;  // grows in blocks: no doubling copy of tens of MiB
  std::vector<std::string> pack_names;
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
      auto pack_index = static_cast<uint32_t>(pack_names.size());
      for (const PackEntry& e : r.entries) good.push_back({e.id, pack_index});
      pack_names.push_back(r.name);
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
  std::sort(good.begin(), good.end(), [](const GoodBlob& x, const GoodBlob& y) { return x.id < y.id; });
  std::vector<bool> pack_used(pack_names.size(), false);
  for (const Snapshot& listed : snaps) {
    SnapshotCheck check{listed.id, listed.plain.kind, listed.plain.time, true, "", 0};
    // One read of the object serves the metadata check and the blob list (in place).
    Result<Bytes> bytes = repo.store().Get(ObjectType::kSnapshot, listed.id);
    Status meta = bytes.ok() ? CheckMetadata(repo, listed.id, *bytes) : bytes.status();
    if (!meta.ok()) {
      check.ok = false;
      check.problem = meta.message();
    }
    Result<ByteView> ids = bytes.ok() ? SnapshotBlobIds(listed.id, *bytes) : Result<ByteView>(bytes.status());
    if (!ids.ok()) {
      check.ok = false;
      if (check.problem.empty()) check.problem = ids.status().message();
    }
    const size_t count = ids.ok() ? ids->size() / 32 : 0;
    for (size_t k = 0; k < count; ++k) {
      crypto::Hash b;
      std::memcpy(b.data(), ids->data() + 32 * k, 32);
      auto it = std::lower_bound(good.begin(), good.end(), b,
                                 [](const GoodBlob& g, const crypto::Hash& id) { return g.id < id; });
      bool found = false;
      for (; it != good.end() && it->id == b; ++it) {
        pack_used[it->pack] = true;
        found = true;
      }
      if (!found) ++check.missing_blobs;
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
  if (options.snapshots.empty()) {  // unknowable from a partial check
    std::vector<bool> has_blobs(pack_names.size(), false);
    for (const GoodBlob& g : good) has_blobs[g.pack] = true;
    for (size_t i = 0; i < pack_names.size(); ++i) {
      if (has_blobs[i] && !pack_used[i]) ++report.unreferenced_packs;
    }
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
