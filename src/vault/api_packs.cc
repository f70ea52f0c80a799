// PUT /v1/repos/{repo}/packs/{id} (docs/vault-api.md §4.4): a pack streams to a temporary
// file in the repository's area while its SHA-256 is computed and its plaintext header
// collected; it is published under its name only when the digest, the header and the size
// all check out, so an abandoned, truncated or forged upload never becomes an object.
#include "repo/format.h"
#include "repo/pack.h"
#include "util/hex.h"
#include "vault/api.h"
#include "vault/log.h"

namespace kura::vault {

// A header larger than this is refused as bad_pack: 349,525 blobs, far more than a 1 GiB
// pack of kura's smallest chunks holds, and the most the vault keeps in memory per upload.
static constexpr uint64_t kMaxPackHeaderBytes = uint64_t{16} << 20;

// "1.5 GiB (1610612736 bytes)": the unit for people, the exact count for support.
static std::string FormatQuotaBytes(uint64_t bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  double v = static_cast<double>(bytes);
  size_t unit = 0;
  while (v >= 1024 && unit + 1 < std::size(kUnits)) {
    v /= 1024;
    ++unit;
  }
  return unit == 0 ? fmt::format("{} B", bytes) : fmt::format("{:.1f} {} ({} bytes)", v, kUnits[unit], bytes);
}

static const Msg kInternal{"保管庫の内部エラーです。時間をおいて再試行してください",
                           "internal error of the vault; retry later"};

// Collects the first bytes of a pack: the fixed prefix, then as much as it says the
// header holds (bounded).
class HeaderCollector {
 public:
  void Feed(ByteView piece) {
    while (!piece.empty() && head_.size() < needed_) {
      size_t take = std::min<size_t>(piece.size(), needed_ - head_.size());
      head_.insert(head_.end(), piece.begin(), piece.begin() + static_cast<std::ptrdiff_t>(take));
      piece = piece.subspan(take);
      if (head_.size() == format::kPackHeaderFixed && needed_ == format::kPackHeaderFixed) {
        Result<uint32_t> count = ParsePackPrefix(head_, "upload");
        if (!count.ok()) {
          error_ = count.status().message();
          return;
        }
        uint64_t size = PackHeaderSize(*count);
        if (size > kMaxPackHeaderBytes) {
          error_ = "header of " + std::to_string(size) + " bytes";
          return;
        }
        needed_ = static_cast<size_t>(size);
      }
    }
  }
  // The parsed header, or the reason it is bad.
  Result<PackHeader> Finish() const {
    if (!error_.empty()) return Status::Corruption(error_);
    if (head_.size() < needed_ || needed_ == format::kPackHeaderFixed) {
      return Status::Corruption("the body ends inside the header");
    }
    return ParsePackHeader(head_, "upload");
  }

