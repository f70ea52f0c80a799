#include "vault/scrub.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "objstore/local_store.h"
#include "repo/snapshot.h"
#include "util/hex.h"
#include "util/i18n.h"

namespace kura::vault {

namespace {

constexpr uint64_t kPiece = uint64_t{8} << 20;  // read and hashed at a time: memory stays bounded
constexpr int64_t kDayMs = int64_t{86400} * 1000;

struct Item {
  const Catalog::GcRepository* repo;
  Catalog::GcObject obj;
};

ObjectType TypeOf(const std::string& kind) {
  if (kind == "pack") return ObjectType::kPack;
  if (kind == "snapshot") return ObjectType::kSnapshot;
  if (kind == "key") return ObjectType::kKey;
  return ObjectType::kConfig;
}

std::string Hex(const crypto::Hash& h) {
  return ToHex(ByteView(h.data(), h.size()));
}

// "" when the object's bytes hash to what its name (or, for the config, the catalog)
// says; else what is wrong.
std::string Check(ObjectStore& area, const Item& item, uint64_t* bytes_read) {
  const Catalog::GcObject& obj = item.obj;
  ObjectType type = TypeOf(obj.kind);
  std::string expect = obj.kind == "config" ? item.repo->config_sha256 : obj.name;
  auto failed = [](const Status& st) {
    return st.code() == Code::kNotFound ? std::string("missing") : "unreadable: " + st.message();
  };
  if (obj.kind == "config" || obj.kind == "key") {
    Result<Bytes> bytes = area.Get(type, obj.name);
    if (!bytes.ok()) return failed(bytes.status());
    *bytes_read += bytes->size();
    return Hex(crypto::Sha256(*bytes)) == expect ? "" : "sha256 mismatch";
  }
  crypto::Sha256Stream sha;
  for (uint64_t at = 0; at < obj.size;) {
    uint64_t want = std::min(kPiece, obj.size - at);
    Result<Bytes> piece = area.GetRange(type, obj.name, at, want);
    if (!piece.ok()) return failed(piece.status());
    *bytes_read += piece->size();
    if (piece->size() != want) return "truncated";
    sha.Update(*piece);
    at += want;
  }
  // A longer file than recorded: one more byte past the end is damage too.
  Result<Bytes> tail = area.GetRange(type, obj.name, obj.size, 1);
  if (tail.ok() && !tail->empty()) return "longer than recorded";
  return Hex(sha.Finish()) == expect ? "" : "sha256 mismatch";
}

// The snapshots a damaged object takes down with it: the snapshot itself; for a pack,
// every snapshot listing one of its blobs; for a key slot or the config, all of them.
std::vector<std::string> Affected(Catalog& catalog, ObjectStore& area, const Item& item) {
  std::vector<std::string> out;
  if (item.obj.kind == "snapshot") return {item.obj.name};
  Result<std::vector<SnapshotRecord>> snaps = catalog.ListSnapshotRecords(item.repo->id);
  if (!snaps.ok()) return out;
  if (item.obj.kind != "pack") {
    for (const SnapshotRecord& s : *snaps) out.push_back(s.name);
    return out;
  }
  Result<std::vector<crypto::Hash>> blobs = catalog.PackBlobIds(item.repo->id, item.obj.name);
  if (!blobs.ok()) return out;
  std::sort(blobs->begin(), blobs->end());
  for (const SnapshotRecord& s : *snaps) {
    Result<Bytes> bytes = area.Get(ObjectType::kSnapshot, s.name);
    if (!bytes.ok()) continue;
    Result<ByteView> ids = SnapshotBlobIds(s.name, *bytes);
    if (!ids.ok()) continue;
    for (size_t i = 0; i + 32 <= ids->size(); i += 32) {
      crypto::Hash h{};
      std::copy_n(ids->begin() + static_cast<std::ptrdiff_t>(i), 32, h.begin());
      if (std::binary_search(blobs->begin(), blobs->end(), h)) {
        out.push_back(s.name);
        break;
      }
    }
  }
  return out;
}

std::tuple<int64_t, std::string, std::string> Key(int64_t repo, const std::string& kind,
                                                  const std::string& name) {
  return {repo, kind, name};
}

// Whether the catalog still records the object: GC may have deleted it (intent, file,
// rows) after the list was made, which is not damage.
bool GoneByGc(Catalog& catalog, const Item& item) {
  if (item.obj.kind != "pack" && item.obj.kind != "snapshot") return false;
  Result<bool> deleting = catalog.DeletionPending(item.repo->id, item.obj.kind, item.obj.name);
  if (deleting.ok() && *deleting) return true;
  Result<std::vector<Catalog::GcObject>> now = catalog.ListScrubObjects(item.repo->id);
  if (!now.ok()) return false;
  return std::none_of(now->begin(), now->end(), [&](const Catalog::GcObject& o) {
    return o.kind == item.obj.kind && o.name == item.obj.name;
  });
}

}  // namespace

Result<ScrubReport> RunScrub(Catalog& catalog, const std::string& objects_dir, const Clock& clock,
                             const ScrubOptions& options, const AuditActor& actor) {
  ScrubReport report;
  KURA_ASSIGN_OR_RETURN(std::vector<Catalog::GcRepository> repos, catalog.ListGcRepositories());
  std::vector<Item> items;
  for (const Catalog::GcRepository& repo : repos) {
    KURA_ASSIGN_OR_RETURN(std::vector<Catalog::GcObject> objs, catalog.ListScrubObjects(repo.id));
    for (Catalog::GcObject& o : objs) items.push_back(Item{&repo, std::move(o)});
  }
  report.objects_total = items.size();
  for (const Item& i : items) report.bytes_total += i.obj.size;

  KURA_ASSIGN_OR_RETURN(std::optional<Catalog::ScrubCursor> cursor, catalog.GetScrubCursor());
  int64_t now_ms = clock.NowUnixMillis();
  size_t start = 0;
  // This run's share of the period: the time since the last run (a day at least, the
  // whole period at most) over the period, in bytes (an object counts at least 1).
  uint64_t share = report.bytes_total + items.size();
  if (!options.all) {
    if (cursor) {
      for (; start < items.size(); ++start) {
        const Item& i = items[start];
        if (Key(i.repo->id, i.obj.kind, i.obj.name) > Key(cursor->repository, cursor->kind, cursor->name))
          break;
      }
      if (start == items.size()) start = 0;
    }
    int64_t period_ms = std::max<int64_t>(options.period_days, 1) * kDayMs;
    int64_t since = cursor ? std::clamp<int64_t>(now_ms - cursor->last_run_ms, kDayMs, period_ms) : kDayMs;
    long double fraction = static_cast<long double>(since) / static_cast<long double>(period_ms);
    share = static_cast<uint64_t>(fraction * static_cast<long double>(report.bytes_total + items.size())) + 1;
  }
  std::set<std::tuple<int64_t, std::string, std::string>> recorded;  // damage on record
  {
    KURA_ASSIGN_OR_RETURN(std::vector<Catalog::ScrubDamageRecord> known, catalog.ListScrubDamage());
    for (const Catalog::ScrubDamageRecord& d : known) recorded.emplace(d.repository, d.kind, d.name);
  }
  auto deadline = clock.NowSteady() + std::chrono::seconds(options.budget_seconds);
  std::map<std::string, std::unique_ptr<ObjectStore>> areas;
  uint64_t done = 0;
  const Item* last = nullptr;
  for (size_t n = 0; n < items.size(); ++n) {
    if (options.stop && options.stop()) {
      report.budget_exhausted = true;
      break;
    }
    if (!options.all) {
      if (done >= share) break;
      if (clock.NowSteady() >= deadline) {
        report.budget_exhausted = true;
        break;
      }
    }
    const Item& item = items[(start + n) % items.size()];
    last = &item;
    std::unique_ptr<ObjectStore>& area = areas[item.repo->repo_id];
    std::string detail;
    if (!area) {
      Result<std::unique_ptr<LocalStore>> opened =
          LocalStore::Open(objects_dir + "/" + item.repo->repo_id, false);
      if (opened.ok()) area = std::move(*opened);
    }
    uint64_t read = 0;
    detail = area ? Check(*area, item, &read) : std::string("missing");
    ++report.objects_checked;
    report.bytes_checked += read;
    done += item.obj.size + 1;
    if (detail.empty()) {
      if (recorded.contains({item.repo->id, item.obj.kind, item.obj.name})) {
        KURA_ASSIGN_OR_RETURN(bool cleared,
                              catalog.ClearScrubDamage(item.repo->id, item.obj.kind, item.obj.name,
                                                       "found intact by scrub", actor));
        if (cleared) {
          report.repaired.push_back(ScrubFinding{
              item.repo->tenant, item.repo->repo_id, item.obj.kind, item.obj.name, "", {}, false});
        }
      }
      continue;
    }
    if (detail == "missing" && GoneByGc(catalog, item)) continue;
    ScrubFinding f{item.repo->tenant, item.repo->repo_id, item.obj.kind, item.obj.name, detail, {}, false};
    if (area) f.affected_snapshots = Affected(catalog, *area, item);
    Catalog::ScrubDamageRecord rec{item.repo->id, item.repo->repo_id,  f.kind, f.name, detail,
                                   now_ms,        f.affected_snapshots};
    KURA_ASSIGN_OR_RETURN(f.new_damage, catalog.RecordScrubDamage(rec, actor));
    report.damage.push_back(std::move(f));
  }
  if (!options.all && last != nullptr) {
    KURA_RETURN_IF_ERROR(catalog.SetScrubCursor({last->repo->id, last->obj.kind, last->obj.name, now_ms}));
  }
  KURA_RETURN_IF_ERROR(
      catalog
          .Audit({actor, "scrub.run", "vault",
                  std::string(report.damage.empty() ? kAuditSuccess : kAuditFailure),
                  fmt::format("all={} objects_checked={} of {} bytes_checked={} damaged={}"
                              " repaired={} budget_exhausted={}",
                              options.all, report.objects_checked, report.objects_total, report.bytes_checked,
                              report.damage.size(), report.repaired.size(), report.budget_exhausted)})
          .status());
  return report;
}

}  // namespace kura::vault
