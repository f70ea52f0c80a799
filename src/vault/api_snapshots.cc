// PUT /v1/repos/{repo}/snapshots/{id} (docs/vault-api.md §4.5): the commit. The body
// streams to a temporary file and is read from there through a read-only mapping (the
// page cache, not the heap), so a 64 MiB snapshot costs no 64 MiB of memory.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "repo/snapshot.h"
#include "repo/snapshot_kind.h"
#include "util/hex.h"
#include "vault/api.h"
#include "vault/log.h"

namespace kura::vault {

using nlohmann::json;

static const Msg kInternal{"保管庫の内部エラーです。時間をおいて再試行してください",
                           "internal error of the vault; retry later"};

namespace {

// A read-only mapping of a whole file; empty for an empty or unreadable file.
class MappedFile {
 public:
  explicit MappedFile(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    struct stat st {};
    if (::fstat(fd, &st) == 0 && st.st_size > 0) {
      void* p = ::mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
      if (p != MAP_FAILED) {
        data_ = p;
        size_ = static_cast<size_t>(st.st_size);
      }
    }
    ::close(fd);
  }
  ~MappedFile() {
    if (data_ != nullptr) ::munmap(data_, size_);
  }
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ByteView view() const { return ByteView(static_cast<const uint8_t*>(data_), size_); }