 private:
  Bytes head_;
  size_t needed_ = format::kPackHeaderFixed;
  std::string error_;
};

// Garbage collection is deleting this pack right now (vault/gc.h): once it is gone, the
// same upload stores it anew.
static net::Response RetryLater(SiteCall& call) {
  net::Response r = call.Refuse(503, "retry_later",
                                {"このパックは保管庫で整理中です。しばらくしてから送り直してください",
                                 "the vault is removing this pack right now; send it again shortly"},
                                "pack being deleted by gc");
  r.headers.Set("Retry-After", "5");
  return r;
}

static net::Response PutPack(SiteCall& call) {
  const std::string& id = call.req.params["id"];
  if (!IsLowerHex(id, 64)) {
    return call.Refuse(400, "bad_request", {"パックの名前が正しくありません", "the pack name is not valid"},
                       "bad name");
  }
  if (!call.req.body->content_length()) {
    return call.Refuse(411, "length_required",
                       {"パックは Content-Length を付けて送ってください", "send packs with a Content-Length"},
                       "no Content-Length");
  }
  // The lease keeps GC off this repository while its upload goes on (vault/gc.h).
  if (Status lease = call.deps.catalog->RenewUploadLease(call.repo.id); !lease.ok())
    return call.Refuse(500, "internal", kInternal, lease.ToString());
  Result<bool> stored = call.deps.catalog->PackStored(call.repo.id, id);
  if (!stored.ok()) return call.Refuse(500, "internal", kInternal, stored.status().ToString());
  if (*stored) {
    // Idempotent, never a replacement: the body is read and only compared.
    if (auto refused = RefuseOtherBytes(
            call, id, {"保存済みのパックは置き換えられません", "a stored pack can never be replaced"}))
      return std::move(*refused);
    return ApiJson(200, {{"stored", false}});
  }
  // A pack scrub found damaged answers "missing" to blobs/missing, so the site sends it
  // again; the bytes are checked against the name like any upload and then replace the
  // damaged file (docs/vault-gc-scrub.md §2, "Repair").
  Result<bool> damaged = call.deps.catalog->PackDamaged(call.repo.id, id);
  if (!damaged.ok()) return call.Refuse(500, "internal", kInternal, damaged.status().ToString());
  // The hard quota is checked before a byte is stored, against the declared length (the
  // body cannot be longer: the reader stops at Content-Length). A repair adds nothing: the
  // damaged pack's bytes count already.
  Result<Catalog::Capacity> capacity = call.deps.catalog->TenantCapacity(call.repo.tenant_id);
  if (!capacity.ok()) return call.Refuse(500, "internal", kInternal, capacity.status().ToString());
  uint64_t incoming = *call.req.body->content_length();
  if (!*damaged && capacity->hard != 0 && capacity->used + incoming > capacity->hard) {
    std::string used = FormatQuotaBytes(capacity->used), hard = FormatQuotaBytes(capacity->hard);
    // Read to its end and dropped, so the agent, which sends the whole body before it
    // reads the answer, gets the 507 and not a reset connection.
    (void)StreamBody(*call.req.body, nullptr, {});
    return call.Refuse(
        507, "quota_exceeded",
        {fmt::format("保管庫の容量の上限に達しました (使用量 {} / 上限 {})。このパックは保存していません。"
                     "上限の引き上げは販売元にご相談ください",
                     used, hard),
         fmt::format("the vault's quota for this customer is reached (used {} of {}); this pack was not "
                     "stored. Ask the vendor to raise the quota",
                     used, hard)},
        fmt::format("hard quota: used={} incoming={} hard={}", capacity->used, incoming, capacity->hard),
        {{"used", capacity->used}, {"hard", capacity->hard}});
  }
  Result<std::unique_ptr<LocalStore>> area = call.Area(false);
  if (!area.ok()) return call.Refuse(500, "internal", kInternal, area.status().ToString());
  Result<std::unique_ptr<LocalObjectWriter>> writer = (*area)->BeginPut(ObjectType::kPack);
  if (!writer.ok()) {
    int status = writer.status().code() == Code::kNoSpace ? 507 : 500;
    return call.Refuse(status, status == 507 ? "insufficient_storage" : "internal", kInternal,
                       writer.status().ToString());
  }
  HeaderCollector header;
  Result<BodyDigest> digest =
      StreamBody(*call.req.body, writer->get(), [&header](ByteView piece) { header.Feed(piece); });
  if (!digest.ok()) {
    // The writer's file goes with it; the server answers the transport error itself.
    return call.Refuse(400, "bad_request", {"本文を受け取れませんでした", "the body could not be received"},
                       digest.status().ToString());
  }
  if (ToHex(ByteView(digest->sha256.data(), 32)) != id) {
    return call.Refuse(400, "digest_mismatch",
                       {"パックの SHA-256 が名前と一致しません。もう一度送ってください",
                        "the pack's SHA-256 is not its name; send it again"},
                       fmt::format("sha256 mismatch after {} bytes", digest->size));
  }
  Result<PackHeader> parsed = header.Finish();
  if (!parsed.ok() || parsed->total_size != digest->size) {
    return call.Refuse(
        400, "bad_pack",
        {"パックのヘッダーが読めないか、大きさがヘッダーと合いません",
         "the pack header does not parse or the size does not match it"},
        parsed.ok() ? fmt::format("header says {} bytes, body has {}", parsed->total_size, digest->size)
                    : parsed.status().message());
  }
  // Asked after the body is read, so the agent gets the answer and not a broken pipe. The
  // lease is renewed again first (a long upload may have outlived it): GC checks the lease
  // before it writes an intent, so none can appear between this check and the record.
  if (Status lease = call.deps.catalog->RenewUploadLease(call.repo.id); !lease.ok())
    return call.Refuse(500, "internal", kInternal, lease.ToString());
  Result<bool> deleting = call.deps.catalog->DeletionPending(call.repo.id, "pack", id);
  if (!deleting.ok()) return call.Refuse(500, "internal", kInternal, deleting.status().ToString());
  if (*deleting) return RetryLater(call);
  Result<LocalObjectWriter::Committed> committed = (*writer)->Commit(
      id, *damaged ? LocalObjectWriter::Publish::kReplaceDamaged : LocalObjectWriter::Publish::kNoReplace);
  if (!committed.ok()) {
    int status = committed.status().code() == Code::kNoSpace ? 507 : 500;
    return call.Refuse(status, status == 507 ? "insufficient_storage" : "internal", kInternal,
                       committed.status().ToString());
  }
  std::vector<crypto::Hash> blobs;
  blobs.reserve(parsed->entries.size());
  for (const PackEntry& e : parsed->entries) blobs.push_back(e.id);
  // Recorded after the file is in place: a crash in between leaves an unrecorded pack,
  // which the agent uploads again (blobs/missing does not know it) and which is kept.
  Result<bool> recorded = call.deps.catalog->RecordPack(call.repo.id, id, digest->size, blobs, call.actor);
  if (!recorded.ok()) return call.Refuse(500, "internal", kInternal, recorded.status().ToString());
  if (!*recorded && *damaged) {
    Result<bool> repaired =
        call.deps.catalog->ClearScrubDamage(call.repo.id, "pack", id, "re-uploaded by the site", call.actor);
    if (!repaired.ok()) return call.Refuse(500, "internal", kInternal, repaired.status().ToString());
    // False: another upload of the same bytes repaired it a moment ago.
    if (!*repaired) return ApiJson(200, {{"stored", false}});
    return ApiJson(201, {{"stored", true}, {"blobs", blobs.size()}, {"repaired", true}});
  }
  if (!*recorded) {
    // Known already: a quarantined pack sent again is stored again (GC found it
    // unreferenced, and blobs/missing told the agent so).
    Result<bool> revived = call.deps.catalog->RevivePack(call.repo.id, id, call.actor);
    if (!revived.ok() && revived.status().code() == Code::kRetryable) return RetryLater(call);
    if (!revived.ok()) return call.Refuse(500, "internal", kInternal, revived.status().ToString());
    if (*revived) return ApiJson(201, {{"stored", true}, {"blobs", blobs.size()}, {"revived", true}});
    return ApiJson(200, {{"stored", false}});
  }
  uint64_t raw = 0, sealed = 0;
  for (const PackEntry& e : parsed->entries) {
    raw += e.raw_length;
    sealed += e.stored_length;
  }
  // The anomaly check's inputs (new data, declared compression); a failure here only
  // leaves them 0, which skips the compression check for this pack.
  Status sized = call.deps.catalog->RecordPackSizes(call.repo.id, id, raw, sealed);
  if (!sized.ok()) LogError("pack {}: recording its header sums failed: {}", id, sized.ToString());
  if (capacity->soft != 0 && capacity->used + digest->size > capacity->soft) {
    uint64_t now_used = capacity->used + digest->size;
    Result<bool> raised = call.deps.catalog->RaiseAlarm(
        {"quota", call.repo.tenant_id, 0, 0},
        fmt::format(
            "容量の警告値を超えました (使用量 {} / 警告値 {})\nthe soft quota is passed (used {} of {})",
            FormatQuotaBytes(now_used), FormatQuotaBytes(capacity->soft), FormatQuotaBytes(now_used),
            FormatQuotaBytes(capacity->soft)),
        AuditActor{"system", "kura-vault", "local", "", ""});
    if (!raised.ok()) LogError("raising the quota alarm failed: {}", raised.status().ToString());
  }
  return ApiJson(201, {{"stored", true}, {"blobs", blobs.size()}});
}

void AddPackRoutes(net::Router& router, ApiDeps& deps) {
  router.Add("PUT", "/v1/repos/{repo}/packs/{id}", SiteRoute(deps, "pack.upload", RepoCheck::kBound, PutPack),
             net::RouteOptions{deps.max_pack_bytes});
}

}  // namespace kura::vault