 private:
  void* data_ = nullptr;
  size_t size_ = 0;
};

json CommitAnswer(const SnapshotRecord& s) {
  return {{"snapshot", s.name},
          {"kind", s.kind},
          {"received", FormatUtc(s.received_at_ms / 1000)},
          {"clock_warning", s.clock_warning}};
}

}  // namespace

static net::Response PutSnapshot(SiteCall& call) {
  const std::string& id = call.req.params["id"];
  if (!IsLowerHex(id, 64)) {
    return call.Refuse(400, "bad_request",
                       {"スナップショットの名前が正しくありません", "the snapshot name is not valid"},
                       "bad name");
  }
  // Renewed before the blobs are checked: GC then leaves the packs this commit relies on.
  if (Status lease = call.deps.catalog->RenewUploadLease(call.repo.id); !lease.ok())
    return call.Refuse(500, "internal", kInternal, lease.ToString());
  Result<std::optional<SnapshotRecord>> known = call.deps.catalog->FindSnapshotRecord(call.repo.id, id);
  if (!known.ok()) return call.Refuse(500, "internal", kInternal, known.status().ToString());
  if (*known) {
    if (auto refused = RefuseOtherBytes(call, id,
                                        {"コミット済みのスナップショットは置き換えられません",
                                         "a committed snapshot can never be replaced"}))
      return std::move(*refused);
    return ApiJson(200, CommitAnswer(**known));
  }
  Result<std::unique_ptr<LocalStore>> area = call.Area(false);
  if (!area.ok()) return call.Refuse(500, "internal", kInternal, area.status().ToString());
  Result<std::unique_ptr<LocalObjectWriter>> writer = (*area)->BeginPut(ObjectType::kSnapshot);
  if (!writer.ok()) return call.Refuse(500, "internal", kInternal, writer.status().ToString());
  Result<BodyDigest> digest = StreamBody(*call.req.body, writer->get(), {});
  if (!digest.ok()) {
    return call.Refuse(400, "bad_request", {"本文を受け取れませんでした", "the body could not be received"},
                       digest.status().ToString());
  }
  if (ToHex(ByteView(digest->sha256.data(), 32)) != id) {
    return call.Refuse(400, "digest_mismatch",
                       {"スナップショットの SHA-256 が名前と一致しません。もう一度送ってください",
                        "the snapshot's SHA-256 is not its name; send it again"},
                       "sha256 mismatch");
  }
  MappedFile mapped((*writer)->temp_path());
  Result<Snapshot> snap = ParseSnapshot(id, mapped.view(), /*with_blobs=*/false);
  Result<ByteView> ids = snap.ok() ? SnapshotBlobIds(id, mapped.view()) : Result<ByteView>(snap.status());
  if (!snap.ok() || !ids.ok() || snap->plain.repository != call.repo_id) {
    return call.Refuse(
        400, "bad_object",
        {"スナップショットとして読めないか、別のリポジトリのものです",
         "the body is not a snapshot, or it names another repository"},
        snap.ok() ? (ids.ok() ? "snapshot of repository " + snap->plain.repository : ids.status().message())
                  : snap.status().message());
  }
  std::vector<size_t> first;
  Result<uint64_t> missing = call.deps.catalog->CountMissingBlobs(call.repo.id, *ids, 100, &first);
  if (!missing.ok()) return call.Refuse(500, "internal", kInternal, missing.status().ToString());
  if (*missing > 0) {
    json list = json::array();
    for (size_t i : first) list.push_back(ToHex(ids->subspan(i * 32, 32)));
    return call.Refuse(
        409, "missing_blobs",
        {fmt::format("スナップショットが参照する {} 個のブロブを含むパックがまだ保管されていません。"
                     "パックを送ってからコミットしてください",
                     *missing),
         fmt::format("{} blobs the snapshot refers to are in no stored pack; upload the packs, "
                     "then commit",
                     *missing)},
        fmt::format("{} missing blobs", *missing), {{"missing", list}, {"missing_count", *missing}});
  }
  Result<Tenant> tenant = call.deps.catalog->GetTenant(call.repo.tenant_id);
  if (!tenant.ok()) return call.Refuse(500, "internal", kInternal, tenant.status().ToString());
  Result<bool> has_slot = tenant->recovery_public_key.empty()
                              ? Result<bool>(false)
                              : call.deps.catalog->HasRecoverySlot(call.repo.id, tenant->recovery_public_key);
  if (!has_slot.ok()) return call.Refuse(500, "internal", kInternal, has_slot.status().ToString());
  if (!*has_slot) {
    return call.Refuse(
        409, "recovery_slot_missing",
        {"このリポジトリには販売元の復旧用の鍵スロットがありません。販売元が復元できないため"
         "受け付けません。kura で復旧用の鍵を登録してから送り直してください",
         "this repository has no key slot for the vendor's recovery key, so the vendor could not "
         "restore it; add the recovery key slot with kura and send again"},
        "no recovery slot for the tenant's key");
  }
  SnapshotRecord rec;
  rec.name = id;
  rec.kind = std::string(KindName(snap->plain.kind));
  rec.client_time = snap->plain.time;
  rec.received_at_ms = call.deps.clock->NowUnixMillis();
  rec.bytes = snap->plain.bytes;
  rec.size = digest->size;
  rec.blob_count = snap->blob_count;
  int64_t skew = rec.received_at_ms - snap->plain.OrderKey();
  rec.clock_warning = skew > kClockWarningMs || skew < -kClockWarningMs;
  Result<LocalObjectWriter::Committed> committed = (*writer)->Commit(id);
  if (!committed.ok()) return call.Refuse(500, "internal", kInternal, committed.status().ToString());
  Status st = call.deps.catalog->RecordSnapshot(call.repo.id, rec, call.actor);
  if (st.code() == Code::kAlreadyExists) {  // the same commit raced this one
    Result<std::optional<SnapshotRecord>> again = call.deps.catalog->FindSnapshotRecord(call.repo.id, id);
    if (again.ok() && *again) return ApiJson(200, CommitAnswer(**again));
  }
  if (!st.ok()) return call.Refuse(500, "internal", kInternal, st.ToString());
  LogInfo("snapshot {} committed to repository {} (site {}, {} blobs)", id, call.repo_id, call.who.site_id,
          rec.blob_count);
  // Judged and retained in the same request, on the vault's receive time. The commit
  // stands even if this fails: the generation stays pending_check, which is kept and
  // never counted, so it evicts nothing (docs/retention.md §3.1).
  Result<Catalog::RetentionOutcome> assessed = call.deps.catalog->AssessCommit(call.repo.id, id, call.actor);
  if (!assessed.ok()) {
    LogError("snapshot {} of repository {}: the anomaly check and retention failed: {}", id, call.repo_id,
             assessed.status().ToString());
  } else if (assessed->verdict && assessed->verdict->anomalous) {
    LogWarning("snapshot {} of repository {} (site {}) is anomalous; the site is on hold: {}", id,
               call.repo_id, call.who.site_id, DescribeVerdict(*assessed->verdict, Language::kEnglish));
  } else if (!assessed->evicted.empty()) {
    LogInfo("retention of repository {} quarantined {} generations", call.repo_id, assessed->evicted.size());
  }
  return ApiJson(201, CommitAnswer(rec));
}

void AddSnapshotRoutes(net::Router& router, ApiDeps& deps) {
  router.Add("PUT", "/v1/repos/{repo}/snapshots/{id}",
             SiteRoute(deps, "snapshot.commit", RepoCheck::kBound, PutSnapshot),
             net::RouteOptions{kMaxSnapshotBytes});
}

}  // namespace kura::vault
